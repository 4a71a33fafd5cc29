/**
 * The replication planner: observed pods + servers + persisted state in, role changes, fencing and state out.
 * `classify` names the situation; one small planner per situation decides.
 *
 * Safety rules (dolt-cluster.md §2, §10; peer-operators.md §3–§4), each enforced here:
 * - Epochs only go up: every new role assignment uses `max(epoch seen on any pod, in status, in a transition) + 1`.
 * - A primary change is recorded in status (`transition`) before its first step, so any step resumes after a crash.
 * - Fence before promote: the old primary is demoted at the new epoch, or, when it cannot be reached, taken out of
 *   `<name>-primary` and its pod deleted; promotion waits until the old server is provably not writable.
 * - Promote only a standby the recorded evidence shows at the primary's position and holding every database
 *   (`selectCandidate.ts`); otherwise refuse with a reason (unless opted in; never a server lacking a database).
 * - A switchover promotes only a target that confirmed the drained primary's final state; else it aborts.
 * - The user's spec is never written: the requested primary is `spec.replication.primary.podIndex`, the actual one
 *   lives in status.
 * - A lost primary is failed over only after `failoverDelay`, so one missed probe is not a failover (unless its pod
 *   is being deleted and its server already handed over).
 */

import { requeueAfter } from "../plan/Action.ts"
import { restoreAckWait } from "./AckWait.ts"
import {
  blockedDecision,
  type ClusterIdentity,
  event,
  maxEpoch,
  type ReplicationDecision,
  steady,
  switching
} from "./Decision.ts"
import { DefaultMaxLagOnFailoverMillis, recordEvidence } from "./Evidence.ts"
import { planRepair, planStalePrimary } from "./planRepair.ts"
import { planScaleDown, type ScaleDownStep } from "./planScaleDown.ts"
import { continueTransition, startTransition } from "./planTransition.ts"
import type { PodView, ReplicationObserved, ReplicationState, ShortenedAckWait } from "./ReplicationObserved.ts"
import { classify, isServingPrimary, reachable, type Situation } from "./Situation.ts"
import { restartStuckStandbies, stuckStandbies } from "./StuckStandby.ts"
import { afterAbort, backoffOver, describeBackoff, waitBeforeSwitchover } from "./SwitchoverBackoff.ts"
import { isPromotable, selectFailoverCandidate } from "./selectCandidate.ts"

export * from "./Decision.ts"

/**
 * The index to switch over to, if any: off an ordinal a scale-down removes, a pending request from another planner
 * (rolling update), or a changed `podIndex` the operator has not acted on yet.
 */
const switchoverTarget = (o: ReplicationObserved, cur: number): number | undefined => {
  const { replicas, desiredPrimary } = o.policy
  const inRange = (i: number | undefined) => i !== undefined && i >= 0 && i < replicas && i !== cur
  if (cur >= replicas) return inRange(desiredPrimary) ? desiredPrimary : 0
  if (inRange(o.switchoverRequest)) return o.switchoverRequest
  if (desiredPrimary !== o.state.primaryRequest && inRange(desiredPrimary)) return desiredPrimary
  return undefined
}

/**
 * The pod's epoch is above every epoch recorded anywhere else (other reachable pods, the status, a transition), so
 * no other server can have been promoted after it, even one the operator cannot reach now.
 */
const aboveEveryoneElse = (o: ReplicationObserved, pod: PodView): boolean => {
  const own = reachable(pod)?.epoch ?? 0
  let others = Math.max(o.state.replicationEpoch ?? 0, o.state.transition?.epoch ?? 0)
  for (const p of o.pods) {
    const sql = reachable(p)
    if (p.ordinal !== pod.ordinal && sql !== undefined) others = Math.max(others, sql.epoch)
  }
  return own > others
}

const withoutBackoff = ({ switchoverBackoff: _, ...rest }: ReplicationState): ReplicationState => rest

const withShortenedAckWaits = (
  { shortenedAckWaits: _, ...rest }: ReplicationState,
  records: ReadonlyArray<ShortenedAckWait>
): ReplicationState => (records.length === 0 ? rest : { ...rest, shortenedAckWaits: records })

const withEvidence = (evidence: ReplicationState["evidence"]) => (evidence === undefined ? {} : { evidence })

