/** The BackupSchedule kind: creates Backups of a DoltDB on a cron schedule. */
import { Schema } from "effect"
import { backupFields, databasesInvariants } from "./BackupStorage.ts"
import { withInvariants } from "./Cel.ts"
import { makeDecoder, makeEncoder } from "./Codec.ts"
import { Conditions, DoltDBRef, ObjectMeta } from "./Common.ts"
import { ApiVersion } from "./Group.ts"
import { Time } from "./k8s/Primitives.ts"

export const BackupScheduleSpec = Schema.Struct({
  doltDBRef: DoltDBRef.annotate({ description: "DoltDBRef is a reference to the DoltDB cluster to back up." }),
  schedule: Schema.String.check(Schema.isMinLength(1)).annotate({
    description: "Schedule is a 5-field cron expression (or a descriptor such as @daily) of the backups."
  }),
  suspend: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "Suspend stops creating new Backups while true." })
  ),
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
