/**
 * Schedules the property found, shrunk, kept as fixed cases: each violated an invariant before its fix.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type * as Schedule from "../../src/simulate/Schedule.ts"
import * as Timeline from "../../src/simulate/Timeline.ts"
import { runSchedule } from "./runSchedule.ts"

const cases: ReadonlyArray<{ readonly name: string; readonly schedule: Schedule.Schedule }> = [
  {
    // Fresh seed 374014963 of a CI-style run: the force-deleted primary was failed over at once, then the final loss of
    // the new primary's node found no standby the operator had recorded caught up (NotConverged, no primary).
    name: "the primary's pod is force-deleted, a standby is partitioned from clients, then a standby is force-deleted",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "DeletePod", target: "primary", graceful: false },
        { _tag: "Partition", target: "1", from: "clients" },
        { _tag: "Wait", seconds: 5 },
        { _tag: "DeletePod", target: "standby", graceful: false }
      ]
    }
  },
  {
    // Soak seed 20261250: a force-deleted primary pod counted as "handed over", so db-1 was promoted at once, and the
    // re-created db-0 came back writable as primary@1 (its persisted role): Unfenced for 2.5 s. A missing pod is now
    // debounced like any other loss.
    name: "the primary's pod is force-deleted and its server partitioned from the peers",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "DropWatches" },
        { _tag: "DeletePod", target: "primary", graceful: false },
        { _tag: "Partition", target: "0", from: "peers" },
        { _tag: "Wait", seconds: 3 }
      ]
    }
  },
  {
    // Soak seed 20261231: the final node loss came while the operator's recorded verdict on every standby was still
    // "lagging" from the partition (it polls every 2 s); the liveness precondition now requires the verdict the
    // operator can know, a standby recorded caught up.
    name: "the primary is partitioned from its peers, then the operator restarts",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "Partition", target: "0", from: "peers" },
        { _tag: "OperatorRestart", turns: 0 }
      ]
    }
  },
  {
    // The model's graceful transition died with the interrupted caller and left db-0 read-only for good: the
    // switchover never completed and db-primary had no endpoint.
    name: "the operator crashes during a switchover's graceful demotion",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "Switchover", podIndex: 1 },
        { _tag: "NodeLost", target: "standby" },
        { _tag: "OperatorRestart", turns: 0 }
      ]
    }
  },
  {
    // The rollout restarted both standbys (last_update NULL), then the primary's preStop demoted it: no standby was
    // provably caught up and the old primary was never considered, so the cluster stayed without a primary.
    name: "the primary demotes itself (preStop) right after a rolling restart of the standbys",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "OperatorRestart", turns: 0 },
        { _tag: "EditSpec", edit: "podAnnotation" },
        { _tag: "DeletePod", target: "0", graceful: true }
      ]
    }
  },
  {
    // A pending rolling update restarted both standbys while the primary's node was lost: their last_update was
    // gone, no standby was provably caught up, and the failover was blocked for good.
    name: "the primary's node is lost while a rolling update is pending",
    schedule: {
      seed: 0,
      steps: [{ _tag: "DropWatches" }, { _tag: "EditSpec", edit: "podAnnotation" }]
    }
  }
]

describe("failover regressions", () => {
  for (const c of cases)
    it.effect(
      c.name,
      () =>
        Effect.gen(function* () {
          const result = yield* runSchedule(c.schedule, { timeline: true })
          assert.deepStrictEqual(
            result.violations,
            [],
            Timeline.render(result.timeline, { seed: c.schedule.seed, title: c.name })
          )
        }),
      60_000
    )
})
