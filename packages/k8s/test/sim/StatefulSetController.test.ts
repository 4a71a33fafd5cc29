import { Kube, type KubeObject, PersistentVolumeClaims, Pods, StatefulSets } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { InMemoryKube } from "../../src/memory/InMemoryKube.ts"
import { RevisionLabel } from "../../src/sim/StatefulSetController.ts"
import { advance, registerTestRuntime, simLayer, statefulSet } from "./fixtures.ts"

const podNames = Effect.gen(function* () {
  const kube = yield* Kube
  const pods = yield* kube.list(Pods, { namespace: "db" })
  return pods.items.map((p) => p.metadata.name).sort()
})

const stsStatus = Effect.gen(function* () {
  const kube = yield* Kube
  return (yield* kube.get(StatefulSets, "db", { namespace: "db" })).status as Record<string, unknown>
})

const podRevisions = Effect.gen(function* () {
  const kube = yield* Kube
  const pods = yield* kube.list(Pods, { namespace: "db" })
  return Object.fromEntries(pods.items.map((p) => [p.metadata.name, p.metadata.labels?.[RevisionLabel]]))
})

/** Pod names in the order the API server deleted them. */
const recordDeletions = Effect.gen(function* () {
  const { state } = yield* InMemoryKube
  const deleted: Array<string> = []
  state.listeners.add((e) => {
    if (e.type === "DELETED" && e.object.kind === "Pod") deleted.push(e.object.metadata.name)
  })
  return deleted
})

const patchTemplate = (annotations: Record<string, string>, extra: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    yield* kube.mergePatch(
      StatefulSets,
      "db",
      { spec: { template: { metadata: { annotations } }, ...extra } },
      { namespace: "db" }
    )
  })

