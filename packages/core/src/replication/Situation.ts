/**
 * The observed cluster, classified into one named situation (as MOCO's clustering does): each has its own small
 * planner (`planReplication.ts`, `planTransition.ts`, `planRepair.ts`). Classification is pure and ordered: a
 * transition in flight is resumed before anything else; several writable servers are dealt with before routing.
 */
import type { PodView, PrimaryTransition, ReplicationObserved } from "./ReplicationObserved.ts"

export type Situation =
  /** A primary change recorded in status: resume it. */
  | { readonly _tag: "InTransition"; readonly transition: PrimaryTransition }
  /**
   * A primary change recorded in status, but a server is above its epoch: the operator already moved past it (an
   * aborted switchover re-promoted the old primary, and the status write that said so was lost; soak seed 4243). Its
   * steps would run at an epoch the servers have left (a drain or a promotion at a lower epoch fails for good): it
   * is over, and the cluster is what `remaining` says once it is dropped.
   */
  | { readonly _tag: "TransitionSuperseded"; readonly transition: PrimaryTransition; readonly remaining: Situation }
  /** Two primaries at the highest primary epoch, or a server in `detected_broken_config`. */
  | { readonly _tag: "SplitBrain"; readonly primaries: ReadonlyArray<PodView>; readonly broken: ReadonlyArray<PodView> }
  /** Primaries below the highest primary epoch (an old primary rebooted with its persisted role): demote them. */
  | { readonly _tag: "StalePrimaryReturned"; readonly top: PodView; readonly stale: ReadonlyArray<PodView> }
  /** No primary recorded in status and none serving yet. */
  | { readonly _tag: "Bootstrapping" }
  /** No primary recorded, one server is primary: record it. */
  | { readonly _tag: "Adopt"; readonly primary: PodView }
  /** The recorded primary is not primary, another server is (promoted before a crash): follow the servers. */
  | { readonly _tag: "FollowServers"; readonly primary: PodView }
  /**
   * The recorded primary still runs without a cluster configuration (replication was just enabled): it holds the
   * data, so it stays primary until it restarts with the cluster configuration.
   */
  | { readonly _tag: "ReplicationStarting"; readonly primary: PodView }
  /** The recorded primary serves. */
  | { readonly _tag: "Healthy"; readonly primary: PodView }
  /** The recorded primary serves on a pod a scale-down removes: it moves first (`planScaleDown.ts`). */
  | { readonly _tag: "PrimaryLeaving"; readonly primary: PodView }
  /** The recorded primary does not serve (pod gone or going, server unreachable, or no longer primary). */
  | { readonly _tag: "PrimaryLost"; readonly primary: number; readonly handedOver: boolean }

/** The observed cluster as if no transition were recorded. */
export const withoutTransition = (o: ReplicationObserved): ReplicationObserved => ({
  ...o,
  state: { ...o.state, transition: undefined }
})

export const reachable = (p: PodView | undefined) => (p?.sql._tag === "Reachable" ? p.sql : undefined)

export const isServingPrimary = (p: PodView | undefined): boolean =>
  p?.exists === true && !p.deleting && reachable(p)?.role === "primary"

export const classify = (o: ReplicationObserved): Situation => {
  const state = o.state
  const t = state.transition
  if (t !== undefined) {
    // Only the operator assigns epochs, and it assigns none above a transition's while the transition is recorded.
    const above = o.pods.some((p) => (reachable(p)?.epoch ?? 0) > t.epoch)
    if (!above) return { _tag: "InTransition", transition: t }
    return { _tag: "TransitionSuperseded", transition: t, remaining: classify(withoutTransition(o)) }
  }
  const primaries = o.pods.filter((p) => p.exists && reachable(p)?.role === "primary")
  const broken = o.pods.filter((p) => p.exists && reachable(p)?.role === "detected_broken_config")
  const top = Math.max(-1, ...primaries.map((p) => reachable(p)!.epoch))
  const atTop = primaries.filter((p) => reachable(p)!.epoch === top)
  if (broken.length > 0 || atTop.length > 1) return { _tag: "SplitBrain", primaries, broken }
  if (primaries.length > 1)
    return { _tag: "StalePrimaryReturned", top: atTop[0]!, stale: primaries.filter((p) => p !== atTop[0]) }

  const only = primaries[0]
  const cur = state.currentPrimaryPodIndex
  const curPod = cur === undefined ? undefined : o.pods[cur]
  if (cur === undefined) return only === undefined ? { _tag: "Bootstrapping" } : { _tag: "Adopt", primary: only }
  if (only !== undefined && only.ordinal !== cur) {
    if (reachable(only)!.epoch >= (state.replicationEpoch ?? 0) && !isServingPrimary(curPod))
      return { _tag: "FollowServers", primary: only }
    return { _tag: "StalePrimaryReturned", top: only, stale: [only] }
  }
  if (isServingPrimary(curPod))
    return reachable(curPod)!.clustered === false
      ? { _tag: "ReplicationStarting", primary: curPod! }
      : cur >= o.policy.replicas
        ? { _tag: "PrimaryLeaving", primary: curPod! }
        : { _tag: "Healthy", primary: curPod! }
  // No debounce when the loss is not transient: the primary's pod is being deleted (a delete someone asked for; the
  // preStop hook of a graceful one hands over first), or its server stepped down above the recorded epoch (that
  // hand-over, seen after the pod came back). A pod that is merely missing is debounced: after a forced delete the
  // StatefulSet re-creates it within seconds with its persisted primary role, and promoting someone else meanwhile
  // leaves that old primary writable until it is fenced (soak seed 20261250: Unfenced for 2.5 s).
  const sql = reachable(curPod)
  const handedOver = curPod?.deleting === true || (sql?.role === "standby" && sql.epoch > (state.replicationEpoch ?? 0))
  return { _tag: "PrimaryLost", primary: cur, handedOver }
}
