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
    // Soak seed 1356675888 run 21 (guard schedules): a rolling update put db-2 on db-0's node, the node was isolated,
    // and db-0's guard kept serving because db-2 still followed it; the operator trusted the guard's deadline and
    // promoted db-1: GuardLate, db-0 acknowledged writes 7 s after the cut. The guard proves nothing while another
    // pod is out of the operator's reach too: fencing then waits for the pod to be gone.
    name: "a rolling update, the guarded primary's node isolated with a standby on it",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "EditSpec", edit: "podAnnotation" },
        { _tag: "NodeIsolated", target: "0" },
        { _tag: "Wait", seconds: 7 }
      ],
      guardSeconds: 2
    }
  },
  {
    // Soak seed 50033 run 10 (simspeed): API errors made the primary look unavailable and a failover to db-1 began;
    // the pass that promoted db-1 did not record its completion (the primary's pod deleted, the operator restarted),
    // and the next pass, seeing db-1 primary rather than a promotable standby, promoted db-2 at the same epoch: both
    // went to detected_broken_config and the cluster had no primary for good (NotConverged).
    name: "API errors, the primary's pod deleted gracefully, the operator restarted mid-failover",
    schedule: {
      seed: 246087,
      steps: [
        { _tag: "ApiErrors", rate: 0.2 },
        { _tag: "DeletePod", target: "primary", graceful: true },
        { _tag: "OperatorRestart", turns: 0 }
      ],
      guardSeconds: 2
    }
  },
  {
    // Soak seed 51024 (simspeed): the same gap by another path — API errors while the guarded primary's node was
    // isolated; db-1 was promoted at epoch 2 but the completion was not recorded, the next pass retargeted to db-2 at
    // epoch 2, and the status never caught up with the real primary (NotConverged). Fixed with seed 50033's case.
    name: "API errors while the guarded primary's node is isolated, then dropped watches and a rolling update",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "ApiErrors", rate: 0.05 },
        { _tag: "NodeIsolated", target: "0" },
        { _tag: "Wait", seconds: 7 },
        { _tag: "DropWatches" },
        { _tag: "EditSpec", edit: "podAnnotation" }
      ],
      guardSeconds: 5
    }
  },
  {
    // Soak seed 9034 run 25 (simspeed): the same gap by another path — the force-deleted db-1 was re-created on
    // db-0's node, that node was isolated, and db-0's guard served on while db-2 was promoted (GuardLate 7 s).
    name: "a standby force-deleted and re-created on the guarded primary's node, then that node isolated",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "DeletePod", target: "1", graceful: false },
        { _tag: "NodeIsolated", target: "1" },
        { _tag: "Wait", seconds: 7 }
      ],
      guardSeconds: 2
    }
  },
  {
    // Soak seed 71012 run 11 (session 5): the primary cut off from the operator and its peers was fenced by deleting its
    // pod; the re-created db-0 booted primary@1 (its persisted role) still cut off, exempt as a rebooted old primary at
    // db-1's promotion; db-1's graceful delete then handed over to db-2 at epoch 3, and the checker, judging db-0 against
    // that newest promotion only, called the same rebooted instance Unfenced (the operator could not reach it, and a
    // second pod delete re-creates it just the same). Exempt from the first promotion above its epoch on.
    name: "the primary cut off from the operator and peers, then a standby's graceful delete hands over again",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "Partition", target: "primary", from: "operatorAndPeers" },
        { _tag: "Wait", seconds: 4 },
        { _tag: "DeletePod", target: "1", graceful: true },
        { _tag: "Wait", seconds: 12 }
      ]
    }
  },
  {
    // Soak seed 4243 run 18: the switchover's drain failed with the node, the abort re-promoted db-0 at epoch 3, and its
    // status write conflicted (stale cache after the dropped watches). The recorded transition then drained db-0 at
    // epoch 2 on every pass, failing for good: NotConverged, db-primary without endpoints. A transition some server
    // is above is now over (Situation TransitionSuperseded).
    name: "a switchover, dropped watches, the old primary's node lost, the podIndex edited back",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "Switchover", podIndex: 1 },
        { _tag: "DropWatches" },
        { _tag: "NodeLost", target: "0" },
        { _tag: "Switchover", podIndex: 0 }
      ]
    }
  },
  {
    // Fixed seed 20261127 run 322 (DOLTDB_SIM_SCHEDULES=1000): the same lost abort during a rolling update's
    // switchover; then the rollout's switchover started again at once, as its back-off was not recorded.
    name: "a rolling update's switchover, dropped watches, podIndex edited, the primary's node lost",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "EditSpec", edit: "podAnnotation" },
        { _tag: "Wait", seconds: 2 },
        { _tag: "DropWatches" },
        { _tag: "Switchover", podIndex: 0 },
        { _tag: "NodeLost", target: "primary" }
      ]
    }
  },
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
  },
  {
    // Soak seed 97014 run 21 (session 7): the primary, cut off from the operator and its peers, crashed; the failover
    // fenced it by deleting its pod, the re-created db-0 booted primary@1 (its persisted role) still cut off, and
    // db-1 was promoted half a second later: Unfenced, db-0 writable for clients that reach it directly. A re-created
    // pod whose server started now fences only once it answers as a non-primary (RecreatedPod.ts).
    name: "the primary cut off from the operator and peers crashes; its re-created pod boots primary",
    schedule: {
      seed: 0,
      steps: [
        { _tag: "AckWrites", seconds: 5 },
        { _tag: "Partition", target: "0", from: "operatorAndPeers" },
        { _tag: "ApiErrors", rate: 0.2 },
        { _tag: "Crash", target: "primary" },
        { _tag: "Wait", seconds: 6 }
      ]
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
