/**
 * A simulation run as a readable timeline: one line per step (simulated time, what happened, who is primary at
 * which epoch, every server's role/epoch/instance, what `<name>-primary` routes to, the DoltDB's status and
 * conditions) and the violations found at that step (`!!`). Lines whose event starts with `>` are the operator's
 * Kubernetes Events emitted during the step before.
 *
 * ```
 * timeline — seed 0 — 1 violation(s)
 *    t=   +0.0s  partition primary from operatorAndPeers  primary db-0@1  [0:P1#1 1:S1#2 2:S1#3]  routed db-0  status db-0@1  Ready=True/StatefulSetReady
 *    t=   +5.0s    > PrimarySwitched: Primary switched from index '0' to index '1' at epoch 2  primary db-0@1,db-1@2  ...
 * !! t=   +7.5s  wait 8s                                  primary db-0@1,db-1@2  [0:P1#1 1:P2#2 2:S2#3]  routed db-1  ...
 *                Unfenced: db-0#1 primary@1 is still writable and reachable 2500ms after db-1#2 primary@2 was promoted
 * ```
 */
import type { Violation } from "./Invariants.ts"
import type { Snapshot } from "./WorldSnapshot.ts"

export interface TimelineEntry {
  /** Simulated time, epoch millis. */
  readonly at: number
  readonly event: string
  /** Running primaries as `pod@epoch` (several in a split brain), `-` when none. */
  readonly primary: string
  /** Every server as `<ordinal>:<role><epoch>#<instance>` (`P` primary, `S` standby, `B` broken config, `x` stopped). */
  readonly servers: string
  /** Pods `<name>-primary` routes to. */
  readonly routed: string
  /** `status.currentPrimary@status.replicationEpoch`, plus the transition in flight. */
  readonly status: string
  readonly conditions: string
  readonly violations: ReadonlyArray<Violation>
}

/** One line of the timeline from the snapshot taken after `event`. */
export const entry = (event: string, snapshot: Snapshot, violations: ReadonlyArray<Violation> = []): TimelineEntry => {
  const primaries = snapshot.servers.filter((s) => s.running && s.role === "primary")
  const status = snapshot.status
  const t = status?.transition
  return {
    at: snapshot.at,
    event,
    primary: primaries.length === 0 ? "-" : primaries.map((s) => `${s.pod}@${s.epoch}`).join(","),
    servers: snapshot.servers
      .map((s) => {
        const role = !s.running ? "x" : s.role === "primary" ? "P" : s.role === "standby" ? "S" : "B"
        return `${s.pod.slice(s.pod.lastIndexOf("-") + 1)}:${role}${s.epoch}#${s.instance}`
      })
      .join(" "),
    routed: snapshot.routed.length === 0 ? "-" : snapshot.routed.map((e) => e.pod ?? e.ip).join(","),
    status:
      status === undefined
        ? "-"
        : `${status.currentPrimary ?? "?"}@${status.replicationEpoch ?? "?"}${
            t === undefined ? "" : ` ${t.kind} ${t.from}->${t.to}@${t.epoch}`
          }`,
    conditions: Object.entries(status?.conditions ?? {})
      .filter(([type]) => type === "Ready" || type === "PrimarySwitched")
      .map(([type, value]) => `${type}=${value}`)
      .join(" "),
    violations
  }
}

const seconds = (millis: number) => `${millis >= 0 ? "+" : ""}${(millis / 1000).toFixed(1)}s`

/**
 * The timeline as text. Consecutive entries with nothing new (same event text, primary, routing, status) are
 * collapsed; times are relative to the first entry.
 */
export const render = (
  entries: ReadonlyArray<TimelineEntry>,
  header: { readonly seed?: number | string; readonly title?: string } = {}
): string => {
  const start = entries[0]?.at ?? 0
  const violations = entries.reduce((n, e) => n + e.violations.length, 0)
  const lines: Array<string> = [
    [header.title, header.seed === undefined ? undefined : `seed ${header.seed}`, `${violations} violation(s)`]
      .filter((s) => s !== undefined)
      .join(" — ")
  ]
  const width = Math.min(48, Math.max(8, ...entries.map((e) => e.event.length)))
  let previous: TimelineEntry | undefined
  for (const e of entries) {
    const same =
      previous !== undefined &&
      e.violations.length === 0 &&
      e.event === previous.event &&
      e.primary === previous.primary &&
      e.servers === previous.servers &&
      e.routed === previous.routed &&
      e.status === previous.status &&
      e.conditions === previous.conditions
    previous = e
    if (same) continue
    lines.push(
      `${e.violations.length > 0 ? "!!" : "  "} t=${seconds(e.at - start).padStart(8)}  ${e.event.padEnd(width)}  primary ${e.primary.padEnd(10)}  [${e.servers}]  routed ${e.routed.padEnd(6)}  status ${e.status.padEnd(12)}  ${e.conditions}`
    )
    for (const v of e.violations) lines.push(`   ${" ".repeat(11)}  ${v.invariant}: ${v.message}`)
  }
  return lines.join("\n")
}
