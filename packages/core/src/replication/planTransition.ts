/**
 * A primary change, step by step: started (recorded in status before its first step), resumed on every reconcile
 * from what the servers say, completed, or aborted.
 *
 * - Fence first: a reachable old primary is demoted at the new epoch (a switchover drains it with
 *   `dolt_cluster_transition_to_standby`, requiring the target caught up); an unreachable one has its pod deleted
 *   and nothing is promoted until that pod (that uid) is gone and its re-created server cannot be serving as a
 *   primary (RecreatedPod.ts).
 * - A switchover records `targetConfirmed` right after the drain succeeded with the target caught up (a checkpoint
 *   the executor only reaches when the drain action succeeded) and promotes the target only then. A drain that
 *   ended without that confirmation aborts the switchover: the old primary, which holds its own final state, is
 *   put back at a higher epoch, with a Warning and a condition.
 */

import { OperatorMarginMillis } from "../guard/GuardView.ts"
import { type Action, requeueAfter } from "../plan/Action.ts"
import { fenceAbandonedTarget } from "./AbandonedTarget.ts"
import { shortenBeforePromotion } from "./AckWait.ts"
import {
  type ClusterIdentity,
  event,
  labelActions,
  maxEpoch,
  ok,
  type ReplicationDecision,
  type ReplicationStep,
  roleLabelAction,
  switching
} from "./Decision.ts"
import { DefaultMaxLagOnFailoverMillis, seedEvidence } from "./Evidence.ts"
import { isRecreated, oldPrimaryGone, RecreatedQuietMillis, recreatedWhy } from "./RecreatedPod.ts"
import type {
  PodView,
  PrimaryTransition,
  ReplicationObserved,
  ReplicationState,
  ShortenedAckWait
} from "./ReplicationObserved.ts"
import { reachable } from "./Situation.ts"
import { afterAbort, describeBackoff } from "./SwitchoverBackoff.ts"
import { isPromotable, selectFailoverCandidate } from "./selectCandidate.ts"

const withoutBackoff = ({ switchoverBackoff: _, ...rest }: ReplicationState): ReplicationState => rest

const withEvidence = (evidence: ReplicationState["evidence"]) => (evidence === undefined ? {} : { evidence })

const minSts = (o: ReplicationObserved, ...ordinals: ReadonlyArray<number>) =>
  Math.max(o.policy.replicas, ...ordinals.map((i) => i + 1))

/** Refuse a switchover before touching the primary: demoting first and then finding the target unusable is an outage. */
const switchoverRefusal = (o: ReplicationObserved, state: ReplicationState, cur: number, target: number) => {
  const curPod = o.pods[cur]
  const targetPod = o.pods[target]
  if (targetPod === undefined || !isPromotable(targetPod) || !targetPod.ready)
    return `target ${targetPod?.name ?? target} is not a ready standby`
  const sql = reachable(curPod)
  // No user database yet means no status rows at all: nothing to lag on (the drain still checks users and grants).
  if ((sql?.standbys.length ?? 0) > 0) {
    const repl = sql?.standbys.find((s) => s.remote === targetPod.name)
    if (repl === undefined || repl.errors > 0 || repl.maxLagMillis === undefined)
      return `target ${targetPod.name} is not replicating from the primary`
    if (repl.maxLagMillis > o.policy.maxSwitchoverLagMillis)
      return `target ${targetPod.name} lags ${repl.maxLagMillis}ms (max ${o.policy.maxSwitchoverLagMillis}ms)`
    const verdict = state.evidence?.standbys.find((v) => v.pod === targetPod.name)
    if (state.evidence?.primary === cur && verdict?.caughtUp === false)
      return `target ${targetPod.name} is not at the primary's position (lag over ${o.policy.maxLagOnFailoverMillis ?? DefaultMaxLagOnFailoverMillis}ms)`
  }
  const healthyStandbys = o.pods.filter((p) => p.ordinal !== cur && isPromotable(p) && p.ready).length
  if (healthyStandbys < o.policy.minCaughtUpStandby)
    return `${healthyStandbys} ready standbys, minCaughtUpStandby is ${o.policy.minCaughtUpStandby}`
  return undefined
}

