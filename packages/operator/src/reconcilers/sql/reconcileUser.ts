/** The User reconciler: observe (parent primary, Secret, accounts) → `planUser` → execute. */
import { SqlResources } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, Secrets } from "@doltdb-op/core/services/Kube"
import { Clock, Effect, Option } from "effect"
import * as Controller from "../../runtime/Controller.ts"
import { splitKey } from "../doltdb/reconcileDoltDB.ts"
import { Users } from "../Resources.ts"
import { resolveClusterPrimary } from "./ClusterPrimary.ts"
import { executeSqlPlan, type FailureMemory, type SqlReconcilerOptions } from "./runSqlPlan.ts"

export const reconcileUser = (options: SqlReconcilerOptions, failures: FailureMemory) =>
  Effect.fn("User.reconcile")(function* (key: string) {
    const kube = yield* Kube
    const dolt = yield* Dolt
    const { namespace, name } = splitKey(key)
    const found = yield* kube.get(Users, name, { namespace }).pipe(
      Effect.map(Option.some),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
    )
    if (Option.isNone(found)) {
      failures.delete(key)
      return Controller.done
    }
    const user = found.value
    const now = yield* Clock.currentTimeMillis
    const ref = user.spec.passwordSecretKeyRef
    const secret = yield* kube.get(Secrets, ref.name ?? "", { namespace }).pipe(
      Effect.map(
        (s): SqlResources.PasswordSecret => ({
          _tag: "Present",
          resourceVersion: s.metadata.resourceVersion ?? "",
          keys: [
            ...Object.keys((s.data as Record<string, string> | undefined) ?? {}),
            ...Object.keys((s.stringData as Record<string, string> | undefined) ?? {})
          ]
        })
      ),
      Effect.catchTag("NotFound", () => Effect.succeed<SqlResources.PasswordSecret>({ _tag: "Missing" }))
    )
    const primary = yield* resolveClusterPrimary(SqlResources.parentRefOf(user), namespace)
    const parent: SqlResources.ParentDoltDB<SqlResources.UserReads> =
      primary._tag !== "Ready"
        ? primary
        : yield* Effect.forEach(SqlResources.userAccountsToRead(user), (account) =>
            Effect.map(dolt.userExists(primary.target, account), (exists) => (exists ? [account] : []))
          ).pipe(
            Effect.map(
              (lists) =>
                ({
                  _tag: "Ready",
                  reads: { existingAccounts: lists.flat(), reservedNames: primary.reservedNames }
                }) as const
            ),
            Effect.catch((e) => Effect.succeed({ _tag: "NotReady", reason: `reading accounts: ${e._tag}` } as const))
          )
    const plan = SqlResources.planUser({
      now,
      user,
      secret,
      parent,
      lastFailure: failures.get(key),
      options: options.planner
    })
    return yield* executeSqlPlan(options, key, primary, plan, failures)
  })
