/**
 * What the replication planner sees: one plain value built by the observe step from the Kubernetes API (pods)
 * and from SQL on every pod (role, epoch, `dolt_cluster_status`), plus the state the operator keeps in the
 * DoltDB status. No I/O happens here; the planner is a pure function of this value.
 */
import type { PodTarget } from "../plan/Action.ts"
import type { ClusterRole } from "../services/dolt/rows.ts"
import type { SwitchoverBackoff } from "./SwitchoverBackoff.ts"

/** One row of `dolt_cluster.dolt_cluster_status` on a primary, folded per standby remote. */
export interface StandbyReplication {
  /** The standby remote name: the standby's pod name. */
  readonly remote: string
  /** Databases with a row for this remote. */
  readonly databases: number
  /** Highest `replication_lag_millis` over its databases; `undefined` when any row is NULL (never pushed). */
  readonly maxLagMillis: number | undefined
  /** Rows with a non-NULL `current_error`. */
  readonly errors: number
  /**
   * Some row's `current_error` says the standby refused the primary's credentials (gRPC `Unauthenticated`): it has
   * not learnt the primary's signing key (`StuckStandby.ts`). Absent = false.
   */
  readonly refused?: boolean
}

export type SqlView =
  | { readonly _tag: "Unreachable"; readonly reason: string }
  | {
      readonly _tag: "Reachable"
      readonly role: ClusterRole
      readonly epoch: number
      /**
       * Whether the server runs with a `cluster:` configuration. A standalone server (replication just enabled, not
       * restarted yet) reports role primary at epoch 0 and has no status table; it is never failed over from.
       */
      readonly clustered?: boolean
      /**
       * `@@global.dolt_cluster_ack_writes_timeout_secs` as the server runs with it (`undefined`: not read). Above 0 a
       * primary's commit waits up to that long for every standby (ack-writes).
       */
      readonly ackWritesTimeoutSecs?: number | undefined
      /** The user databases the server holds (`undefined`: not read). */
      readonly databases?: ReadonlyArray<string>
      /** Present on a primary: replication towards each standby remote. */
      readonly standbys: ReadonlyArray<StandbyReplication>
      /**
       * Present on a standby: for each database, how long ago (on the standby's own clock) the last push or
       * heartbeat arrived; `undefined` = NULL (nothing received since this server started or changed role).
       * Measured on the server's clock so that clock skew between pods and the operator does not matter.
       */
      readonly staleness: ReadonlyArray<{ readonly database: string; readonly millis: number | undefined }>
    }

export interface PodView {
  readonly ordinal: number
  readonly name: string
  /** Pod object exists. */
  readonly exists: boolean
  readonly uid: string | undefined
  /** deletionTimestamp is set. */
  readonly deleting: boolean
  /** PodReady condition. */
  readonly ready: boolean
  /**
   * The pod's `dolt` container is running (as last reported), whether or not its server answers yet. Absent =
   * false. Fencing by deletion reads it: a re-created pod's server boots with its persisted role.
   */
  readonly serverStarted?: boolean | undefined
  /** When the `dolt` container last started running (its `startedAt`, epoch millis), if it runs. */
  readonly serverStartedAt?: number | undefined
  /** The `k8s.dolthub.com/cluster-role` label as currently set. */
  readonly roleLabel: string | undefined
  readonly sql: SqlView
  /**
   * The pod runs the isolation guard (its `guard` container is running, as last reported): cut off, it demotes
   * its server within the guard's threshold (docs/guard.md). Absent = false.
   */
  readonly guarded?: boolean | undefined
  /** How the operator reaches this pod's sql-server. */
  readonly target: PodTarget
}

/** A primary change in flight, persisted in status before its first step so it resumes after a crash. */
export interface PrimaryTransition {
  readonly kind: "Switchover" | "Failover" | "Repair"
  readonly from: number
  readonly to: number
  readonly epoch: number
  /** The uid of the old primary's pod when the transition started (fencing by deletion checks it). */
  readonly fromPodUid: string | undefined
  /** Operator clock, epoch millis. */
  readonly startedAt: number
  /**
   * A switchover's drain ended with the target confirmed at the drained primary's final state (recorded right
   * after the graceful demotion succeeds): only then is the target promoted.
   */
  readonly targetConfirmed?: boolean
  /** The old primary's pod ran the isolation guard when the transition started. */
  readonly fromPodGuarded?: boolean | undefined
  /**
   * When the operator first saw this (guarded, unreachable-primary) transition recorded in status: any read the
   * old primary's guard makes after it shows the failover, and a guard that cannot read since then has been cut off
   * since before it. Operator clock, epoch millis.
   */
  readonly fencingSince?: number | undefined
  /**
   * The target's pod (uid) when it became unusable while unreachable: a pass whose completion was never recorded
   * may have promoted it, and it may still serve clients that reach it. Nothing else is promoted until that pod is
   * gone and, if it ran the isolation guard, `abandonedTargetSince` + threshold + margin has passed.
   */
  readonly abandonedTargetUid?: string | undefined
  /** Operator clock, epoch millis: when fencing the abandoned target started. */
  readonly abandonedTargetSince?: number | undefined
}

