/** The Backup kind: one backup of a DoltDB's databases to S3, GCS, DoltHub or the data volume. Its spec is immutable. */
import { Schema } from "effect"
import { backupFields, databasesInvariants } from "./BackupStorage.ts"
import { withInvariants } from "./Cel.ts"
import { makeDecoder, makeEncoder } from "./Codec.ts"
import { Conditions, DoltDBRef, ObjectMeta } from "./Common.ts"
import { ApiVersion } from "./Group.ts"
import { Int32, Int64, Time } from "./k8s/Primitives.ts"

export const BackupSpec = Schema.Struct({
  doltDBRef: DoltDBRef.annotate({ description: "DoltDBRef is a reference to the DoltDB cluster to back up." }),
  ...backupFields
})
  .annotate({ description: "BackupSpec defines the desired state of Backup. It is immutable." })
  .pipe(
    withInvariants([{ cel: { rule: "self == oldSelf", message: "backup spec is immutable" } }, ...databasesInvariants])
  )
export type BackupSpec = typeof BackupSpec.Type

export const BackupPhase = Schema.Literals(["Pending", "Running", "Completed", "Failed"])
export type BackupPhase = typeof BackupPhase.Type

export const BackupDatabaseStatus = Schema.Struct({
  name: Schema.String.annotate({ description: "Name is the database." }),
  url: Schema.String.annotate({ description: "URL is where the database was (or is being) backed up." }),
  pod: Schema.optionalKey(Schema.String.annotate({ description: "Pod is the pod whose sql-server ran the sync." })),
  hash: Schema.optionalKey(
    Schema.String.annotate({
      description: "Hash is dolt_hashof_db() of the database on that pod right before the sync: the state backed up."
    })
  ),
  durationMillis: Schema.optionalKey(
    Int64.annotate({ description: "DurationMillis is how long the last sync of this database took, in milliseconds." })
  ),
  completedAt: Schema.optionalKey(Time.annotate({ description: "CompletedAt is when the sync succeeded." })),
  error: Schema.optionalKey(
    Schema.String.annotate({ description: "Error is the store's error of the last failed sync." })
  )
}).annotate({ description: "BackupDatabaseStatus is the outcome of one database of a Backup." })
export type BackupDatabaseStatus = typeof BackupDatabaseStatus.Type

export const BackupStatus = Schema.Struct({
  conditions: Schema.optionalKey(Conditions.annotate({ description: "Conditions for the Backup object." })),
  phase: Schema.optionalKey(BackupPhase.annotate({ description: "Phase is the current phase of the backup." })),
  startedAt: Schema.optionalKey(Time.annotate({ description: "StartedAt is the time when the backup started." })),
  completedAt: Schema.optionalKey(Time.annotate({ description: "CompletedAt is the time when the backup completed." })),
  error: Schema.optionalKey(
    Schema.String.annotate({ description: "Error contains the error message if the backup failed." })
  ),
  retryCount: Schema.optionalKey(
    Int32.annotate({ description: "RetryCount tracks the number of failed reconciliation attempts." })
  ),
  pod: Schema.optionalKey(
    Schema.String.annotate({ description: "Pod is the pod running (or that ran) the current attempt." })
  ),
  nextAttemptAt: Schema.optionalKey(
    Time.annotate({ description: "NextAttemptAt is when the next attempt starts after a failed one." })
  ),
  podLosses: Schema.optionalKey(
    Int32.annotate({
      description: "PodLosses counts attempts moved to another pod because the pod went away mid-sync."
    })
  ),
  databases: Schema.optionalKey(
    Schema.Array(BackupDatabaseStatus).annotate({ description: "Databases is the outcome per database." })
  )
}).annotate({ description: "BackupStatus defines the observed state of Backup." })
export type BackupStatus = typeof BackupStatus.Type

export const Backup = Schema.Struct({
  apiVersion: Schema.Literal(ApiVersion),
  kind: Schema.Literal("Backup"),
  metadata: ObjectMeta,
  spec: BackupSpec,
  status: Schema.optionalKey(BackupStatus)
}).annotate({ description: "Backup is one backup of a DoltDB's databases." })
export type Backup = typeof Backup.Type

export const decodeBackup = makeDecoder("Backup", Backup)
export const encodeBackup = makeEncoder("Backup", Backup)

const sameSpec = Schema.toEquivalence(BackupSpec)

/** The CRD's transition rule for callers holding both objects: a Backup's spec never changes. */
export const backupUpdateViolations = (
  previous: BackupSpec,
  next: BackupSpec
): ReadonlyArray<{ readonly path: string; readonly message: string }> =>
  sameSpec(previous, next) ? [] : [{ path: "spec", message: "backup spec is immutable" }]
