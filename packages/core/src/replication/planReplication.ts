/**
 * The replication planner: observed pods + servers + persisted state in, role changes, fencing and state out.
 *
 * Safety rules (dolt-cluster.md §2, §10; peer-operators.md §3–§4), each enforced here:
 * - Epochs only go up: every new role assignment uses `max(epoch seen on any pod, in status, in a transition) + 1`.
 * - A primary change is recorded in status (`transition`) before its first step, so any step resumes after a crash.
 * - Fence before promote: the old primary is demoted at the new epoch, or, when it cannot be reached, taken out of
 *   `<name>-primary` and its pod deleted; promotion waits until the old server is provably not writable.
 * - Promote only a standby that is provably caught up; otherwise refuse with a reason (unless opted in).
 * - The user's spec is never written: the requested primary is `spec.replication.primary.podIndex`, the actual one
 *   lives in status.
 * - A lost primary is failed over only after `failoverDelay`, so one missed probe is not a failover.
 */
import type { Action, ObjectRef } from "../plan/Action.ts"
import type {
  PodView,
  PrimaryTransition,
  ReplicationObserved,
  ReplicationState,
  StandbyReplication
} from "./ReplicationObserved.ts"
import { isPromotable, selectFailoverCandidate } from "./selectCandidate.ts"

export const RoleLabel = "k8s.dolthub.com/cluster-role"
/** Field manager for pod role labels, separate from the StatefulSet controller's fields on the pod. */
export const RoleLabelFieldManager = "doltdb-operator-roles"

export interface ReplicationCondition {
  readonly status: "True" | "False"
  readonly reason: string
  readonly message: string
}

export interface ReplicationDecision {
  /** State to persist before running `actions` (it records intent); `undefined` when nothing to record first. */
  readonly persistFirst: ReplicationState | undefined
  readonly actions: ReadonlyArray<Action>
  /** State once every action succeeded. */
  readonly next: ReplicationState
  /** The reference's `PrimarySwitched` condition. */
  readonly primarySwitched: ReplicationCondition
  /** Set when replication needs attention the operator cannot give on its own (surfaces in Ready). */
  readonly blocked: ReplicationCondition | undefined
  /** The StatefulSet must keep at least this many replicas (the primary is not removed by a scale-down). */
  readonly minStatefulSetReplicas: number
}

export interface ClusterIdentity {
  readonly namespace: string
  readonly name: string
  readonly regarding: ObjectRef
}

const reachableRole = (p: PodView | undefined) => (p?.sql._tag === "Reachable" ? p.sql : undefined)

const isServingPrimary = (p: PodView | undefined): boolean =>
  p?.exists === true && !p.deleting && reachableRole(p)?.role === "primary"

const maxEpoch = (o: ReplicationObserved): number => {
  let max = Math.max(o.state.replicationEpoch ?? 0, o.state.transition?.epoch ?? 0)
  for (const p of o.pods) {
    const sql = reachableRole(p)
    if (sql !== undefined && sql.epoch > max) max = sql.epoch
  }
  return max
}

export const roleLabelAction = (cluster: ClusterIdentity, pod: PodView, role: "primary" | "standby"): Action => ({
  _tag: "Apply",
  object: {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: pod.name, namespace: cluster.namespace, labels: { [RoleLabel]: role } }
  },
  fieldManager: RoleLabelFieldManager,
  force: true
})

/** Label every existing pod by the role it should be routed as; only where the label differs (zero writes when converged). */
const labelActions = (o: ReplicationObserved, cluster: ClusterIdentity, primary: number | undefined) =>
  o.pods
    .filter((p) => p.exists && !p.deleting)
    .flatMap((p) => {
      const role = p.ordinal === primary ? "primary" : "standby"
      return p.roleLabel === role ? [] : [roleLabelAction(cluster, p, role)]
    })

const ok = (message: string): ReplicationCondition => ({ status: "True", reason: "SwitchPrimary", message })
const switching = (message: string): ReplicationCondition => ({ status: "False", reason: "SwitchPrimary", message })

const standbyReplicationOf = (primary: PodView | undefined, standby: PodView): StandbyReplication | undefined => {
  const sql = reachableRole(primary)
  return sql?.standbys.find((s) => s.remote === standby.name)
}

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
  const own = reachableRole(pod)?.epoch ?? 0
  let others = Math.max(o.state.replicationEpoch ?? 0, o.state.transition?.epoch ?? 0)
  for (const p of o.pods) {
    const sql = reachableRole(p)
    if (p.ordinal !== pod.ordinal && sql !== undefined) others = Math.max(others, sql.epoch)
  }
  return own > others
}

