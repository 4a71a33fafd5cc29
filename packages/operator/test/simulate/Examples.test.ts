/**
 * Every scenario in `examples/` runs through the binary the way the README tells a newcomer to run it
 * (`npx doltdb-operator simulate -f examples/<file>`), exits 0 and holds every invariant; the known examples
 * also show what they are named for.
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import type { ScenarioReport } from "../../src/simulate/ScenarioReport.ts"

const root = fileURLToPath(new URL("../../../../", import.meta.url))
const examples = readdirSync(new URL("examples/", `file://${root}`))
  .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
  .sort()

const simulate = (file: string, ...flags: Array<string>) =>
  spawnSync("npx", ["--no-install", "doltdb-operator", "simulate", "-f", `examples/${file}`, ...flags], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000
  })

const primaries = (r: ScenarioReport) => r.primaries.map((p) => `${p.primary}@${p.epoch}`)
const texts = (r: ScenarioReport, kind: string) => r.timeline.filter((e) => e.kind === kind).map((e) => e.text)

/** What each known example is about, beyond "no violation". */
const expectations: Record<string, (r: ScenarioReport) => void> = {
  "backups-under-faults.yaml": (r) => {
    assert.isTrue(r.invariants.checked.some((c) => c.name === "BackupNotAcknowledged"))
    assert.isAtLeast(r.backups.length, 4)
    for (const b of r.backups) {
      assert.strictEqual(b.phase, "Completed", `${b.name}: ${b.error}`)
      for (const d of b.databases) assert.isAbove(d.writes ?? 0, 0, `${b.name}: an empty copy`)
    }
    // the primary's node died under the Backup pinned to it: the sync moved and completed elsewhere
    const lost = r.backups.find((b) => b.name === "on-the-primary")
    assert.isAtLeast(lost?.podLosses ?? 0, 1)
    assert.notStrictEqual(lost?.databases[0]?.pod, "db-0")
    // the schedule fired every minute and kept two
    const scheduled = r.backups.filter((b) => b.schedule === "every-minute")
    assert.isAtLeast(scheduled.length, 3)
    assert.isTrue(texts(r, "backup").some((t) => t.startsWith(`Backup ${scheduled[0]?.name}: deleted`)))
    assert.isTrue(r.timeline.some((e) => e.kind === "transition" && e.text.includes("Switchover")))
  },
  "failover.yaml": (r) => {
    assert.deepStrictEqual(primaries(r).slice(0, 1), ["db-0@1"])
    assert.notStrictEqual(r.primaries.at(-1)?.primary, "db-0", "no failover away from db-0")
    assert.isAtLeast(r.primaries.at(-1)?.epoch ?? 0, 2)
    assert.isTrue(texts(r, "event").some((t) => t.includes("PrimaryUnavailable")))
    // a returning old primary is stale, not a split brain (issue 12 §1.7)
    assert.isFalse(texts(r, "event").some((t) => t.includes("SplitBrainRepair")))
    assert.isAbove(r.writes.acked, 0)
    assert.isTrue(
      r.writes.outages.every((o) => o.to !== undefined),
      "writes never resumed"
    )
  },
  "switchover.yaml": (r) => {
    assert.strictEqual(r.primaries.at(-1)?.primary, "db-1")
    assert.isTrue(r.timeline.some((e) => e.kind === "transition" && e.text.includes("Switchover")))
    assert.isTrue(
      r.writes.outages.every((o) => o.to !== undefined),
      "writes never resumed"
    )
    assert.deepStrictEqual(r.final[0]?.lostUnconfirmed, [])
  },
  "rolling-update.yaml": (r) => {
    const restarted = texts(r, "servers").flatMap((t) => /new process: (.*)\)$/u.exec(t)?.[1]?.split(", ") ?? [])
    assert.includeMembers(restarted, ["db-0", "db-1", "db-2"])
    // the primary is replaced last, after a switchover away from it
    assert.strictEqual(restarted.at(-1), "db-0")
    assert.notStrictEqual(r.primaries.at(-1)?.primary, "db-0")
  },
  "partitioned-primary.yaml": (r) => {
    assert.notStrictEqual(r.primaries.at(-1)?.primary, "db-0")
    assert.isTrue(
      r.writes.outages.every((o) => o.to !== undefined),
      "writes never resumed"
    )
  }
}

describe("examples/", () => {
  it("holds the documented scenarios", () => {
    assert.includeMembers(examples, Object.keys(expectations))
  })

  for (const file of examples) {
    it(`simulate -f examples/${file} exits 0 with every invariant held`, { timeout: 120_000 }, () => {
      const result = simulate(file, "--json")
      assert.strictEqual(result.status, 0, result.stderr || result.stdout.slice(-2000))
      const report = JSON.parse(result.stdout) as ScenarioReport
      assert.deepStrictEqual(report.invariants.violations, [])
      assert.isTrue(report.ok)
      assert.deepStrictEqual(
        report.final.map((f) => f.notConverged),
        report.final.map(() => [])
      )
      expectations[file]?.(report)
    })
  }

  it("the text report names the result", { timeout: 120_000 }, () => {
    const result = simulate("failover.yaml")
    assert.strictEqual(result.status, 0, result.stderr)
    assert.include(result.stdout, "Timeline")
    assert.include(result.stdout, "Result: OK, no invariant violated")
  })
})
