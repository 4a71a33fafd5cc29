/**
 * The mutation check: the simulation must catch a planner that promotes without fencing.
 *
 * The mutant wraps the real DoltDB planner: while a primary change is in flight it hides the old primary's pod
 * from the planner (so the planner believes it is gone and promotes at once) and drops every fencing action aimed
 * at it (the demotion, the graceful transition, the pod delete). The operator runs it through the
 * `doltdbPlanner` option. With the real planner the same schedules pass (the control).
 */
import { DoltDBPlanner, type Plan } from "@doltdb-op/core"
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Schema } from "effect"
import type * as Schedule from "../../src/simulate/Schedule.ts"
import { checkSchedules } from "./checkSchedules.ts"

const hidden = (o: DoltDBPlanner.DoltDBObserved, from: number): DoltDBPlanner.DoltDBObserved => ({
  ...o,
  pods: o.pods.map((p) =>
    p.ordinal === from ? { ...p, exists: false, sql: { _tag: "Unreachable", reason: "mutant: assumed gone" } } : p
  )
})

const transitionFrom = (plan: DoltDBPlanner.DoltDBPlan): number | undefined => {
  for (const a of plan.actions) {
    const t = a._tag === "PatchStatus" ? (a.status.primaryTransition as { from?: number } | undefined) : undefined
    if (t?.from !== undefined) return t.from
  }
  return undefined
}

const fences = (a: Plan.Action, from: number, pod: string): boolean =>
  (a._tag === "AssumeRole" && a.role === "standby" && a.target.ordinal === from) ||
  (a._tag === "TransitionToStandby" && a.target.ordinal === from) ||
  (a._tag === "Delete" && a.ref.kind === "Pod" && a.ref.name === pod)

/** The real planner, minus fencing of the old primary. */
const promoteWithoutFencing = (o: DoltDBPlanner.DoltDBObserved): DoltDBPlanner.DoltDBPlan => {
  const inFlight = o.doltdb.status?.primaryTransition
  const plan = DoltDBPlanner.planDoltDB(
    inFlight === undefined || inFlight.from === inFlight.to ? o : hidden(o, inFlight.from)
  )
  const from = inFlight?.from ?? transitionFrom(plan)
  if (from === undefined) return plan
  const pod = `${o.doltdb.metadata.name}-${from}`
  return { ...plan, actions: plan.actions.filter((a) => !fences(a, from, pod)) }
}

const int = (minimum: number, maximum: number) =>
  Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum, maximum }))

/** Schedules that cut the primary off: client writes go on, the primary is partitioned, time passes. */
const partitions: Arbitrary.Arbitrary<Schedule.Schedule> = Arbitrary.all({
  seed: Arbitrary.schema(int(0, 1_000_000)),
  steps: Arbitrary.array(
    Arbitrary.schema(
      Schema.Union([
        Schema.TaggedStruct("Partition", {
          target: Schema.Literal("primary"),
          from: Schema.Literals(["operator", "operatorAndPeers"])
        }),
        Schema.TaggedStruct("Wait", { seconds: int(5, 20) }),
        Schema.TaggedStruct("AckWrites", { seconds: Schema.Literals([0, 5]) }),
        Schema.TaggedStruct("Heal", {})
      ])
    ),
    { minLength: 1, maxLength: 8 }
  )
})

/** Schedules with the isolation guard that isolate the primary's node (a client inside keeps writing to it). */
const isolations: Arbitrary.Arbitrary<Schedule.Schedule> = Arbitrary.all({
  seed: Arbitrary.schema(int(0, 1_000_000)),
  guardSeconds: Arbitrary.schema(Schema.Literals([2, 5])),
  steps: Arbitrary.array(
    Arbitrary.schema(
      Schema.Union([
        Schema.TaggedStruct("NodeIsolated", { target: Schema.Literals(["primary", "standby"]) }),
        Schema.TaggedStruct("Wait", { seconds: int(5, 20) }),
        Schema.TaggedStruct("AckWrites", { seconds: Schema.Literals([0, 5]) }),
        Schema.TaggedStruct("Heal", {})
      ])
    ),
    { minLength: 1, maxLength: 8 }
  )
})

describe("mutation check", () => {
  it.effect(
    "a planner that promotes without fencing violates the invariants",
    () =>
      Effect.gen(function* () {
        const report = yield* checkSchedules({
          runs: 30,
          seed: 5,
          arbitrary: partitions,
          planner: promoteWithoutFencing,
          maxShrinks: 40
        })
        assert.isDefined(report.failure, "the simulation did not catch a planner that skips fencing")
        assert.include(report.failure!.invariants, "Unfenced", report.failure!.report)
      }),
    // ~1-4 s of wall time per schedule on a loaded 2-core machine, plus shrinking.
    300_000
  )

  it.effect(
    "control: the real planner passes the same schedules",
    () =>
      Effect.gen(function* () {
        const report = yield* checkSchedules({ runs: 30, seed: 5, arbitrary: partitions })
        if (report.failure !== undefined) assert.fail(report.failure.report)
        assert.strictEqual(report.runs, 30)
      }),
    // ~1-4 s of wall time per schedule on a loaded 2-core machine, plus shrinking.
    300_000
  )

  it.effect(
    "an isolation guard that never acts lets an isolated primary acknowledge writes after the promotion: GuardLate",
    () =>
      Effect.gen(function* () {
        // Caught without shrinking (a shrink re-runs whole schedules; the first failure is enough here).
        const report = yield* checkSchedules({
          runs: 10,
          seed: 7,
          arbitrary: isolations,
          guard: "inert",
          maxShrinks: 0
        })
        assert.isDefined(report.failure, "the simulation did not catch a guard that never acts")
        assert.include(report.failure!.invariants, "GuardLate", report.failure!.report)
      }),
    300_000
  )

  it.effect(
    "control: the real guard passes the same schedules",
    () =>
      Effect.gen(function* () {
        const report = yield* checkSchedules({ runs: 10, seed: 7, arbitrary: isolations })
        if (report.failure !== undefined) assert.fail(report.failure.report)
        assert.strictEqual(report.runs, 10)
      }),
    300_000
  )
})
