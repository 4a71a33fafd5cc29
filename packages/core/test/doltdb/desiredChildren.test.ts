import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { desiredChildren, stableJson, withAppliedHash } from "../../src/doltdb/desiredChildren.ts"
import { Api, Builders } from "../../src/index.ts"

const decode = Schema.decodeUnknownSync(Api.DoltDB)

const doltdb = (overrides: { spec?: Record<string, unknown>; status?: Record<string, unknown> } = {}) =>
  decode({
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "DoltDB",
    metadata: {
      name: "db",
      namespace: "ns",
      uid: "u-db",
      generation: 3,
      resourceVersion: "41",
      labels: { team: "a" },
      annotations: { "example.com/owner": "b" }
    },
    spec: {
      engineVersion: "2.3.1",
      replicas: 3,
      storage: { size: "1Gi" },
      replication: { enabled: true },
      bootstrap: { from: { backup: { storage: { gcs: { bucket: "b-1" } }, databases: ["app"] } } },
      ...overrides.spec
    },
    ...(overrides.status === undefined ? {} : { status: overrides.status })
  }) as Builders.IdentifiedDoltDB

/** The hash as the planner computed it before the memo: JSON.stringify of copies built from sorted entries. */
const sortedCopyJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v
  )

const uncached = (d: Builders.IdentifiedDoltDB) =>
  Builders.buildDesiredState(d).objects.map((child) => ({ child, ...withAppliedHash(child) }))

const condition = (type: string, status: string) => ({
  type,
  status,
  reason: "R",
  message: "m",
  lastTransitionTime: "2026-01-01T00:00:00Z"
})

describe("desiredChildren", () => {
  it("writes the same JSON as the sorted-copy form the applied hashes always used", () => {
    const values: ReadonlyArray<unknown> = [
      { b: 1, a: [3, { d: null, c: "x" }], e: undefined, f: { "10": 1, "9": 2, z: 3, "01": 4, "": 5 } },
      [undefined, 1, "two", { y: true, x: false }],
      { nested: { deeper: { "2": [], "1": {}, k: -0.5 } } },
      ...Builders.buildDesiredState(doltdb()).objects
    ]
    for (const v of values) assert.strictEqual(stableJson(v), sortedCopyJson(v))
  })

  it("is what the builders render, hashed, whatever else the status holds", () => {
    const statuses: ReadonlyArray<Record<string, unknown> | undefined> = [
      undefined,
      { currentPrimaryPodIndex: 2, replicationEpoch: 4, conditions: [condition("Ready", "True")] },
      { currentPrimaryPodIndex: 1, conditions: [condition("Bootstrapped", "True"), condition("Ready", "False")] },
      { conditions: [condition("Bootstrapped", "False")], mesh: { replicas: 3, since: "2026-01-01T00:00:00Z" } }
    ]
    for (const status of statuses) {
      const d = doltdb(status === undefined ? {} : { status })
      assert.deepStrictEqual(desiredChildren(d), uncached(d))
      // A second call answers from the memo, with the same render.
      assert.deepStrictEqual(desiredChildren(d), uncached(d))
    }
    const scaled = doltdb({ spec: { replicas: 5 } })
    assert.deepStrictEqual(desiredChildren(scaled), uncached(scaled))
  })

  it("renders again when an input the builders read changes", () => {
    const before = desiredChildren(doltdb({ status: { currentPrimaryPodIndex: 0 } }))
    const after = desiredChildren(doltdb({ status: { currentPrimaryPodIndex: 1 } }))
    // The primary Service selects the primary's pod.
    const primaryService = (children: typeof before) =>
      children.find((c) => c.child.kind === "Service" && c.child.metadata.name === "db-primary")?.hash
    assert.isDefined(primaryService(before))
    assert.notStrictEqual(primaryService(before), primaryService(after))
  })
})
