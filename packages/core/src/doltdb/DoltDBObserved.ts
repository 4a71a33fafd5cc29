/**
 * What the DoltDB reconciler observes: the DoltDB itself, the children it owns (only whether they exist and which
 * configuration we last applied to them), the StatefulSet's rollout status, and one view per pod (Kubernetes
 * state plus what its sql-server says). Built by the operator's observe step; planned by `planDoltDB`.
 */
import type { IdentifiedDoltDB } from "../builders/Owner.ts"
import type { PodView, ReplicationPolicy } from "../replication/ReplicationObserved.ts"
import type { ForeignChild } from "./ForeignChildren.ts"
import type { StorageObserved } from "./storage/StorageObserved.ts"
import type { TlsObserved } from "./tls/planCertificates.ts"

/** Annotation carrying the hash of the configuration the operator last applied to a child object. */
export const AppliedHashAnnotation = "k8s.dolthub.com/applied-hash"

export interface StatefulSetView {
  readonly replicas: number
  readonly readyReplicas: number
  readonly updateRevision: string | undefined
  readonly currentRevision: string | undefined
  /** Immutable: the desired StatefulSet keeps it (absent: the default for a new one). */
  readonly podManagementPolicy?: "OrderedReady" | "Parallel" | undefined
}

export interface DoltDBPodView extends PodView {
  /** The pod's `controller-revision-hash` label. */
  readonly revision: string | undefined
  /** `metadata.creationTimestamp`, epoch millis. */
  readonly createdAt?: number | undefined
  /** The init container's last failure (its termination message), while it fails. */
  readonly initFailure?: string | undefined
}

/** Operator-wide settings that shape replication (flags), overridable per DoltDB where the API allows it. */
export type ReplicationDefaults = Omit<
  ReplicationPolicy,
  "replicas" | "desiredPrimary" | "automaticFailover" | "minCaughtUpStandby"
>

export interface DoltDBObserved {
  /** Operator clock, epoch millis. */
  readonly now: number
  readonly doltdb: IdentifiedDoltDB
  /**
   * Children that exist, keyed by `childKey(kind, name)`, with the applied-hash annotation they carry (or
   * `undefined` when they have none: created by someone else, or by an older operator).
   */
  readonly children: ReadonlyMap<string, string | undefined>
  readonly statefulSet: StatefulSetView | undefined
  /** One per ordinal `0..max(spec.replicas, pods seen)-1`, with `exists: false` for missing pods. */
  readonly pods: ReadonlyArray<DoltDBPodView>
  readonly defaults: ReplicationDefaults
  /**
   * Set when the operator cannot talk SQL to any pod for a reason of its own (e.g. the credentials Secret is
   * missing): replication is then left alone — unreachable servers must not look like a lost primary.
   */
  readonly sqlUnavailable?: string | undefined
  /** The claim template, data PVCs and StorageClasses (`storage/planStorage.ts`); absent: storage is left alone. */
  readonly storage?: StorageObserved | undefined
  /** Desired children whose name another object holds (`ForeignChildren.ts`): never applied. */
  readonly foreignChildren?: ReadonlyArray<ForeignChild> | undefined
  /** The TLS Secrets (`spec.tls.enabled` only; `tls/planCertificates.ts`). */
  readonly tls?: TlsObserved | undefined
}

export const childKey = (kind: string, name: string): string => `${kind}/${name}`
