/**
 * The BackupSchedule planner. Situations: an invalid schedule or time zone (a condition and an Event, nothing
 * created); suspended (nothing created, no next time); due (the latest missed time gets one Backup, within
 * `startingDeadlineSeconds`, after the concurrency policy allows it); otherwise wait for the next time. Finished
 * Backups beyond the history limits are deleted, oldest first. `nextScheduleTime` is written with every change.
 *
 * A Backup is named after its scheduled time (`<schedule>-<unix seconds>`), so a crash between creating it and
 * recording it creates nothing twice.
 */
import type { BackupPhase } from "../api/Backup.ts"
import type { BackupSchedule, BackupScheduleStatus } from "../api/BackupSchedule.ts"
import {
  type Action,
  apply,
  event,
  type ObjectRef,
  type Plan,
  type Requeue,
  requeueAfter,
  withRequeue
} from "../plan/Action.ts"
import { type ConditionInput, jsonEqual, parseTime, rfc3339, setConditions } from "../status/Conditions.ts"
import { latestDue, nextTime, parseSchedule } from "./BackupCron.ts"

export const ScheduleLabel = "k8s.dolthub.com/backup-schedule"
export const ScheduleCreatedCondition = "BackupScheduleCreated"

/** A Backup this schedule created (found by its label and owner reference). */
export interface ScheduledBackup {
  readonly name: string
  readonly uid: string
  readonly createdAt: number
  readonly phase: BackupPhase | undefined
  readonly deleting: boolean
}

export interface BackupScheduleObserved {
  readonly now: number
  readonly schedule: BackupSchedule
  readonly backups: ReadonlyArray<ScheduledBackup>
}

export interface BackupSchedulePlan extends Plan {
  readonly status: BackupScheduleStatus
}

const ActivePollMillis = 10_000

export const scheduledBackupName = (schedule: string, at: number): string =>
  `${schedule.slice(0, 52)}-${Math.floor(at / 1000)}`

const refOf = (o: {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: BackupSchedule["metadata"]
}) =>
  ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    namespace: o.metadata.namespace ?? "",
    name: o.metadata.name ?? "",
    ...(o.metadata.uid === undefined ? {} : { uid: o.metadata.uid })
  }) satisfies ObjectRef

const backupFor = (schedule: BackupSchedule, name: string) => {
  const { spec } = schedule
  return {
    apiVersion: schedule.apiVersion,
    kind: "Backup",
    metadata: {
      name,
      namespace: schedule.metadata.namespace ?? "",
      labels: { [ScheduleLabel]: schedule.metadata.name ?? "" },
      ownerReferences: [
        {
          apiVersion: schedule.apiVersion,
          kind: schedule.kind,
          name: schedule.metadata.name ?? "",
          uid: schedule.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true
        }
      ]
    },
    spec: {
      doltDBRef: spec.doltDBRef,
      storage: spec.storage,
      backoffLimit: spec.backoffLimit,
      target: spec.target,
      syncTimeout: spec.syncTimeout,
      ...(spec.databases === undefined ? {} : { databases: spec.databases }),
      ...(spec.resources === undefined ? {} : { resources: spec.resources }),
      ...(spec.imagePullSecrets === undefined ? {} : { imagePullSecrets: spec.imagePullSecrets })
    }
  }
}

/** Finished Backups beyond the history limits, oldest first. */
const pruned = (schedule: BackupSchedule, backups: ReadonlyArray<ScheduledBackup>): ReadonlyArray<ScheduledBackup> => {
  const newestFirst = [...backups].filter((b) => !b.deleting).sort((a, b) => b.createdAt - a.createdAt)
  const over = (phase: string, limit: number) => newestFirst.filter((b) => b.phase === phase).slice(limit)
  return [
    ...over("Completed", schedule.spec.successfulBackupsHistoryLimit),
    ...over("Failed", schedule.spec.failedBackupsHistoryLimit)
  ]
}

