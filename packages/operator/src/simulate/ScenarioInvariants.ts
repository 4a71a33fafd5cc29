/**
 * The invariants a scenario run is held to: `Invariants.checkInvariants` (split brain, fence before promote,
 * `<name>-primary` routing, epochs never decrease, writes every standby confirmed are never lost) folded over a
 * snapshot of every DoltDB after each simulated step. A violation that persists over many steps is reported once,
 * at its first sighting, with how many steps it was seen.
 *
 * At the end it also says what the invariants deliberately allow: acknowledged writes no standby had confirmed
 * (asynchronous replication, or warning 3024) that the final primary lacks, and whether the cluster converged
 * (one primary, routed, status agreeing): information for the reader, not violations.
 */
import type { DoltModel } from "@doltdb-op/dolt"
import { Effect } from "effect"
import { type CheckState, checkInvariants, converged, type InvariantName } from "./Invariants.ts"
import { type Snapshot, snapshot } from "./WorldSnapshot.ts"

export interface InvariantViolation {
  /** Simulated millis since the start of the run, first sighting. */
  readonly at: number
  readonly doltdb: string
  readonly invariant: InvariantName
  readonly message: string
  /** Steps at which it was seen. */
  readonly steps: number
}

export interface FinalState {
  readonly doltdb: string
  /** Why the DoltDB has not converged at the end (empty: one primary, routed to, status agreeing). */
  readonly notConverged: ReadonlyArray<string>
  /** Acknowledged writes missing from the final primary that no standby had confirmed. */
  readonly lostUnconfirmed: ReadonlyArray<DoltModel.LedgerEntry>
}

/** Invariant names as `checkInvariants` reports them, for the summary. */
export const checkedInvariants: ReadonlyArray<{ readonly name: InvariantName; readonly rule: string }> = [
  { name: "SplitBrain", rule: "never two running primaries at the highest epoch" },
  { name: "Unfenced", rule: "an old primary is demoted or unreachable before a new one is promoted" },
  { name: "Misrouted", rule: "<name>-primary routes only to the primary at the highest epoch (15 s bound)" },
  { name: "EpochDecreased", rule: "server epochs and status.replicationEpoch never decrease" },
  { name: "AcknowledgedWriteLost", rule: "a write every standby confirmed (ack-writes on, no 3024) is never lost" },
  { name: "EmptyPromotion", rule: "a promoted server holds every database its predecessor held" },
  {
    name: "BackupNotAcknowledged",
    rule: "a Completed Backup restores to acknowledged state: its copy exists, and every write in it was acknowledged to its client or is kept by the cluster"
  }
]

export const makeInvariantMonitor = (namespace: string, doltdbs: ReadonlyArray<string>, start: number) => {
  const states = new Map<string, CheckState>()
  const last = new Map<string, Snapshot>()
  const found = new Map<string, { -readonly [K in keyof InvariantViolation]: InvariantViolation[K] }>()

  const step = Effect.fnUntraced(function* () {
    for (const name of doltdbs) {
      const snap = yield* snapshot(name, namespace)
      const result = checkInvariants(snap, states.get(name))
      states.set(name, result.state)
      last.set(name, snap)
      for (const v of result.violations) {
        const key = `${name}\u0000${v.invariant}`
        const seen = found.get(key)
        if (seen !== undefined) seen.steps++
        else found.set(key, { at: v.at - start, doltdb: name, invariant: v.invariant, message: v.message, steps: 1 })
      }
    }
  })

  const finish = Effect.fnUntraced(function* () {
    yield* step()
    return doltdbs.map((name): FinalState => {
      const snap = last.get(name)
      const durable = states.get(name)?.durable ?? new Set<number>()
      const missing = snap?.missingOnPrimary ?? new Set<number>()
      return {
        doltdb: name,
        notConverged: snap === undefined ? ["never observed"] : converged(snap),
        lostUnconfirmed: (snap?.ledger ?? []).filter(
          (e) => e.outcome === "acked" && missing.has(e.id) && !durable.has(e.id)
        )
      }
    })
  })

  return {
    step,
    finish,
    violations: (): ReadonlyArray<InvariantViolation> => [...found.values()].sort((a, b) => a.at - b.at)
  }
}
