/**
 * What the Snapshot planner observes: the Snapshot, the DoltDB's pods as snapshot sources, the VolumeSnapshots
 * this Snapshot took (by label), and whether the VolumeSnapshot API and the snapshot class exist. Built by the
 * operator's observe step; planned by `planSnapshot`.
 */
import type { Snapshot } from "../api/Snapshot.ts"

/** Label on every VolumeSnapshot the operator takes: the Snapshot's name. */
export const SnapshotLabel = "k8s.dolthub.com/snapshot"
/** Annotation: the schedule fire (RFC 3339) a VolumeSnapshot belongs to. */
export const ScheduledTimeAnnotation = "k8s.dolthub.com/scheduled-time"
/** Annotations recording where the copy came from (pod, its role and epoch then). */
export const SourcePodAnnotation = "k8s.dolthub.com/source-pod"
export const SourceRoleAnnotation = "k8s.dolthub.com/source-role"

export interface SnapshotSource {
  readonly ordinal: number
  readonly pod: string
  readonly claim: string
  /** The pod exists, is Ready and its claim is Bound. */
  readonly available: boolean
  readonly role: "primary" | "standby" | undefined
  /** A standby the primary reports caught up (no replication error, lag within bounds). */
  readonly caughtUp: boolean
}

export interface VolumeSnapshotView {
  readonly name: string
  readonly claim: string
  /** Epoch millis of the schedule fire; undefined when the annotation is missing or unreadable. */
  readonly scheduledTime: number | undefined
  readonly readyToUse: boolean
  readonly restoreSize?: string | undefined
  readonly creationTime?: string | undefined
  readonly error?: string | undefined
  readonly deleting: boolean
}

export type SnapshotClass =
  /** Named explicitly or found by the reference's storage-class-as-class rule, and it exists. */
  | { readonly _tag: "Named"; readonly name: string }
  /** `spec.volumeSnapshotClassName` names a class that does not exist. */
  | { readonly _tag: "Missing"; readonly name: string }
  /** No name: the snapshot-controller picks the default class of the volume's CSI driver. */
  | { readonly _tag: "DriverDefault" }

export type SnapshotDoltDB =
  | { readonly _tag: "NotFound"; readonly name: string }
  | {
      readonly _tag: "Found"
      readonly name: string
      readonly uid: string | undefined
      readonly sources: ReadonlyArray<SnapshotSource>
    }

export interface SnapshotObserved {
  readonly now: number
  readonly snapshot: Snapshot & {
    readonly metadata: { readonly name: string; readonly namespace: string; readonly uid?: string }
  }
  /** False when `snapshot.storage.k8s.io/v1` VolumeSnapshots are not served (no CRDs). */
  readonly api: boolean
  readonly snapshotClass: SnapshotClass
  readonly doltdb: SnapshotDoltDB
  readonly volumeSnapshots: ReadonlyArray<VolumeSnapshotView>
}