/** Start a switchover (checked first) or a failover (its target already chosen): record it, then its first steps. */
export const startTransition = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  state: ReplicationState,
  cur: number,
  target: number,
  kind: "Switchover" | "Failover" = "Switchover",
  announce?: Action
): ReplicationDecision => {
  const curPod = o.pods[cur]
  if (kind === "Switchover") {
    const refusal = switchoverRefusal(o, state, cur, target)
    if (refusal !== undefined)
      return {
        persistFirst: undefined,
        actions: [...labelActions(o, cluster, cur), event(cluster, "Warning", "SwitchoverBlocked", refusal)],
        requeueAfter: requeueAfter(2_000, refusal),
        next: state,
        primarySwitched: switching(`Switching primary to '${o.pods[target]?.name ?? target}': ${refusal}`),
        blocked: { status: "False", reason: "SwitchoverBlocked", message: refusal },
        minStatefulSetReplicas: minSts(o, cur)
      }
  }
  const transition: PrimaryTransition = {
    kind,
    from: cur,
    to: target,
    epoch: maxEpoch(o) + 1,
    fromPodUid: curPod?.uid,
    startedAt: o.now,
    ...(kind === "Failover" && curPod?.guarded === true ? { fromPodGuarded: true } : {})
  }
  const started = continueTransition({ ...o, state }, cluster, transition, transition.epoch)
  return {
    ...started,
    persistFirst: { ...state, transition },
    actions: [
      announce ??
        event(
          cluster,
          "Normal",
          "PrimarySwitching",
          `Switching primary from index '${cur}' to index '${target}' at epoch ${transition.epoch}`
        ),
      ...started.actions
    ]
  }
}

/**
 * How long a transition lets the old primary hand over gracefully before fencing it by force: Dolt's graceful
 * demotion waits at most 10 s for its standbys (the preStop's, or the operator's own), plus a margin. Past it, a
 * still-writable or unreachable old primary whose pod is terminating has its pod force-deleted, as an unreachable
 * one's is: its server may otherwise linger until the grace period ends (dolt waits for lagging standbys after
 * SIGTERM), and the failover with it (e2e: the transition ran into its 60 s timeout). A primary that is not
 * terminating is not affected: an unreachable one is deleted at once, a reachable one is demoted gracefully.
 */
export const HandOverMillis = 12_000

const deleteOldPod = (cluster: ClusterIdentity, oldPod: PodView, why: string): Action => ({
  _tag: "Delete",
  ref: {
    apiVersion: "v1",
    kind: "Pod",
    namespace: cluster.namespace,
    name: oldPod.name,
    ...(oldPod.uid === undefined ? {} : { uid: oldPod.uid })
  },
  gracePeriodSeconds: 0,
  reason: `fencing primary ${oldPod.name}: ${why}`
})

/**
 * The isolation guard's part in fencing a failover's old primary (docs/guard.md), when its pod ran the guard and
 * the guard is enabled. The clock starts at the first reconcile that reads the transition back from status
 * (`o.state.transition`), never before it was persisted: a guard that reads the API server after that sees the
 * failover and demotes within a tick; one that cannot has been cut off since before it and demotes within the
 * threshold plus a tick. Past `threshold + margin` the old primary is fenced, whether or not its pod was deleted.
 *
 * Only while the operator reaches every other pod: the guard keeps serving while a peer at its epoch follows it, and
 * a peer the operator cannot reach may be cut off together with the old primary (on its node: soak seed 1356675888,
 * GuardLate 7 s). Then the guard proves nothing, and fencing falls back to the pod being gone.
 */
const guardFence = (o: ReplicationObserved, t: PrimaryTransition) => {
  const threshold = o.policy.guardThresholdMillis
  if (t.kind !== "Failover" || t.fromPodGuarded !== true || threshold === undefined) return undefined
  if (o.pods.some((p) => p.ordinal !== t.from && reachable(p) === undefined)) return undefined
  const persisted = o.state.transition !== undefined
  const start = t.fencingSince ?? (persisted ? o.now : undefined)
  const deadline = start === undefined ? undefined : start + threshold + OperatorMarginMillis
  return {
    start,
    passed: deadline !== undefined && o.now >= deadline,
    waitMillis: deadline === undefined ? 1_000 : Math.max(deadline - o.now, 0),
    next: start === undefined ? t : { ...t, fencingSince: start }
  }
}

