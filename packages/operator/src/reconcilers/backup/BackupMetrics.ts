/** Per-DoltDB backup metrics (labels `doltdb`, `crdnamespace`, as the DoltDB metrics). */
import type { Api } from "@doltdb-op/core"
import { Effect, Metric } from "effect"

export const lastSuccess = Metric.gauge("doltdb_backup_last_success_timestamp_seconds", {
  description: "When the last Backup of the DoltDB completed (Unix seconds)"
})
export const duration = Metric.gauge("doltdb_backup_duration_seconds", {
  description: "Wall time of the last completed Backup of the DoltDB, from start to completion"
})
export const failures = Metric.counter("doltdb_backup_failures_total", {
  description: "Backups of the DoltDB that ended Failed",
  incremental: true
})

/** Records a Backup that just reached Completed or Failed. */
export const record = (backup: Api.Backup, before: Api.BackupStatus | undefined, after: Api.BackupStatus) =>
  Effect.gen(function* () {
    if (before?.phase === after.phase) return
    const labels = { doltdb: backup.spec.doltDBRef.name ?? "", crdnamespace: backup.metadata.namespace ?? "" }
    if (after.phase === "Failed") yield* Metric.update(Metric.withAttributes(failures, labels), 1)
    if (after.phase !== "Completed") return
    const end = Date.parse(after.completedAt ?? "")
    const start = Date.parse(after.startedAt ?? "")
    if (!Number.isNaN(end)) yield* Metric.update(Metric.withAttributes(lastSuccess, labels), end / 1000)
    if (!Number.isNaN(end) && !Number.isNaN(start))
      yield* Metric.update(Metric.withAttributes(duration, labels), (end - start) / 1000)
  })
