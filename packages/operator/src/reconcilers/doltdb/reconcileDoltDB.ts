/**
 * The DoltDB reconciler: observe → plan (`planDoltDB`, pure) → execute, for one `namespace/name` key.
 */
import { Backups as B, Builders, DoltDBPlanner } from "@doltdb-op/core"
import type { Action } from "@doltdb-op/core/plan/Action"
import { Kube } from "@doltdb-op/core/services/Kube"
import { Effect, Option } from "effect"
import * as Controller from "../../runtime/Controller.ts"
import { observeCredentials } from "../backup/observeBackup.ts"
import { runBackupOp } from "../backup/runBackupOp.ts"
import { type ClusterExecutor, execute, resultOf } from "../Execute.ts"
import { DoltDBs } from "../Resources.ts"
import * as DoltDBMetrics from "./DoltDBMetrics.ts"
import { type ObserveOptions, observeDoltDB } from "./observeDoltDB.ts"

export interface DoltDBReconcilerOptions extends ObserveOptions {
  readonly fieldManager: string
  readonly instance: string
  /** The planner (default `DoltDBPlanner.planDoltDB`); a seam for tests that run a deliberately broken variant. */
  readonly planner?: ((observed: DoltDBPlanner.DoltDBObserved) => DoltDBPlanner.DoltDBPlan) | undefined
}

export const splitKey = (key: string): { readonly namespace: string; readonly name: string } => {
  const slash = key.indexOf("/")
  return slash < 0
    ? { namespace: "default", name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) }
}

/**
 * A bootstrap from an object store needs its credentials in the DoltDB's backup credentials Secret before the
 * bootstrap primary's init container runs: written ahead of the plan (so before the StatefulSet exists).
 */
const bootstrapCredentials = Effect.fnUntraced(function* (doltdb: Builders.IdentifiedDoltDB) {
  const from = doltdb.spec.bootstrap?.from.backup
  if (from === undefined || !Builders.bootstrapPending(doltdb) || !B.usesCredentialFiles(from.storage)) return []
  const view = yield* observeCredentials(doltdb.metadata.namespace, doltdb.metadata.name, from.storage)
  if (view._tag !== "Stale") return []
  const ref = {
    apiVersion: doltdb.apiVersion,
    kind: doltdb.kind,
    namespace: doltdb.metadata.namespace,
    name: doltdb.metadata.name,
    uid: doltdb.metadata.uid
  }
  return [
    { _tag: "Backup", regarding: ref, op: { _tag: "WriteCredentials", doltdb: ref, storage: from.storage } }
  ] as ReadonlyArray<Action>
})

export const reconcileDoltDB = (options: DoltDBReconcilerOptions) =>
  Effect.fn("DoltDB.reconcile")(function* (key: string) {
    const kube = yield* Kube
    const { namespace, name } = splitKey(key)
    const found = yield* kube.get(DoltDBs, name, { namespace }).pipe(
      Effect.map(Option.some),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
    )
    // Deleted: owner references let the garbage collector remove the children (PVCs follow the retention policy).
    if (Option.isNone(found) || found.value.metadata.deletionTimestamp !== undefined) return Controller.done
    const identified = Builders.identify(found.value)
    if (identified._tag === "MissingName") return Controller.done
    const { observed, credentials } = yield* observeDoltDB(identified.doltdb, options)
    const plan = (options.planner ?? DoltDBPlanner.planDoltDB)(observed)
    const bootstrap = yield* bootstrapCredentials(identified.doltdb)
    const ctx: ClusterExecutor = {
      _tag: "ClusterExecutor",
      fieldManager: options.fieldManager,
      controller: "doltdb-operator",
      instance: options.instance,
      credentials,
      backup: runBackupOp(credentials, new Map(), options.fieldManager)
    }
    yield* execute(ctx, [...bootstrap, ...plan.actions])
    yield* DoltDBMetrics.record(observed, identified.doltdb.status, plan.status)
    return resultOf(plan)
  })
