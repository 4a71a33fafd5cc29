/**
 * The CI run of the failover property, split over several test files so vitest runs them on separate workers.
 *
 * Part 1 replays the fixed regression seed (`DOLTDB_SIM_SEED`, default 20261126); part 2 a fresh seed drawn at every
 * run (`DOLTDB_SIM_FRESH_SEED=<n>` replays one), printed at the start. `DOLTDB_SIM_SCHEDULES` is the total number of
 * schedules over both parts: 200 by default (`npm test`), 1000 in `.ci/run`. A failure prints the shrunk schedule,
 * the seed to re-run it with, its timeline and a `simulate` scenario file that replays it.
 */
import { randomInt } from "node:crypto"
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { checkSchedules } from "./checkSchedules.ts"

export const Parts = 2

const total = Number(process.env.DOLTDB_SIM_SCHEDULES ?? 200)
const fixedSeed = Number(process.env.DOLTDB_SIM_SEED ?? 20261126)
const freshSeed =
  process.env.DOLTDB_SIM_FRESH_SEED === undefined || process.env.DOLTDB_SIM_FRESH_SEED === "random"
    ? randomInt(1, 2 ** 31 - 1)
    : Number(process.env.DOLTDB_SIM_FRESH_SEED)

export const failoverProperty = (part: number) => {
  const runs = Math.ceil(total / Parts)
  const seed = part === 1 ? fixedSeed + part : freshSeed
  if (part !== 1) console.log(`failover property: fresh seed ${seed} (DOLTDB_SIM_FRESH_SEED=${seed} re-runs it)`)
  it.effect(
    `random fault schedules keep the failover invariants (${runs} schedules, ${part === 1 ? "fixed" : "fresh"} seed ${seed})`,
    () =>
      Effect.gen(function* () {
        const report = yield* checkSchedules({ runs, seed })
        if (report.failure !== undefined) assert.fail(report.failure.report)
        assert.strictEqual(report.runs, runs)
      }),
    // ~0.3 s of wall time per schedule on an idle core, up to 5 s on a saturated shared machine, plus shrinking.
    Math.max(300_000, runs * 6_000)
  )
}
