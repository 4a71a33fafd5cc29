/**
 * The rolling-update input of a DoltDB pass: the peer list the ConfigMap describes (`status.mesh`, and since when),
 * the pods that run an older one, and the one rollout step `planRollout` takes.
 */
import type { DoltDBStatus } from "../api/DoltDB.ts"
import { planRollout, type RolloutStep } from "../replication/planRollout.ts"
import type { ReplicationPolicy, ReplicationState } from "../replication/ReplicationObserved.ts"
import { rfc3339 } from "../status/Conditions.ts"
import type { DoltDBObserved } from "./DoltDBObserved.ts"

export type Mesh = NonNullable<DoltDBStatus["mesh"]>

/**
 * The peer list the ConfigMap gives the pods that stay, and since when: pods created before then run with an older
 * one. (Pods a scale-down still holds for the primary keep the full list: `BuildContext.peerMembers`.)
 */
export const meshOf = (o: DoltDBObserved, replicated: boolean): Mesh | undefined => {
  if (!replicated) return undefined
  const replicas = o.doltdb.spec.replicas
  const previous = o.doltdb.status?.mesh
  if (previous === undefined) return { replicas, since: rfc3339(0) }
  return previous.replicas !== replicas ? { replicas, since: rfc3339(o.now) } : previous
}

/** The pods that stay and started before the peer list last changed (`meshSince`): the rolling update restarts them. */
export const olderPeerList = (o: DoltDBObserved, replicas: number, meshSince: number): ReadonlyArray<number> =>
  o.pods
    .filter((p) => p.ordinal < replicas && p.createdAt !== undefined && p.createdAt < meshSince)
    .map((p) => p.ordinal)

export const rolloutOf = (
  o: DoltDBObserved,
  state: ReplicationState,
  policy: ReplicationPolicy,
  replicated: boolean,
  meshSince: number
): RolloutStep => {
  const spec = o.doltdb.spec
  const primary = state.currentPrimaryPodIndex === undefined ? undefined : o.pods[state.currentPrimaryPodIndex]
  const primarySql = primary?.sql._tag === "Reachable" ? primary.sql : undefined
  return planRollout({
    strategy: spec.updateStrategy,
    replicationEnabled: replicated,
    replicas: spec.replicas,
    updateRevision: o.statefulSet?.updateRevision,
    pods: o.pods.map((pod) => ({
      pod,
      revision: pod.revision,
      needsRestart: pod.createdAt !== undefined && pod.createdAt < meshSince
    })),
    primary: state.currentPrimaryPodIndex,
    transitionInFlight: state.transition !== undefined,
    primaryServing: primary?.exists === true && !primary.deleting && primarySql?.role === "primary",
    primaryClustered: primarySql === undefined ? true : primarySql.clustered !== false,
    standbys: primarySql?.standbys ?? [],
    maxLagMillis: policy.maxSwitchoverLagMillis
  })
}
