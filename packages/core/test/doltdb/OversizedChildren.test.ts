/**
 * Children the API server would refuse for their size (issue #13 §4): never applied, reported on the DoltDB by
 * name and size, once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { buildDesiredState } from "../../src/builders/DesiredState.ts"
import { childKey, type DoltDBObserved } from "../../src/doltdb/DoltDBObserved.ts"
import {
  ChildTooLargeReason,
  MaxAnnotationBytes,
  MaxDataBytes,
  oversizedChildren
} from "../../src/doltdb/OversizedChildren.ts"
import { planDoltDB } from "../../src/doltdb/planDoltDB.ts"
import { Api, type Builders } from "../../src/index.ts"
import { defaultPolicy } from "../../src/replication/ReplicationObserved.ts"

const decode = (spec: Record<string, unknown>) =>
  Schema.decodeUnknownSync(Api.DoltDB)({
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "DoltDB",
    metadata: { name: "db", namespace: "ns", uid: "u-db", generation: 1, resourceVersion: "1" },
    spec: { engineVersion: "2.3.1", replicas: 32, storage: { size: "1Gi" }, replication: { enabled: true }, ...spec }
  }) as Builders.IdentifiedDoltDB

/** 32 replicas whose per-pod config carries 40 KB of metrics labels: a ConfigMap over 1 MiB, a valid spec. */
const bigLabels = decode({
  server: { metrics: { enabled: true, labels: { team: "x".repeat(40_000) } } }
})
/** 128 pod annotations of 4 KB: 512 KB of pod template annotations (the limit is 256 KiB). */
const bigAnnotations = decode({
  replicas: 3,
  podAnnotations: Object.fromEntries(Array.from({ length: 128 }, (_, i) => [`example.com/a${i}`, "v".repeat(4096)]))
})
const fine = decode({})

const observed = (doltdb: Builders.IdentifiedDoltDB, overrides: Partial<DoltDBObserved> = {}): DoltDBObserved => ({
  now: 1_000_000,
  doltdb,
  children: new Map(),
  statefulSet: undefined,
  pods: [],
  defaults: {
    failoverDelayMillis: defaultPolicy.failoverDelayMillis,
    allowUnsafeFailover: false,
    caughtUpSlackMillis: defaultPolicy.caughtUpSlackMillis,
    maxSwitchoverLagMillis: defaultPolicy.maxSwitchoverLagMillis,
    transitionTimeoutMillis: defaultPolicy.transitionTimeoutMillis
  },
  ...overrides
})

const applied = (o: DoltDBObserved) =>
  planDoltDB(o).actions.flatMap((a) => (a._tag === "Apply" ? [childKey(a.object.kind, a.object.metadata.name)] : []))

describe("oversizedChildren", () => {
  it("finds the ConfigMap data and the pod template annotations over the API server's limits, nothing else", () => {
    const [configMap, ...rest] = oversizedChildren(buildDesiredState(bigLabels).objects)
    assert.deepStrictEqual(rest.length, 0)
    assert.strictEqual(configMap?.kind, "ConfigMap")
    assert.strictEqual(configMap?.name, "db-config")
    assert.strictEqual(configMap?.part, "data")
    assert.strictEqual(configMap?.limit, MaxDataBytes)
    assert.isAbove(configMap?.bytes ?? 0, MaxDataBytes)
    const annotations = oversizedChildren(buildDesiredState(bigAnnotations).objects)
    assert.deepStrictEqual(
      annotations.map((o) => `${o.kind}/${o.name} ${o.part} ${o.limit}`),
      [`StatefulSet/db pod template annotations ${MaxAnnotationBytes}`]
    )
    // The largest ordinary DoltDB (32 replicas, no labels) is far below every limit.
    assert.deepStrictEqual(oversizedChildren(buildDesiredState(fine).objects), [])
  })

  it("counts ConfigMap data values, and Secret data decoded from base64, at the API server's exact limit", () => {
    const secret = (bytes: number) => ({
      kind: "Secret",
      metadata: { name: "s" },
      data: { k: Buffer.alloc(bytes).toString("base64") }
    })
    // The values count, not the keys (as the API server's ValidateSecret/ValidateConfigMap).
    assert.deepStrictEqual(oversizedChildren([secret(MaxDataBytes)]), [])
    assert.strictEqual(oversizedChildren([secret(MaxDataBytes + 1)])[0]?.bytes, MaxDataBytes + 1)
    const configMap = (bytes: number) => ({
      kind: "ConfigMap",
      metadata: { name: "c" },
      data: { k: "x".repeat(bytes) }
    })
    assert.deepStrictEqual(oversizedChildren([configMap(MaxDataBytes)]), [])
    assert.strictEqual(oversizedChildren([configMap(MaxDataBytes + 1)])[0]?.bytes, MaxDataBytes + 1)
  })
})

describe("a DoltDB whose children are too large", () => {
  it("applies no child at all (the ConfigMap and the StatefulSet go together)", () => {
    assert.include(applied(observed(fine)), "StatefulSet/db", "an ordinary DoltDB is applied")
    assert.deepStrictEqual(applied(observed(bigLabels)), [])
    assert.deepStrictEqual(applied(observed(bigAnnotations)), [])
  })

  it("turns Ready False naming the object, its size and the limit, with one Warning event", () => {
    const plan = planDoltDB(observed(bigLabels))
    const ready = plan.status.conditions?.find((c) => c.type === "Ready")
    assert.strictEqual(ready?.status, "False")
    assert.strictEqual(ready?.reason, ChildTooLargeReason)
    assert.match(
      ready?.message ?? "",
      /^ConfigMap db-config data is [\d,]+ bytes, over the API server's limit of 1,048,576 bytes: no child object is applied/u
    )
    const events = plan.actions.filter((a) => a._tag === "Event" && a.reason === ChildTooLargeReason)
    assert.strictEqual(events.length, 1)
    assert.strictEqual(events[0]?._tag === "Event" ? events[0].type : undefined, "Warning")
    // Reported already: no second event on the next pass.
    const again = planDoltDB(observed({ ...bigLabels, status: plan.status }))
    assert.isFalse(again.actions.some((a) => a._tag === "Event" && a.reason === ChildTooLargeReason))
  })
})