export const planReplication = (o: ReplicationObserved, cluster: ClusterIdentity): ReplicationDecision => {
  const state = o.state
  const policy = o.policy
  const epochMax = maxEpoch(o)
  const pod = (ordinal: number | undefined) => (ordinal === undefined ? undefined : o.pods[ordinal])
  const primaries = o.pods.filter((p) => p.exists && reachableRole(p)?.role === "primary")
  const broken = o.pods.filter((p) => p.exists && reachableRole(p)?.role === "detected_broken_config")
  const cur = state.currentPrimaryPodIndex
  const minSts = (primary: number | undefined) => Math.max(policy.replicas, primary === undefined ? 0 : primary + 1)

  const steady = (next: ReplicationState, actions: ReadonlyArray<Action>, message = "Switchover complete") => ({
    persistFirst: undefined,
    actions: [...actions, ...labelActions(o, cluster, next.currentPrimaryPodIndex)],
    next,
    primarySwitched: ok(message),
    blocked: undefined,
    minStatefulSetReplicas: minSts(next.currentPrimaryPodIndex)
  })

  const blockedDecision = (reason: string, message: string, retryMillis: number, warn = true): ReplicationDecision => ({
    persistFirst: undefined,
    actions: [
      ...(warn ? [{ _tag: "Event", regarding: cluster.regarding, type: "Warning", reason, message } as const] : []),
      ...labelActions(o, cluster, isServingPrimary(pod(cur)) ? cur : undefined),
      { _tag: "RequeueAfter", millis: retryMillis, why: message }
    ],
    next: state,
    primarySwitched: state.transition === undefined ? ok("Switchover complete") : switching(message),
    blocked: { status: "False", reason, message },
    minStatefulSetReplicas: minSts(cur)
  })

  if (state.transition !== undefined) return continueTransition(o, cluster, state.transition, epochMax)

  // Two writable servers, or servers that detected two primaries at one epoch: keep one, demote the rest.
  if (primaries.length > 1 || broken.length > 0) return planRepair(o, cluster, primaries, broken, epochMax)

  const only = primaries[0]
  if (cur === undefined) {
    if (only === undefined)
      return blockedDecision("WaitingForPrimary", "waiting for the bootstrap primary", 2_000, false)
    return steady(
      {
        ...state,
        currentPrimaryPodIndex: only.ordinal,
        replicationEpoch: Math.max(epochMax, 0),
        primaryRequest: only.ordinal === policy.desiredPrimary ? only.ordinal : state.primaryRequest
      },
      []
    )
  }

  if (only !== undefined && only.ordinal !== cur) {
    const sql = reachableRole(only)!
    if (sql.epoch >= (state.replicationEpoch ?? 0) && !isServingPrimary(pod(cur))) {
      // The servers agree on a primary the status does not know (e.g. promoted before a crash): adopt it.
      return steady({ ...state, currentPrimaryPodIndex: only.ordinal, replicationEpoch: epochMax }, [])
    }
    // A stale primary (older epoch than ours) came back: demote it above every epoch we know.
    return {
      ...steady(state, []),
      actions: [
        { _tag: "AssumeRole", target: only.target, role: "standby", epoch: epochMax + 1 },
        {
          _tag: "Event",
          regarding: cluster.regarding,
          type: "Warning",
          reason: "StalePrimaryDemoted",
          message: `${only.name} reported role primary at epoch ${sql.epoch}; demoted to standby at epoch ${epochMax + 1}`
        },
        ...labelActions(o, cluster, cur)
      ],
      next: { ...state, replicationEpoch: epochMax + 1 }
    }
  }

  const curPod = pod(cur)
  if (isServingPrimary(curPod)) {
    const base: ReplicationState = { ...state, primaryUnavailableSince: undefined, replicationEpoch: epochMax }
    const sql = reachableRole(curPod)!
    if (sql.epoch < epochMax) {
      // Some pod carries a higher epoch than the primary (a half-finished repair or a demotion we did not make):
      // move the primary above every epoch seen so an unreachable server at that epoch cannot tie with it.
      return steady({ ...base, replicationEpoch: epochMax + 1 }, [
        { _tag: "AssumeRole", target: curPod!.target, role: "primary", epoch: epochMax + 1 }
      ])
    }
    const target = switchoverTarget(o, cur)
    if (target !== undefined) return planSwitchover(o, cluster, base, cur, target)
    const honored = policy.desiredPrimary === cur ? cur : state.primaryRequest
    return steady({ ...base, primaryRequest: honored }, [], "Switchover complete")
  }

  // The primary is unavailable (pod gone or going, server unreachable, or no longer primary).
  if (!policy.automaticFailover)
    return blockedDecision(
      "PrimaryUnavailable",
      `primary ${curPod?.name ?? cur} is unavailable and automatic failover is disabled`,
      10_000
    )
  const since = state.primaryUnavailableSince
  if (since === undefined || o.now - since < policy.failoverDelayMillis) {
    const first = since ?? o.now
    const wait = policy.failoverDelayMillis - (o.now - first)
    return {
      persistFirst: undefined,
      actions: [
        ...(since === undefined
          ? [
              {
                _tag: "Event",
                regarding: cluster.regarding,
                type: "Warning",
                reason: "PrimaryUnavailable",
                message: `primary ${curPod?.name ?? cur} is unavailable; failing over in ${wait}ms unless it recovers`
              } as const
            ]
          : []),
        { _tag: "RequeueAfter", millis: Math.max(wait, 0), why: "failover delay" }
      ],
      next: { ...state, primaryUnavailableSince: first },
      primarySwitched: ok("Switchover complete"),
      blocked: undefined,
      minStatefulSetReplicas: minSts(cur)
    }
  }
  const selected = selectFailoverCandidate(o.pods, new Set([cur]), policy, o.now - since)
  // The old primary itself, back as a standby (demoted by its preStop, or restarted) at the highest epoch anyone
  // has: nobody was primary after it, so it holds every write it acknowledged; when no other standby is provably
  // caught up (e.g. they restarted and heard from nobody since), promoting it back is safe and the only way forward.
  const choice =
    selected._tag === "None" && curPod !== undefined && isPromotable(curPod) && aboveEveryoneElse(o, curPod)
      ? ({
          _tag: "Chosen",
          unsafe: false,
          candidate: { pod: curPod, epoch: epochMax, stalestMillis: 0, caughtUp: true }
        } as const)
      : selected
  if (choice._tag === "None") return blockedDecision("FailoverBlocked", choice.reason, 5_000)
  const transition: PrimaryTransition = {
    kind: "Failover",
    from: cur,
    to: choice.candidate.pod.ordinal,
    epoch: epochMax + 1,
    fromPodUid: curPod?.uid,
    startedAt: o.now
  }
  const started = continueTransition(o, cluster, transition, epochMax + 1)
  return {
    ...started,
    persistFirst: { ...state, transition },
    actions: [
      {
        _tag: "Event",
        regarding: cluster.regarding,
        type: choice.unsafe ? "Warning" : "Normal",
        reason: "PrimarySwitching",
        message: `Failing over from index '${cur}' to index '${transition.to}' at epoch ${transition.epoch}${
          choice.unsafe ? " (UNSAFE: no standby provably caught up; allowed by allowUnsafeFailover)" : ""
        }`
      },
      ...started.actions
    ]
  }
}