/** `leaving`: the primary's pod is removed by a scale-down, and where it moves (`planScaleDown`). */
const planHealthy = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  primary: PodView,
  leaving?: ScaleDownStep
): ReplicationDecision => {
  const epochMax = maxEpoch(o)
  const evidence = recordEvidence(o)
  const state: ReplicationState = {
    ...o.state,
    primaryUnavailableSince: undefined,
    replicationEpoch: epochMax,
    ...(evidence === undefined ? {} : { evidence })
  }
  const sql = reachable(primary)!
  if (sql.epoch < epochMax) {
    // Some pod carries a higher epoch than the primary (a half-finished repair or a demotion we did not make):
    // move the primary above every epoch seen so an unreachable server at that epoch cannot tie with it.
    return steady(o, cluster, { ...state, replicationEpoch: epochMax + 1 }, [
      { _tag: "AssumeRole", target: primary.target, role: "primary", epoch: epochMax + 1 }
    ])
  }
  if (leaving?._tag === "AwaitTargetRestart")
    return {
      ...steady(o, cluster, state, []),
      requeueAfter: requeueAfter(leaving.retryMillis, leaving.message),
      primarySwitched: switching(leaving.message)
    }
  const target = leaving?.target ?? switchoverTarget(o, primary.ordinal)
  const backoff = target === undefined ? undefined : waitBeforeSwitchover(state, target, o.policy.desiredPrimary, o.now)
  if (target !== undefined && backoff !== undefined) {
    // An aborted switchover, re-attempted later: still pending, so Ready stays False and PrimarySwitched says why.
    const message = describeBackoff(state.switchoverBackoff!, o.pods[target]?.name ?? String(target), o.now)
    return {
      ...blockedDecision(o, cluster, "SwitchoverAborted", message, backoff, { next: state }),
      primarySwitched: { status: "False", reason: "SwitchoverAborted", message }
    }
  }
  if (target !== undefined) {
    const started = startTransition(o, cluster, state, primary.ordinal, target)
    const late = leaving?._tag === "SwitchOver" ? leaving.late : undefined
    return late === undefined || started.persistFirst === undefined
      ? started
      : { ...started, actions: [event(cluster, "Warning", "ScaleDownTargetNotRestarted", late), ...started.actions] }
  }
  const honored = o.policy.desiredPrimary === primary.ordinal ? primary.ordinal : o.state.primaryRequest
  const restore = restoreAckWait(o, cluster, primary)
  const settled = backoffOver(state, primary.ordinal, o.now) ? withoutBackoff(state) : state
  const restarts = restartStuckStandbies(cluster, primary, stuckStandbies(o, primary, evidence), o.now)
  const decision = steady(
    o,
    cluster,
    { ...withShortenedAckWaits(settled, restore.records), primaryRequest: honored },
    [],
    "Switchover complete"
  )
  // After the role labels: a restore or a restart that fails (and is retried) never holds up routing.
  return { ...decision, actions: [...decision.actions, ...restore.actions, ...restarts] }
}

/** Why the recorded primary does not serve, as the condition and the Warning say it (bounded: a driver's message). */
const whyUnavailable = (pod: PodView | undefined): string => {
  if (pod === undefined || !pod.exists) return "its pod does not exist"
  if (pod.deleting) return "its pod is being deleted"
  if (pod.sql._tag === "Unreachable") {
    const reason = pod.sql.reason.replace(/\s+/gu, " ").trim()
    return `unreachable: ${reason.length > 200 ? `${reason.slice(0, 200)}...` : reason}`
  }
  return `its server reports role ${pod.sql.role} at epoch ${pod.sql.epoch}`
}

/** The recorded primary does not serve: debounce, then promote a standby the evidence shows caught up. */
const planPrimaryLost = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  cur: number,
  handedOver: boolean
): ReplicationDecision => {
  const policy = o.policy
  const curPod = o.pods[cur]
  const name = curPod?.name ?? String(cur)
  const since = o.state.primaryUnavailableSince ?? o.now
  const state: ReplicationState = { ...o.state, primaryUnavailableSince: since }
  // A podIndex edit while there is no primary: honoured as the failover target if it is safe, else said so.
  const requested =
    policy.desiredPrimary !== o.state.primaryRequest && policy.desiredPrimary !== cur
      ? policy.desiredPrimary
      : undefined
  if (!policy.automaticFailover)
    return blockedDecision(
      o,
      cluster,
      "PrimaryUnavailable",
      `primary ${name} is unavailable (${whyUnavailable(curPod)}) and automatic failover is disabled`,
      10_000,
      { next: state }
    )
  const waited = o.now - since
  if (!handedOver && waited < policy.failoverDelayMillis) {
    const wait = policy.failoverDelayMillis - waited
    return blockedDecision(
      o,
      cluster,
      "PrimaryUnavailable",
      `primary ${name} is unavailable (${whyUnavailable(curPod)}); failing over in ${wait}ms unless it recovers`,
      Math.max(wait, 0),
      // Announced once per streak of the condition (planDoltDB), so also when a longer failoverDelay brings it back.
      { next: state }
    )
  }
  const evidence = o.state.evidence?.primary === cur ? o.state.evidence : undefined
  const selected = selectFailoverCandidate(o.pods, new Set([cur]), policy, evidence, o.now, {
    prefer: requested,
    lostAt: since
  })
  // The old primary itself, back as a standby (demoted by its preStop, or restarted) at the highest epoch anyone
  // has: nobody was primary after it, so it holds every write it acknowledged; when no other standby is provably
  // caught up (e.g. they restarted and heard from nobody since), promoting it back is safe and the only way forward.
  const choice =
    selected._tag === "None" && curPod !== undefined && isPromotable(curPod) && aboveEveryoneElse(o, curPod)
      ? ({
          _tag: "Chosen",
          unsafe: false,
          candidate: {
            pod: curPod,
            epoch: maxEpoch(o),
            heardAt: undefined,
            missing: [],
            safe: true,
            why: "the old primary itself, at the highest epoch"
          }
        } as const)
      : selected
  const deferredMessage = `podIndex ${requested} was requested while primary ${name} is unavailable; it is not a caught-up standby, so the failover does not go there (the request stays pending)`
  const deferred =
    requested === undefined || (choice._tag === "Chosen" && choice.candidate.pod.ordinal === requested)
      ? []
      : [event(cluster, "Warning", "SwitchoverDeferred", deferredMessage)]
  if (choice._tag === "None") {
    const blocked = blockedDecision(o, cluster, "FailoverBlocked", choice.reason, 5_000, {
      next: state,
      events: deferred
    })
    // The request is refused for now: PrimarySwitched says so, as its Warning does.
    return deferred.length === 0
      ? blocked
      : { ...blocked, primarySwitched: { status: "False", reason: "SwitchoverDeferred", message: deferredMessage } }
  }
  const epoch = maxEpoch(o) + 1
  const to = choice.candidate.pod.ordinal
  const window = policy.maxLagOnFailoverMillis ?? DefaultMaxLagOnFailoverMillis
  const message = `Failing over from index '${cur}' to index '${to}' at epoch ${epoch}${
    choice.unsafe
      ? ` (UNSAFE: no standby provably caught up; allowed by allowUnsafeFailover; ${choice.candidate.why})`
      : `: ${choice.candidate.pod.name} ${choice.candidate.why}; with asynchronous replication, writes ${name} acknowledged in the last ${window}ms before it was lost may be missing`
  }`
  const started = startTransition(
    o,
    cluster,
    state,
    cur,
    to,
    "Failover",
    event(cluster, choice.unsafe ? "Warning" : "Normal", "PrimarySwitching", message)
  )
  return { ...started, actions: [...deferred, ...started.actions] }
}

