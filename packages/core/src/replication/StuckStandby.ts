/**
 * A standby that keeps refusing the serving primary's credentials. A Dolt standby accepts a primary's pushes once it
 * has fetched that primary's signing key (one fetch loop per peer, `/.well-known/jwks.json`), and it fetches without
 * a timeout: a fetch stuck on a dead connection to a re-created peer's previous address keeps it from ever learning
 * the key the new incarnation signs with, for as long as the kernel keeps that connection (minutes). Meanwhile it
 * refuses every push (`Unauthenticated`): with asynchronous replication it falls behind and is no failover target,
 * with ack-writes every commit waits out its timeout (docs/failover.md, runs 6 and 7). A new process starts with
 * fresh fetches, and a standby restart loses nothing, so the operator restarts it.
 *
 * Only a refusal of credentials counts (a standby cut off from the primary is not helped by a restart), only while
 * the operator reaches the standby at the primary's epoch, and only once per `StuckStandbyMillis` of its process's
 * life: a standby that refuses again after its restart is restarted at most that often.
 */
import type { Action, ObjectRef } from "../plan/Action.ts"
import { type ClusterIdentity, event } from "./Decision.ts"
import type { Evidence, PodView, ReplicationObserved } from "./ReplicationObserved.ts"
import { reachable } from "./Situation.ts"

/** How long a standby may refuse the primary, and how long its process must have run, before it is restarted. */
export const StuckStandbyMillis = 30_000

export interface StuckStandby {
  readonly pod: PodView
  /** Operator clock, epoch millis: since when the primary has not reported it caught up. */
  readonly behindSince: number
}

/** The standbys of `primary` that refuse its credentials past the bound (`evidence`: this look's, for `primary`). */
export const stuckStandbies = (
  o: ReplicationObserved,
  primary: PodView,
  evidence: Evidence | undefined
): ReadonlyArray<StuckStandby> => {
  const sql = reachable(primary)
  if (sql === undefined || sql.role !== "primary" || evidence?.primary !== primary.ordinal) return []
  if (evidence.epoch !== sql.epoch) return []
  const stuck: Array<StuckStandby> = []
  for (const pod of o.pods) {
    if (pod.ordinal === primary.ordinal || !pod.exists || pod.deleting) continue
    const standby = reachable(pod)
    if (standby === undefined || standby.role !== "standby" || standby.epoch !== sql.epoch) continue
    if (sql.standbys.find((s) => s.remote === pod.name)?.refused !== true) continue
    const verdict = evidence.standbys.find((v) => v.pod === pod.name)
    if (verdict === undefined || verdict.caughtUp || o.now - verdict.since < StuckStandbyMillis) continue
    if (pod.serverStartedAt === undefined || o.now - pod.serverStartedAt < StuckStandbyMillis) continue
    stuck.push({ pod, behindSince: verdict.since })
  }
  return stuck
}

/** Restarts each stuck standby (a graceful delete of its pod; the StatefulSet re-creates it), with a Warning. */
export const restartStuckStandbies = (
  cluster: ClusterIdentity,
  primary: PodView,
  stuck: ReadonlyArray<StuckStandby>,
  now: number
): ReadonlyArray<Action> =>
  stuck.flatMap(({ pod, behindSince }) => {
    const why =
      `standby ${pod.name} has refused primary ${primary.name}'s credentials (Unauthenticated) and not caught up ` +
      `for ${Math.round((now - behindSince) / 1000)}s: it has not fetched the primary's signing key, so it is ` +
      "restarted (a standby restart loses nothing)"
    const ref: ObjectRef = {
      apiVersion: "v1",
      kind: "Pod",
      namespace: cluster.namespace,
      name: pod.name,
      ...(pod.uid === undefined ? {} : { uid: pod.uid })
    }
    return [event(cluster, "Warning", "StandbyRestarted", why), { _tag: "Delete", ref, reason: why } satisfies Action]
  })
