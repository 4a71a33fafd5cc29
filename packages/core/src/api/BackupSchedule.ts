/** The BackupSchedule kind: creates Backups of a DoltDB on a cron schedule. */
import { Schema } from "effect"
import { backupFields, databasesInvariants } from "./BackupStorage.ts"
import { withInvariants } from "./Cel.ts"
import { makeDecoder, makeEncoder } from "./Codec.ts"
import { Conditions, DoltDBRef, ObjectMeta, withDefault } from "./Common.ts"
import { ApiVersion } from "./Group.ts"
import { Int32, Time } from "./k8s/Primitives.ts"

export const ConcurrencyPolicy = Schema.Literals(["Forbid", "Allow", "Replace"])
export type ConcurrencyPolicy = typeof ConcurrencyPolicy.Type

export const BackupScheduleSpec = Schema.Struct({
  doltDBRef: DoltDBRef.annotate({ description: "DoltDBRef is a reference to the DoltDB cluster to back up." }),
  schedule: Schema.String.check(Schema.isMinLength(1)).annotate({
    description: "Schedule is a 5-field cron expression (or a descriptor such as @daily) of the backups."
  }),
  suspend: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "Suspend stops creating new Backups while true." })
  ),
  timeZone: Schema.optionalKey(
    Schema.String.check(Schema.isMaxLength(64)).annotate({
      description: "TimeZone is the IANA time zone of the schedule (e.g. Europe/Paris). Default: UTC."
    })
  ),
  concurrencyPolicy: ConcurrencyPolicy.annotate({
    description:
      "ConcurrencyPolicy says what to do when a Backup of this schedule is still running when the next one is due: Forbid (skip it), Allow (create it; it waits for the running one), Replace (delete the running one first)."
  }).pipe(withDefault("Forbid")),
  startingDeadlineSeconds: Schema.optionalKey(
    Int32.check(Schema.isGreaterThanOrEqualTo(0)).annotate({
      description:
        "StartingDeadlineSeconds: a Backup whose scheduled time is more than this many seconds in the past is skipped (not created late)."
    })
  ),
  successfulBackupsHistoryLimit: Int32.check(Schema.isGreaterThanOrEqualTo(0))
    .annotate({ description: "SuccessfulBackupsHistoryLimit is how many Completed Backups of this schedule are kept." })
    .pipe(withDefault(3)),
  failedBackupsHistoryLimit: Int32.check(Schema.isGreaterThanOrEqualTo(0))
    .annotate({ description: "FailedBackupsHistoryLimit is how many Failed Backups of this schedule are kept." })
    .pipe(withDefault(1)),
  ...backupFields
})
  .annotate({ description: "BackupScheduleSpec defines the desired state of BackupSchedule." })
  .pipe(withInvariants(databasesInvariants))
export type BackupScheduleSpec = typeof BackupScheduleSpec.Type

export const BackupScheduleStatus = Schema.Struct({
  conditions: Schema.optionalKey(Conditions.annotate({ description: "Conditions for the BackupSchedule object." })),
  lastScheduleTime: Schema.optionalKey(
    Time.annotate({ description: "LastScheduleTime is when the last Backup was created." })
  ),
  nextScheduleTime: Schema.optionalKey(
    Time.annotate({ description: "NextScheduleTime is when the next Backup is due." })
  ),
  lastBackupRef: Schema.optionalKey(
    Schema.String.annotate({ description: "LastBackupRef is the name of the last Backup created." })
  )
}).annotate({ description: "BackupScheduleStatus defines the observed state of BackupSchedule." })
export type BackupScheduleStatus = typeof BackupScheduleStatus.Type

export const BackupSchedule = Schema.Struct({
  apiVersion: Schema.Literal(ApiVersion),
  kind: Schema.Literal("BackupSchedule"),
  metadata: ObjectMeta,
  spec: BackupScheduleSpec,
  status: Schema.optionalKey(BackupScheduleStatus)
}).annotate({ description: "BackupSchedule creates Backups of a DoltDB on a cron schedule." })
export type BackupSchedule = typeof BackupSchedule.Type

export const decodeBackupSchedule = makeDecoder("BackupSchedule", BackupSchedule)
export const encodeBackupSchedule = makeEncoder("BackupSchedule", BackupSchedule)
