/**
 * The Backup reconciler: observe → `planBackup` (pure) → execute. One reconcile runs at most one database's sync
 * (bounded by `spec.syncTimeout`), so a worker is busy for one sync at a time and the status shows progress per
 * database; a crash mid-sync leaves status `Running` on that database, and the next reconcile syncs it again
 * (syncs are incremental and idempotent).
 */
import { Backups as B } from "@doltdb-op/core"
import { Kube } from "@doltdb-op/core/services/Kube"
import { Clock, Effect, Option } from "effect"
import * as Controller from "../../runtime/Controller.ts"
import { splitKey } from "../doltdb/reconcileDoltDB.ts"
import { type ClusterExecutor, execute, resultOf } from "../Execute.ts"
import { Backups } from "../Resources.ts"
import * as BackupMetrics from "./BackupMetrics.ts"
import { observeBackup } from "./observeBackup.ts"
import { type OutcomeMemory, runBackupOp } from "./runBackupOp.ts"

export interface BackupReconcilerOptions {
  readonly fieldManager: string
  readonly instance: string
  readonly planner?: B.BackupPlannerOptions | undefined
}

export const reconcileBackup = (options: BackupReconcilerOptions, memory: OutcomeMemory) =>
  Effect.fn("Backup.reconcile")(function* (key: string) {
    const kube = yield* Kube
    const { namespace, name } = splitKey(key)
    const found = yield* kube.get(Backups, name, { namespace }).pipe(
      Effect.map(Option.some),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
    )
    if (Option.isNone(found)) return Controller.done
    const backup = found.value
    const uid = backup.metadata.uid ?? ""
    const consumed = memory.get(uid)
    const now = yield* Clock.currentTimeMillis
    const { observed, credentials } = yield* observeBackup(
      backup,
      now,
      consumed,
      options.planner ?? B.defaultBackupPlannerOptions
    )
    const plan = B.planBackup(observed)
    const ctx: ClusterExecutor = {
      _tag: "ClusterExecutor",
      fieldManager: options.fieldManager,
      controller: "doltdb-operator",
      instance: options.instance,
      credentials,
      backup: runBackupOp(credentials, memory, options.fieldManager)
    }
    yield* execute(ctx, plan.actions)
    // Folded into the status just written (a sync of this plan may have left a newer outcome).
    if (consumed !== undefined && memory.get(uid) === consumed) memory.delete(uid)
    if (backup.metadata.deletionTimestamp !== undefined) memory.delete(uid)
    yield* BackupMetrics.record(backup, backup.status, plan.status)
    return resultOf(plan)
  })
