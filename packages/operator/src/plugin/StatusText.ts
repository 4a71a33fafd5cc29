/**
 * The human form of a `StatusReport` (what `kubectl doltdb status` prints without `-o json`). Pure: the same
 * report gives the same text, so the golden tests pin it. Colour (ANSI) only when asked, i.e. on a terminal.
 */
import type { ChildReport, Condition, PodReport, StatusReport } from "./Inspect.ts"

export interface Style {
  readonly good: (s: string) => string
  readonly warn: (s: string) => string
  readonly bad: (s: string) => string
  readonly bold: (s: string) => string
}

const plain: Style = { good: (s) => s, warn: (s) => s, bad: (s) => s, bold: (s) => s }
const sgr = (code: string) => (s: string) => `\u001b[${code}m${s}\u001b[0m`
const ansi: Style = { good: sgr("32"), warn: sgr("33"), bad: sgr("31"), bold: sgr("1") }

export const styleFor = (colour: boolean): Style => (colour ? ansi : plain)

/** kubectl's age format: 45s, 12m, 3h, 5d. */
export const age = (seconds: number | undefined): string => {
  if (seconds === undefined) return "-"
  if (seconds < 120) return `${seconds}s`
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86_400)}d`
}

const lag = (p: PodReport): string =>
  p.lagMillis === undefined ? "-" : p.lagMillis === null ? "never" : `${p.lagMillis}ms`

/** Columns padded to their widest cell; a style applies after padding so escape codes do not skew widths. */
type Cell = readonly [string, (((s: string) => string) | undefined)?]

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<Cell>>): ReadonlyArray<string> => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.[0].length ?? 0)))
  const line = (cells: ReadonlyArray<Cell>) =>
    cells
      .map(([text, paint], i) => {
        const padded = i === cells.length - 1 ? text : text.padEnd(widths[i]!)
        return paint === undefined ? padded : paint(padded)
      })
      .join("  ")
      .trimEnd()
  return [line(header.map((h) => [h] as const)), ...rows.map(line)].map((l) => `  ${l}`)
}

const stateStyle = (state: string, s: Style) =>
  state === "Healthy" ? s.good : state === "Blocked" || state === "NoPrimary" ? s.bad : s.warn

const conditionLine = (c: Condition) =>
  `${c.status} ${c.reason}${c.message === "" ? "" : `: ${c.message}`} (${age(c.ageSeconds)} ago)`

const server = (p: PodReport): string =>
  p.server.reachable ? `${p.server.role}@${p.server.epoch}` : `unreachable (${p.server.reason})`

export const renderStatus = (r: StatusReport, colour = false): string => {
  const s = styleFor(colour)
  const out: Array<string> = []
  out.push(`${s.bold(`DoltDB ${r.namespace}/${r.name}`)}  ${stateStyle(r.state, s)(r.state)}`)
  const primary =
    r.primary === undefined
      ? s.bad("none")
      : `${r.primary.pod}${r.primaryUnavailableSeconds === undefined ? "" : s.bad(` (unavailable for ${age(r.primaryUnavailableSeconds)})`)}`
  out.push(`  Primary:      ${primary}`)
  out.push(`  Epoch:        ${r.epoch ?? "-"}`)
  out.push(
    `  Replicas:     ${r.readyReplicas}/${r.replicas} ready, replication ${r.replication ? "enabled" : "disabled"}`
  )
  if (r.ready !== undefined) out.push(`  Ready:        ${conditionLine(r.ready)}`)
  if (r.transition !== undefined)
    out.push(
      `  In progress:  ${s.warn(`${r.transition.kind} ${r.name}-${r.transition.from} -> ${r.name}-${r.transition.to} at epoch ${r.transition.epoch}`)} (started ${age(r.transition.ageSeconds)} ago)`
    )
  if (r.blocked !== undefined) out.push(`  Blocked:      ${s.bad(`${r.blocked.reason}: ${r.blocked.message}`)}`)
  if (r.lastTransition !== undefined) out.push(`  Last change:  ${conditionLine(r.lastTransition)}`)

  out.push("", "Pods")
  if (r.pods.length === 0) out.push("  (none)")
  else
    out.push(
      ...table(
        ["NAME", "ROLE", "SERVER", "READY", "LAG", "STATUS", "RESTARTS", "NODE", "AGE"],
        r.pods.map((p) => [
          [p.name],
          [p.roleLabel ?? "-", p.roleLabel === "primary" ? s.bold : undefined],
          [server(p), p.server.reachable ? undefined : s.warn],
          [p.ready ? "yes" : "no", p.ready ? undefined : s.bad],
          [lag(p), p.replicationError === undefined ? undefined : s.bad],
          [p.phase],
          [String(p.restarts)],
          [p.node ?? "-"],
          [age(p.ageSeconds)]
        ])
      )
    )
  const errors = r.pods.filter((p) => p.replicationError !== undefined)
  for (const p of errors) out.push(s.bad(`  ${p.name}: replication error: ${p.replicationError}`))

  out.push("", "Conditions")
  if (r.conditions.length === 0) out.push("  (none)")
  else
    out.push(
      ...table(
        ["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"],
        r.conditions.map((c) => [
          [c.type],
          [c.status, c.status === "True" ? s.good : s.warn],
          [c.reason],
          [age(c.ageSeconds)],
          [c.message]
        ])
      )
    )

  out.push("", "Events (newest first)")
  if (r.events.length === 0) out.push("  (none)")
  else
    out.push(
      ...table(
        ["AGE", "TYPE", "REASON", "MESSAGE"],
        r.events.map((e) => [
          [age(e.ageSeconds)],
          [e.type, e.type === "Warning" ? s.warn : undefined],
          [e.reason],
          [e.note]
        ])
      )
    )

  out.push("", "Backups and snapshots")
  if (r.backups.length === 0) out.push("  (none)")
  else
    out.push(
      ...table(
        ["KIND", "NAME", "PHASE", "AGE", "MESSAGE"],
        r.backups.map((b: ChildReport) => [
          [b.kind],
          [b.name],
          [b.phase, b.phase === "Failed" ? s.bad : b.phase === "Completed" || b.phase === "Ready" ? s.good : undefined],
          [age(b.ageSeconds)],
          [b.message ?? ""]
        ])
      )
    )
  return `${out.join("\n")}\n`
}
