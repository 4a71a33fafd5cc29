/**
 * The Snapshot kind: scheduled VolumeSnapshots of a DoltDB's data volume, taken by the operator (no CronJob).
 * `image`, `version` and `imagePullSecrets` are the reference's (its kubectl CronJob); they are accepted and unused.
 */
import { Schema } from "effect"
import { makeDecoder, makeEncoder } from "./Codec.ts"
import { Conditions, DoltDBRef, ObjectMeta, withDefault } from "./Common.ts"
import { ApiVersion } from "./Group.ts"
import { LocalObjectReference } from "./k8s/Models.generated.ts"
import { Duration, Int32, Time } from "./k8s/Primitives.ts"

export const SnapshotDeletionPolicy = Schema.Literals(["Retain", "Delete"]).annotate({
  description:
    "What deleting the Snapshot does to the VolumeSnapshots it took: Retain keeps them (the default), Delete lets the garbage collector delete them (they are owned by the Snapshot)."
})

export const SnapshotSpec = Schema.Struct({
  frequencySchedule: Schema.String.annotate({
    description:
      'FrequencySchedule is the cron expression of the snapshots (5 fields, UTC, e.g. "0 0 * * *", or a descriptor as the reference\'s CronJob accepts: @hourly, @daily, @weekly, @monthly, @yearly, @every <duration>). Each fire snapshots the data volume of one caught-up standby (the primary when there is none).'
  }),
  doltDBRef: DoltDBRef.annotate({ description: "DoltDBRef is a reference to the DoltDB to snapshot." }),
  volumeSnapshotClassName: Schema.optionalKey(
    Schema.String.annotate({
      description:
        "VolumeSnapshotClassName is the VolumeSnapshotClass of the snapshots. Default: a class named like the DoltDB's storageClassName when one exists (the reference's behaviour), else the cluster's default class for the volume's CSI driver."
    })
  ),
  everyReplica: Schema.optionalKey(
    Schema.Boolean.annotate({
      description:
        "EveryReplica snapshots every replica's volume on each fire instead of one caught-up standby's (default false: one consistent copy per point in time is enough to restore the cluster)."
    })
  ),
  keep: Schema.optionalKey(
    Int32.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
      description:
        "Keep is how many snapshot rounds that are ready to use the operator keeps; older VolumeSnapshots it took are deleted. Default: all are kept."
    })
  ),
  maxAge: Schema.optionalKey(
    Duration.annotate({
      description:
        'MaxAge deletes the VolumeSnapshots the operator took that are older than this (e.g. "168h"); the newest ready round is never deleted. Default: no age limit.'
    })
  ),
  deletionPolicy: Schema.optionalKey(SnapshotDeletionPolicy),
  image: Schema.String.annotate({
    description: "Unused (the reference's kubectl CronJob image); kept for compatibility."
  }).pipe(withDefault("bitnami/kubectl")),
  version: Schema.String.annotate({ description: "Unused (the reference's image tag); kept for compatibility." }).pipe(
    withDefault("latest")
  ),
  imagePullSecrets: Schema.optionalKey(
    Schema.Array(LocalObjectReference).annotate({
      description: "Unused (the reference's CronJob pull secrets); kept for compatibility."
    })
  )
}).annotate({ description: "SnapshotSpec defines the desired state of Snapshot." })
export type SnapshotSpec = typeof SnapshotSpec.Type

export const SnapshotRecord = Schema.Struct({
  name: Schema.String.annotate({ description: "Name of the VolumeSnapshot." }),
  persistentVolumeClaimName: Schema.String.annotate({ description: "The data volume it copies." }),
  scheduledTime: Time.annotate({ description: "The schedule fire it belongs to." }),
  readyToUse: Schema.Boolean.annotate({ description: "Whether the VolumeSnapshot is ready to restore from." }),
  restoreSize: Schema.optionalKey(Schema.String.annotate({ description: "Size needed to restore it." })),
  creationTime: Schema.optionalKey(Time.annotate({ description: "When the storage system took it." })),
  error: Schema.optionalKey(Schema.String.annotate({ description: "The VolumeSnapshot's error message, if any." }))
}).annotate({ description: "SnapshotRecord is one VolumeSnapshot the operator took for this Snapshot." })
export type SnapshotRecord = typeof SnapshotRecord.Type

export const SnapshotStatus = Schema.Struct({
  conditions: Schema.optionalKey(Conditions.annotate({ description: "Conditions of the object." })),
  lastScheduleTime: Schema.optionalKey(Time.annotate({ description: "The last schedule fire acted upon." })),
  nextScheduleTime: Schema.optionalKey(Time.annotate({ description: "The next schedule fire." })),
  lastSuccessfulTime: Schema.optionalKey(
    Time.annotate({ description: "Scheduled time of the newest round whose snapshots are all ready to use." })
  ),
  snapshots: Schema.optionalKey(
    Schema.Array(SnapshotRecord).annotate({
      description: "The VolumeSnapshots the operator took and keeps, newest first."
    })
  )
}).annotate({ description: "SnapshotStatus defines the observed state of Snapshot." })
export type SnapshotStatus = typeof SnapshotStatus.Type

export const Snapshot = Schema.Struct({
  apiVersion: Schema.Literal(ApiVersion),
  kind: Schema.Literal("Snapshot"),
  metadata: ObjectMeta,
  spec: SnapshotSpec,
  status: Schema.optionalKey(SnapshotStatus)
}).annotate({ description: "Snapshot takes scheduled VolumeSnapshots of a DoltDB's volumes." })
export type Snapshot = typeof Snapshot.Type

export const decodeSnapshot = makeDecoder("Snapshot", Snapshot)
export const encodeSnapshot = makeEncoder("Snapshot", Snapshot)