/** Where a transition stands, from what the servers say now. Re-entrant: called on every reconcile until done. */
export const continueTransition = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  t: PrimaryTransition,
  epochMax: number
): ReplicationDecision => {
  const state = { ...o.state, transition: t }
  const oldPod = o.pods[t.from]
  const targetPod = o.pods[t.to]
  const base = {
    persistFirst: undefined,
    primarySwitched: switching(`Switching primary to '${targetPod?.name ?? t.to}'`),
    blocked: undefined,
    minStatefulSetReplicas: minSts(o, t.from, t.to)
  }
  const targetSql = reachable(targetPod)
  const oldSql = reachable(oldPod)
  // Fence: the old primary must be demoted, or provably gone, before anyone else becomes writable.
  const oldRecreated = isRecreated(oldPod, t.fromPodUid)
  const oldGone = oldPrimaryGone(oldPod, t)
  const guard = guardFence(o, t)
  // With the isolation guard, a pod object that is gone proves nothing (a partitioned node keeps running it); the
  // guard's deadline does, as does the old pod itself answering as a standby.
  const oldFenced =
    guard === undefined
      ? oldGone || (oldSql !== undefined && oldSql.role !== "primary")
      : guard.passed || (!oldGone && oldSql !== undefined && oldSql.role !== "primary")

  // A target already primary at the transition's epoch was promoted by an earlier pass (whose completion was not
  // recorded): finish once the old one is not writable, or when it is a re-created pod that started since (waiting
  // for it cannot undo the promotion; the new primary's pushes demote it, and so does this pass if it answers).
  const targetPromoted = targetSql?.role === "primary" && targetSql.epoch >= t.epoch
  if (targetPromoted && (oldFenced || (guard === undefined && oldRecreated)))
    return completeTransition(
      o,
      cluster,
      t,
      epochMax,
      oldFenced || oldSql === undefined
        ? []
        : [{ _tag: "AssumeRole", target: oldPod!.target, role: "standby", epoch: t.epoch }]
    )
  const guardWait = guard === undefined ? 0 : (o.policy.guardThresholdMillis ?? 0) + OperatorMarginMillis
  // Re-planning would forget a previous target that may still be primary: it is fenced first, however long it takes.
  const abandonedPending =
    t.abandonedTargetUid !== undefined && fenceAbandonedTarget(o, t, targetPod, targetSql, false)._tag === "Wait"
  if (o.now - t.startedAt > o.policy.transitionTimeoutMillis + guardWait && !abandonedPending) {
    const message = `${t.kind} to '${targetPod?.name ?? t.to}' did not complete within ${o.policy.transitionTimeoutMillis}ms; re-planning`
    return {
      ...base,
      actions: [event(cluster, "Warning", "SwitchoverTimedOut", message)],
      requeueAfter: requeueAfter(0, message),
      // The old primary may already be fenced: count the unavailability from the start of this attempt.
      next: { ...o.state, transition: undefined, primaryUnavailableSince: t.startedAt },
      blocked: { status: "False", reason: "SwitchoverTimedOut", message }
    }
  }
  const fence: Array<ReplicationStep> = []
  if (oldPod?.exists && !oldPod.deleting && oldPod.roleLabel !== "standby")
    fence.push(roleLabelAction(cluster, oldPod, "standby"))
  if (!oldFenced) {
    if (oldSql !== undefined && t.kind === "Switchover" && targetPod !== undefined) {
      // Drain: the executor fails the action unless the target reports caught up; only then is the checkpoint
      // written and the target promoted, in this pass or (after a crash) the next.
      const confirmed: PrimaryTransition = { ...t, targetConfirmed: true }
      const shorten = shortenBeforePromotion(o, cluster, targetPod, undefined)
      const recorded = shorten === undefined ? {} : { shortenedAckWaits: shorten.records }
      return withRecord(
        completeTransition(o, cluster, confirmed, epochMax, [
          ...fence,
          {
            _tag: "TransitionToStandby",
            target: oldPod!.target,
            epoch: t.epoch,
            minCaughtUp: Math.max(1, o.policy.minCaughtUpStandby),
            requireCaughtUp: [targetPod.name]
          },
          { _tag: "Checkpoint", state: { ...o.state, transition: confirmed, ...recorded } },
          ...(shorten?.actions ?? []),
          { _tag: "AssumeRole", target: targetPod.target, role: "primary", epoch: t.epoch }
        ]),
        shorten?.records
      )
    }
    // A terminating old primary had its time to hand over: fence it by force, whether it still answers or not.
    // Until then its preStop may be handing over (and kill connections while it does), so it is waited for.
    const handOverOver = oldPod?.deleting === true && o.now - t.startedAt >= HandOverMillis
    const why =
      oldSql === undefined
        ? "unreachable"
        : `terminating and still primary ${HandOverMillis}ms into the ${t.kind.toLowerCase()} (its hand-over did not complete)`
    // A re-created pod is not deleted again: it would boot with the same persisted role.
    const forceDelete =
      oldPod?.exists === true && !oldGone && !oldRecreated && (!oldPod.deleting || handOverOver)
        ? [deleteOldPod(cluster, oldPod, why)]
        : []
    if (oldSql !== undefined && !handOverOver)
      fence.push({ _tag: "AssumeRole", target: oldPod!.target, role: "standby", epoch: t.epoch })
    else if (guard !== undefined) {
      // Unreachable (or past the hand-over) and guarded: delete its pod (best effort) and wait for the guard's
      // deadline, which fences it even if the delete fails or the pod object lingers.
      return {
        ...base,
        actions: [...fence, ...forceDelete],
        requeueAfter: requeueAfter(guard.waitMillis, "waiting for the old primary's guard deadline"),
        // Recorded before the delete runs, so a failing delete does not lose the clock.
        persistFirst: guard.start === t.fencingSince ? undefined : { ...o.state, transition: guard.next },
        next: { ...state, transition: guard.next }
      }
    } else if (oldRecreated && oldPod !== undefined) {
      // Re-created and started, but it does not answer: it may be the old primary again (RecreatedPod.ts).
      const quiet = o.now - t.startedAt < RecreatedQuietMillis
      const why = recreatedWhy(oldPod)
      return {
        ...base,
        actions: quiet ? fence : [...fence, event(cluster, "Warning", "FailoverBlocked", why)],
        requeueAfter: requeueAfter(1_000, why),
        next: state,
        blocked: quiet ? undefined : { status: "False", reason: "FailoverBlocked", message: why }
      }
    } else {
      // Unreachable (or past the hand-over): it may still serve clients that reach it directly. Delete its pod
      // and wait until the pod (with that uid) is gone and its re-created server cannot be serving (RecreatedPod.ts).
      fence.push(...forceDelete)
      return {
        ...base,
        actions: fence,
        requeueAfter: requeueAfter(1_000, "waiting for the old primary to be fenced"),
        next: state
      }
    }
  }
  const drainedUnconfirmed = t.kind === "Switchover" && t.targetConfirmed !== true
  if (drainedUnconfirmed && !oldGone && oldSql?.role === "standby" && oldPod !== undefined && !oldPod.deleting)
    return abortSwitchover(o, cluster, t, oldPod, epochMax)
  // Promote the target; if it is no longer usable (or a switchover's old primary vanished before the target was
  // confirmed), only a standby the evidence shows caught up, as in a failover.
  // A promoted target is the new primary: promoting another pod at its epoch would make two (soak seed 50033).
  const targetUsable = targetPod !== undefined && (isPromotable(targetPod) || targetPromoted) && !drainedUnconfirmed
  let promote: PodView | undefined = targetUsable ? targetPod : undefined
  let next = t
  if (promote === undefined) {
    const abandoned = fenceAbandonedTarget(o, t, targetPod, targetSql, drainedUnconfirmed)
    if (abandoned._tag === "Wait")
      return {
        ...base,
        actions: [
          ...fence,
          ...(abandoned.deletePod === undefined ? [] : [deleteOldPod(cluster, abandoned.deletePod, abandoned.why)])
        ],
        requeueAfter: requeueAfter(abandoned.waitMillis, abandoned.why),
        persistFirst: abandoned.next === t ? undefined : { ...o.state, transition: abandoned.next },
        next: { ...state, transition: abandoned.next }
      }
    const evidence = o.state.evidence?.primary === t.from ? o.state.evidence : undefined
    const choice = selectFailoverCandidate(o.pods, new Set([t.from]), o.policy, evidence, o.now, {
      prefer: t.to,
      lostAt: o.state.primaryUnavailableSince ?? t.startedAt
    })
    if (choice._tag === "None")
      return {
        ...base,
        actions: [...fence, event(cluster, "Warning", "FailoverBlocked", choice.reason)],
        requeueAfter: requeueAfter(2_000, choice.reason),
        next: state,
        blocked: { status: "False", reason: "FailoverBlocked", message: choice.reason }
      }
    promote = choice.candidate.pod
    const { targetConfirmed: _confirmed, abandonedTargetUid: _uid, abandonedTargetSince: _since, ...rest } = t
    // A new epoch: the first target may have been told to assume the old one before it became unusable, and two
    // primaries at one epoch leave both in detected_broken_config; a higher epoch wins when they meet.
    next = { ...rest, to: promote.ordinal, epoch: Math.max(epochMax, t.epoch) + 1 }
  }
  const promotion: ReplicationStep = { _tag: "AssumeRole", target: promote.target, role: "primary", epoch: next.epoch }
  // Lowered before the promotion: Dolt reads the timeout when a commit starts waiting (AckWait.ts).
  const shorten = shortenBeforePromotion(o, cluster, promote, t.kind === "Failover" ? t.from : undefined)
  const recorded = shorten === undefined ? {} : { shortenedAckWaits: shorten.records }
  return withRecord(
    {
      ...completeTransition(o, cluster, next, epochMax, [...fence, ...(shorten?.actions ?? []), promotion]),
      persistFirst: next === t && shorten === undefined ? undefined : { ...o.state, transition: next, ...recorded }
    },
    shorten?.records
  )
}

