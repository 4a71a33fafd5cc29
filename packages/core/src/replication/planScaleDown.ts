/**
 * A scale-down that removes the primary's pod (situation `PrimaryLeaving`): the primary moves with one switchover,
 * to `spec.replication.primary.podIndex` (0 when that is out of range).
 *
 * Order: 1. the pods that stay restart, as standbys, with their final peer list (the rolling update restarts them:
 * `DoltConfigInput.members`, status `mesh`); 2. one switchover to the target; 3. the StatefulSet drops the old pod.
 * Why: a server reads its peers at startup only. Switched to first, the new primary would still list the removed
 * pod: every drain then waits 10 s on it, every ack-write too (warning 3024), and the restart it needs is a second
 * switchover (issue 12 §1.6: db-2 → db-0, then db-0 → db-1). If the target has not restarted within
 * `ScaleDownPrepareMillis` (the rolling update is stuck), the switchover goes ahead anyway, with a Warning.
 */
import type { ReplicationObserved } from "./ReplicationObserved.ts"

/** How long a scale-down waits for its target to restart with the new peer list before switching over anyway. */
export const ScaleDownPrepareMillis = 120_000

export type ScaleDownStep =
  /** The target still runs with the old peer list and the rolling update is restarting it: wait. */
  | {
      readonly _tag: "AwaitTargetRestart"
      readonly target: number
      readonly message: string
      readonly retryMillis: number
    }
  /** Switch over to `target`; `late`: it still has the old peer list (say so). */
  | { readonly _tag: "SwitchOver"; readonly target: number; readonly late: string | undefined }

/** The index the primary moves to: `podIndex` when it stays, else 0. */
export const scaleDownTarget = (o: ReplicationObserved): number => {
  const wanted = o.policy.desiredPrimary
  return Number.isInteger(wanted) && wanted >= 0 && wanted < o.policy.replicas ? wanted : 0
}

/** `cur`: the serving primary's ordinal, at or above `policy.replicas`. */
export const planScaleDown = (o: ReplicationObserved, cur: number): ScaleDownStep => {
  const target = scaleDownTarget(o)
  const pending = o.olderPeerList
  const pod = o.pods[target]
  const name = pod?.name ?? String(target)
  if (pending === undefined) return { _tag: "SwitchOver", target, late: undefined }
  const older = pending.ordinals.includes(target)
  const waited = o.now - pending.since
  // Just restarted: not ready yet. Waited for quietly too (the switchover would refuse it with a Warning).
  const restarting = pod === undefined || !pod.exists || pod.deleting || !pod.ready
  if (!older && !restarting) return { _tag: "SwitchOver", target, late: undefined }
  if (waited < ScaleDownPrepareMillis)
    return {
      _tag: "AwaitTargetRestart",
      target,
      message: older
        ? `Scale-down: ${name} restarts with the new peer list before the primary moves to it from ${o.pods[cur]?.name ?? cur}`
        : `Scale-down: waiting for ${name} to be ready before the primary moves to it from ${o.pods[cur]?.name ?? cur}`,
      retryMillis: 2_000
    }
  if (!older) return { _tag: "SwitchOver", target, late: undefined }
  return {
    _tag: "SwitchOver",
    target,
    late: `Scale-down: ${name} has not restarted with the new peer list after ${waited}ms; switching over to it anyway (the rolling update will move the primary once more to restart it)`
  }
}

/**
 * A scale-down whose primary stays: the StatefulSet keeps the pods it removes until the primary no longer lists
 * them, i.e. until the rolling update has moved the primary (one switchover) to a pod that restarted with the new
 * list. A primary pushing to a removed pod waits on it for every ack-write (warning 3024, so no write is confirmed)
 * and for 10 s in every drain: removed at once, the scale-down cost an 11 s write outage. Bounded like the wait
 * above. Returns the replica count the StatefulSet keeps.
 */
export const keptForPrimaryPeers = (o: {
  readonly now: number
  readonly replicas: number
  /** The StatefulSet's current replica count. */
  readonly statefulSetReplicas: number
  /** The primary once this plan's steps ran, and when its pod was created. */
  readonly primary: { readonly ordinal: number; readonly createdAt: number | undefined } | undefined
  /** When the peer list last changed (status `mesh`); absent when the operator does not restart pods. */
  readonly peerListSince: number | undefined
}): number => {
  const { primary, peerListSince: since } = o
  const listsRemoved =
    primary !== undefined &&
    since !== undefined &&
    primary.ordinal < o.replicas &&
    primary.createdAt !== undefined &&
    primary.createdAt < since &&
    o.now - since < ScaleDownPrepareMillis
  return listsRemoved ? Math.max(o.replicas, o.statefulSetReplicas) : o.replicas
}
