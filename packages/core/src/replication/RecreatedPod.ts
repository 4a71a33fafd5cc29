/**
 * A pod deleted to fence its server, and re-created by the StatefulSet. The new server boots with the role and epoch
 * persisted on its volume, so once started it may be a primary again, at its old epoch, for any client that reaches
 * it directly (soak seed 97014: the old primary's pod, re-created while cut off from the operator and its peers,
 * booted primary@1 half a second before the failover promoted another pod at epoch 2). The deletion proves the old
 * server gone only while the new one has not started, or once it answers as something else than a primary; a
 * re-created pod that answers as a primary is demoted like the old one, and one that started but does not answer
 * is waited for.
 *
 * What this cannot close: a re-created pod whose server starts only after the promotion boots as the stale primary
 * README and `Invariants.ts` describe (not routed to, demoted once the new primary or the operator reaches it).
 */
import type { PodView, PrimaryTransition } from "./ReplicationObserved.ts"
import { reachable } from "./Situation.ts"

/** `pod` is a new incarnation of the pod whose uid was `uid` (the one a fence deleted). */
export const isRecreated = (pod: PodView | undefined, uid: string | undefined): boolean =>
  pod?.exists === true && uid !== undefined && pod.uid !== uid

/** The re-created pod's server may be serving as a primary: it answers as one, or it started and does not answer. */
export const recreatedMayServe = (pod: PodView): boolean => {
  const sql = reachable(pod)
  return sql === undefined ? pod.serverStarted === true || pod.ready : sql.role === "primary"
}

/** The old primary of `t` is gone: no pod, or a re-created one that cannot be serving as a primary. */
export const oldPrimaryGone = (pod: PodView | undefined, t: PrimaryTransition): boolean =>
  pod === undefined || !pod.exists || (isRecreated(pod, t.fromPodUid) && !recreatedMayServe(pod))

/** How long a re-created old primary that does not answer is waited for before the wait is reported as blocked. */
export const RecreatedQuietMillis = 10_000

export const recreatedWhy = (pod: PodView) =>
  `the old primary's pod ${pod.name} was re-created after the fencing delete and its server started, but the ` +
  "operator cannot reach it: it may be serving at its persisted primary role, so nothing is promoted until it " +
  "answers (and is demoted) or stops"
