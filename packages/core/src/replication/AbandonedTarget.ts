/**
 * A transition's target given up while it may be primary. A pass that promoted the target may have ended before
 * its completion was recorded (API errors, an operator restart); if the target then becomes unreachable, the next
 * pass cannot tell whether it was promoted. Promoting another pod at a higher epoch would leave two writable
 * primaries for any client that still reaches the first one (dolt demotes the lower epoch only when the two meet).
 * So the target is fenced like an unreachable old primary: its pod is deleted, and nothing else is promoted until
 * that pod (that uid) is gone and its re-created server cannot be serving (RecreatedPod.ts), or the target answers
 * again as a non-primary. With the isolation guard enabled a
 * pod object that is gone proves nothing (a partitioned node keeps running it), so its threshold must also pass.
 */
import { OperatorMarginMillis } from "../guard/GuardView.ts"
import { isRecreated, recreatedMayServe } from "./RecreatedPod.ts"
import type { PodView, PrimaryTransition, ReplicationObserved, SqlView } from "./ReplicationObserved.ts"

export type AbandonedTargetFence =
  /** The target cannot be serving as primary: choose another. */
  | { readonly _tag: "Fenced" }
  /** Fence it first: record `next` (before the delete, so a failing delete does not lose the clock), then wait. */
  | {
      readonly _tag: "Wait"
      readonly next: PrimaryTransition
      readonly deletePod: PodView | undefined
      readonly waitMillis: number
      readonly why: string
    }

const fenced: AbandonedTargetFence = { _tag: "Fenced" }

export const fenceAbandonedTarget = (
  o: ReplicationObserved,
  t: PrimaryTransition,
  targetPod: PodView | undefined,
  targetSql: Extract<SqlView, { readonly _tag: "Reachable" }> | undefined,
  /** A switchover whose drain never confirmed the target: it was never told to be primary. */
  neverPromoted: boolean
): AbandonedTargetFence => {
  if (t.to === t.from || neverPromoted) return fenced
  const sameIncarnation = targetPod?.exists === true && targetPod.uid !== undefined
  // Answering as a non-primary: not serving writes, whatever an earlier pass did.
  if (sameIncarnation && targetSql !== undefined && targetSql.role !== "primary") return fenced
  const uid = t.abandonedTargetUid
  if (uid === undefined) {
    if (!sameIncarnation || targetSql !== undefined) return fenced
    const next = { ...t, abandonedTargetUid: targetPod.uid, abandonedTargetSince: o.now }
    return { _tag: "Wait", next, deletePod: targetPod, waitMillis: 1_000, why: waitingWhy(targetPod.name) }
  }
  const recreated = isRecreated(targetPod, uid)
  const podGone = targetPod === undefined || !targetPod.exists || (recreated && !recreatedMayServe(targetPod))
  const threshold = o.policy.guardThresholdMillis
  const deadline =
    threshold === undefined ? undefined : (t.abandonedTargetSince ?? o.now) + threshold + OperatorMarginMillis
  if (podGone && (deadline === undefined || o.now >= deadline)) return fenced
  return {
    _tag: "Wait",
    next: t,
    deletePod: podGone || recreated ? undefined : targetPod,
    waitMillis: podGone && deadline !== undefined ? Math.max(deadline - o.now, 0) : 1_000,
    why: waitingWhy(targetPod?.name ?? String(t.to))
  }
}

const waitingWhy = (name: string) =>
  `waiting for the previous target ${name} to be fenced (unreachable; an earlier pass may have promoted it)`
