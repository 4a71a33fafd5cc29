/**
 * Storage resize end to end in memory: the operator against the in-memory API server (which refuses what
 * kube-apiserver refuses: claim template edits, PVC shrinks, growth on a class without allowVolumeExpansion), the
 * simulated StatefulSet controller (adopts orphaned pods) and volume expander, and the Dolt model.
 */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import {
  Events,
  Kube,
  type KubeObject,
  PersistentVolumeClaims,
  Pods,
  StatefulSets,
  StorageClasses
} from "@doltdb-op/core/services/Kube"
import { DoltModel } from "@doltdb-op/dolt"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, KubeWrites, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, setupDoltDB } from "./fixtures.ts"

const ns = "default"

/** A 3-replica DoltDB with this `storage`, run until Ready. */
const setup = (storage: Record<string, unknown>) => setupDoltDB({ spec: { storage } })

const doltdb = Effect.flatMap(Kube, (kube) => kube.get(rawDoltDBs, "db", { namespace: ns }))

const condition = (o: KubeObject, type: string) =>
  ((o.status as { conditions?: ReadonlyArray<Record<string, string>> } | undefined)?.conditions ?? []).find(
    (c) => c.type === type
  )

const claims = Effect.flatMap(Kube, (kube) =>
  Effect.map(kube.list(PersistentVolumeClaims, { namespace: ns }), (l) => l.items)
)
const capacity = (pvc: KubeObject) => (pvc.status as { capacity?: { storage?: string } } | undefined)?.capacity?.storage

const podUids = Effect.flatMap(Kube, (kube) =>
  Effect.map(kube.list(Pods, { namespace: ns }), (l) =>
    Object.fromEntries(l.items.map((p) => [p.metadata.name, p.metadata.uid]))
  )
)

const grow = (size: string) =>
  Effect.flatMap(Kube, (kube) => kube.mergePatch(rawDoltDBs, "db", { spec: { storage: { size } } }, { namespace: ns }))

const inCluster = (seed: number) => Layer.fresh(clusterLayer({ seed }))

describe("storage resize in memory", () => {
  it.effect(
    "growing spec.storage.size grows every PVC and the claim template; no pod restarts, no failover, every write acknowledged",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        yield* setup({ size: "1Gi" })
        const kube = yield* Kube
        const sql = yield* Dolt
        yield* sql.createDatabase(yield* adminTarget("db-0"), { name: "app" })
        const before = yield* podUids
        const epoch = ((yield* doltdb).status as { replicationEpoch: number }).replicationEpoch
        const stsUid = (yield* kube.get(StatefulSets, "db", { namespace: ns })).metadata.uid

        yield* grow("2Gi")
        const dolt = yield* DoltModel.DoltCluster
        const outcomes: Array<string> = []
        let n = 0
        const done = Effect.gen(function* () {
          const w = yield* dolt.write("db-primary.default.svc.cluster.local", "app", `k${n++}`, "v")
          outcomes.push(w.outcome)
          const o = yield* doltdb
          const pvcs = yield* claims
          return (
            pvcs.length === 3 &&
            pvcs.every((p) => capacity(p) === "2Gi") &&
            condition(o, "StorageResized")?.status === "True" &&
            condition(o, "Ready")?.status === "True"
          )
        })
        const took = yield* runUntil(done, { limitMillis: 120_000 })
        assert.isAtLeast(took, 0, `the resize never finished: ${JSON.stringify((yield* doltdb).status)}`)

        const sts = yield* kube.get(StatefulSets, "db", { namespace: ns })
        assert.notStrictEqual(sts.metadata.uid, stsUid, "the StatefulSet was re-created")
        const template = (
          sts.spec as {
            volumeClaimTemplates: ReadonlyArray<{ spec: { resources: { requests: { storage: string } } } }>
          }
        ).volumeClaimTemplates[0]
        assert.strictEqual(template?.spec.resources.requests.storage, "2Gi")
        assert.deepStrictEqual(yield* podUids, before, "no pod was restarted")
        const after = (yield* doltdb).status as { replicationEpoch: number; currentPrimary: string }
        assert.strictEqual(after.replicationEpoch, epoch, "no failover or switchover")
        assert.strictEqual(after.currentPrimary, "db-0")
        // The pods, orphaned until the new StatefulSet adopts them, never looked like a lost primary.
        const unavailable = (yield* kube.list(Events, { namespace: ns })).items.filter(
          (e) => (e as { reason?: string }).reason === "PrimaryUnavailable"
        )
        assert.deepStrictEqual(unavailable, [])
        assert.isAbove(outcomes.length, 2)
        assert.deepStrictEqual([...new Set(outcomes)], ["acked"], "every write during the resize was acknowledged")
        const pods = (yield* kube.list(Pods, { namespace: ns })).items
        assert.isTrue(pods.every((p) => p.metadata.ownerReferences?.some((r) => r.uid === sts.metadata.uid)))
        // Converged again: no API writes while the operator keeps polling.
        const writesBefore = operator.kubeCalls.total(KubeWrites)
        const reads = operator.kubeCalls.total(["list"])
        yield* runUntil(Effect.succeed(false), { limitMillis: 30_000 })
        assert.strictEqual(operator.kubeCalls.total(KubeWrites) - writesBefore, 0, "API writes after the resize")
        assert.isAbove(operator.kubeCalls.total(["list"]) - reads, 10, "the operator keeps polling")
      }).pipe(Effect.provide(inCluster(11))),
    60_000
  )

  it.effect(
    "a StorageClass without allowVolumeExpansion: a condition and one Warning event, the cluster keeps running, no retry loop",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        const kube = yield* Kube
        yield* kube.create(StorageClasses, {
          apiVersion: "storage.k8s.io/v1",
          kind: "StorageClass",
          metadata: { name: "fixed" },
          provisioner: "sim",
          allowVolumeExpansion: false
        })
        yield* setup({ size: "1Gi", storageClassName: "fixed" })
        yield* grow("2Gi")
        const refused = Effect.map(doltdb, (o) => condition(o, "StorageResized")?.reason === "StorageNotExpandable")
        assert.isAtLeast(yield* runUntil(refused, { limitMillis: 30_000 }), 0)
        const o = yield* doltdb
        assert.match(condition(o, "StorageResized")?.message ?? "", /allowVolumeExpansion/)
        assert.strictEqual(condition(o, "Ready")?.status, "True")
        const writesBefore = operator.kubeCalls.total(KubeWrites)
        yield* runUntil(Effect.succeed(false), { limitMillis: 30_000 })
        assert.strictEqual(operator.kubeCalls.total(KubeWrites) - writesBefore, 0, "no writes while the refusal stands")
        const warnings = (yield* kube.list(Events, { namespace: ns })).items.filter(
          (e) => (e as { reason?: string }).reason === "StorageNotExpandable"
        )
        assert.strictEqual(warnings.length, 1)
        assert.isTrue((yield* claims).every((p) => capacity(p) === "1Gi"))
      }).pipe(Effect.provide(inCluster(12))),
    60_000
  )
})
