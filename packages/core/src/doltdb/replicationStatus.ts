/**
 * The replication state and policy as the DoltDB's status and spec carry them: read into the replication planner's
 * terms (`ReplicationState`, `ReplicationPolicy`), and written back into a status.
 */
import type { DoltDBStatus } from "../api/DoltDB.ts"
import { parseGoDuration } from "../api/GoDuration.ts"
import { podName } from "../builders/Names.ts"
import { guardEnabled, guardSettingsOf } from "../guard/GuardView.ts"
import type { ReplicationPolicy, ReplicationState } from "../replication/ReplicationObserved.ts"
import { parseTime, rfc3339 } from "../status/Conditions.ts"
import type { DoltDBObserved } from "./DoltDBObserved.ts"

export const replicationStateOf = (status: DoltDBStatus | undefined): ReplicationState => {
  const t = status?.primaryTransition
  const e = status?.replicationEvidence
  const b = status?.switchoverBackoff
  // The single record of earlier versions counts as one more, unless a newer record for its pod replaced it.
  const legacy = status?.shortenedAckWait
  const listed = status?.shortenedAckWaits ?? []
  const waits = [
    ...listed,
    ...(legacy === undefined || listed.some((w) => w.podIndex === legacy.podIndex) ? [] : [legacy])
  ]
  return {
    currentPrimaryPodIndex: status?.currentPrimaryPodIndex,
    replicationEpoch: status?.replicationEpoch,
    primaryUnavailableSince: parseTime(status?.primaryUnavailableSince),
    primaryRequest: status?.primaryRequest,
    transition:
      t === undefined
        ? undefined
        : {
            kind: t.kind,
            from: t.from,
            to: t.to,
            epoch: t.epoch,
            fromPodUid: t.fromPodUid,
            startedAt: parseTime(t.startedAt) ?? 0,
            ...(t.targetConfirmed === true ? { targetConfirmed: true } : {}),
            ...(t.fromPodGuarded === true ? { fromPodGuarded: true } : {}),
            ...(t.fencingSince === undefined ? {} : { fencingSince: parseTime(t.fencingSince) }),
            ...(t.abandonedTargetUid === undefined ? {} : { abandonedTargetUid: t.abandonedTargetUid }),
            ...(t.abandonedTargetSince === undefined ? {} : { abandonedTargetSince: parseTime(t.abandonedTargetSince) })
          },
    evidence:
      e === undefined
        ? undefined
        : {
            primary: e.primary,
            epoch: e.epoch,
            databases: e.databases,
            standbys: e.standbys.map((v) => ({ pod: v.pod, caughtUp: v.caughtUp, since: parseTime(v.since) ?? 0 }))
          },
    ...(b === undefined
      ? {}
      : { switchoverBackoff: { to: b.podIndex, attempts: b.attempts, retryAt: parseTime(b.retryAt) ?? 0 } }),
    ...(waits.length === 0 ? {} : { shortenedAckWaits: waits.map((w) => ({ pod: w.podIndex, seconds: w.seconds })) })
  }
}

/** Writes the replication state into a status object, dropping keys that became undefined. */
export const withReplicationState = (status: DoltDBStatus, state: ReplicationState, name: string): DoltDBStatus => {
  const {
    primaryTransition: _t,
    primaryUnavailableSince: _u,
    primaryRequest: _r,
    replicationEvidence: _v,
    switchoverBackoff: _b,
    shortenedAckWait: _w,
    shortenedAckWaits: _ws,
    currentPrimary: _c,
    currentPrimaryPodIndex: _i,
    replicationEpoch: _e,
    ...rest
  } = status
  const t = state.transition
  return {
    ...rest,
    ...(state.currentPrimaryPodIndex === undefined
      ? {}
      : {
          currentPrimaryPodIndex: state.currentPrimaryPodIndex,
          currentPrimary: podName(name, state.currentPrimaryPodIndex)
        }),
    ...(state.replicationEpoch === undefined ? {} : { replicationEpoch: state.replicationEpoch }),
    ...(t === undefined
      ? {}
      : {
          primaryTransition: {
            kind: t.kind,
            from: t.from,
            to: t.to,
            epoch: t.epoch,
            ...(t.fromPodUid === undefined ? {} : { fromPodUid: t.fromPodUid }),
            startedAt: rfc3339(t.startedAt),
            ...(t.targetConfirmed === true ? { targetConfirmed: true } : {}),
            ...(t.fromPodGuarded === true ? { fromPodGuarded: true } : {}),
            // Rounded up (metav1.Time has seconds): the guard's deadline may only move later.
            ...(t.fencingSince === undefined ? {} : { fencingSince: rfc3339(Math.ceil(t.fencingSince / 1000) * 1000) }),
            ...(t.abandonedTargetUid === undefined ? {} : { abandonedTargetUid: t.abandonedTargetUid }),
            // Rounded up like fencingSince: the guard's deadline may only move later.
            ...(t.abandonedTargetSince === undefined
              ? {}
              : { abandonedTargetSince: rfc3339(Math.ceil(t.abandonedTargetSince / 1000) * 1000) })
          }
        }),
    ...(state.evidence === undefined
      ? {}
      : {
          replicationEvidence: {
            primary: state.evidence.primary,
            epoch: state.evidence.epoch,
            databases: [...state.evidence.databases],
            standbys: state.evidence.standbys.map((v) => ({
              pod: v.pod,
              caughtUp: v.caughtUp,
              since: rfc3339(v.since)
            }))
          }
        }),
    ...(state.primaryUnavailableSince === undefined
      ? {}
      : { primaryUnavailableSince: rfc3339(state.primaryUnavailableSince) }),
    ...(state.primaryRequest === undefined ? {} : { primaryRequest: state.primaryRequest }),
    ...(state.switchoverBackoff === undefined
      ? {}
      : {
          switchoverBackoff: {
            podIndex: state.switchoverBackoff.to,
            attempts: state.switchoverBackoff.attempts,
            // Rounded up (metav1.Time has seconds): the retry may only move later.
            retryAt: rfc3339(Math.ceil(state.switchoverBackoff.retryAt / 1000) * 1000)
          }
        }),
    ...(state.shortenedAckWaits === undefined || state.shortenedAckWaits.length === 0
      ? {}
      : { shortenedAckWaits: state.shortenedAckWaits.map((w) => ({ podIndex: w.pod, seconds: w.seconds })) })
  }
}

export const replicationPolicyOf = (o: DoltDBObserved): ReplicationPolicy => {
  const primary = o.doltdb.spec.replication.primary
  const delay = primary.failoverDelay === undefined ? undefined : parseGoDuration(primary.failoverDelay)
  const maxLag = primary.maxLagOnFailover === undefined ? undefined : parseGoDuration(primary.maxLagOnFailover)
  return {
    ...o.defaults,
    replicas: o.doltdb.spec.replicas,
    desiredPrimary: primary.podIndex,
    automaticFailover: primary.automaticFailover,
    minCaughtUpStandby: primary.minCaughtUpStandby ?? 1,
    ...(delay === undefined ? {} : { failoverDelayMillis: delay }),
    ...(maxLag === undefined ? {} : { maxLagOnFailoverMillis: maxLag }),
    ...(primary.allowUnsafeFailover === undefined ? {} : { allowUnsafeFailover: primary.allowUnsafeFailover }),
    ...(guardEnabled(o.doltdb) ? { guardThresholdMillis: guardSettingsOf(o.doltdb).thresholdMillis } : {})
  }
}
