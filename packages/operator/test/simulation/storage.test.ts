/**
 * The failover property with storage in every schedule: a minutely Snapshot (keep 2) runs from the start and
 * `spec.storage.size` grows at a random point among the random faults (a failover, a rolling update, a partition,
 * an operator restart...). The failover invariants must hold throughout, and at the end every claim has the new size
 * and retention kept the snapshots within bounds (`storageSteps.ts`). `DOLTDB_SIM_STORAGE_SCHEDULES` (default 12)
 * schedules from `DOLTDB_SIM_SEED`.
 */
import { assert, it } from "@effect/vitest"
import { Arbitrary, Effect } from "effect"
import * as Schedule from "../../src/simulate/Schedule.ts"
import { checkSchedules } from "./checkSchedules.ts"

const runs = Number(process.env.DOLTDB_SIM_STORAGE_SCHEDULES ?? 12)
const seed = Number(process.env.DOLTDB_SIM_SEED ?? 20261126) + 100

const withStorage = Schedule.arbitrary({ maxSteps: 10 }).pipe(
  Arbitrary.map((s): Schedule.Schedule => {
    const at = s.seed % (s.steps.length + 1)
    const grow: Schedule.Step = { _tag: "EditSpec", edit: "growStorage" }
    return {
      seed: s.seed,
      // A minute of quiet first so the first snapshots are taken; then the random faults with the resize among them.
      steps: [
        { _tag: "EditSpec", edit: "snapshotSchedule" },
        { _tag: "Wait", seconds: 20 },
        { _tag: "Wait", seconds: 20 },
        { _tag: "Wait", seconds: 20 },
        ...s.steps.slice(0, at),
        grow,
        ...s.steps.slice(at)
      ]
    }
  })
)

it.effect(
  `random fault schedules with a storage resize and scheduled snapshots keep the invariants (${runs} schedules, seed ${seed})`,
  () =>
    Effect.gen(function* () {
      const report = yield* checkSchedules({ runs, seed, arbitrary: withStorage })
      if (report.failure !== undefined) assert.fail(report.failure.report)
      assert.strictEqual(report.runs, runs)
    }),
  Math.max(180_000, runs * 15_000)
)