/** What the serving primary last reported about one standby (recorded in status when it changes). */
export interface StandbyVerdict {
  readonly pod: string
  /** At the primary's position (lag within `maxLagOnFailover`, no error, every database) at each look since `since`. */
  readonly caughtUp: boolean
  /** Operator clock, epoch millis: when this verdict was first seen. */
  readonly since: number
}

/**
 * The evidence a failover is judged on: the verdicts the serving primary gave, per standby, recorded when they
 * change (so a converged cluster costs no writes) and frozen when the primary is lost.
 */
export interface Evidence {
  readonly primary: number
  readonly epoch: number
  /** The primary's databases: a server lacking one is never promoted. */
  readonly databases: ReadonlyArray<string>
  readonly standbys: ReadonlyArray<StandbyVerdict>
}

/** The replication part of the DoltDB status, as the planner reads and writes it. */
export interface ReplicationState {
  readonly currentPrimaryPodIndex: number | undefined
  readonly replicationEpoch: number | undefined
  readonly transition: PrimaryTransition | undefined
  /** When the operator first saw the current primary unavailable (failover debounce), epoch millis. */
  readonly primaryUnavailableSince: number | undefined
  /**
   * The last `spec.replication.primary.podIndex` the operator acted on. A switchover is requested by *changing*
   * the spec field, not by it differing from the current primary: after a failover or a rolling update moved
   * the primary, the operator does not switch back on its own, and never needs to write the spec.
   */
  readonly primaryRequest: number | undefined
  readonly evidence?: Evidence | undefined
  /** An aborted switchover waiting to be re-attempted (`SwitchoverBackoff.ts`). */
  readonly switchoverBackoff?: SwitchoverBackoff | undefined
  /** Servers the operator lowered the ack-writes wait on (`AckWait.ts`), at most one record per pod. */
  readonly shortenedAckWaits?: ReadonlyArray<ShortenedAckWait> | undefined
}

/** `dolt_cluster_ack_writes_timeout_secs` lowered (SET GLOBAL, this process only) on `pod`; `seconds` = before. */
export interface ShortenedAckWait {
  readonly pod: number
  readonly seconds: number
}

export interface ReplicationPolicy {
  readonly replicas: number
  /** `spec.replication.primary.podIndex`: a request, never written by the operator. */
  readonly desiredPrimary: number
  readonly automaticFailover: boolean
  /** `spec.replication.primary.minCaughtUpStandby` (default 1). */
  readonly minCaughtUpStandby: number
  /** How long the primary must stay unavailable before a failover starts. */
  readonly failoverDelayMillis: number
  /** Promote the freshest standby even when none is provably caught up (user opt-in). */
  readonly allowUnsafeFailover: boolean
  /**
   * With no recorded verdict on a standby (none was ever written for the lost primary), how much earlier than the
   * freshest standby it may have last heard from the primary and still count as caught up.
   */
  readonly caughtUpSlackMillis: number
  /** A standby counts as caught up while the primary reports its lag at most this (`maxLagOnFailover`). */
  readonly maxLagOnFailoverMillis?: number
  /** A planned switchover only starts when the target's replication lag is at most this. */
  readonly maxSwitchoverLagMillis: number
  /** A transition that has not completed by then is abandoned and re-planned. */
  readonly transitionTimeoutMillis: number
  /**
   * `spec.replication.guard.threshold` when the isolation guard is enabled: a guarded primary the operator cannot
   * reach counts as fenced once this (plus `Guard.OperatorMarginMillis`) has passed since `fencingSince`, pod
   * deleted or not. Absent: the guard is off and fencing an unreachable primary is deleting its pod.
   */
  readonly guardThresholdMillis?: number | undefined
}

export const defaultPolicy = {
  automaticFailover: true,
  minCaughtUpStandby: 1,
  failoverDelayMillis: 3_000,
  allowUnsafeFailover: false,
  caughtUpSlackMillis: 2_000,
  maxLagOnFailoverMillis: 5_000,
  maxSwitchoverLagMillis: 5_000,
  transitionTimeoutMillis: 60_000
} as const

export interface ReplicationObserved {
  /** Operator clock, epoch millis (from `Clock`). */
  readonly now: number
  /** A switchover another planner needs (the rolling update moving the primary off a stale pod). */
  readonly switchoverRequest?: number | undefined
  /**
   * Pods the rolling update restarts because they started before the peer list last changed (status `mesh`), and
   * since when it is what it is: a scale-down moves the primary only to a pod already on the new list.
   * Absent when the operator does not restart pods (`updateStrategy` other than `ReplicasFirstPrimaryLast`).
   */
  readonly olderPeerList?: { readonly ordinals: ReadonlyArray<number>; readonly since: number } | undefined
  readonly policy: ReplicationPolicy
  readonly state: ReplicationState
  /** One entry per ordinal in `0..max(replicas, existing pods)-1`. */
  readonly pods: ReadonlyArray<PodView>
}
