/**
 * The DoltDB planner: one pass of observe → plan for a DoltDB and everything it owns.
 *
 * Order of the plan, and why (the executor stops at the first failing action):
 * 1. Record replication intent in status (a primary transition) before its first step.
 * 2. Replication actions (labels, fencing, role changes) from `planReplication`, then the replication state they
 *    reach, recorded: a child the API server keeps refusing (RBAC, a PDB) must not hold up a failover.
 * 3. Certificates, then the children whose desired configuration changed (`planChildren.ts`), built for the primary
 *    the replication steps leave; a child is applied only when the hash of its desired form differs from the one
 *    recorded on it, so a converged cluster costs no API writes. The StatefulSet keeps the primary's ordinal while a
 *    scale-down moves it.
 * 4. One rolling-update step (`rolloutOf.ts`), only when no primary change is in flight.
 * 5. Write status only if it differs from what the API server has (a status write triggers a watch event, which
 *    must not loop), then ask to be requeued at the earliest time anything is due.
 */
import type { DoltDBStatus } from "../api/DoltDB.ts"
import type { IdentifiedDoltDB } from "../builders/Owner.ts"
import { type Action, earliest, event, type ObjectRef, type Plan, requeueAfter, withRequeue } from "../plan/Action.ts"
import { planReplication, type ReplicationDecision } from "../replication/planReplication.ts"
import { keptForPrimaryPeers } from "../replication/planScaleDown.ts"
import type { ReplicationState } from "../replication/ReplicationObserved.ts"
import { jsonEqual, parseTime, setConditions } from "../status/Conditions.ts"
import type { DoltDBObserved } from "./DoltDBObserved.ts"
import { computeStatus, withBlockedChildren } from "./doltdbStatus.ts"
import { blockedChildrenEvents, planChildren } from "./planChildren.ts"
import { replicationPolicyOf, replicationStateOf, withReplicationState } from "./replicationStatus.ts"
import { meshOf, olderPeerList, rolloutOf } from "./rolloutOf.ts"
import { withStorage } from "./storage/withStorage.ts"
import { planTls } from "./tls/planCertificates.ts"

export { withAppliedHash } from "./desiredChildren.ts"
export { replicationPolicyOf, replicationStateOf } from "./replicationStatus.ts"

/** How often a replicated DoltDB's servers are polled (SQL reads only) when nothing else wakes the reconciler. */
export const PollMillis = 2_000

export interface DoltDBPlan extends Plan {
  /** The status the cluster should have after the plan (already included as a PatchStatus when it changed). */
  readonly status: DoltDBStatus
}

export const doltdbRef = (doltdb: IdentifiedDoltDB): ObjectRef => ({
  apiVersion: doltdb.apiVersion,
  kind: doltdb.kind,
  namespace: doltdb.metadata.namespace,
  name: doltdb.metadata.name,
  uid: doltdb.metadata.uid
})

/**
 * Turning replication off (or scaling to one replica) keeps pod 0 as the standalone server. When the primary is
 * elsewhere, pod 0 may lack its latest writes (the reference promoted pod 0 whatever its freshness, flaw 10), so the
 * cluster stays replicated at its current size until a graceful switchover has moved the primary to pod 0; only
 * then does the user's spec apply.
 */
const collapsingToStandalone = (o: DoltDBObserved): boolean => {
  const spec = o.doltdb.spec
  const status = o.doltdb.status
  const wantsStandalone = !spec.replication.enabled || spec.replicas <= 1
  // `mesh` is kept exactly while the cluster runs replicated (a flaky signal like replicationStatus, which drops
  // pods that are not ready, would end the collapse early and let the StatefulSet delete the primary).
  const wasReplicated = status?.mesh !== undefined
  return (
    wantsStandalone && wasReplicated && (status?.currentPrimaryPodIndex !== 0 || status.primaryTransition !== undefined)
  )
}

const planTopology = (o: DoltDBObserved): DoltDBPlan => {
  if (!collapsingToStandalone(o)) return planWith(o, undefined)
  const spec = o.doltdb.spec
  const current = o.doltdb.status?.currentPrimaryPodIndex ?? 0
  const replicas = Math.max(spec.replicas, o.statefulSet?.replicas ?? 0, current + 1, 2)
  const effective = {
    ...o.doltdb,
    spec: { ...spec, replicas, replication: { ...spec.replication, enabled: true } }
  }
  const plan = planWith({ ...o, doltdb: effective }, 0)
  return {
    ...plan,
    actions: [
      event(
        doltdbRef(o.doltdb),
        "Normal",
        "DisablingReplication",
        `moving the primary to pod 0 before running standalone (${replicas} replicas kept until then)`
      ),
      ...plan.actions
    ]
  }
}

