/**
 * Per-DoltDB metrics. `doltdb_current_primary_index` and `doltdb_replication_switch_overs` keep the reference's
 * names and labels (`doltdb`, `crdnamespace`) so its dashboards keep working; the rest are ours. The chart's
 * dashboard and alerts (charts/doltdb-operator/files/) use these names; a test checks they exist.
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
export const standbyErrors = Metric.gauge("doltdb_replication_standby_errors", {
  description: "Databases whose replication to the standby currently reports an error (dolt_cluster_status)"
})
export const ready = Metric.gauge("doltdb_ready", { description: "1 when the DoltDB's Ready condition is True" })
export const primaryAvailable = Metric.gauge("doltdb_primary_available", {
  description: "1 when the DoltDB has a serving primary and no primary change is in progress"
})
export const failoverBlocked = Metric.gauge("doltdb_failover_blocked", {
  description: "1 while a failover is refused (Ready reason FailoverBlocked: no standby provably caught up)"
})

const flag = (b: boolean) => (b ? 1 : 0)

export const record = (observed: DoltDBPlanner.DoltDBObserved, before: DoltDBStatus | undefined, after: DoltDBStatus) =>
  Effect.gen(function* () {
    const labels = { doltdb: observed.doltdb.metadata.name, crdnamespace: observed.doltdb.metadata.namespace }
    const set = (metric: Metric.Metric<number, unknown>, value: number, extra: Record<string, string> = {}) =>
      Metric.update(Metric.withAttributes(metric, { ...labels, ...extra }), value)
    if (after.currentPrimaryPodIndex !== undefined) yield* set(currentPrimaryIndex, after.currentPrimaryPodIndex)
    if (after.replicationEpoch !== undefined) yield* set(replicationEpoch, after.replicationEpoch)
    yield* set(readyReplicas, after.replicas ?? 0)
    const readyCondition = after.conditions?.find((c) => c.type === "Ready")
    yield* set(ready, flag(readyCondition?.status === "True"))
    yield* set(failoverBlocked, flag(readyCondition?.status === "False" && readyCondition.reason === "FailoverBlocked"))
    yield* set(
      primaryAvailable,
      flag(
        after.currentPrimaryPodIndex !== undefined &&
          after.primaryUnavailableSince === undefined &&
          after.primaryTransition === undefined
      )
    )
    // Adding 0 makes the series exist before the first primary change, so rates and increases start from 0.
    yield* Metric.update(Metric.withAttributes(switchOvers, labels), 0)
    if (
      before?.currentPrimaryPodIndex !== undefined &&
      after.currentPrimaryPodIndex !== undefined &&
      before.currentPrimaryPodIndex !== after.currentPrimaryPodIndex
    )
      yield* Metric.update(Metric.withAttributes(switchOvers, labels), 1)
    const primary = after.currentPrimaryPodIndex === undefined ? undefined : observed.pods[after.currentPrimaryPodIndex]
    if (primary?.sql._tag === "Reachable")
      for (const s of primary.sql.standbys) {
        yield* set(replicationLag, s.maxLagMillis ?? -1, { standby: s.remote })
        yield* set(standbyErrors, s.errors, { standby: s.remote })
      }
  })
