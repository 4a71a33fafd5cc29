/**
 * Scenario files: every bad field is named the way a user points at it, and a run is deterministic for a seed.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { parse } from "yaml"
import { decodeScenario } from "../../src/simulate/Scenario.ts"
import { runScenario } from "../../src/simulate/ScenarioRunner.ts"

const objects = [
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db-credentials" },
    stringData: { "admin-user": "root", "admin-password": "pw" }
  },
  {
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "DoltDB",
    metadata: { name: "db" },
    spec: { engineVersion: "2.3.1", replicas: 3, storage: { size: "1Gi" }, replication: { enabled: true } }
  }
]
const base = { name: "t", duration: "30s", objects, events: [] as Array<unknown> }

const fieldOf = (input: unknown) =>
  decodeScenario(input).pipe(
    Effect.match({ onFailure: (e) => ({ field: e.field, message: e.message }), onSuccess: () => undefined })
  )

describe("decodeScenario names the bad field", () => {
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    [
      "a bad time",
      {
        ...base,
        events: [
          { at: "1s", kill: "db-0" },
          { at: "soon", kill: "db-0" }
        ]
      },
      "events[1].at"
    ],
    ["a time after the end", { ...base, events: [{ at: "31s", kill: "db-0" }] }, "events[0].at"],
    ["two actions in one event", { ...base, events: [{ at: "1s", kill: "db-0", heal: "db-0" }] }, "events[0]"],
    ["no action", { ...base, events: [{ at: "1s" }] }, "events[0]"],
    ["a pod of no DoltDB", { ...base, events: [{ at: "1s", kill: "other-0" }] }, "events[0].kill"],
    [
      "a partition scope",
      { ...base, events: [{ at: "1s", partition: { pod: "db-0", from: "moon" } }] },
      "events[0].partition.from"
    ],
    [
      "an unknown key",
      { ...base, events: [{ at: "1s", partition: { pod: "db-0", from: "all", extra: 1 } }] },
      "events[0].partition.extra"
    ],
    [
      "writes ending before they start",
      { ...base, events: [{ at: "10s", writes: { every: "1s", until: "5s", database: "app" } }] },
      "events[0].writes.until"
    ],
    [
      "writes without a database to default to",
      { ...base, events: [{ at: "1s", writes: { every: "1s", until: "5s" } }] },
      "events[0].writes.database"
    ],
    [
      "a patch of an object not in the scenario",
      { ...base, events: [{ at: "1s", patch: { kind: "DoltDB", name: "nope", spec: {} } }] },
      "events[0].patch"
    ],
    [
      "a DoltDB the API would reject",
      { ...base, objects: [objects[0], { ...objects[1], spec: { ...objects[1]!.spec, replicas: "three" } }] },
      "objects[1].spec.replicas"
    ],
    [
      "a kind the simulation does not create",
      { ...base, objects: [{ ...objects[0], kind: "Pod" }] },
      "objects[0].kind"
    ],
    ["no DoltDB", { ...base, objects: [objects[0]] }, "objects"],
    ["a bad duration", { ...base, duration: 30 }, "duration"],
    ["no objects key", { name: "t", duration: "30s", events: [] }, "objects"]
  ]
  for (const [what, input, field] of cases) {
    it.effect(what, () =>
      Effect.gen(function* () {
        const error = yield* fieldOf(input)
        assert.isDefined(error, "accepted")
        assert.strictEqual(error?.field, field, error?.message)
        assert.isTrue(error?.message.startsWith(`${field}: `), error?.message)
      })
    )
  }

  it.effect("a valid scenario decodes with its events in file order", () =>
    Effect.gen(function* () {
      const s = yield* decodeScenario({
        ...base,
        events: [
          { at: "5s", heal: "db-0" },
          { at: "1s", nodeLost: "db-0" }
        ]
      })
      assert.deepStrictEqual(s.events, [
        { at: "5s", heal: "db-0" },
        { at: "1s", nodeLost: "db-0" }
      ])
    })
  )
})

describe("runScenario", () => {
  it.effect(
    "is deterministic for a seed",
    () =>
      Effect.gen(function* () {
        const text = readFileSync(new URL("../../../../examples/failover.yaml", import.meta.url), "utf8")
        const scenario = yield* decodeScenario(parse(text))
        const a = yield* runScenario(scenario, { seed: 5 })
        const b = yield* runScenario(scenario, { seed: 5 })
        assert.strictEqual(a.seed, 5)
        assert.deepStrictEqual(a, b)
        assert.isAbove(a.timeline.length, 10)
      }),
    60_000
  )
})
