/**
 * Choosing which standby to promote when the primary is lost.
 *
 * With the primary gone, the only evidence of how caught up a standby is comes from the standby itself:
 * `dolt_cluster_status.last_update`, the last push or heartbeat it received, per database. A primary sends
 * heartbeats only to standbys it is caught up with (dolt-cluster.md §3), so a standby whose *stalest* database
 * heard from the primary no earlier than the moment the primary was lost was caught up at that moment. The
 * observe step measures staleness on the standby's own clock, and "time since the primary was lost" on the
 * operator's, so no two clocks are compared; `slack` covers the detection delay and the heartbeat interval.
 */
import type { PodView, ReplicationPolicy } from "./ReplicationObserved.ts"

export interface CandidateAssessment {
  readonly pod: PodView
  readonly epoch: number
  /** Staleness of the stalest database, millis; `Infinity` when a database never heard from the primary. */
  readonly stalestMillis: number
  readonly caughtUp: boolean
}

export type CandidateChoice =
  | { readonly _tag: "Chosen"; readonly candidate: CandidateAssessment; readonly unsafe: boolean }
  | { readonly _tag: "None"; readonly reason: string }

/** A pod that could serve as primary: its server answers, it is a standby, and its pod is not going away. */
export const isPromotable = (p: PodView): boolean =>
  p.exists && !p.deleting && p.sql._tag === "Reachable" && p.sql.role === "standby"

export const assessCandidates = (
  pods: ReadonlyArray<PodView>,
  exclude: ReadonlySet<number>,
  replicas: number,
  sinceLostMillis: number,
  slackMillis: number
): ReadonlyArray<CandidateAssessment> => {
  const candidates = pods.filter((p) => p.ordinal < replicas && !exclude.has(p.ordinal) && isPromotable(p))
  // A database that one standby has and another lacks counts as "never heard from the primary" for the latter.
  const databases = new Set<string>()
  for (const c of candidates) if (c.sql._tag === "Reachable") for (const s of c.sql.staleness) databases.add(s.database)
  return candidates.map((pod) => {
    const sql = pod.sql._tag === "Reachable" ? pod.sql : undefined
    let stalest = 0
    for (const db of databases) {
      const row = sql?.staleness.find((s) => s.database === db)
      const millis = row?.millis ?? Number.POSITIVE_INFINITY
      if (millis > stalest) stalest = millis
    }
    return {
      pod,
      epoch: sql?.epoch ?? 0,
      stalestMillis: stalest,
      caughtUp: stalest <= sinceLostMillis + slackMillis
    }
  })
}

/** Caught up first, then highest epoch, then ready, then freshest, then lowest ordinal (numeric, not by name). */
const rank = (a: CandidateAssessment, b: CandidateAssessment): number =>
  Number(b.caughtUp) - Number(a.caughtUp) ||
  b.epoch - a.epoch ||
  Number(b.pod.ready) - Number(a.pod.ready) ||
  a.stalestMillis - b.stalestMillis ||
  a.pod.ordinal - b.pod.ordinal

export const selectFailoverCandidate = (
  pods: ReadonlyArray<PodView>,
  exclude: ReadonlySet<number>,
  policy: ReplicationPolicy,
  sinceLostMillis: number
): CandidateChoice => {
  const assessed = [...assessCandidates(pods, exclude, policy.replicas, sinceLostMillis, policy.caughtUpSlackMillis)]
  assessed.sort(rank)
  const best = assessed[0]
  if (best === undefined) return { _tag: "None", reason: "no reachable standby to promote" }
  if (best.caughtUp) return { _tag: "Chosen", candidate: best, unsafe: false }
  const staleness = assessed
    .map((c) => `${c.pod.name} ${Number.isFinite(c.stalestMillis) ? `${c.stalestMillis}ms` : "never"}`)
    .join(", ")
  if (policy.allowUnsafeFailover) return { _tag: "Chosen", candidate: best, unsafe: true }
  return {
    _tag: "None",
    reason: `no standby is provably caught up (staleness: ${staleness}; primary lost ${sinceLostMillis}ms ago); promoting one could lose acknowledged writes`
  }
}
