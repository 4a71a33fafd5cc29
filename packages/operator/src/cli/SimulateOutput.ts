/**
 * How `doltdb-operator simulate` shows a run: a text report (timeline, primary over time, client writes per
 * second, invariants, end state) or one JSON document (`--json`, the `ScenarioReport` as is).
 */
import type { ScenarioReport, WriteSecond } from "../simulate/ScenarioReport.ts"

const secs = (millis: number) => `${(millis / 1000).toFixed(1)}s`
const pad = (s: string, n: number) => s.padStart(n)

const label: Record<string, string> = {
  scenario: "scenario",
  primary: "status",
  transition: "status",
  condition: "condition",
  event: "event",
  servers: "dolt",
  writes: "client",
  backup: "backup"
}

const errorsText = (errors: Readonly<Record<string, number>>) =>
  Object.entries(errors)
    .map(([tag, n]) => `${tag} ${n}`)
    .join(", ")

const secondText = (row: WriteSecond, perSecond: boolean) => {
  const parts: Array<string> = []
  const unit = perSecond ? "/s" : ""
  if (row.acked > 0)
    parts.push(
      `${row.acked}${unit} acked${row.ackedWithWarning > 0 ? ` (${row.ackedWithWarning} with warning 3024)` : ""}`
    )
  if (row.failed > 0) parts.push(`${row.failed}${unit} failed (${errorsText(row.errors)})`)
  return parts.join(", ")
}

/** Consecutive seconds with the same outcome, as ranges. */
const writeRanges = (rows: ReadonlyArray<WriteSecond>) => {
  const ranges: Array<{ from: number; to: number; row: WriteSecond }> = []
  const same = (a: WriteSecond, b: WriteSecond) =>
    a.acked === b.acked &&
    a.failed === b.failed &&
    a.ackedWithWarning === b.ackedWithWarning &&
    errorsText(a.errors) === errorsText(b.errors)
  for (const row of rows) {
    const last = ranges[ranges.length - 1]
    if (last !== undefined && last.to === row.second - 1 && same(last.row, row)) last.to = row.second
    else ranges.push({ from: row.second, to: row.second, row })
  }
  return ranges
}

export const renderText = (report: ScenarioReport): string => {
  const out: Array<string> = []
  const line = (s = "") => out.push(s)
  line(`Scenario ${report.name} (seed ${report.seed}): ${secs(report.durationMillis)} simulated`)
  line()
  line("Timeline")
  for (const e of report.timeline) line(`  ${pad(secs(e.at), 7)}  ${(label[e.kind] ?? e.kind).padEnd(9)}  ${e.text}`)
  line()
  line("Primary over time (DoltDB status)")
  for (const p of report.primaries)
    line(
      `  ${p.doltdb}  ${pad(secs(p.from), 7)} – ${pad(secs(p.to), 7)}  ${p.primary ?? "none"}${
        p.epoch === undefined ? "" : ` (epoch ${p.epoch})`
      }`
    )
  line()
  const w = report.writes
  if (w.host === undefined) line("Client writes: none in this scenario")
  else {
    line(`Client writes through ${w.host}, per second`)
    for (const r of writeRanges(w.perSecond)) {
      const when = r.from === r.to ? `${r.from}s` : `${r.from}s–${r.to}s`
      line(`  ${pad(when, 9)}  ${secondText(r.row, r.from !== r.to)}`)
    }
    line(
      `  total ${w.total}: ${w.acked} acknowledged${w.ackedWithWarning > 0 ? ` (${w.ackedWithWarning} with warning 3024)` : ""}, ${w.failed} failed`
    )
    for (const o of w.outages)
      line(
        o.to === undefined
          ? `  writes failing from ${secs(o.from)} to the end`
          : `  writes failing from ${secs(o.from)} until ${secs(o.to)} (${secs(o.to - o.from)} without an acknowledged write)`
      )
  }
  if (report.backups.length > 0) {
    line()
    line("Backups")
    for (const b of report.backups) {
      const by = b.schedule === undefined ? "" : ` (schedule ${b.schedule})`
      const extra = [
        b.podLosses > 0 ? `${b.podLosses} pod(s) lost mid-sync` : "",
        b.retryCount > 0 ? `${b.retryCount} failed attempt(s)` : "",
        b.error !== undefined && b.phase === "Failed" ? b.error : ""
      ].filter((x) => x !== "")
      line(
        `  ${b.name}${by}: ${b.phase}${b.completedAt === undefined ? "" : ` at ${secs(b.completedAt)}`}${extra.length > 0 ? `; ${extra.join("; ")}` : ""}`
      )
      for (const d of b.databases)
        line(
          `    ${d.name} from ${d.pod ?? "?"} to ${d.url}: ${
            d.writes === undefined
              ? "nothing stored"
              : `${d.writes} client write(s), ${d.acknowledged} acknowledged to their client`
          }`
        )
    }
  }
  line()
  line("Invariants (checked after every step)")
  for (const c of report.invariants.checked) {
    const broken = report.invariants.violations.filter((v) => v.invariant === c.name)
    line(`  ${broken.length === 0 ? "ok  " : "FAIL"}  ${c.name.padEnd(22)} ${c.rule}`)
    for (const v of broken)
      line(`          ${v.doltdb} at ${secs(v.at)} (seen at ${v.steps} step${v.steps === 1 ? "" : "s"}): ${v.message}`)
  }
  line()
  line("End state")
  for (const f of report.final) {
    line(
      f.notConverged.length === 0
        ? `  ${f.doltdb}: converged (one primary, routed through ${f.doltdb}-primary, status agrees)`
        : `  ${f.doltdb}: not converged: ${f.notConverged.join("; ")}`
    )
    if (f.lostUnconfirmed.length > 0) {
      const first = f.lostUnconfirmed[0]!
      line(
        `  ${f.doltdb}: ${f.lostUnconfirmed.length} acknowledged write(s) no standby had confirmed are missing from the primary ` +
          `(first: write ${first.id} at ${secs(first.at)} on ${first.server ?? "?"}, epoch ${first.epoch ?? "?"}); ` +
          "asynchronous replication allows this when a primary dies: use ackTimeoutSeconds to wait for the standbys"
      )
    }
  }
  line()
  const n = report.invariants.violations.length
  line(n === 0 ? "Result: OK, no invariant violated" : `Result: FAILED, ${n} invariant violation(s)`)
  return out.join("\n")
}

export const renderJson = (report: ScenarioReport): string => JSON.stringify(report, null, 2)