const planners: {
  readonly [K in Situation["_tag"]]: (
    o: ReplicationObserved,
    cluster: ClusterIdentity,
    situation: Extract<Situation, { _tag: K }>
  ) => ReplicationDecision
} = {
  InTransition: (o, cluster, s) => continueTransition(o, cluster, s.transition, maxEpoch(o)),
  TransitionSuperseded: (o, cluster, s) => {
    // A switchover superseded by a primary other than its target was aborted: its back-off holds (the abort's own
    // status write, which recorded it, is the one that was lost).
    const t = s.transition
    const aborted = t.kind === "Switchover" && !isServingPrimary(o.pods[t.to])
    const state: ReplicationState = {
      ...o.state,
      transition: undefined,
      ...(aborted ? { switchoverBackoff: afterAbort(o.state, t.to, o.now) } : {})
    }
    return planSituation({ ...o, state }, cluster, s.remaining)
  },
  SplitBrain: (o, cluster, s) => planRepair(o, cluster, s.primaries, s.broken, maxEpoch(o)),
  StalePrimaryReturned: (o, cluster, s) => planStalePrimary(o, cluster, s.top, s.stale, maxEpoch(o)),
  Bootstrapping: (o, cluster) =>
    blockedDecision(o, cluster, "WaitingForPrimary", "waiting for the bootstrap primary", 2_000, { warn: false }),
  Adopt: (o, cluster, s) =>
    steady(
      o,
      cluster,
      {
        ...o.state,
        currentPrimaryPodIndex: s.primary.ordinal,
        replicationEpoch: Math.max(maxEpoch(o), 0),
        primaryRequest: s.primary.ordinal === o.policy.desiredPrimary ? s.primary.ordinal : o.state.primaryRequest
      },
      []
    ),
  FollowServers: (o, cluster, s) =>
    steady(o, cluster, { ...o.state, currentPrimaryPodIndex: s.primary.ordinal, replicationEpoch: maxEpoch(o) }, []),
  ReplicationStarting: (o, cluster, s) =>
    // Nothing to fence or promote: the rollout restarts it with the cluster configuration; it stays routed.
    steady(
      o,
      cluster,
      { ...o.state, primaryUnavailableSince: undefined, ...withEvidence(recordEvidence(o)) },
      [],
      `Waiting for ${s.primary.name} to restart with replication`
    ),
  Healthy: (o, cluster, s) => planHealthy(o, cluster, s.primary),
  PrimaryLeaving: (o, cluster, s) => planHealthy(o, cluster, s.primary, planScaleDown(o, s.primary.ordinal)),
  PrimaryLost: (o, cluster, s) => planPrimaryLost(o, cluster, s.primary, s.handedOver)
}

const planSituation = (o: ReplicationObserved, cluster: ClusterIdentity, situation: Situation): ReplicationDecision =>
  (planners[situation._tag] as (o: ReplicationObserved, c: ClusterIdentity, s: Situation) => ReplicationDecision)(
    o,
    cluster,
    situation
  )

export const planReplication = (o: ReplicationObserved, cluster: ClusterIdentity): ReplicationDecision =>
  planSituation(o, cluster, classify(o))
