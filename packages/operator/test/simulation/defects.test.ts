/**
 * The failover-safety defects of issue 12, each as a scenario file (`scenarios/*.yaml`, runnable with
 * `npx doltdb-operator simulate -f`) and what must hold. Each failed before its fix.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { parse } from "yaml"
import { decodeScenario } from "../../src/simulate/Scenario.ts"
import type { ScenarioReport } from "../../src/simulate/ScenarioReport.ts"
import { runScenario } from "../../src/simulate/ScenarioRunner.ts"

const load = (name: string) =>
  decodeScenario(parse(readFileSync(new URL(`scenarios/${name}.yaml`, import.meta.url), "utf8")))

const events = (r: ScenarioReport, reason: string) =>
  r.timeline.filter((e) => e.kind === "event" && e.text.includes(` ${reason} `))
const primaries = (r: ScenarioReport) => r.primaries.map((p) => p.primary)
const show = (r: ScenarioReport) =>
  r.timeline
    .filter((e) => e.kind !== "condition")
    .map((e) => `${(e.at / 1000).toFixed(1)}s ${e.kind} ${e.text}`)
    .join("\n")

const scenario = (name: string, check: (r: ScenarioReport) => void) =>
  it.effect(
    name,
    () =>
      Effect.gen(function* () {
        const report = yield* runScenario(yield* load(name))
        assert.deepStrictEqual(report.invariants.violations, [], show(report))
        check(report)
      }),
    120_000
  )

describe("issue 12 defects", () => {
  scenario("empty-standby-after-scale-up", (r) => {
    // never promoted while it lacks app; the refusal is visible and names the missing database
    assert.notInclude(primaries(r), "db-2", show(r))
    assert.isTrue(
      events(r, "FailoverBlocked").some((e) => e.text.includes("lacks database app")),
      show(r)
    )
    assert.deepStrictEqual(r.final[0]?.notConverged, [], show(r))
  })

  scenario("enable-replication", (r) => {
    assert.deepStrictEqual([...new Set(primaries(r))], ["db-0"], show(r))
    assert.lengthOf(events(r, "PrimarySwitching"), 0, show(r))
    assert.deepStrictEqual(r.final[0]?.lostUnconfirmed, [], show(r))
    assert.isTrue(
      r.writes.outages.every((o) => o.to !== undefined && o.to - o.from < 5_000),
      show(r)
    )
  })

  scenario("failover-enabled-late", (r) => {
    // automaticFailover turned on at 35 s: a caught-up standby is promoted within failoverDelay + 10 s
    const promoted = r.primaries.find((p) => p.primary !== "db-0")
    assert.isDefined(promoted, show(r))
    assert.isAtMost(promoted!.from, 48_000, show(r))
    assert.lengthOf(events(r, "FailoverBlocked"), 0, show(r))
    assert.deepStrictEqual(r.final[0]?.notConverged, [], show(r))
  })

  scenario("switchover-slow-target", (r) => {
    const aborted = events(r, "SwitchoverAborted")
    assert.isAbove(aborted.length, 0, show(r))
    // Never promoted while slow; re-attempted no sooner than the back-off (5 s after the first abort), and
    // honoured in the end once db-1 keeps up again (60 s).
    assert.isTrue(
      r.primaries.every((p) => p.primary !== "db-1" || p.from >= 60_000),
      show(r)
    )
    const retried = events(r, "PrimarySwitching").filter((e) => e.at > aborted[0]!.at)
    assert.isAtLeast(retried[0]?.at ?? 0, aborted[0]!.at + 5_000, show(r))
    assert.strictEqual(r.primaries.at(-1)?.primary, "db-1", show(r))
    assert.deepStrictEqual(r.final[0]?.lostUnconfirmed, [], "a switchover lost acknowledged writes")
    assert.deepStrictEqual(r.final[0]?.notConverged, [], show(r))
  })

  scenario("standby-cut-off-before-loss", (r) => {
    // db-2 lacks ~10 s of asynchronous writes: not promoted without allowUnsafeFailover; the refusal is visible
    assert.notInclude(primaries(r), "db-2", show(r))
    assert.isAbove(events(r, "FailoverBlocked").length, 0, show(r))
    assert.deepStrictEqual(r.final[0]?.lostUnconfirmed, [], show(r))
  })

  scenario("scale-down-to-requested-primary", (r) => {
    // replicas 3 -> 2 and podIndex 2 -> 0 in one edit at 35 s, the primary on db-2: one switchover, to db-0
    const after = (e: { at: number }) => e.at >= 35_000
    assert.lengthOf(events(r, "PrimarySwitching").filter(after), 1, show(r))
    assert.lengthOf(events(r, "PrimarySwitched").filter(after), 1, show(r))
    assert.deepStrictEqual(
      r.primaries.filter((p) => p.to > 35_000).map((p) => [p.primary, p.epoch]),
      [
        ["db-2", 2],
        ["db-0", 3]
      ],
      show(r)
    )
    // db-2 was no longer primary when it went away, and no write failed from the edit on
    const switched = events(r, "PrimarySwitched").find(after)!
    const gone = r.timeline.find((e) => e.kind === "servers" && e.text.includes("db-2 down"))
    assert.isDefined(gone, show(r))
    assert.isAtMost(switched.at, gone!.at, show(r))
    assert.isTrue(
      r.writes.outages.every((o) => o.to !== undefined && o.to < 35_000),
      show(r)
    )
    assert.deepStrictEqual(r.final[0]?.lostUnconfirmed, [], show(r))
    assert.deepStrictEqual(r.final[0]?.notConverged, [], show(r))
  })

  scenario("scale-down-primary-stays", (r) => {
    // replicas 3 -> 2 at 35 s, the primary on db-0 (podIndex 0): it must restart without db-2 in its peer list,
    // which takes one switchover (to db-1, restarted first); db-2 stays until then, so no write fails
    assert.lengthOf(events(r, "PrimarySwitching"), 1, show(r))
    assert.deepStrictEqual(
      r.primaries.map((p) => [p.primary, p.epoch]),
      [
        ["db-0", 1],
        ["db-1", 2]
      ],
      show(r)
    )
    const switched = events(r, "PrimarySwitched")[0]!
    const gone = r.timeline.find((e) => e.kind === "servers" && e.text.includes("db-2 down"))
    assert.isAtMost(switched.at, gone?.at ?? 0, show(r))
    assert.strictEqual(r.writes.failed, 0, show(r))
    assert.deepStrictEqual(r.final[0]?.lostUnconfirmed, [], show(r))
    assert.deepStrictEqual(r.final[0]?.notConverged, [], show(r))
  })

  scenario("scale-down-by-two", (r) => {
    // replicas 4 -> 2 and podIndex 3 -> 1 at 35 s: one switchover, to db-1, and no write fails from then on
    const after = (e: { at: number }) => e.at >= 35_000
    assert.lengthOf(events(r, "PrimarySwitching").filter(after), 1, show(r))
    assert.deepStrictEqual(
      r.primaries.filter((p) => p.to > 35_000).map((p) => [p.primary, p.epoch]),
      [
        ["db-3", 2],
        ["db-1", 3]
      ],
      show(r)
    )
    assert.isTrue(
      r.writes.outages.every((o) => o.to !== undefined && o.to < 35_000),
      show(r)
    )
    assert.deepStrictEqual(r.final[0]?.lostUnconfirmed, [], show(r))
    assert.deepStrictEqual(r.final[0]?.notConverged, [], show(r))
  })

  scenario("scale-down-primary-out-of-range", (r) => {
    // Both edits that leave replication on with podIndex out of range are refused at admission; nothing moves
    const refused = r.timeline.filter((e) => e.kind === "scenario" && e.text.startsWith("patch refused"))
    assert.lengthOf(refused, 2, show(r))
    assert.include(refused[0]!.text, "podIndex must be lower than replicas")
    assert.include(refused[1]!.text, "replication cannot be enabled with a single replica")
    assert.isTrue(
      r.primaries.every((p) => p.from < 35_000 || p.primary === "db-0"),
      show(r)
    )
    // replicas 1, replication off, podIndex 0 at 35 s: one switchover to db-0 before it runs standalone
    const after = (e: { at: number }) => e.at >= 35_000
    assert.lengthOf(events(r, "PrimarySwitching").filter(after), 1, show(r))
    assert.strictEqual(r.primaries.at(-1)?.primary, "db-0", show(r))
    assert.deepStrictEqual(r.final[0]?.lostUnconfirmed, [], show(r))
    // db-0 restarts without a cluster configuration: writes fail while its preStop hand-over waits (10 s) on the
    // removed standbys and while it restarts (a known cost of going standalone, docs/failover.md)
    assert.isTrue(
      r.writes.outages.every((o) => o.to !== undefined && o.to - o.from <= 12_000),
      show(r)
    )
    assert.isTrue(
      r.writes.ackedBy.some((a) => a.at > 40_000 && a.server === "default/db-0"),
      show(r)
    )
  })

  scenario("scale-down-primary-lost-midway", (r) => {
    // a failover (not to db-2, which goes away), then the rolling update's switchover at most: never more
    assert.isTrue(
      r.primaries.filter((p) => p.from >= 35_000).every((p) => p.primary === "db-0" || p.primary === "db-1"),
      show(r)
    )
    assert.isAtMost(events(r, "PrimarySwitching").filter((e) => e.at >= 35_000).length, 2, show(r))
    assert.deepStrictEqual(r.final[0]?.lostUnconfirmed, [], show(r))
    assert.deepStrictEqual(r.final[0]?.notConverged, [], show(r))
  })

  scenario("graceful-primary-delete", (r) => {
    // failoverDelay is 10 s; the hand-over makes it moot
    const promoted = r.primaries.find((p) => p.primary !== "db-0")
    assert.isDefined(promoted, show(r))
    assert.isAtMost(promoted!.from - 22_000, 2_000, show(r))
    assert.lengthOf(events(r, "SplitBrainRepair"), 0, show(r))
    assert.deepStrictEqual(r.final[0]?.notConverged, [], show(r))
  })
})
