/**
 * The Snapshot reconciler: observe → `planSnapshot` (pure) → execute, woken by the Snapshot's own changes and by
 * the plan's requeue at the next fire (or sooner while a VolumeSnapshot is not ready). A deleted Snapshot is not
 * requeued, which ends its schedule; its VolumeSnapshots follow `deletionPolicy` (owner references).
 */
import { Snapshots as SnapshotPlanner } from "@doltdb-op/core"
import { Kube } from "@doltdb-op/core/services/Kube"
import { Effect, Metric, Option } from "effect"
import * as Controller from "../../runtime/Controller.ts"
import { splitKey } from "../doltdb/reconcileDoltDB.ts"
import { execute, type ObjectExecutor, resultOf } from "../Execute.ts"
import { Snapshots } from "../Resources.ts"
import { observeSnapshot } from "./observeSnapshot.ts"

export const lastSuccess = Metric.gauge("doltdb_snapshot_last_success_timestamp_seconds", {
  description: "Scheduled time of the newest Snapshot round whose VolumeSnapshots are all ready to use"
})
export const readySnapshots = Metric.gauge("doltdb_snapshot_ready_count", {
  description: "VolumeSnapshots of the Snapshot that are ready to use"
})

export interface SnapshotReconcilerOptions {
  readonly fieldManager: string
  readonly instance: string
}

export const reconcileSnapshot = (options: SnapshotReconcilerOptions) =>
  Effect.fn("Snapshot.reconcile")(function* (key: string) {
    const kube = yield* Kube
    const { namespace, name } = splitKey(key)
    const found = yield* kube.get(Snapshots, name, { namespace }).pipe(
      Effect.map(Option.some),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
    )
    if (Option.isNone(found) || found.value.metadata.deletionTimestamp !== undefined) return Controller.done
    const snapshot = {
      ...found.value,
      metadata: { ...found.value.metadata, name, namespace }
    } as SnapshotPlanner.SnapshotObserved["snapshot"]
    const observed = yield* observeSnapshot(snapshot)
    const plan = SnapshotPlanner.planSnapshot(observed)
    const ctx: ObjectExecutor = {
      _tag: "ObjectExecutor",
      fieldManager: options.fieldManager,
      controller: "doltdb-operator",
      instance: options.instance
    }
    yield* execute(ctx, plan.actions)
    const labels = {
      doltdb: snapshot.spec.doltDBRef.name ?? "",
      crdnamespace: namespace,
      snapshot: name
    }
    const last = plan.status.lastSuccessfulTime
    if (last !== undefined) yield* Metric.update(Metric.withAttributes(lastSuccess, labels), Date.parse(last) / 1000)
    yield* Metric.update(
      Metric.withAttributes(readySnapshots, labels),
      (plan.status.snapshots ?? []).filter((s) => s.readyToUse).length
    )
    return resultOf(plan)
  })
