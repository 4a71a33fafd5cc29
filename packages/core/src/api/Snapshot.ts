/** The Snapshot kind: scheduled VolumeSnapshots of a DoltDB's volumes. */
import { Schema } from "effect"
import { makeDecoder, makeEncoder } from "./Codec.ts"
import { ConditionsStatus, DoltDBRef, ObjectMeta, withDefault } from "./Common.ts"
import { ApiVersion } from "./Group.ts"
import { LocalObjectReference } from "./k8s/Models.generated.ts"

export const SnapshotSpec = Schema.Struct({
  frequencySchedule: Schema.String.annotate({
    description: 'FrequencySchedule is the cron expression (5 fields, e.g. "0 0 * * *") of the snapshots.'
  }),
  doltDBRef: DoltDBRef.annotate({ description: "DoltDBRef is a reference to the DoltDB to snapshot." }),
  image: Schema.String.annotate({ description: "Image of the container the snapshot CronJob runs." }).pipe(
    withDefault("bitnami/kubectl")
  ),
  version: Schema.String.annotate({ description: "Version (tag) of the image." }).pipe(withDefault("latest")),
  imagePullSecrets: Schema.optionalKey(
    Schema.Array(LocalObjectReference).annotate({
      description: "ImagePullSecrets specifies the secrets to use for pulling the container image."
    })
  )
}).annotate({ description: "SnapshotSpec defines the desired state of Snapshot." })
export type SnapshotSpec = typeof SnapshotSpec.Type

export const SnapshotStatus = ConditionsStatus("SnapshotStatus defines the observed state of Snapshot.")
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
