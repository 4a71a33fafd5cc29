/** A mysql2 connection kept open across statements (see `DoltSession`), for contract tests against real Dolt. */
import { ClusterRole, type DoltError, DoltSqlError, type DoltTarget, RoleAndEpoch } from "@doltdb-op/core/services/Dolt"
import { Effect, Schema } from "effect"
import type { DoltSession } from "../DoltSession.ts"
import { classifyError } from "./classifyError.ts"
import { baseOptions, defaultLiveOptions, type LiveOptions, openConnection, runQuery } from "./connections.ts"
import * as Sql from "./statements.ts"

export const openSession = (
  target: DoltTarget,
  options: LiveOptions = defaultLiveOptions
): Effect.Effect<DoltSession, DoltError> =>
  Effect.tryPromise({
    try: () => openConnection(baseOptions(target, options), target.tls?.serverName),
    catch: (cause) => classifyError(target.host, "openSession", cause)
  }).pipe(
    Effect.map((conn): DoltSession => {
      const q = (op: string, sql: string, values?: ReadonlyArray<unknown>) =>
        runQuery(target, conn, op, sql, values, options.roleChangeTimeout, undefined)
      return {
        roleAndEpoch: q("roleAndEpoch", Sql.roleAndEpoch).pipe(
          Effect.flatMap((rows) =>
            Schema.decodeUnknownEffect(ClusterRole)(rows[0]?.role).pipe(
              Effect.map((role) => new RoleAndEpoch({ role, epoch: Number(rows[0]?.epoch) })),
              Effect.mapError(
                (cause) => new DoltSqlError({ host: target.host, op: "roleAndEpoch", message: "bad role", cause })
              )
            )
          )
        ),
        assumeRole: (role, epoch) => q("assumeRole", Sql.assumeRole, [role, epoch]).pipe(Effect.asVoid),
        close: Effect.sync(() => conn.destroy())
      }
    })
  )
