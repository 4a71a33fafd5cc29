/**
 * Scheduled VolumeSnapshots end to end in memory, on the TestClock: the operator's Snapshot controller against the
 * in-memory API server, the simulated snapshot-controller (a snapshot copies the volume's persisted state) and the
 * Dolt model.
 */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import {
  Events,
  Kube,
  type KubeObject,
  PersistentVolumeClaims,
  resource,
  VolumeSnapshotClasses,
  VolumeSnapshots
} from "@doltdb-op/core/services/Kube"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { DoltModel } from "@doltdb-op/dolt"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, setupDoltDB } from "./fixtures.ts"

const ns = "default"
const rawSnapshots = resource({
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "Snapshot",
  plural: "snapshots",
  namespaced: true
})

const condition = (o: KubeObject | undefined, type: string) =>
  ((o?.status as { conditions?: ReadonlyArray<Record<string, string>> } | undefined)?.conditions ?? []).find(
    (c) => c.type === type
  )

const get = (res: typeof rawDoltDBs, name: string) =>
  Effect.flatMap(Kube, (kube) =>
    kube.get(res, name, { namespace: ns }).pipe(Effect.catch(() => Effect.succeed(undefined)))
  )

const volumeSnapshots = Effect.flatMap(Kube, (kube) =>
  Effect.map(kube.list(VolumeSnapshots, { namespace: ns }), (l) => l.items)
)
const readyToUse = (v: KubeObject) => (v.status as { readyToUse?: boolean } | undefined)?.readyToUse === true

const inCluster = (seed: number) => Layer.fresh(clusterLayer({ seed }))