/** The decision with a lowered ack-writes wait recorded in its final state too. */
const withRecord = (
  d: ReplicationDecision,
  records: ReadonlyArray<ShortenedAckWait> | undefined
): ReplicationDecision => (records === undefined ? d : { ...d, next: { ...d.next, shortenedAckWaits: records } })

/** The drain ended without the target confirming the final state: put the old primary back, higher. */
const abortSwitchover = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  t: PrimaryTransition,
  oldPod: PodView,
  epochMax: number
): ReplicationDecision => {
  const epoch = epochMax + 1
  const backoff = afterAbort(o.state, t.to, o.now)
  const targetName = o.pods[t.to]?.name ?? String(t.to)
  const message = `switchover from '${oldPod.name}' to '${targetName}' aborted: the target did not confirm the drained primary's final state; ${oldPod.name} is primary again at epoch ${epoch}; ${describeBackoff(backoff, targetName, o.now)}`
  return {
    persistFirst: undefined,
    actions: [
      { _tag: "AssumeRole", target: oldPod.target, role: "primary", epoch },
      ...labelActions(o, cluster, t.from),
      event(cluster, "Warning", "SwitchoverAborted", message)
    ],
    next: {
      ...o.state,
      currentPrimaryPodIndex: t.from,
      replicationEpoch: epoch,
      transition: undefined,
      primaryUnavailableSince: undefined,
      switchoverBackoff: backoff
    },
    primarySwitched: { status: "False", reason: "SwitchoverAborted", message },
    // The request stays pending until the re-attempt: Ready is False meanwhile.
    blocked: { status: "False", reason: "SwitchoverAborted", message },
    minStatefulSetReplicas: minSts(o, t.from, t.to)
  }
}

