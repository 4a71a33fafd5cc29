/** The Grant reconciler: observe (parent primary, the account's grants) → `planGrant` → execute. */
import { SqlResources } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube } from "@doltdb-op/core/services/Kube"
import { Clock, Effect, Option } from "effect"
import * as Controller from "../../runtime/Controller.ts"
import { splitKey } from "../doltdb/reconcileDoltDB.ts"
import { Databases, Grants } from "../Resources.ts"
import { resolveClusterPrimary } from "./ClusterPrimary.ts"
import { executeSqlPlan, type FailureMemory, type SqlReconcilerOptions } from "./runSqlPlan.ts"

export const reconcileGrant = (options: SqlReconcilerOptions, failures: FailureMemory) =>
  Effect.fn("Grant.reconcile")(function* (key: string) {
    const kube = yield* Kube
    const dolt = yield* Dolt
    const { namespace, name } = splitKey(key)
    const found = yield* kube.get(Grants, name, { namespace }).pipe(
      Effect.map(Option.some),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
    )
    if (Option.isNone(found)) {
      failures.delete(key)
      return Controller.done
    }
    const grant = found.value
    const now = yield* Clock.currentTimeMillis
    const cluster = SqlResources.parentRefOf(grant)
    const primary = yield* resolveClusterPrimary(cluster, namespace)
    // A tenant's Grant may use only what its own namespace's Database objects created in that DoltDB.
    const tenantDatabases =
      cluster.namespace === namespace
        ? []
        : yield* kube.list(Databases, { namespace }).pipe(
            Effect.map((list) =>
              list.items.flatMap((d) => {
                const ref = SqlResources.parentRefOf(d)
                const created = d.status?.databaseName
                return ref.namespace === cluster.namespace && ref.name === cluster.name && created !== undefined
                  ? [created]
                  : []
              })
            ),
            Effect.catch(() => Effect.succeed([] as ReadonlyArray<string>))
          )
    const parent: SqlResources.ParentDoltDB<SqlResources.GrantReads> =
      primary._tag !== "Ready"
        ? primary
        : yield* Effect.forEach(SqlResources.grantAccountsToRead(grant), (account) =>
            Effect.all({
              exists: dolt.userExists(primary.target, account),
              lines: dolt.showGrants(primary.target, account)
            }).pipe(Effect.map(({ exists, lines }): SqlResources.AccountGrants => ({ account, exists, lines })))
          ).pipe(
            Effect.map(
              (accounts) =>
                ({ _tag: "Ready", reads: { accounts, reservedNames: primary.reservedNames, tenantDatabases } }) as const
            ),
            Effect.catch((e) => Effect.succeed({ _tag: "NotReady", reason: `reading grants: ${e._tag}` } as const))
          )
    const plan = SqlResources.planGrant({
      now,
      grant,
      parent,
      lastFailure: failures.get(key),
      options: options.planner
    })
    return yield* executeSqlPlan(options, key, primary, plan, failures)
  })
