/**
 * Choosing which standby to promote when the primary is lost.
 *
 * A standby is *safe* to promote when it holds every database the cluster has and the evidence says it was at the
 * primary's position when the operator last looked:
 * - the recorded verdict for the lost primary (`Evidence.ts`) says caught up; or it said lagging, but the standby
 *   heard from the primary (a push or a heartbeat, which a primary sends only to standbys it is caught up with,
 *   dolt-cluster.md §3) after that verdict;
 * - with no record at all for the lost primary (it was never written: the primary died before the operator's first
 *   look at it), the standby heard from the primary on every database about as recently as any other standby did
 *   (`caughtUpSlackMillis`) and no earlier than the loss was detected, less the detection delay.
 * A server lacking a database (a fresh pod that never received it) is never promoted, not even with
 * `allowUnsafeFailover`: it would re-create the database empty and push that over the others.
 */
import type { Evidence, PodView, ReplicationPolicy } from "./ReplicationObserved.ts"

export interface CandidateAssessment {
  readonly pod: PodView
  readonly epoch: number
  /** When it last heard from the primary on every database (operator clock); `undefined`: some never. */
  readonly heardAt: number | undefined
  readonly missing: ReadonlyArray<string>
  readonly safe: boolean
  /** Why it is or is not safe, for events. */
  readonly why: string
}

export type CandidateChoice =
  | { readonly _tag: "Chosen"; readonly candidate: CandidateAssessment; readonly unsafe: boolean }
  | { readonly _tag: "None"; readonly reason: string }

/** A pod that could serve as primary: its server answers, it is a standby, and its pod is not going away. */
export const isPromotable = (p: PodView): boolean =>
  p.exists && !p.deleting && p.sql._tag === "Reachable" && p.sql.role === "standby"

const databasesOf = (p: PodView): ReadonlyArray<string> =>
  p.sql._tag !== "Reachable" ? [] : (p.sql.databases ?? p.sql.staleness.map((s) => s.database))

/** Every database the cluster has: the lost primary's (recorded) and any reachable server's. */
export const clusterDatabases = (
  pods: ReadonlyArray<PodView>,
  evidence: Evidence | undefined
): ReadonlyArray<string> => {
  const all = new Set(evidence?.databases ?? [])
  for (const p of pods) if (p.exists) for (const d of databasesOf(p)) all.add(d)
  return [...all].sort()
}

const ago = (now: number, at: number) => `${Math.max(0, now - at)}ms ago`

/** Without a recorded verdict: how long before the loss was detected the primary may have died (polling, probes). */
export const DetectionSlackMillis = 15_000

export const assessCandidates = (
  pods: ReadonlyArray<PodView>,
  exclude: ReadonlySet<number>,
  policy: ReplicationPolicy,
  evidence: Evidence | undefined,
  now: number,
  lostAt: number = now
): ReadonlyArray<CandidateAssessment> => {
  const candidates = pods.filter((p) => p.ordinal < policy.replicas && !exclude.has(p.ordinal) && isPromotable(p))
  const databases = clusterDatabases(pods, evidence)
  const heardAt = (p: PodView): number | undefined => {
    if (p.sql._tag !== "Reachable" || databases.length === 0) return undefined
    let stalest = 0
    for (const db of databases) {
      const millis = p.sql.staleness.find((s) => s.database === db)?.millis
      if (millis === undefined) return undefined
      stalest = Math.max(stalest, millis)
    }
    return now - stalest
  }
  const heard = new Map(candidates.map((p) => [p.ordinal, heardAt(p)]))
  const freshest = Math.max(-Infinity, ...[...heard.values()].flatMap((h) => (h === undefined ? [] : [h])))
  return candidates.map((pod) => {
    const has = new Set(databasesOf(pod))
    const missing = databases.filter((d) => !has.has(d))
    const at = heard.get(pod.ordinal)
    const verdict = evidence?.standbys.find((v) => v.pod === pod.name)
    const judge = (): { safe: boolean; why: string } => {
      if (missing.length > 0) return { safe: false, why: `lacks database ${missing.join(", ")}` }
      if (databases.length === 0) return { safe: true, why: "no database to lose" }
      if (evidence !== undefined) {
        if (verdict?.caughtUp === true)
          return { safe: true, why: `at the primary's position when last reported (since ${ago(now, verdict.since)})` }
        if (verdict !== undefined && at !== undefined && at > verdict.since)
          return { safe: true, why: "heard from the primary after it was last reported lagging" }
        return {
          safe: false,
          why:
            verdict === undefined
              ? "the primary never reported it caught up"
              : `the primary reported it lagging ${ago(now, verdict.since)}`
        }
      }
      if (at !== undefined && at >= freshest - policy.caughtUpSlackMillis && at >= lostAt - DetectionSlackMillis)
        return { safe: true, why: `heard from the primary ${ago(now, at)}, as recently as any standby` }
      return {
        safe: false,
        why:
          at === undefined
            ? "never heard from the primary since it started"
            : `last heard from the primary ${ago(now, at)}`
      }
    }
    return { pod, epoch: pod.sql._tag === "Reachable" ? pod.sql.epoch : 0, heardAt: at, missing, ...judge() }
  })
}

/** Safe first, then highest epoch, then ready, then freshest, then lowest ordinal (numeric, not by name). */
const rank = (a: CandidateAssessment, b: CandidateAssessment): number =>
  Number(b.safe) - Number(a.safe) ||
  b.epoch - a.epoch ||
  Number(b.pod.ready) - Number(a.pod.ready) ||
  (b.heardAt ?? -Infinity) - (a.heardAt ?? -Infinity) ||
  a.pod.ordinal - b.pod.ordinal

export const selectFailoverCandidate = (
  pods: ReadonlyArray<PodView>,
  exclude: ReadonlySet<number>,
  policy: ReplicationPolicy,
  evidence: Evidence | undefined,
  now: number,
  options: { readonly prefer?: number | undefined; readonly lostAt?: number | undefined } = {}
): CandidateChoice => {
  const assessed = [...assessCandidates(pods, exclude, policy, evidence, now, options.lostAt ?? now)].sort(rank)
  const prefer = options.prefer
  const preferred = assessed.find((c) => c.pod.ordinal === prefer && c.safe)
  const best = preferred ?? assessed[0]
  if (best === undefined) return { _tag: "None", reason: "no reachable standby to promote" }
  if (best.safe) return { _tag: "Chosen", candidate: best, unsafe: false }
  const detail = assessed.map((c) => `${c.pod.name}: ${c.why}`).join("; ")
  const holder = assessed.find((c) => c.missing.length === 0)
  if (policy.allowUnsafeFailover && holder !== undefined) return { _tag: "Chosen", candidate: holder, unsafe: true }
  return {
    _tag: "None",
    reason: `no standby is provably caught up (${detail}); promoting one could lose acknowledged writes`
  }
}
