/**
 * What a scenario run reports (`ScenarioRunner.ts`): the timeline a person watching would have seen, the primary
 * periods, the client writes and their outages, the Backups, the invariants checked and their violations.
 */
import type { DoltModel } from "@doltdb-op/dolt"
import type { BackupOutcome } from "./BackupWatch.ts"
import type { InvariantViolation } from "./ScenarioInvariants.ts"

export type TimelineKind =
  | "scenario"
  | "primary"
  | "transition"
  | "condition"
  | "event"
  | "servers"
  | "writes"
  | "backup"

export interface TimelineEntry {
  /** Simulated milliseconds since the start of the run. */
  readonly at: number
  readonly kind: TimelineKind
  readonly text: string
}

export interface PrimaryPeriod {
  readonly doltdb: string
  readonly from: number
  readonly to: number
  readonly primary: string | undefined
  readonly epoch: number | undefined
}

export interface WriteSecond {
  readonly second: number
  readonly acked: number
  /** Acknowledged with warning 3024 (the ack-writes timeout passed before every standby had the commit). */
  readonly ackedWithWarning: number
  readonly failed: number
  /** Failure kinds (the error tag) and how often. */
  readonly errors: Readonly<Record<string, number>>
}

export interface WriteOutage {
  /** First failed write (start time) after an acknowledged one, and the next acknowledged write's start. */
  readonly from: number
  readonly to: number | undefined
}

export interface ScenarioReport {
  readonly name: string
  readonly seed: number
  readonly durationMillis: number
  readonly timeline: ReadonlyArray<TimelineEntry>
  readonly primaries: ReadonlyArray<PrimaryPeriod>
  readonly writes: {
    readonly host: string | undefined
    readonly total: number
    readonly acked: number
    readonly ackedWithWarning: number
    readonly failed: number
    readonly perSecond: ReadonlyArray<WriteSecond>
    readonly outages: ReadonlyArray<WriteOutage>
    /** When acknowledgements started coming from another server or epoch (the first acknowledged write of each). */
    readonly ackedBy: ReadonlyArray<{
      readonly at: number
      readonly server: string
      readonly epoch: number | undefined
    }>
  }
  /** Every Backup of the run (from `backup` events and BackupSchedules) and the copy each Completed one left. */
  readonly backups: ReadonlyArray<BackupOutcome>
  readonly invariants: {
    readonly checked: ReadonlyArray<{ readonly name: string; readonly rule: string }>
    readonly violations: ReadonlyArray<InvariantViolation>
  }
  /**
   * Per DoltDB at the end: whether it converged, and acknowledged writes missing from the final primary that no
   * standby had confirmed (asynchronous, or warning 3024), which a primary crash may lose by design.
   */
  readonly final: ReadonlyArray<{
    readonly doltdb: string
    readonly notConverged: ReadonlyArray<string>
    readonly lostUnconfirmed: ReadonlyArray<{
      readonly id: number
      readonly at: number
      readonly server: string | undefined
      readonly epoch: number | undefined
    }>
  }>
  readonly ok: boolean
}

/** What the client writes of a run came to: per second, the outages between acknowledgements, who acknowledged. */
export const writeStatistics = (ledger: ReadonlyArray<DoltModel.LedgerEntry>, start: number) => {
  const bySecond = new Map<
    number,
    { acked: number; ackedWithWarning: number; failed: number; errors: Record<string, number> }
  >()
  for (const e of ledger) {
    const second = Math.floor((e.startedAt - start) / 1000)
    const row = bySecond.get(second) ?? { acked: 0, ackedWithWarning: 0, failed: 0, errors: {} }
    if (e.outcome === "acked") {
      row.acked++
      if (e.warning !== undefined) row.ackedWithWarning++
    } else {
      row.failed++
      const tag = (e.error ?? "error").split(":")[0] ?? "error"
      row.errors[tag] = (row.errors[tag] ?? 0) + 1
    }
    bySecond.set(second, row)
  }
  const outages: Array<WriteOutage> = []
  let open: number | undefined
  for (const e of [...ledger].sort((a, b) => a.startedAt - b.startedAt || a.id - b.id)) {
    if (e.outcome === "failed" && open === undefined) open = e.startedAt - start
    if (e.outcome === "acked" && open !== undefined) {
      outages.push({ from: open, to: e.startedAt - start })
      open = undefined
    }
  }
  if (open !== undefined) outages.push({ from: open, to: undefined })
  const ackedBy: Array<{ at: number; server: string; epoch: number | undefined }> = []
  for (const e of [...ledger].sort((a, b) => a.finishedAt - b.finishedAt || a.id - b.id)) {
    if (e.outcome !== "acked" || e.server === undefined) continue
    const last = ackedBy[ackedBy.length - 1]
    if (last !== undefined && last.server === e.server && last.epoch === e.epoch) continue
    ackedBy.push({ at: e.finishedAt - start, server: e.server, epoch: e.epoch })
  }
  return {
    total: ledger.length,
    acked: ledger.filter((e) => e.outcome === "acked").length,
    ackedWithWarning: ledger.filter((e) => e.outcome === "acked" && e.warning !== undefined).length,
    failed: ledger.filter((e) => e.outcome === "failed").length,
    perSecond: [...bySecond.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([second, row]): WriteSecond => ({ second, ...row })),
    outages,
    ackedBy
  }
}