const planSwitchover = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  state: ReplicationState,
  cur: number,
  target: number
): ReplicationDecision => {
  const curPod = o.pods[cur]!
  const targetPod = o.pods[target]
  const minSts = Math.max(o.policy.replicas, cur + 1)
  const refuse = (message: string): ReplicationDecision => ({
    persistFirst: undefined,
    actions: [
      ...labelActions(o, cluster, cur),
      { _tag: "Event", regarding: cluster.regarding, type: "Warning", reason: "SwitchoverBlocked", message },
      { _tag: "RequeueAfter", millis: 2_000, why: message }
    ],
    next: state,
    primarySwitched: switching(`Switching primary to '${targetPod?.name ?? target}': ${message}`),
    blocked: { status: "False", reason: "SwitchoverBlocked", message },
    minStatefulSetReplicas: minSts
  })
  if (targetPod === undefined || !isPromotable(targetPod) || !targetPod.ready)
    return refuse(`target ${targetPod?.name ?? target} is not a ready standby`)
  // Check the target before touching the primary: demoting first and then finding the target unusable is an outage.
  const repl = standbyReplicationOf(curPod, targetPod)
  // No user database yet means no status rows at all: nothing to lag on (the graceful transition still checks that
  // users and grants reached the target).
  const noDatabases = (reachableRole(curPod)?.standbys.length ?? 0) === 0
  if (!noDatabases) {
    if (repl === undefined || repl.errors > 0 || repl.maxLagMillis === undefined)
      return refuse(`target ${targetPod.name} is not replicating from the primary`)
    if (repl.maxLagMillis > o.policy.maxSwitchoverLagMillis)
      return refuse(`target ${targetPod.name} lags ${repl.maxLagMillis}ms (max ${o.policy.maxSwitchoverLagMillis}ms)`)
  }
  const healthyStandbys = o.pods.filter((p) => p.ordinal !== cur && isPromotable(p) && p.ready).length
  if (healthyStandbys < o.policy.minCaughtUpStandby)
    return refuse(`${healthyStandbys} ready standbys, minCaughtUpStandby is ${o.policy.minCaughtUpStandby}`)
  const transition: PrimaryTransition = {
    kind: "Switchover",
    from: cur,
    to: target,
    epoch: maxEpoch(o) + 1,
    fromPodUid: curPod.uid,
    startedAt: o.now
  }
  const started = continueTransition(o, cluster, transition, transition.epoch)
  return {
    ...started,
    persistFirst: { ...state, transition },
    actions: [
      {
        _tag: "Event",
        regarding: cluster.regarding,
        type: "Normal",
        reason: "PrimarySwitching",
        message: `Switching primary from index '${cur}' to index '${target}' at epoch ${transition.epoch}`
      },
      ...started.actions
    ]
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
  const minSts = Math.max(o.policy.replicas, t.from + 1, t.to + 1)
  const base = {
    persistFirst: undefined,
    primarySwitched: switching(`Switching primary to '${targetPod?.name ?? t.to}'`),
    blocked: undefined,
    minStatefulSetReplicas: minSts
  }
  const targetSql = reachableRole(targetPod)
  const oldSql = reachableRole(oldPod)
  // Fence: the old primary must be demoted, or provably gone, before anyone else becomes writable.
  const oldGone = oldPod === undefined || !oldPod.exists || (t.fromPodUid !== undefined && oldPod.uid !== t.fromPodUid)
  const oldFenced = oldGone || (oldSql !== undefined && oldSql.role !== "primary")

  if (targetSql?.role === "primary" && targetSql.epoch >= t.epoch) {
    // Already promoted (a previous pass got this far). Make sure the old one is not writable, then finish.
    if (oldFenced) return completeTransition(o, cluster, t, epochMax, [])
  }
  if (o.now - t.startedAt > o.policy.transitionTimeoutMillis) {
    const message = `${t.kind} to '${targetPod?.name ?? t.to}' did not complete within ${o.policy.transitionTimeoutMillis}ms; re-planning`
    return {
      ...base,
      actions: [
        { _tag: "Event", regarding: cluster.regarding, type: "Warning", reason: "SwitchoverTimedOut", message },
        { _tag: "RequeueAfter", millis: 0, why: message }
      ],
      // The old primary may already be fenced: count the unavailability from the start of this attempt.
      next: { ...o.state, transition: undefined, primaryUnavailableSince: t.startedAt },
      blocked: { status: "False", reason: "SwitchoverTimedOut", message }
    }
  }
  const fence: Array<Action> = []
  if (oldPod?.exists && !oldPod.deleting && oldPod.roleLabel !== "standby")
    fence.push(roleLabelAction(cluster, oldPod, "standby"))
  if (!oldFenced) {
    if (oldSql !== undefined) {
      // Reachable primary: demote it at the new epoch. A switchover drains it first (graceful, waits for the
      // target to catch up); a failover target was chosen because the old primary was unusable, so no wait.
      fence.push(
        t.kind === "Switchover" && targetPod !== undefined
          ? {
              _tag: "TransitionToStandby",
              target: oldPod!.target,
              epoch: t.epoch,
              minCaughtUp: Math.max(1, o.policy.minCaughtUpStandby),
              requireCaughtUp: [targetPod.name]
            }
          : { _tag: "AssumeRole", target: oldPod!.target, role: "standby", epoch: t.epoch }
      )
    } else {
      // Unreachable: it may still serve clients that reach it directly. Delete its pod and wait until the
      // pod (with that uid) is gone; the StatefulSet recreates it and it rejoins as a standby.
      if (oldPod?.exists && !oldPod.deleting)
        fence.push({
          _tag: "Delete",
          ref: {
            apiVersion: "v1",
            kind: "Pod",
            namespace: cluster.namespace,
            name: oldPod.name,
            ...(oldPod.uid === undefined ? {} : { uid: oldPod.uid })
          },
          gracePeriodSeconds: 0,
          reason: `fencing unreachable primary ${oldPod.name}`
        })
      return {
        ...base,
        actions: [...fence, { _tag: "RequeueAfter", millis: 1_000, why: "waiting for the old primary to be fenced" }],
        next: state
      }
    }
  }
  // Promote the target, or another caught-up standby if the target is no longer usable.
  let promote: PodView | undefined = targetPod !== undefined && isPromotable(targetPod) ? targetPod : undefined
  let next = t
  if (promote === undefined) {
    const choice = selectFailoverCandidate(o.pods, new Set([t.from, t.to]), o.policy, o.now - t.startedAt)
    if (choice._tag === "None")
      return {
        ...base,
        actions: [...fence, { _tag: "RequeueAfter", millis: 2_000, why: choice.reason }],
        next: state,
        blocked: { status: "False", reason: "FailoverBlocked", message: choice.reason }
      }
    promote = choice.candidate.pod
    next = { ...t, to: promote.ordinal }
  }
  const promotion: Action = { _tag: "AssumeRole", target: promote.target, role: "primary", epoch: next.epoch }
  return {
    ...completeTransition(o, cluster, next, epochMax, [...fence, promotion]),
    persistFirst: next === t ? undefined : { ...o.state, transition: next }
  }
}

/** The transition's last step: status points at the new primary, labels follow. */
const completeTransition = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  t: PrimaryTransition,
  epochMax: number,
  actions: ReadonlyArray<Action>
): ReplicationDecision => {
  const next: ReplicationState = {
    currentPrimaryPodIndex: t.to,
    replicationEpoch: Math.max(epochMax, t.epoch),
    transition: undefined,
    primaryUnavailableSince: undefined,
    // A switchover to the requested index honours the request; any other move leaves it as it was.
    primaryRequest: t.to === o.policy.desiredPrimary ? t.to : o.state.primaryRequest
  }
  return {
    persistFirst: undefined,
    actions: [
      ...actions,
      ...labelActions(o, cluster, t.to),
      {
        _tag: "Event",
        regarding: cluster.regarding,
        type: "Normal",
        reason: "PrimarySwitched",
        message: `Primary switched from index '${t.from}' to index '${t.to}' at epoch ${t.epoch}`
      }
    ],
    next,
    primarySwitched: ok("Switchover complete"),
    blocked: undefined,
    // Computed from the state before the actions run: the StatefulSet is applied before the role changes.
    minStatefulSetReplicas: Math.max(o.policy.replicas, t.from + 1, t.to + 1)
  }
}