describe("simulated StatefulSet controller", () => {
  it.effect("OrderedReady creates pods one at a time, each after its predecessor is Ready, with PVCs", () =>
    Effect.gen(function* () {
      yield* registerTestRuntime
      const kube = yield* Kube
      yield* kube.create(StatefulSets, statefulSet("db"))
      yield* advance(0)
      assert.deepStrictEqual(yield* podNames, ["db-0"])
      yield* advance(1)
      assert.deepStrictEqual(yield* podNames, ["db-0", "db-1"])
      yield* advance(3)
      assert.deepStrictEqual(yield* podNames, ["db-0", "db-1", "db-2"])
      const claims = yield* kube.list(PersistentVolumeClaims, { namespace: "db" })
      assert.deepStrictEqual(
        claims.items.map((c) => c.metadata.name),
        ["data-db-0", "data-db-1", "data-db-2"]
      )
      assert.strictEqual((claims.items[0]!.status as { phase: string }).phase, "Bound")
      const pod = yield* kube.get(Pods, "db-1", { namespace: "db" })
      assert.strictEqual(pod.metadata.labels?.["statefulset.kubernetes.io/pod-name"], "db-1")
      const status = yield* stsStatus
      assert.strictEqual(status.readyReplicas, 3)
      assert.strictEqual(status.replicas, 3)
      assert.strictEqual(status.currentRevision, status.updateRevision)
      assert.strictEqual(pod.metadata.labels?.[RevisionLabel], status.updateRevision)
      // the real controller's shape: `<sts>-<hash in apimachinery's safe alphabet>`
      assert.match(status.updateRevision as string, /^db-[bcdfghjklmnpqrstvwxz2456789]{6,10}$/)
      assert.deepStrictEqual(
        pod.metadata.ownerReferences?.map((o) => [o.kind, o.controller, o.blockOwnerDeletion]),
        [["StatefulSet", true, true]]
      )
      assert.deepStrictEqual(
        [(pod.spec as { hostname?: string }).hostname, (pod.spec as { subdomain?: string }).subdomain],
        ["db-1", "db-internal"]
      )
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("Parallel creates every pod at once", () =>
    Effect.gen(function* () {
      yield* registerTestRuntime
      const kube = yield* Kube
      yield* kube.create(StatefulSets, statefulSet("db", { podManagementPolicy: "Parallel" }))
      yield* advance(0)
      assert.deepStrictEqual(yield* podNames, ["db-0", "db-1", "db-2"])
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("RollingUpdate with a partition: highest ordinal first, one at a time, ordinals below stay", () =>
    Effect.gen(function* () {
      yield* registerTestRuntime
      const kube = yield* Kube
      yield* kube.create(
        StatefulSets,
        statefulSet("db", { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } })
      )
      yield* advance(10)
      const before = (yield* stsStatus).currentRevision as string
      const deleted = yield* recordDeletions
      yield* patchTemplate({ version: "2" })
      yield* advance(30)
      const status = yield* stsStatus
      const after = status.updateRevision as string
      assert.notStrictEqual(after, before)
      assert.deepStrictEqual(deleted, ["db-2", "db-1"])
      assert.deepStrictEqual(yield* podRevisions, { "db-0": before, "db-1": after, "db-2": after })
      assert.strictEqual(status.currentRevision, before)
      // lifting the partition rolls db-0 and completes the update
      yield* kube.mergePatch(
        StatefulSets,
        "db",
        { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } },
        { namespace: "db" }
      )
      yield* advance(10)
      assert.deepStrictEqual(deleted, ["db-2", "db-1", "db-0"])
      assert.strictEqual((yield* stsStatus).currentRevision, after)
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("a rolling update waits for the updated pod to be Ready before the next one", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      yield* kube.create(StatefulSets, statefulSet("db"))
      yield* advance(10)
      const deleted = yield* recordDeletions
      runtime.setProbe("db-2", { readiness: false, liveness: true })
      yield* patchTemplate({ version: "2" })
      yield* advance(30)
      assert.deepStrictEqual(deleted, ["db-2"])
      runtime.setProbe("db-2", { readiness: true, liveness: true })
      yield* advance(30)
      assert.deepStrictEqual(deleted, ["db-2", "db-1", "db-0"])
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("OnDelete leaves pods alone until they are deleted, then recreates them at the new revision", () =>
    Effect.gen(function* () {
      yield* registerTestRuntime
      const kube = yield* Kube
      yield* kube.create(StatefulSets, statefulSet("db", { updateStrategy: { type: "OnDelete" } }))
      yield* advance(10)
      const before = (yield* stsStatus).currentRevision as string
      const deleted = yield* recordDeletions
      yield* patchTemplate({ version: "2" })
      yield* advance(20)
      assert.deepStrictEqual(deleted, [])
      yield* kube.delete(Pods, "db-1", { namespace: "db" })
      yield* advance(5)
      const after = (yield* stsStatus).updateRevision as string
      assert.deepStrictEqual(yield* podRevisions, { "db-0": before, "db-1": after, "db-2": before })
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("scale down removes the highest ordinals; whenScaled=Delete removes their claims", () =>
    Effect.gen(function* () {
      yield* registerTestRuntime
      const kube = yield* Kube
      yield* kube.create(
        StatefulSets,
        statefulSet("db", { persistentVolumeClaimRetentionPolicy: { whenScaled: "Delete", whenDeleted: "Retain" } })
      )
      yield* advance(10)
      const deleted = yield* recordDeletions
      yield* kube.mergePatch(StatefulSets, "db", { spec: { replicas: 1 } }, { namespace: "db" })
      yield* advance(10)
      assert.deepStrictEqual(deleted, ["db-2", "db-1"])
      assert.deepStrictEqual(yield* podNames, ["db-0"])
      const claims = yield* kube.list(PersistentVolumeClaims, { namespace: "db" })
      assert.deepStrictEqual(
        claims.items.map((c) => c.metadata.name),
        ["data-db-0"]
      )
      // whenDeleted=Retain: deleting the StatefulSet keeps the claim, the pod goes (GC)
      yield* kube.delete(StatefulSets, "db", { namespace: "db" })
      yield* advance(2)
      assert.deepStrictEqual(yield* podNames, [])
      const kept = yield* kube.list(PersistentVolumeClaims, { namespace: "db" })
      assert.deepStrictEqual(
        kept.items.map((c) => c.metadata.name),
        ["data-db-0"]
      )
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("whenDeleted=Delete removes the claims with the StatefulSet", () =>
    Effect.gen(function* () {
      yield* registerTestRuntime
      const kube = yield* Kube
      yield* kube.create(
        StatefulSets,
        statefulSet("db", { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } })
      )
      yield* advance(10)
      yield* kube.delete(StatefulSets, "db", { namespace: "db" })
      yield* advance(2)
      const claims = yield* kube.list(PersistentVolumeClaims, { namespace: "db" })
      assert.deepStrictEqual(claims.items as ReadonlyArray<KubeObject>, [])
    }).pipe(Effect.provide(simLayer))
  )
})
