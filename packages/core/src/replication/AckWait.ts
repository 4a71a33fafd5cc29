/**
 * Ack-writes and a standby that is down (docs/failover.md, "Ack-writes: the wait for a standby that is down").
 *
 * With `dolt_cluster_ack_writes_timeout_secs` = T > 0 a primary's commit waits up to T for *every* standby
 * (`dsess.WaitForReplicationController`); a standby whose wait timed out gets an open circuit breaker, so later commits
 * return at once with warning 3024 until it has caught up (dolt >= 2.2.2: one commit per T still waits for real, as a
 * probe). A newly promoted primary starts with every breaker closed: its first commit waits the whole T for a standby
 * that is down, blocking the branch meanwhile. That was the 10 s in every ack-writes failover.
 *
 * So when the operator promotes a server while another standby is unreachable (or is the primary a failover moves
 * away from, which takes seconds to accept pushes again after a crash even when it answers), it lowers T on it to
 * `ShortAckWaitSeconds` first (`SET GLOBAL`: the process only; a restart brings back the configured value), recorded
 * in status before the change, and sets it back once every standby answers and replicates without error again, or
 * once that server is no longer the primary. One record per pod: a promotion while an earlier record is pending
 * (its server crashed, and the next failover follows) lowers the new primary too; each is restored on its own.
 * Never to 0: with 0 Dolt waits for nobody and warns nobody, so a write acknowledged without warning would no longer
 * be on every standby.
 *
 * The promise of ack-writes holds for any T > 0: a write acknowledged without warning is on every standby (every
 * wait returned in time). What lowering changes is how soon a write that cannot reach every standby comes back
 * with warning 3024 rather than block: during the lowered window a standby slower than 1 s also gets its breaker
 * opened (until it catches up), and a down standby that restarts within the user's T no longer turns the writes
 * that waited for it into warning-free ones.
 */
import type { Action, PodTarget } from "../plan/Action.ts"
import { type ClusterIdentity, event } from "./Decision.ts"
import type { PodView, ReplicationObserved, ShortenedAckWait } from "./ReplicationObserved.ts"
import { reachable } from "./Situation.ts"

/** The wait the operator lowers to: the smallest Dolt accepts that still warns (0 disables the wait). */
export const ShortAckWaitSeconds = 1

type SetAckWait = {
  readonly _tag: "SetAckWritesTimeout"
  readonly target: PodTarget
  readonly seconds: number
  readonly bestEffort: boolean
}

/**
 * The pods (other than `primary`) a new primary replicates to that the operator cannot reach now, and a failover's
 * lost primary even when it answers again: a server that just crashed and restarted takes seconds before it accepts
 * the new primary's pushes (e2e: 6-8 s of the first commit's wait after such a failover).
 */
const downStandbys = (o: ReplicationObserved, primary: number, lost: number | undefined): ReadonlyArray<PodView> =>
  o.pods.filter(
    (p) =>
      p.ordinal !== primary &&
      p.ordinal < o.policy.replicas &&
      (p.ordinal === lost || p.deleting || reachable(p) === undefined)
  )

/** The records with `pod`'s replaced by `record` (one per pod: a pod runs one process, lowered once). */
const withRecordFor = (
  records: ReadonlyArray<ShortenedAckWait>,
  record: ShortenedAckWait
): ReadonlyArray<ShortenedAckWait> => [...records.filter((r) => r.pod !== record.pod), record]

/**
 * At a promotion: lower the wait on `target` when a standby is down and the server runs ack-writes above the short
 * wait. Returns the records to persist before the action (the pending ones of other pods stay: each is restored on
 * its own), and the action (best effort: never holds up a promotion).
 */
