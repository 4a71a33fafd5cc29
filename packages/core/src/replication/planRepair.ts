/**
 * Several writable servers. Two kinds, told apart by epoch:
 * - a *stale primary*: a server that reports primary below the highest primary epoch (an old primary that rebooted
 *   with the role it persisted). Nothing is wrong with the cluster: it is demoted to standby at the current epoch
 *   (no new epoch, a Normal event), and is not routed to meanwhile;
 * - a *split brain*: two primaries at the same epoch, or a server in `detected_broken_config`: keep one (the status
 *   primary when it is one of them, else the lowest ordinal), demote the others, all above every epoch seen.
 */
import type { Action } from "../plan/Action.ts"
import { type ClusterIdentity, event, labelActions, ok, type ReplicationDecision } from "./Decision.ts"
import type { PodView, ReplicationObserved, ReplicationState } from "./ReplicationObserved.ts"
import { reachable } from "./Situation.ts"

const describe = (pods: ReadonlyArray<PodView>) =>
  pods.map((p) => `${p.name}=${reachable(p)?.role}@${reachable(p)?.epoch ?? 0}`).join(", ")

export const planStalePrimary = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  top: PodView,
  stale: ReadonlyArray<PodView>,
  epochMax: number
): ReplicationDecision => {
  const cur = o.state.currentPrimaryPodIndex
  // The primary at the top is the one the servers follow (it demotes the others on its next push): route to it and
  // record it, unless it too is below the epoch the status recorded (then nobody, until the next pass).
  const topEpoch = reachable(top)?.epoch ?? 0
  const routed = topEpoch >= (o.state.replicationEpoch ?? 0) ? top.ordinal : undefined
  return {
    persistFirst: undefined,
    actions: [
      ...labelActions(o, cluster, routed),
      ...stale.map((p): Action => ({ _tag: "AssumeRole", target: p.target, role: "standby", epoch: epochMax })),
      event(
        cluster,
        "Normal",
        "StalePrimaryDemoted",
        `${describe(stale)} came back as primary below ${top.name}'s epoch ${reachable(top)?.epoch}; demoted to standby at epoch ${epochMax}`
      )
    ],
    next: {
      ...o.state,
      replicationEpoch: epochMax,
      ...(routed === undefined || routed === cur
        ? {}
        : { currentPrimaryPodIndex: routed, primaryUnavailableSince: undefined })
    },
    primarySwitched: ok("Switchover complete"),
    blocked: undefined,
    minStatefulSetReplicas: Math.max(o.policy.replicas, (cur ?? 0) + 1, (routed ?? 0) + 1)
  }
}

export const planRepair = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  primaries: ReadonlyArray<PodView>,
  broken: ReadonlyArray<PodView>,
  epochMax: number
): ReplicationDecision => {
  const cur = o.state.currentPrimaryPodIndex
  const contenders = [...primaries, ...broken]
  const epochOf = (p: PodView) => reachable(p)?.epoch ?? 0
  // Prefer the highest-epoch primary; at a tie, the one the status routes writes to; then the lowest ordinal.
  const keep = [...(primaries.length > 0 ? primaries : broken)].sort(
    (a, b) => epochOf(b) - epochOf(a) || Number(b.ordinal === cur) - Number(a.ordinal === cur) || a.ordinal - b.ordinal
  )[0]!
  const epoch = epochMax + 1
  const demote: Array<Action> = contenders
    .filter((p) => p.ordinal !== keep.ordinal)
    .map((p) => ({ _tag: "AssumeRole", target: p.target, role: "standby", epoch }) as const)
  const message = `repairing replication: ${describe(contenders)}; keeping ${keep.name} as primary at epoch ${epoch}`
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
      // Labels first: no writes are routed to anyone but `keep` while roles change.
      ...labelActions(o, cluster, keep.ordinal),
      ...demote,
      { _tag: "AssumeRole", target: keep.target, role: "primary", epoch },
      // Said once it happened: a repair that fails half-way is retried, not announced again and again.
      event(cluster, "Warning", "SplitBrainRepair", message)
    ],
    next,
    primarySwitched: ok("Replication repaired"),
    blocked: undefined,
    minStatefulSetReplicas: Math.max(o.policy.replicas, keep.ordinal + 1)
  }
}
