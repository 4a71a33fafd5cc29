/** The BackupSchedule reconciler: observe (the schedule, the Backups it created) → `planBackupSchedule` → execute. */
import { Backups as B } from "@doltdb-op/core"
import { Kube } from "@doltdb-op/core/services/Kube"
import { Clock, Effect, Option } from "effect"
import * as Controller from "../../runtime/Controller.ts"
import { splitKey } from "../doltdb/reconcileDoltDB.ts"
import { execute, type ObjectExecutor, resultOf } from "../Execute.ts"
import { BackupSchedules, Backups } from "../Resources.ts"

export interface BackupScheduleReconcilerOptions {
  readonly fieldManager: string
  readonly instance: string
}

export const reconcileBackupSchedule = (options: BackupScheduleReconcilerOptions) =>
  Effect.fn("BackupSchedule.reconcile")(function* (key: string) {
    const kube = yield* Kube
    const { namespace, name } = splitKey(key)
    const found = yield* kube.get(BackupSchedules, name, { namespace }).pipe(
      Effect.map(Option.some),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
    )
    // Deleted: its Backups follow through their owner reference (the backed-up data stays in the store).
    if (Option.isNone(found) || found.value.metadata.deletionTimestamp !== undefined) return Controller.done
    const schedule = found.value
    const listed = yield* kube.list(Backups, { namespace, labelSelector: `${B.ScheduleLabel}=${name}` })
    const backups = listed.items
      .filter((b) =>
        ((b.metadata.ownerReferences ?? []) as ReadonlyArray<{ readonly uid?: string }>).some(
          (o) => o.uid === schedule.metadata.uid
        )
      )
      .map(
        (b): B.ScheduledBackup => ({
          name: b.metadata.name ?? "",
          uid: b.metadata.uid ?? "",
          createdAt: Date.parse(b.metadata.creationTimestamp ?? "") || 0,
          phase: b.status?.phase,
          deleting: b.metadata.deletionTimestamp !== undefined
        })
      )
    const now = yield* Clock.currentTimeMillis
    const plan = B.planBackupSchedule({ now, schedule, backups })
    const ctx: ObjectExecutor = {
      _tag: "ObjectExecutor",
      fieldManager: options.fieldManager,
      controller: "doltdb-operator",
      instance: options.instance
    }
    yield* execute(ctx, plan.actions)
    return resultOf(plan)
  })