export const planBackupSchedule = (observed: BackupScheduleObserved): BackupSchedulePlan => {
  const { schedule, now, backups } = observed
  const ref = refOf(schedule)
  const current = schedule.status ?? {}
  const generation = schedule.metadata.generation
  const conditions = (inputs: ReadonlyArray<ConditionInput>) =>
    setConditions(current.conditions, inputs, generation, now)
  const prune: ReadonlyArray<Action> = pruned(schedule, backups).map((b) => ({
    _tag: "Delete",
    ref: { apiVersion: schedule.apiVersion, kind: "Backup", namespace: ref.namespace, name: b.name, uid: b.uid },
    propagationPolicy: "Background",
    reason: `history limit of BackupSchedule ${ref.name}`
  }))
  const finish = (
    status: BackupScheduleStatus,
    actions: ReadonlyArray<Action>,
    requeue?: Requeue
  ): BackupSchedulePlan => {
    const patch: ReadonlyArray<Action> = jsonEqual(status, current)
      ? []
      : [
          {
            _tag: "PatchStatus",
            ref,
            status: status as Readonly<Record<string, unknown>>,
            replaces: current as Readonly<Record<string, unknown>>
          }
        ]
    return { actions: [...prune, ...actions, ...patch], ...withRequeue(requeue), status }
  }
  const { nextScheduleTime: _next, ...withoutNext } = current

  const parsed = parseSchedule(schedule.spec.schedule, schedule.spec.timeZone)
  if (parsed._tag === "Failure") {
    const message = parsed.failure
    const invalid: ReadonlyArray<ConditionInput> = [
      { type: "Ready", status: "False", reason: "InvalidSchedule", message },
      { type: ScheduleCreatedCondition, status: "False", reason: "InvalidSchedule", message }
    ]
    const already = current.conditions?.some((c) => c.reason === "InvalidSchedule" && c.message === message) ?? false
    return finish(
      { ...withoutNext, conditions: conditions(invalid) },
      already ? [] : [event(ref, "Warning", "InvalidSchedule", message)]
    )
  }
  const cron = parsed.success
  if (schedule.spec.suspend === true) {
    const suspended: ReadonlyArray<ConditionInput> = [
      { type: "Ready", status: "True", reason: "Suspended", message: "Backup schedule suspended" }
    ]
    return finish({ ...withoutNext, conditions: conditions(suspended) }, [])
  }

  const active: ReadonlyArray<ConditionInput> = [
    { type: "Ready", status: "True", reason: "BackupScheduleCreated", message: "Backup schedule active" },
    {
      type: ScheduleCreatedCondition,
      status: "True",
      reason: "BackupScheduleCreated",
      message: "Backup schedule created"
    }
  ]
  const last = parseTime(current.lastScheduleTime) ?? parseTime(schedule.metadata.creationTimestamp) ?? now
  const due = latestDue(cron, last, now)
  const waitForNext = (status: BackupScheduleStatus, extra: ReadonlyArray<Action>): BackupSchedulePlan => {
    const next = nextTime(cron, Math.max(now, parseTime(status.lastScheduleTime) ?? last))
    return finish(
      { ...status, nextScheduleTime: rfc3339(next), conditions: conditions(active) },
      extra,
      requeueAfter(Math.max(next - now, 1_000), "next scheduled backup")
    )
  }
  if (due === undefined) return waitForNext(current, [])

  const deadline = schedule.spec.startingDeadlineSeconds
  if (deadline !== undefined && now - due > deadline * 1000) {
    // Too late for this time: skipped for good (recorded so it is not reconsidered).
    const message = `missed the backup due at ${rfc3339(due)}: more than startingDeadlineSeconds (${deadline}) late`
    return waitForNext({ ...current, lastScheduleTime: rfc3339(due) }, [
      event(ref, "Warning", "MissedSchedule", message)
    ])
  }

  const running = backups.filter((b) => !b.deleting && b.phase !== "Completed" && b.phase !== "Failed")
  const policy = schedule.spec.concurrencyPolicy
  if (running.length > 0 && policy === "Forbid")
    return finish(
      {
        ...current,
        nextScheduleTime: rfc3339(due),
        conditions: conditions([
          {
            type: "Ready",
            status: "True",
            reason: "BackupScheduleCreated",
            message: `Backup schedule active; the backup due at ${rfc3339(due)} waits for ${running[0]!.name} (concurrencyPolicy Forbid)`
          }
        ])
      },
      [],
      requeueAfter(ActivePollMillis, "a backup of this schedule is running")
    )
  const replaced: ReadonlyArray<Action> =
    policy === "Replace"
      ? running.map((b) => ({
          _tag: "Delete",
          ref: { apiVersion: schedule.apiVersion, kind: "Backup", namespace: ref.namespace, name: b.name, uid: b.uid },
          propagationPolicy: "Background",
          reason: `replaced by the next backup of BackupSchedule ${ref.name}`
        }))
      : []
  const name = scheduledBackupName(ref.name, due)
  return waitForNext({ ...current, lastScheduleTime: rfc3339(due), lastBackupRef: name }, [
    ...replaced,
    apply(backupFor(schedule, name) as unknown as Parameters<typeof apply>[0]),
    event(ref, "Normal", "BackupScheduleTriggered", `Created Backup ${name} for ${rfc3339(due)}`)
  ])
}
