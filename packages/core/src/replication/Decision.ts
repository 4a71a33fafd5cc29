/**
 * What every replication planner returns (`ReplicationDecision`) and the small builders they share: role labels,
 * events, conditions, the steady and blocked decisions, the highest epoch seen.
 */
import { type Action, type ObjectRef, event as planEvent, type Requeue, requeueAfter } from "../plan/Action.ts"
import type { PodView, ReplicationObserved, ReplicationState } from "./ReplicationObserved.ts"
import { isServingPrimary, reachable } from "./Situation.ts"

export const RoleLabel = "k8s.dolthub.com/cluster-role"
/** Field manager for pod role labels, separate from the StatefulSet controller's fields on the pod. */
export const RoleLabelFieldManager = "doltdb-operator-roles"

export interface ReplicationCondition {
  readonly status: "True" | "False"
  readonly reason: string
  readonly message: string
}

/** A step of the replication plan: an action, or a status write of the state reached so far (a checkpoint). */
export type ReplicationStep = Action | { readonly _tag: "Checkpoint"; readonly state: ReplicationState }

export interface ReplicationDecision {
  /** State to persist before running `actions` (it records intent); `undefined` when nothing to record first. */
  readonly persistFirst: ReplicationState | undefined
  readonly actions: ReadonlyArray<ReplicationStep>
  /** When to look again once the actions succeeded (a retry, a wait); the DoltDB plan keeps the earliest. */
  readonly requeueAfter?: Requeue
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

export const maxEpoch = (o: ReplicationObserved): number => {
  let max = Math.max(o.state.replicationEpoch ?? 0, o.state.transition?.epoch ?? 0)
  for (const p of o.pods) {
    const sql = reachable(p)
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
export const labelActions = (o: ReplicationObserved, cluster: ClusterIdentity, primary: number | undefined) =>
  o.pods
    .filter((p) => p.exists && !p.deleting)
    .flatMap((p) => {
      const role = p.ordinal === primary ? "primary" : "standby"
      return p.roleLabel === role ? [] : [roleLabelAction(cluster, p, role)]
    })

/** An Event regarding the DoltDB (the one constructor, `plan/Action.ts` `event`, with the cluster's reference). */
export const event = (cluster: ClusterIdentity, type: "Normal" | "Warning", reason: string, message: string): Action =>
  planEvent(cluster.regarding, type, reason, message)

export const ok = (message: string): ReplicationCondition => ({ status: "True", reason: "SwitchPrimary", message })
export const switching = (message: string): ReplicationCondition => ({
  status: "False",
  reason: "SwitchPrimary",
  message
})

const minSts = (o: ReplicationObserved, primary: number | undefined) =>
  Math.max(o.policy.replicas, primary === undefined ? 0 : primary + 1)

/** Keep `next` as the state, route to its primary, nothing else to do. */
export const steady = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  next: ReplicationState,
  actions: ReadonlyArray<ReplicationStep>,
  message = "Switchover complete"
): ReplicationDecision => ({
  persistFirst: undefined,
  actions: [...actions, ...labelActions(o, cluster, next.currentPrimaryPodIndex)],
  next,
  primarySwitched: ok(message),
  blocked: undefined,
  minStatefulSetReplicas: minSts(o, next.currentPrimaryPodIndex)
})

/** Waiting on something the operator cannot do itself: a condition (and a Warning when `warn`), a retry. */
export const blockedDecision = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  reason: string,
  message: string,
  retryMillis: number,
  options: { readonly warn?: boolean; readonly next?: ReplicationState; readonly events?: ReadonlyArray<Action> } = {}
): ReplicationDecision => {
  const cur = o.state.currentPrimaryPodIndex
  return {
    persistFirst: undefined,
    actions: [
      ...(options.warn === false ? [] : [event(cluster, "Warning", reason, message)]),
      ...(options.events ?? []),
      ...labelActions(o, cluster, isServingPrimary(cur === undefined ? undefined : o.pods[cur]) ? cur : undefined)
    ],
    requeueAfter: requeueAfter(retryMillis, message),
    next: options.next ?? o.state,
    primarySwitched: o.state.transition === undefined ? ok("Switchover complete") : switching(message),
    blocked: { status: "False", reason, message },
    minStatefulSetReplicas: minSts(o, cur)
  }
}