/** The DoltDB plan, with storage resize hooked around it (`storage/withStorage.ts`). */
export const planDoltDB: (o: DoltDBObserved) => DoltDBPlan = withStorage(planTopology)

const planWith = (o: DoltDBObserved, forcedSwitchover: number | undefined): DoltDBPlan => {
  const doltdb = o.doltdb
  const spec = doltdb.spec
  const name = doltdb.metadata.name
  const generation = doltdb.metadata.generation
  const ref = doltdbRef(doltdb)
  const cluster = { namespace: doltdb.metadata.namespace, name, regarding: ref }
  const replicated = spec.replication.enabled && spec.replicas > 1
  const state = replicationStateOf(doltdb.status)
  const policy = replicationPolicyOf(o)

  const mesh = meshOf(o, replicated)
  const meshSince = parseTime(mesh?.since) ?? 0
  const rollout = rolloutOf(o, state, policy, replicated, meshSince)

  const decision: ReplicationDecision | undefined = !replicated
    ? undefined
    : o.sqlUnavailable !== undefined
      ? {
          persistFirst: undefined,
          actions: [],
          requeueAfter: requeueAfter(10_000, o.sqlUnavailable),
          next: state,
          primarySwitched: { status: "True", reason: "SwitchPrimary", message: "Switchover complete" },
          blocked: { status: "False", reason: "SqlUnavailable", message: o.sqlUnavailable },
          minStatefulSetReplicas: Math.max(spec.replicas, (state.currentPrimaryPodIndex ?? -1) + 1)
        }
      : planReplication(
          {
            now: o.now,
            policy,
            state,
            pods: o.pods,
            switchoverRequest: forcedSwitchover ?? (rollout._tag === "SwitchoverFirst" ? rollout.target : undefined),
            ...(spec.updateStrategy === "ReplicasFirstPrimaryLast" && mesh !== undefined
              ? { olderPeerList: { ordinals: olderPeerList(o, spec.replicas, meshSince), since: meshSince } }
              : {})
          },
          cluster
        )

  const next = decision?.next ?? { ...state, currentPrimaryPodIndex: undefined }
  const current = doltdb.status ?? {}
  const actions: Array<Action> = []

  // 1. Intent first: a primary change is recorded before its first step.
  let written: DoltDBStatus | undefined
  const persist = (replication: ReplicationState) => {
    const base = written ?? current
    const intent = withReplicationState(
      {
        ...base,
        conditions: setConditions(
          base.conditions,
          decision === undefined ? [] : [{ type: "PrimarySwitched", ...decision.primarySwitched }],
          generation,
          o.now
        )
      },
      replication,
      name
    )
    actions.push({
      _tag: "PatchStatus",
      ref,
      status: intent,
      replaces: base,
      // Optimistic concurrency on the status we read; later writes in this plan follow our own.
      ...(written === undefined && doltdb.metadata.resourceVersion !== undefined
        ? { resourceVersion: doltdb.metadata.resourceVersion }
        : {})
    })
    written = intent
  }
  if (decision?.persistFirst !== undefined) persist(decision.persistFirst)

  // 2. Replication: fencing and promotion before any child apply, so that a child the API keeps refusing (RBAC, a
  // PDB) cannot hold up a failover. A condition that persists (e.g. FailoverBlocked) is announced by one Warning
  // Event when it starts, not on every poll.
  // A refusal is a condition (Ready for `blocked`, PrimarySwitched for a deferred request) and a Warning with its
  // reason: the Warning is written before the status that records the condition, and not again while it holds.
  const reasonOf = (type: string) => current.conditions?.find((c) => c.type === type)?.reason
  const refusal = (reason: string) =>
    decision?.blocked?.reason === reason
      ? "Ready"
      : decision?.primarySwitched.status === "False" && decision.primarySwitched.reason === reason
        ? "PrimarySwitched"
        : undefined
  for (const step of decision?.actions ?? []) {
    if (step._tag === "Checkpoint") persist(step.state)
    else if (step._tag === "Event" && step.type === "Warning" && refusal(step.reason) !== undefined) {
      if (reasonOf(refusal(step.reason)!) !== step.reason) actions.push({ ...step, required: true })
    } else actions.push(step)
  }
  // The state those steps reach, recorded before any child apply: a child the API server keeps refusing (RBAC, a
  // PDB) stops the plan at its apply, and must stop neither the timing of a lost primary (`primaryUnavailableSince`,
  // which the failover delay is counted from) nor the record of a promotion.
  if (decision !== undefined) {
    const epoch = Math.max(next.replicationEpoch ?? 0, current.replicationEpoch ?? 0)
    const reached = { ...next, replicationEpoch: epoch === 0 ? undefined : epoch }
    const base = written ?? current
    if (!jsonEqual(withReplicationState(base, reached, name), base)) persist(reached)
  }

  // 3. Children, built for the primary the replication steps leave (they only run when those succeeded), with the
  // replica count the primary's position requires.
  const nextPrimary = next.currentPrimaryPodIndex ?? state.currentPrimaryPodIndex
  const holdReplicas = Math.max(
    spec.replicas,
    decision?.minStatefulSetReplicas ?? 0,
    !replicated || spec.updateStrategy !== "ReplicasFirstPrimaryLast"
      ? 0
      : keptForPrimaryPeers({
          now: o.now,
          replicas: spec.replicas,
          statefulSetReplicas: o.statefulSet?.replicas ?? 0,
          primary:
            nextPrimary === undefined ? undefined : { ordinal: nextPrimary, createdAt: o.pods[nextPrimary]?.createdAt },
          peerListSince: meshSince
        })
  )
  const buildFor = (primary: number | undefined): IdentifiedDoltDB => ({
    ...doltdb,
    spec: { ...spec, replicas: holdReplicas },
    status: { ...doltdb.status, ...(primary === undefined ? {} : { currentPrimaryPodIndex: primary }) }
  })
  // Certificates before the children that mount them; the StatefulSet waits until the mounted Secret is readable.
  const tls = planTls(doltdb, o.tls, o.now)
  actions.push(...tls.actions)
  const children = planChildren(o, buildFor(nextPrimary), tls, {
    // Only where the operator restarts the pods that stay before the switchover (`planScaleDown.ts`).
    ...(replicated && holdReplicas > spec.replicas && spec.updateStrategy === "ReplicasFirstPrimaryLast"
      ? { peerMembers: spec.replicas }
      : {})
  })
  actions.push(...children.actions)
  const oversized = children.oversized

  const computed = withBlockedChildren(o, computeStatus(o, decision, next), oversized)
  const { mesh: _previousMesh, ...withoutMesh } = computed
  const status: DoltDBStatus = mesh === undefined ? withoutMesh : { ...withoutMesh, mesh }

  // 4. One rolling-update step, never during a primary change.
  const roleChanging = decision?.actions.some((a) => a._tag === "AssumeRole" || a._tag === "TransitionToStandby")
  if (
    rollout._tag === "DeletePod" &&
    next.transition === undefined &&
    !roleChanging &&
    decision?.persistFirst === undefined
  )
    actions.push({
      _tag: "Delete",
      ref: {
        apiVersion: "v1",
        kind: "Pod",
        namespace: cluster.namespace,
        name: rollout.pod.name,
        ...(rollout.pod.uid === undefined ? {} : { uid: rollout.pod.uid })
      },
      reason: rollout.reason
    })
  actions.push(...blockedChildrenEvents(o, ref, current, oversized))
  // 5. Status, only when it changed.
  if (!jsonEqual(status, written ?? current))
    actions.push({
      _tag: "PatchStatus",
      ref,
      status,
      replaces: written ?? current,
      ...(written === undefined && doltdb.metadata.resourceVersion !== undefined
        ? { resourceVersion: doltdb.metadata.resourceVersion }
        : {})
    })
  // Requeue: the earliest of what the replication planner asked for and what is due here; replicated clusters are
  // also polled, because a server's role, epoch and lag change without any Kubernetes event.
  const requeue = earliest(
    decision?.requeueAfter,
    rollout._tag === "Wait" || rollout._tag === "DeletePod"
      ? requeueAfter(2_000, "rolling update in progress")
      : undefined,
    // A lost node leaves its pods Ready for ~40 s (node-monitor-grace-period), so pod events alone would detect a
    // dead primary late; polling the servers every 2 s (reads only) bounds detection, and with it failover time.
    replicated ? requeueAfter(PollMillis, "polling the servers' roles") : undefined,
    o.statefulSet === undefined || o.statefulSet.readyReplicas < spec.replicas
      ? requeueAfter(5_000, "waiting for the StatefulSet's pods")
      : undefined,
    tls.requeueAfter,
    tls.holdStatefulSet ? requeueAfter(5_000, "waiting for the TLS Secret the pods mount") : undefined,
    // Renewal is due by the clock, not by an event (capped: a long requeue is a timer the process may not keep).
    tls.renewInMillis === undefined
      ? undefined
      : requeueAfter(Math.min(tls.renewInMillis, 6 * 3_600_000), "certificate renewal")
  )
  return { actions, ...withRequeue(requeue), status }
}
