/**
 * The Database reconciler: observe (parent primary, its databases and, for `spec.name`, branches, committed
 * dolt_ignore patterns, charset and collation) → `planDatabase` → execute.
 */
import { SqlResources } from "@doltdb-op/core"
import { Dolt, type DoltTarget } from "@doltdb-op/core/services/Dolt"
import { Kube } from "@doltdb-op/core/services/Kube"
import { Clock, Effect, Option } from "effect"
import * as Controller from "../../runtime/Controller.ts"
import { splitKey } from "../doltdb/reconcileDoltDB.ts"
import { Databases } from "../Resources.ts"
import { resolveClusterPrimary } from "./ClusterPrimary.ts"
import { executeSqlPlan, type FailureMemory, type SqlReconcilerOptions } from "./runSqlPlan.ts"

/**
 * What the planner needs from the primary. Details are read only for a live object whose database exists (the
 * deletion plan needs just the list), under the name the server lists (Dolt matches database names
 * case-insensitively; the planner does too).
 */
const readDatabase = Effect.fn("Database.observe")(function* (target: DoltTarget, name: string, deleting: boolean) {
  const dolt = yield* Dolt
  const databases = yield* dolt.listDatabases(target)
  const listed = databases.find((d) => d.toLowerCase() === name.toLowerCase())
  if (deleting || listed === undefined) return { databases } satisfies SqlResources.DatabaseReads
  const { branches, patterns, defaults } = yield* Effect.all({
    branches: dolt.listBranches(target, listed),
    patterns: dolt.ignorePatterns(target, listed),
    defaults: dolt.databaseDefaults(target, listed)
  })
  const details: SqlResources.DatabaseDetails = {
    branches: branches.map((b) => b.name),
    committedIgnorePatterns: patterns,
    charset: defaults?.charset,
    collation: defaults?.collation
  }
  return { databases, details } satisfies SqlResources.DatabaseReads
})

export const reconcileDatabase = (options: SqlReconcilerOptions, failures: FailureMemory) =>
  Effect.fn("Database.reconcile")(function* (key: string) {
    const kube = yield* Kube
    const { namespace, name } = splitKey(key)
    const found = yield* kube.get(Databases, name, { namespace }).pipe(
      Effect.map(Option.some),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
    )
    if (Option.isNone(found)) {
      failures.delete(key)
      return Controller.done
    }
    const database = found.value
    const now = yield* Clock.currentTimeMillis
    const primary = yield* resolveClusterPrimary(SqlResources.parentRefOf(database), namespace)
    const deleting = database.metadata.deletionTimestamp !== undefined
    const parent: SqlResources.ParentDoltDB<SqlResources.DatabaseReads> =
      primary._tag !== "Ready"
        ? primary
        : yield* readDatabase(primary.target, database.spec.name, deleting).pipe(
            Effect.map((reads) => ({ _tag: "Ready", reads }) as const),
            Effect.catch((e) => Effect.succeed({ _tag: "NotReady", reason: `reading databases: ${e._tag}` } as const))
          )
    const plan = SqlResources.planDatabase({
      now,
      database,
      parent,
      lastFailure: failures.get(key),
      options: options.planner
    })
    return yield* executeSqlPlan(options, key, primary, plan, failures)
  })