describe("Snapshot in memory", () => {
  it.effect(
    "every minute with keep 2: after 4 fires exactly 2 ready VolumeSnapshots of a caught-up standby; deleting the Snapshot stops the schedule and keeps them",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupDoltDB()
        const kube = yield* Kube
        const dolt = yield* Dolt
        yield* dolt.createDatabase(yield* adminTarget("db-0"), { name: "app" })
        yield* kube.create(rawSnapshots, {
          apiVersion: "k8s.dolthub.com/v1alpha",
          kind: "Snapshot",
          metadata: { name: "minutely", namespace: ns },
          spec: { frequencySchedule: "* * * * *", doltDBRef: { name: "db" }, keep: 2 }
        } as unknown as KubeObject)
        const fires = Effect.map(
          get(rawSnapshots, "minutely"),
          (o) => (o?.status as { lastScheduleTime?: string } | undefined)?.lastScheduleTime
        )
        const seen = new Set<string>()
        const fourFires = Effect.gen(function* () {
          const t = yield* fires
          if (t !== undefined) seen.add(t)
          const all = yield* volumeSnapshots
          return seen.size >= 4 && all.length === 2 && all.every(readyToUse)
        })
        assert.isAtLeast(yield* runUntil(fourFires, { limitMillis: 5 * 60_000 }), 0, "4 fires never left 2 snapshots")
        const all = yield* volumeSnapshots
        assert.deepStrictEqual(
          all.map((v) => v.metadata.annotations?.["k8s.dolthub.com/source-role"]),
          ["standby", "standby"]
        )
        const snap = yield* get(rawSnapshots, "minutely")
        const listed = (
          (snap?.status ?? {}) as {
            snapshots: ReadonlyArray<{ name: string; readyToUse: boolean; restoreSize?: string }>
          }
        ).snapshots
        assert.deepStrictEqual(listed.map((s) => s.name).sort(), all.map((v) => v.metadata.name).sort())
        assert.isTrue(listed.every((s) => s.readyToUse && s.restoreSize === "1Gi"))
        assert.strictEqual(condition(snap, "Ready")?.status, "True")
        const world = yield* SimWorld
        assert.strictEqual((yield* world.snapshotIds).length, 2, "deleted VolumeSnapshots dropped their copies")

        yield* kube.delete(rawSnapshots, "minutely", { namespace: ns })
        yield* runUntil(Effect.succeed(false), { limitMillis: 3 * 60_000 })
        assert.deepStrictEqual(
          (yield* volumeSnapshots).map((v) => v.metadata.name).sort(),
          all.map((v) => v.metadata.name).sort(),
          "no new snapshot after the Snapshot was deleted, and the old ones are kept"
        )
      }).pipe(Effect.provide(inCluster(21))),
    120_000
  )

  it.effect(
    "a VolumeSnapshotClass that does not exist is reported (condition + event), no VolumeSnapshot is created",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupDoltDB({ replicas: 1 })
        const kube = yield* Kube
        yield* kube.create(VolumeSnapshotClasses, {
          apiVersion: "snapshot.storage.k8s.io/v1",
          kind: "VolumeSnapshotClass",
          metadata: { name: "real" },
          driver: "sim",
          deletionPolicy: "Delete"
        })
        yield* kube.create(rawSnapshots, {
          apiVersion: "k8s.dolthub.com/v1alpha",
          kind: "Snapshot",
          metadata: { name: "nightly", namespace: ns },
          spec: { frequencySchedule: "* * * * *", doltDBRef: { name: "db" }, volumeSnapshotClassName: "missing" }
        } as unknown as KubeObject)
        const reported = Effect.map(
          get(rawSnapshots, "nightly"),
          (o) => condition(o, "Ready")?.reason === "VolumeSnapshotClassNotFound"
        )
        assert.isAtLeast(yield* runUntil(reported, { limitMillis: 60_000 }), 0)
        yield* runUntil(Effect.succeed(false), { limitMillis: 2 * 60_000 })
        assert.deepStrictEqual(yield* volumeSnapshots, [])
        assert.match(condition(yield* get(rawSnapshots, "nightly"), "Ready")?.message ?? "", /'missing'/)
        const warnings = (yield* kube.list(Events, { namespace: ns })).items.filter(
          (e) => (e as { reason?: string }).reason === "VolumeSnapshotClassNotFound"
        )
        assert.strictEqual(warnings.length, 1, "one Warning event, not one per retry")
      }).pipe(Effect.provide(inCluster(22))),
    60_000
  )

  it.effect(
    "a DoltDB bootstrapped from a standby's snapshot taken during writes: every pod serves the snapshot's rows, one primary above the snapshot's epoch, writes accepted",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupDoltDB()
        const kube = yield* Kube
        const dolt = yield* Dolt
        yield* dolt.createDatabase(yield* adminTarget("db-0"), { name: "app" })
        const model = yield* DoltModel.DoltCluster
        for (let i = 0; i < 5; i++) {
          const w = yield* model.write("db-primary.default.svc.cluster.local", "app", `k${i}`, `v${i}`)
          assert.strictEqual(w.outcome, "acked")
        }
        yield* runUntil(Effect.succeed(false), { limitMillis: 5_000 })
        yield* kube.create(rawSnapshots, {
          apiVersion: "k8s.dolthub.com/v1alpha",
          kind: "Snapshot",
          metadata: { name: "once", namespace: ns },
          spec: { frequencySchedule: "* * * * *", doltDBRef: { name: "db" } }
        } as unknown as KubeObject)
        // Writes keep flowing while the snapshot is taken.
        let n = 5
        const taken = Effect.gen(function* () {
          yield* model.write("db-primary.default.svc.cluster.local", "app", `k${n}`, `v${n}`)
          n++
          const all = yield* volumeSnapshots
          return all.length > 0 && all.every(readyToUse)
        })
        assert.isAtLeast(yield* runUntil(taken, { limitMillis: 90_000 }), 0, "no snapshot")
        const [snap] = yield* volumeSnapshots
        assert.strictEqual(snap?.metadata.annotations?.["k8s.dolthub.com/source-role"], "standby")
        const sourceEpoch = (((yield* get(rawDoltDBs, "db"))?.status ?? {}) as { replicationEpoch: number })
          .replicationEpoch
        yield* kube.delete(rawSnapshots, "once", { namespace: ns })

        yield* setupDoltDB({ name: "restored", spec: { bootstrap: { from: { volumeSnapshot: snap!.metadata.name } } } })
        const restored = (yield* get(rawDoltDBs, "restored"))?.status as {
          currentPrimary: string
          replicationEpoch: number
        }
        assert.strictEqual(restored.currentPrimary, "restored-0")
        assert.isAbove(restored.replicationEpoch, sourceEpoch, "the new primary is above the snapshot's epoch")
        for (const pod of ["restored-0", "restored-1", "restored-2"]) {
          const host = (yield* adminTarget(pod)).host
          for (let i = 0; i < 5; i++)
            assert.strictEqual(
              yield* model.read(`${pod}.restored-internal.default`, "app", `k${i}`),
              `v${i}`,
              `${pod} (${host}) serves k${i}`
            )
        }
        const w = yield* model.write("restored-primary.default.svc.cluster.local", "app", "after", "restore")
        assert.strictEqual(w.outcome, "acked", JSON.stringify(w))
        const claims = (yield* kube.list(PersistentVolumeClaims, { namespace: ns })).items.filter((c) =>
          c.metadata.name.startsWith("dolt-data-restored-")
        )
        assert.strictEqual(claims.length, 3)
        assert.isTrue(
          claims.every((c) => (c.spec as { dataSource?: { name?: string } }).dataSource?.name === snap!.metadata.name)
        )
      }).pipe(Effect.provide(inCluster(23))),
    120_000
  )
})
