/**
 * An operator restarted right after a podIndex edit (e2e "an operator killed right after a podIndex edit"): the
 * drain it started ends unconfirmed, the new operator aborts the switchover (the old primary back, higher), and the
 * request is re-attempted after a back-off, with Ready False and a Warning meanwhile, until it is honoured.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Timeline from "../../src/simulate/Timeline.ts"
import { runSchedule } from "./runSchedule.ts"

describe("an aborted switchover is re-attempted", () => {
  for (const turns of [0, 20])
    it.effect(
      `operator restart ${turns} turns after a podIndex edit, the target slow until the faults heal`,
      () =>
        Effect.gen(function* () {
          const schedule = {
            seed: 0,
            steps: [
              { _tag: "SlowStandby", target: "1", millis: 2_000 },
              { _tag: "Wait", seconds: 3 },
              { _tag: "Switchover", podIndex: 1 },
              { _tag: "OperatorRestart", turns }
            ]
          } as const
          const result = yield* runSchedule(schedule, { timeline: true, finalFailover: false })
          const show = Timeline.render(result.timeline, { seed: 0, title: "operator restart after a podIndex edit" })
          // No violation, and converged: the convergence check includes "the podIndex edit was honoured".
          assert.deepStrictEqual(result.violations, [], show)
          const aborted = result.timeline.findIndex((e) => e.event.includes("> SwitchoverAborted"))
          assert.isAtLeast(aborted, 0, show)
          const retried = result.timeline.findIndex(
            (e, i) =>
              i > aborted && e.event.includes("> PrimarySwitching: Switching primary from index '0' to index '1'")
          )
          assert.isAtLeast(retried, 0, show)
          // The back-off: no re-attempt before 5 s, and the pending request is visible meanwhile.
          assert.isAtLeast(result.timeline[retried]!.at - result.timeline[aborted]!.at, 5_000, show)
          assert.isTrue(
            result.timeline
              .slice(aborted + 1, retried)
              .some((e) => e.conditions.includes("Ready=False/SwitchoverAborted")),
            show
          )
          assert.match(result.timeline.at(-1)!.primary, /^db-1@/u, show)
        }),
      120_000
    )
})