/** The transition's last step: status points at the new primary, labels follow. */
const completeTransition = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  t: PrimaryTransition,
  epochMax: number,
  actions: ReadonlyArray<ReplicationStep>
): ReplicationDecision => ({
  persistFirst: undefined,
  actions: [
    ...actions,
    ...labelActions(o, cluster, t.to),
    event(
      cluster,
      "Normal",
      "PrimarySwitched",
      `Primary switched from index '${t.from}' to index '${t.to}' at epoch ${t.epoch}`
    )
  ],
  next: {
    ...(o.state.switchoverBackoff?.to === t.to ? withoutBackoff(o.state) : o.state),
    ...withEvidence(seedEvidence(o, t)),
    currentPrimaryPodIndex: t.to,
    replicationEpoch: Math.max(epochMax, t.epoch),
    transition: undefined,
    primaryUnavailableSince: undefined,
    // A switchover to the requested index honours the request; any other move leaves it as it was.
    primaryRequest: t.to === o.policy.desiredPrimary ? t.to : o.state.primaryRequest
  },
  primarySwitched: ok("Switchover complete"),
  blocked: undefined,
  // Computed from the state before the actions run: the StatefulSet is applied before the role changes.
  minStatefulSetReplicas: minSts(o, t.from, t.to)
})
