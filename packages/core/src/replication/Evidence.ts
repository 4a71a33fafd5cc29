/**
 * Caught-up evidence: what the serving primary reports about each standby, reduced to a verdict (at the primary's
 * position or not) and recorded in status when a verdict changes. A converged cluster changes no verdict, so it
 * costs no status write; when the primary is lost the record is frozen at the last look the operator had, and a
 * failover is judged on it (a standby's own `last_update` does not survive the standby restarting).
 *
 * "At the primary's position" is the primary's view (dolt-cluster.md §3): for every database it holds, a status row
 * for that standby with `replication_lag_millis` within `maxLagOnFailover` and no `current_error`.
 */
import type { Evidence, ReplicationObserved, StandbyVerdict } from "./ReplicationObserved.ts"

export const DefaultMaxLagOnFailoverMillis = 5_000

const sameList = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((x, i) => x === b[i])

const sameVerdicts = (a: ReadonlyArray<StandbyVerdict>, b: ReadonlyArray<StandbyVerdict>) =>
  a.length === b.length && a.every((x, i) => x.pod === b[i]?.pod && x.caughtUp === b[i]?.caughtUp)

/**
 * The evidence after this observation: refreshed from the current primary while it serves (and no primary change
 * is in flight), else the recorded one unchanged. Returns the recorded object itself when no verdict changed.
 */
export const recordEvidence = (o: ReplicationObserved): Evidence | undefined => {
  const previous = o.state.evidence
  const cur = o.state.currentPrimaryPodIndex
  if (cur === undefined || o.state.transition !== undefined) return previous
  const primary = o.pods[cur]
  const sql = primary?.sql._tag === "Reachable" ? primary.sql : undefined
  if (
    primary === undefined ||
    !primary.exists ||
    primary.deleting ||
    sql === undefined ||
    sql.role !== "primary" ||
    sql.databases === undefined
  )
    return previous
  const maxLag = o.policy.maxLagOnFailoverMillis ?? DefaultMaxLagOnFailoverMillis
  const databases = [...sql.databases].sort()
  const same = previous !== undefined && previous.primary === cur && previous.epoch === sql.epoch
  const standbys = o.pods
    .filter((p) => p.ordinal !== cur && p.exists)
    .map((p): StandbyVerdict => {
      const r = sql.standbys.find((s) => s.remote === p.name)
      const before = same ? previous.standbys.find((v) => v.pod === p.name) : undefined
      // A NULL lag (nothing pushed since this server became primary, or since it started) says nothing new: the
      // verdict carried over from the promotion (`seedEvidence`) or from the last look stands.
      const unknown = r !== undefined && r.errors === 0 && r.maxLagMillis === undefined
      const caughtUp =
        databases.length === 0 ||
        (unknown
          ? before?.caughtUp === true
          : r !== undefined &&
            r.errors === 0 &&
            r.maxLagMillis !== undefined &&
            r.maxLagMillis <= maxLag &&
            r.databases >= databases.length)
      return { pod: p.name, caughtUp, since: before?.caughtUp === caughtUp ? before.since : o.now }
    })
  if (same && sameList(previous.databases, databases) && sameVerdicts(previous.standbys, standbys)) return previous
  return { primary: cur, epoch: sql.epoch, databases, standbys }
}

/**
 * The evidence for a primary just promoted by `t`: at that moment the standbys that were caught up with the old
 * primary hold what the new one holds (within `maxLagOnFailover`; its first push replaces their roots), and so does
 * a switchover's drained old primary. Without it, a primary lost before its first report would leave no standby
 * provably caught up.
 */
export const seedEvidence = (
  o: ReplicationObserved,
  t: {
    readonly kind: string
    readonly from: number
    readonly to: number
    readonly epoch: number
    readonly targetConfirmed?: boolean
  }
): Evidence | undefined => {
  const old = o.state.evidence?.primary === t.from ? o.state.evidence : undefined
  if (old === undefined) return o.state.evidence
  return {
    primary: t.to,
    epoch: t.epoch,
    databases: old.databases,
    standbys: o.pods
      .filter((p) => p.ordinal !== t.to && p.exists)
      .map((p) => ({
        pod: p.name,
        caughtUp:
          (p.ordinal === t.from && t.kind === "Switchover" && t.targetConfirmed === true) ||
          old.standbys.some((v) => v.pod === p.name && v.caughtUp),
        since: o.now
      }))
  }
}
