/**
 * Scenario files: every bad field is named the way a user points at it, and a run is deterministic for a seed.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { parse } from "yaml"
import { copyViolation } from "../../src/simulate/BackupWatch.ts"
import { decodeScenario, eventActionNames } from "../../src/simulate/Scenario.ts"
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
    ["an ordinal beyond replicas", { ...base, events: [{ at: "1s", kill: "db-3" }] }, "events[0].kill"],
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
    [
      "a DoltDB name that is a regular expression",
      { ...base, objects: [objects[0], { ...objects[1], metadata: { name: "(a|a)*" } }] },
      "objects[1].metadata.name"
    ],
    [
      "a DoltDB name with a bracket",
      { ...base, objects: [objects[0], { ...objects[1], metadata: { name: "db[" } }] },
      "objects[1].metadata.name"
    ],
    ["a duplicate DoltDB", { ...base, objects: [...objects, objects[1]] }, "objects[2].metadata.name"],
    ["a DoltDB without its credentials Secret", { ...base, objects: [objects[1]] }, "objects"],
    ["a run of ten hours", { ...base, duration: "10h" }, "duration"],
    [
      "200 replicas",
      { ...base, objects: [objects[0], { ...objects[1], spec: { ...objects[1]!.spec, replicas: 200 } }] },
      "objects[1].spec.replicas"
    ],
    [
      "a scale-up patch to 200 replicas",
      { ...base, events: [{ at: "1s", patch: { kind: "DoltDB", name: "db", spec: { replicas: 200 } } }] },
      "events[0].patch.spec.replicas"
    ],
    [
      "a partition from a pod of no DoltDB",
      { ...base, events: [{ at: "1s", partition: { pod: "db-0", from: ["operator", "db-7"] } }] },
      "events[0].partition.from[1]"
    ],
    [
      "writes to a DoltDB not in the scenario",
      { ...base, events: [{ at: "1s", writes: { every: "1s", until: "5s", database: "app", doltdb: "nope" } }] },
      "events[0].writes.doltdb"
    ],
    [
      "API errors ending before they start",
      { ...base, events: [{ at: "5s", apiErrors: { rate: 0.2, until: "2s" } }] },
      "events[0].apiErrors.until"
    ],
    [
      "an API error rate above 1",
      { ...base, events: [{ at: "5s", apiErrors: { rate: 2 } }] },
      "events[0].apiErrors.rate"
    ],
    [
      "a Backup of a DoltDB not in the scenario",
      { ...base, events: [{ at: "1s", backup: { name: "b", doltdb: "nope" } }] },
      "events[0].backup.doltdb"
    ],
    [
      "a Backup with two backends",
      {
        ...base,
        events: [{ at: "1s", backup: { name: "b", storage: { local: { path: "/db/b" }, gcs: { bucket: "bkt" } } } }]
      },
      "events[0].backup.storage"
    ],
    [
      "a local Backup off the data volume",
      { ...base, events: [{ at: "1s", backup: { name: "b", storage: { local: { path: "/tmp/b" } } } }] },
      "events[0].backup.storage.local.path"
    ],
    [
      "a Backup name the API refuses",
      { ...base, events: [{ at: "1s", backup: { name: "B_1" } }] },
      "events[0].backup.name"
    ],
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

  it.effect("a valid scenario decodes with its events in file order; a scale-up patch admits the new pods", () =>
    Effect.gen(function* () {
      const s = yield* decodeScenario({
        ...base,
        events: [
          { at: "5s", heal: "db-0" },
          { at: "1s", nodeLost: "db-0" },
          { at: "2s", patch: { kind: "DoltDB", name: "db", spec: { replicas: 4 } } },
          { at: "9s", kill: "db-3" }
        ]
      })
      assert.deepStrictEqual(
        s.events.map((e) => e.at),
        ["5s", "1s", "2s", "9s"]
      )
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
        // another seed is another interleaving (phases and replication jitter come from it)
        const others = yield* Effect.forEach([6, 7], (seed) => runScenario(scenario, { seed }))
        const shape = (r: typeof a) => JSON.stringify([r.timeline.map((e) => [e.at, e.text]), r.writes.outages])
        assert.isTrue(
          others.some((r) => shape(r) !== shape(a)),
          "seeds 5, 6 and 7 gave the same run"
        )
      }),
    60_000
  )

  it.effect(
    "runs every kind of event; the operator ends with one primary, routed, at the requested index",
    () =>
      Effect.gen(function* () {
        const scenario = yield* decodeScenario({
          name: "everything",
          duration: "120s",
          objects: [
            ...objects,
            {
              apiVersion: "k8s.dolthub.com/v1alpha",
              kind: "Database",
              metadata: { name: "app" },
              spec: { doltDBRef: { name: "db" }, name: "app" }
            }
          ],
          events: [
            { at: "10s", writes: { every: "250ms", until: "115s", ackTimeoutSeconds: 2 } },
            { at: "12s", kill: "db-2" },
            { at: "15s", slowReplication: { pod: "db-2", delay: "3s" } },
            { at: "20s", crashLoop: "db-1" },
            { at: "30s", heal: "db-1" },
            { at: "35s", operatorRestart: {} },
            { at: "40s", deletePod: "db-2" },
            { at: "45s", backup: { name: "mid-run" } },
            { at: "50s", partition: { pod: "db-0", from: "operator" } },
            { at: "60s", healAll: {} },
            { at: "70s", nodeLost: "db-2" },
            { at: "80s", nodeRestored: "db-2" },
            { at: "90s", patch: { kind: "DoltDB", name: "db", spec: { replication: { primary: { podIndex: 2 } } } } },
            { at: "92s", partition: { pod: "db-1", from: ["clients", "db-2"] } },
            { at: "93s", apiErrors: { rate: 0.05, until: "95s" } },
            { at: "94s", healAll: {} },
            { at: "96s", forceDeletePod: "db-1" },
            { at: "98s", nodePartitioned: "db-1" },
            { at: "99s", nodeRestored: "db-1" },
            { at: "100s", nodeIsolated: "db-1" },
            { at: "101s", nodeRestored: "db-1" }
          ]
        })
        const report = yield* runScenario(scenario)
        const fired = report.timeline.filter((e) => e.kind === "scenario").map((e) => e.text.split(" ")[0])
        assert.includeMembers(fired, [...eventActionNames])
        assert.deepStrictEqual(
          report.backups.map((b) => [b.name, b.phase]),
          [["mid-run", "Completed"]]
        )
        assert.deepStrictEqual(report.invariants.violations, [])
        assert.deepStrictEqual(report.final[0]?.notConverged, [])
        assert.strictEqual(report.primaries.at(-1)?.primary, "db-2")
        // the crash loop kept db-1 down (each restart killed again) until the heal
        const db1 = (from: number, to: number) =>
          report.timeline.filter((e) => e.kind === "servers" && e.at >= from && e.at < to).map((e) => e.text)
        assert.isTrue(
          db1(20_000, 30_000).some((t) => t.includes("db-1 down")),
          "db-1 was never down during the crash loop"
        )
        assert.isFalse(
          db1(20_500, 30_000).some((t) => /db-1 (primary|standby)/u.test(t)),
          "db-1 ran during the crash loop"
        )
      }),
    60_000
  )
})

describe("runScenario, several DoltDBs", () => {
  it.effect(
    "writes go to the DoltDB they name, a standalone one included, and each is accounted on its own",
    () =>
      Effect.gen(function* () {
        const standalone = {
          apiVersion: "k8s.dolthub.com/v1alpha",
          kind: "DoltDB",
          metadata: { name: "solo" },
          spec: { engineVersion: "2.3.1", replicas: 1, storage: { size: "1Gi" } }
        }
        const scenario = yield* decodeScenario({
          name: "two",
          duration: "40s",
          objects: [
            ...objects,
            { ...objects[0], metadata: { name: "solo-credentials" } },
            standalone,
            {
              apiVersion: "k8s.dolthub.com/v1alpha",
              kind: "Database",
              metadata: { name: "app" },
              spec: { doltDBRef: { name: "db" }, name: "app" }
            },
            {
              apiVersion: "k8s.dolthub.com/v1alpha",
              kind: "Database",
              metadata: { name: "solo-app" },
              spec: { doltDBRef: { name: "solo" }, name: "things" }
            }
          ],
          events: [
            { at: "15s", writes: { every: "500ms", until: "35s" } },
            { at: "15s", writes: { every: "500ms", until: "35s", doltdb: "solo" } }
          ]
        })
        const report = yield* runScenario(scenario)
        assert.deepStrictEqual(report.invariants.violations, [])
        assert.strictEqual(report.writes.failed, 0, JSON.stringify(report.writes.perSecond))
        assert.strictEqual(report.writes.acked, 80)
        assert.deepStrictEqual(
          report.final.map((f) => [f.doltdb, f.lostUnconfirmed.length]),
          [
            ["db", 0],
            ["solo", 0]
          ]
        )
      }),
    60_000
  )
})

describe("runScenario, patches", () => {
  it.effect(
    "a patch the API server would refuse (podIndex beyond replicas) is refused and changes nothing",
    () =>
      Effect.gen(function* () {
        const scenario = yield* decodeScenario({
          ...base,
          duration: "20s",
          events: [
            { at: "5s", patch: { kind: "DoltDB", name: "db", spec: { replication: { primary: { podIndex: 2 } } } } },
            { at: "10s", patch: { kind: "DoltDB", name: "db", spec: { replicas: 2 } } }
          ]
        })
        const report = yield* runScenario(scenario)
        const refused = report.timeline.filter((e) => e.text.startsWith("patch refused"))
        assert.lengthOf(refused, 1, JSON.stringify(report.timeline.filter((e) => e.kind === "scenario")))
        assert.include(refused[0]!.text, "podIndex")
        assert.deepStrictEqual(report.invariants.violations, [])
      }),
    60_000
  )
})

describe("BackupNotAcknowledged", () => {
  const acked = new Set([1, 2, 3])
  it("holds for a copy of acknowledged writes, or of writes the cluster kept although their client saw an error", () => {
    assert.isUndefined(copyViolation([1, 2, 3], acked, () => false))
    assert.isUndefined(copyViolation([1, 4], acked, (w) => w === 4))
    assert.isUndefined(copyViolation([], acked, () => false))
  })
  it("is broken by a write neither acknowledged nor kept, and by a Completed copy that is not stored", () => {
    assert.include(
      copyViolation([1, 5, 6], acked, () => false),
      "2 write(s) in the copy were never acknowledged"
    )
    assert.include(
      copyViolation(undefined, acked, () => true),
      "nothing is stored"
    )
  })
})
