/**
 * Runs one SQL-resource statement (`Sql` action) on a cluster's primary. Passwords are read from their Secret here, at
 * execution time, so plans never carry secrets.
 */
import type { SecretKeyRef, SqlOp } from "@doltdb-op/core/plan/Action"
import { Dolt, type DoltTarget } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Secrets } from "@doltdb-op/core/services/Kube"
import { Effect, Redacted } from "effect"
import { ActionFailed, describe, failedAs } from "../ActionFailed.ts"
import { secretValue } from "../Credentials.ts"

const readSecret = Effect.fnUntraced(function* (ref: SecretKeyRef) {
  const kube = yield* Kube
  const secret = yield* kube.get(Secrets, ref.name, { namespace: ref.namespace }).pipe(Effect.mapError(failedAs("Sql")))
  const value = secretValue(secret as KubeObject, ref.key)
  if (value === undefined)
    return yield* new ActionFailed({
      action: "Sql",
      message: `Secret ${ref.namespace}/${ref.name} has no key ${ref.key}`
    })
  return Redacted.make(value)
})

/** The statement's failure, with the op and the error's tag for the SQL-resource planners' `lastFailure`. */
const asSqlFailure =
  (op: SqlOp) =>
  <A, E, R>(e: Effect.Effect<A, E, R>) =>
    e.pipe(
      Effect.asVoid,
      Effect.mapError(
        (cause) =>
          new ActionFailed({
            action: "Sql",
            message: describe(cause),
            cause,
            op,
            errorTag: typeof cause === "object" && cause !== null && "_tag" in cause ? String(cause._tag) : "Unknown"
          })
      )
    )

export const runSqlOp = Effect.fnUntraced(function* (target: DoltTarget, op: SqlOp) {
  const dolt = yield* Dolt
  const run = asSqlFailure(op)
  switch (op._tag) {
    case "CreateDatabase":
      return yield* run(
        dolt.createDatabase(target, {
          name: op.name,
          ...(op.charset === undefined ? {} : { charset: op.charset }),
          ...(op.collation === undefined ? {} : { collation: op.collation })
        })
      )
    case "DropDatabase":
      return yield* run(dolt.dropDatabase(target, op.name))
    case "EnsureBranches":
      return yield* run(dolt.ensureBranches(target, op.database, op.branches, op.from))
    case "EnsureIgnorePatterns":
      return yield* run(dolt.ensureIgnorePatterns(target, op.database, op.patterns))
    case "CreateUser":
      return yield* run(
        Effect.flatMap(readSecret(op.password), (password) =>
          dolt.createUser(target, { name: op.name, host: op.host }, password)
        )
      )
    case "SetPassword":
      return yield* run(
        Effect.flatMap(readSecret(op.password), (password) =>
          dolt.setPassword(target, { name: op.name, host: op.host }, password)
        )
      )
    case "DropUser":
      return yield* run(dolt.dropUser(target, { name: op.name, host: op.host }))
    case "Grant":
    case "Revoke": {
      const grant = {
        account: { name: op.name, host: op.host },
        privileges: op.privileges,
        database: op.database,
        table: op.table,
        grantOption: op.grantOption
      }
      return yield* run(op._tag === "Grant" ? dolt.grant(target, grant) : dolt.revoke(target, grant))
    }
  }
})