export const shortenBeforePromotion = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  target: PodView,
  /** A failover's old primary. */
  lost: number | undefined
):
  | { readonly records: ReadonlyArray<ShortenedAckWait>; readonly actions: ReadonlyArray<SetAckWait | Action> }
  | undefined => {
  // Also when a record for `target` is pending: a value above the short wait means its process restarted since.
  const seconds = reachable(target)?.ackWritesTimeoutSecs
  if (seconds === undefined || seconds <= ShortAckWaitSeconds) return undefined
  const down = downStandbys(o, target.ordinal, lost)
  if (down.length === 0) return undefined
  const record = { pod: target.ordinal, seconds }
  return {
    records: withRecordFor(o.state.shortenedAckWaits ?? [], record),
    actions: [
      event(
        cluster,
        "Normal",
        "AckWaitShortened",
        `dolt_cluster_ack_writes_timeout_secs lowered from ${seconds} to ${ShortAckWaitSeconds} on ${target.name} before its promotion, while ${down.map((p) => p.name).join(", ")} cannot be reached or just failed; set back once every standby replicates again`
      ),
      { _tag: "SetAckWritesTimeout", target: target.target, seconds: ShortAckWaitSeconds, bestEffort: true }
    ]
  }
}

/** Every standby of `primary` answers, and the primary reports each replicating without error. */
const allStandbysBack = (o: ReplicationObserved, primary: PodView): boolean => {
  const standbys = reachable(primary)?.standbys ?? []
  return o.pods.every((p) => {
    if (p.ordinal === primary.ordinal || p.ordinal >= o.policy.replicas) return true
    const sql = reachable(p)
    if (sql === undefined || p.deleting || sql.role !== "standby") return false
    const repl = standbys.find((s) => s.remote === p.name)
    // No user database yet: no status rows, nothing to wait for.
    return standbys.length === 0 || (repl !== undefined && repl.errors === 0 && repl.maxLagMillis !== undefined)
  })
}

/** What becomes of one record with a serving primary: kept, dropped, or restored (then dropped). */
const settle = (
  o: ReplicationObserved,
  primary: PodView,
  recorded: ShortenedAckWait
): "keep" | "drop" | { readonly restore: PodView } => {
  const pod = o.pods[recorded.pod]
  if (pod === undefined || !pod.exists || recorded.pod >= o.policy.replicas) return "drop"
  const sql = reachable(pod)
  // Unreachable: wait (its process may still run with the lowered value).
  if (sql === undefined) return "keep"
  // Restarted (the configured value is back) or changed by someone else since: nothing to restore.
  if (sql.ackWritesTimeoutSecs !== undefined && sql.ackWritesTimeoutSecs !== ShortAckWaitSeconds) return "drop"
  if (recorded.pod === primary.ordinal && !allStandbysBack(o, primary)) return "keep"
  // The primary once its standbys are all back; any other lowered server (no longer primary) at once.
  return { restore: pod }
}

/**
 * With a serving primary: put each lowered wait back when it is no longer needed. `records` are those still pending;
 * the actions (not best effort: a record stays until its value is back, as the state is persisted after them)
 * restore the user's values.
 */
export const restoreAckWait = (
  o: ReplicationObserved,
  cluster: ClusterIdentity,
  primary: PodView
): { readonly records: ReadonlyArray<ShortenedAckWait>; readonly actions: ReadonlyArray<SetAckWait | Action> } => {
  const records: Array<ShortenedAckWait> = []
  const actions: Array<SetAckWait | Action> = []
  for (const recorded of o.state.shortenedAckWaits ?? []) {
    const verdict = settle(o, primary, recorded)
    if (verdict === "keep") records.push(recorded)
    else if (verdict !== "drop")
      actions.push(
        { _tag: "SetAckWritesTimeout", target: verdict.restore.target, seconds: recorded.seconds, bestEffort: false },
        event(
          cluster,
          "Normal",
          "AckWaitRestored",
          `dolt_cluster_ack_writes_timeout_secs set back to ${recorded.seconds} on ${verdict.restore.name}`
        )
      )
  }
  return { records, actions }
}
