/**
 * Per-DoltDB metrics. `doltdb_current_primary_index` and `doltdb_replication_switch_overs` keep the reference's
 * names and labels (`doltdb`, `crdnamespace`) so its dashboards keep working; the rest are ours.
 */
import type { DoltDBPlanner } from "@doltdb-op/core"
import type { DoltDBStatus } from "@doltdb-op/core/api/DoltDB"
import { Effect, Metric } from "effect"

export const currentPrimaryIndex = Metric.gauge("doltdb_current_primary_index", {
  description: "Index of the DoltDB's current primary pod"
})
export const switchOvers = Metric.counter("doltdb_replication_switch_overs", {
  description: "Primary changes (switchovers and failovers) completed",
  incremental: true
})
export const replicationEpoch = Metric.gauge("doltdb_replication_epoch", {
  description: "Highest Dolt cluster epoch observed for the DoltDB"
})
export const readyReplicas = Metric.gauge("doltdb_ready_replicas", { description: "Ready pods of the DoltDB" })
export const replicationLag = Metric.gauge("doltdb_replication_lag_milliseconds", {
  description: "Replication lag from the primary to each standby (max over databases; -1 = never replicated)"
})

export const record = (observed: DoltDBPlanner.DoltDBObserved, before: DoltDBStatus | undefined, after: DoltDBStatus) =>
  Effect.gen(function* () {
    const labels = { doltdb: observed.doltdb.metadata.name, crdnamespace: observed.doltdb.metadata.namespace }
    if (after.currentPrimaryPodIndex !== undefined)
      yield* Metric.update(Metric.withAttributes(currentPrimaryIndex, labels), after.currentPrimaryPodIndex)
    if (after.replicationEpoch !== undefined)
      yield* Metric.update(Metric.withAttributes(replicationEpoch, labels), after.replicationEpoch)
    yield* Metric.update(Metric.withAttributes(readyReplicas, labels), after.replicas ?? 0)
    if (
      before?.currentPrimaryPodIndex !== undefined &&
      after.currentPrimaryPodIndex !== undefined &&
      before.currentPrimaryPodIndex !== after.currentPrimaryPodIndex
    )
      yield* Metric.update(Metric.withAttributes(switchOvers, labels), 1)
    const primary = after.currentPrimaryPodIndex === undefined ? undefined : observed.pods[after.currentPrimaryPodIndex]
    if (primary?.sql._tag === "Reachable")
      for (const s of primary.sql.standbys)
        yield* Metric.update(
          Metric.withAttributes(replicationLag, { ...labels, standby: s.remote }),
          s.maxLagMillis ?? -1
        )
  })
