/**
 * Replication-aware rolling updates (`updateStrategy: ReplicasFirstPrimaryLast`, the default).
 *
 * The StatefulSet runs with `OnDelete`, so nothing restarts until the operator deletes a pod. Standbys go one
 * at a time, highest ordinal first, and the next one only goes when every already-updated standby has caught up
 * again; then the primary is switched over to the most caught-up updated standby (a graceful drain), and only
 * then is the old primary — now a standby — deleted. A primary is never deleted by this planner: the reference
 * deleted an undrained primary and relied on its preStop hook (reference-operator.md §4.3, §13 items 1–2, 12).
 */
import type { PodView, StandbyReplication } from "./ReplicationObserved.ts"

export type UpdateStrategy = "ReplicasFirstPrimaryLast" | "RollingUpdate" | "OnDelete" | "Never"

export interface RolloutPod {
  readonly pod: PodView
  /** The pod's `controller-revision-hash` label. */
  readonly revision: string | undefined
  /** Restart even at the update revision (it started with an older peer list). */
  readonly needsRestart?: boolean
}

export interface RolloutObserved {
  readonly strategy: UpdateStrategy
  readonly replicationEnabled: boolean
  readonly replicas: number
  /** `status.updateRevision` of the StatefulSet. */
  readonly updateRevision: string | undefined
  readonly pods: ReadonlyArray<RolloutPod>
  /** The current primary ordinal (status), when replication is enabled. */
  readonly primary: number | undefined
  /** A primary change is in flight: the rollout waits for it. */
  readonly transitionInFlight: boolean
  /**
   * The current primary answers as a primary (its pod exists and is not going away). While it does not, no standby
   * is restarted: a restart resets the standby's `last_update`, the only evidence a failover has that it is caught
   * up, and would leave no promotable standby. `undefined` is treated as serving.
   */
  readonly primaryServing?: boolean
  /**
   * The primary's server runs with a cluster configuration. `false`: replication was just enabled on a standalone
   * server that holds the data; it is restarted in place (nothing to switch over to: no standby has the data).
   */
  readonly primaryClustered?: boolean
  /** Replication towards each standby, as the primary reports it. */
  readonly standbys: ReadonlyArray<StandbyReplication>
  readonly maxLagMillis: number
}

export type RolloutStep =
  | { readonly _tag: "UpToDate" }
  /** Nothing to do by the operator (the StatefulSet controller rolls, or the user does). */
  | { readonly _tag: "NotManaged" }
  | { readonly _tag: "Wait"; readonly reason: string }
  | { readonly _tag: "DeletePod"; readonly pod: PodView; readonly reason: string }
  | { readonly _tag: "SwitchoverFirst"; readonly target: number; readonly reason: string }

const caughtUp = (o: RolloutObserved, pod: PodView): boolean => {
  // No user database yet: the primary reports no rows, and there is nothing to be behind on.
  if (o.standbys.length === 0) return true
  const r = o.standbys.find((s) => s.remote === pod.name)
  return r !== undefined && r.errors === 0 && r.maxLagMillis !== undefined && r.maxLagMillis <= o.maxLagMillis
}

export const planRollout = (o: RolloutObserved): RolloutStep => {
  if (o.strategy !== "ReplicasFirstPrimaryLast") return { _tag: "NotManaged" }
  if (o.updateRevision === undefined) return { _tag: "Wait", reason: "StatefulSet has no update revision yet" }
  const members = o.pods.filter((p) => p.pod.ordinal < o.replicas)
  const isStale = (p: RolloutPod) => p.revision !== o.updateRevision || p.needsRestart === true
  const stale = members.filter((p) => p.pod.exists && isStale(p))
  if (stale.length === 0) return { _tag: "UpToDate" }
  const notReady = members.find((p) => !p.pod.exists || p.pod.deleting || !p.pod.ready)
  if (notReady !== undefined) return { _tag: "Wait", reason: `waiting for ${notReady.pod.name} to be ready` }

  const replicated = o.replicationEnabled && o.replicas > 1
  // Without a replication primary yet (replication just enabled on a standalone pod, whose server has no cluster
  // config until it restarts), nothing is routed for writes by role: restart stale pods like a standalone one.
  if (!replicated || (o.primary === undefined && !o.transitionInFlight)) {
    const p = stale[stale.length - 1]!
    return { _tag: "DeletePod", pod: p.pod, reason: `update ${p.pod.name} to revision ${o.updateRevision}` }
  }
  if (o.primary === undefined || o.transitionInFlight)
    return { _tag: "Wait", reason: "waiting for the primary to settle before updating" }
  if (o.primaryServing === false)
    return { _tag: "Wait", reason: "waiting for the primary to be available before updating standbys" }
  const primaryPod = members.find((p) => p.pod.ordinal === o.primary)
  if (o.primaryClustered === false && primaryPod !== undefined && isStale(primaryPod))
    return {
      _tag: "DeletePod",
      pod: primaryPod.pod,
      reason: `restart ${primaryPod.pod.name} with the cluster configuration (it holds the data: it stays primary)`
    }

  const standbys = members.filter((p) => p.pod.ordinal !== o.primary)
  // A standby the primary does not push to at all (it joined after the primary started) cannot catch up until the
  // primary restarts with the new peer list: it must not block the rollout that does exactly that.
  const known = (pod: PodView) => o.standbys.length === 0 || o.standbys.some((s) => s.remote === pod.name)
  const lagging = standbys.find((p) => !isStale(p) && known(p.pod) && !caughtUp(o, p.pod))
  if (lagging !== undefined)
    return { _tag: "Wait", reason: `waiting for updated standby ${lagging.pod.name} to catch up` }
  const staleStandbys = stale.filter((p) => p.pod.ordinal !== o.primary).sort((a, b) => b.pod.ordinal - a.pod.ordinal)
  const next = staleStandbys[0]
  if (next !== undefined) {
    // Updating a standby must not drop the cluster below one caught-up standby while it restarts.
    // (Standbys the primary does not know yet cannot help either way: they do not count.)
    const others = standbys.filter((p) => p.pod.ordinal !== next.pod.ordinal && known(p.pod))
    if (others.length > 0 && !others.some((p) => caughtUp(o, p.pod)))
      return { _tag: "Wait", reason: `no other caught-up standby while ${next.pod.name} restarts` }
    return {
      _tag: "DeletePod",
      pod: next.pod,
      reason: `update standby ${next.pod.name} to revision ${o.updateRevision}`
    }
  }
  // Only the primary is stale: drain it onto the most caught-up updated standby first.
  const targets = standbys
    .filter((p) => caughtUp(o, p.pod))
    .sort(
      (a, b) =>
        (o.standbys.find((s) => s.remote === a.pod.name)?.maxLagMillis ?? 0) -
          (o.standbys.find((s) => s.remote === b.pod.name)?.maxLagMillis ?? 0) || a.pod.ordinal - b.pod.ordinal
    )
  const target = targets[0]
  if (target === undefined) return { _tag: "Wait", reason: "no caught-up standby to switch over to" }
  return {
    _tag: "SwitchoverFirst",
    target: target.pod.ordinal,
    reason: `switch over to ${target.pod.name} before updating the primary`
  }
}
