/**
 * The CI run of the failover property, split over several test files so vitest runs them on separate workers.
 * `DOLTDB_SIM_SCHEDULES` (default 1000) is the total number of schedules over all parts; `DOLTDB_SIM_SEED` moves
 * the whole run to other schedules (default 20261126). A failure prints the shrunk schedule and its timeline.
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { checkSchedules } from "./checkSchedules.ts"

export const Parts = 2

const total = Number(process.env.DOLTDB_SIM_SCHEDULES ?? 1000)
const baseSeed = Number(process.env.DOLTDB_SIM_SEED ?? 20261126)

export const failoverProperty = (part: number) => {
  const runs = Math.ceil(total / Parts)
  const seed = baseSeed + part
  it.effect(
    `random fault schedules keep the failover invariants (${runs} schedules, seed ${seed})`,
    () =>
      Effect.gen(function* () {
        const report = yield* checkSchedules({ runs, seed })
        if (report.failure !== undefined) assert.fail(report.failure.report)
        assert.strictEqual(report.runs, runs)
      }),
    // ~150 ms of wall time per schedule on one core, plus shrinking on a failure.
    Math.max(120_000, runs * 1_000)
  )
}