/** Several primaries, or `detected_broken_config`: keep the status primary if it is one of them, demote the rest. */
const planRepair = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  primaries: ReadonlyArray<PodView>,
  broken: ReadonlyArray<PodView>,
  epochMax: number
): ReplicationDecision => {
  const cur = o.state.currentPrimaryPodIndex
  const contenders = [...primaries, ...broken]
  const epochOf = (p: PodView) => reachableRole(p)?.epoch ?? 0
  // Prefer the highest-epoch primary; at a tie, the one the status routes writes to; then the lowest ordinal.
  const keep = [...(primaries.length > 0 ? primaries : broken)].sort(
    (a, b) => epochOf(b) - epochOf(a) || Number(b.ordinal === cur) - Number(a.ordinal === cur) || a.ordinal - b.ordinal
  )[0]!
  const epoch = epochMax + 1
  const demote: Array<Action> = contenders
    .filter((p) => p.ordinal !== keep.ordinal)
    .map((p) => ({ _tag: "AssumeRole", target: p.target, role: "standby", epoch }) as const)
  const message = `repairing replication: ${contenders
    .map((p) => `${p.name}=${reachableRole(p)?.role}@${epochOf(p)}`)
    .join(", ")}; keeping ${keep.name} as primary at epoch ${epoch}`
  const next: ReplicationState = {
    ...o.state,
    currentPrimaryPodIndex: keep.ordinal,
    replicationEpoch: epoch,
    transition: undefined,
    primaryUnavailableSince: undefined
  }
  return {
    persistFirst: undefined,
    actions: [
      { _tag: "Event", regarding: cluster.regarding, type: "Warning", reason: "SplitBrainRepair", message },
      // Labels first: no writes are routed to anyone but `keep` while roles change.
      ...labelActions(o, cluster, keep.ordinal),
      ...demote,
      { _tag: "AssumeRole", target: keep.target, role: "primary", epoch }
    ],
    next,
    primarySwitched: ok("Replication repaired"),
    blocked: undefined,
    minStatefulSetReplicas: Math.max(o.policy.replicas, keep.ordinal + 1)
  }
}
