/**
 * The failover property: for random schedules, no invariant is ever violated. Runs `Arbitrary.checkEffect` over
 * `Schedule.arbitrary`, each schedule in a fresh simulated cluster; a failure is shrunk (fewer, simpler steps) and
 * reported as the shrunk schedule, its seed, the replay token and its timeline.
 */
import { Arbitrary, Effect } from "effect"
import * as Schedule from "../../src/simulate/Schedule.ts"
import * as Timeline from "../../src/simulate/Timeline.ts"
import { reproducingScenario } from "./reproduce.ts"
import { type RunOptions, runSchedule } from "./runSchedule.ts"

export interface CheckOptions extends RunOptions {
  readonly runs: number
  readonly seed: number
  readonly maxSteps?: number
  readonly maxShrinks?: number
  readonly arbitrary?: Arbitrary.Arbitrary<Schedule.Schedule>
}

export interface CheckReport {
  readonly runs: number
  /** `undefined` when every schedule passed. */
  readonly failure:
    | { readonly schedule: Schedule.Schedule; readonly report: string; readonly invariants: ReadonlyArray<string> }
    | undefined
}

export const checkSchedules = (options: CheckOptions): Effect.Effect<CheckReport> =>
  Effect.gen(function* () {
    const arbitrary = options.arbitrary ?? Schedule.arbitrary({ maxSteps: options.maxSteps ?? 12 })
    const result = yield* Arbitrary.checkEffect(
      arbitrary,
      (schedule) => Effect.map(runSchedule(schedule, options), (r) => r.violations.length === 0),
      { runs: options.runs, seed: options.seed, size: 30, maxShrinks: options.maxShrinks ?? 150 }
    )
    if (result._tag === "Passed") return { runs: result.runs, failure: undefined }
    if (result._tag !== "Falsified")
      return {
        runs: 0,
        failure: {
          schedule: { seed: 0, steps: [] },
          report: `property check ended with ${result._tag}`,
          invariants: []
        }
      }
    const schedule = result.shrunkInput
    const rerun = yield* runSchedule(schedule, { ...options, timeline: true })
    const scenario = reproducingScenario(schedule, rerun.played, {
      seed: schedule.seed,
      note: `shrunk from check seed ${options.seed}, run ${result.runs}`
    })
    const report = [
      `A schedule violated the failover invariants (run ${result.runs}, check seed ${options.seed}, ${result.shrinks} shrinks, replay ${result.replay}).`,
      `Re-run this check with DOLTDB_SIM_SEED=${options.seed} (or the soak with --seed ${options.seed}).`,
      `Shrunk schedule (cluster seed ${schedule.seed}):`,
      ...schedule.steps.map((s, i) => `  ${i + 1}. ${Schedule.describeStep(s)}`),
      `  ${JSON.stringify(schedule)}`,
      "",
      Timeline.render(rerun.timeline, { seed: schedule.seed, title: "timeline" }),
      "",
      "A scenario file that replays it (npx doltdb-operator simulate -f <file>):",
      scenario
    ].join("\n")
    return {
      runs: result.runs,
      failure: { schedule, report, invariants: [...new Set(rerun.violations.map((v) => v.invariant))] }
    }
  })
