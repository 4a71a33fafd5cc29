/**
 * Bootstrapping a new DoltDB from a backup, in memory: the bootstrap primary's init container restores every
 * database before its server starts, the standbys get them by replication, `Bootstrapped` reports it; a backup that
 * cannot be read keeps the primary from starting at all.
 */
import { Builders } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { ConfigMaps, Kube, type KubeObject, resource } from "@doltdb-op/core/services/Kube"
import { DoltModel } from "@doltdb-op/dolt"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, createDoltDB, isReady, podIP, setupDoltDB } from "./fixtures.ts"

const ns = "default"
const apiVersion = "k8s.dolthub.com/v1alpha"
const rawBackups = resource({ apiVersion, kind: "Backup", plural: "backups", namespaced: true })
const storage = { s3: { bucket: "bkt", prefix: "prod", region: "us-east-1" } }

const get = (res: typeof rawDoltDBs, name: string) =>
  Effect.flatMap(Kube, (kube) =>
    kube.get(res, name, { namespace: ns }).pipe(Effect.catch(() => Effect.succeed(undefined)))
  )
const condition = (o: KubeObject | undefined, type: string) =>
  (
    (o?.status as { conditions?: ReadonlyArray<{ type: string; status: string; reason: string }> })?.conditions ?? []
  ).find((c) => c.type === type)

describe("bootstrap from a backup, in memory", () => {
  it.effect(
    "a new DoltDB restores the backup on its primary before it starts; standbys replicate it; Bootstrapped; the step goes away",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        const kube = yield* Kube
        const model = yield* DoltModel.DoltCluster
        yield* setupDoltDB({ name: "src" })
        const src0 = yield* adminTarget("src-0")
        yield* (yield* Dolt).createDatabase(src0, { name: "app" })
        yield* model.write(src0.host, "app", "k", "v1")
        yield* runUntil(Effect.succeed(false), { limitMillis: 3_000 })
        yield* kube.create(rawBackups, {
          apiVersion,
          kind: "Backup",
          metadata: { name: "full", namespace: ns },
          spec: { doltDBRef: { name: "src" }, storage }
        } as unknown as KubeObject)
        const completed = Effect.map(
          get(rawBackups, "full"),
          (o) => (o?.status as { phase?: string } | undefined)?.phase === "Completed"
        )
        assert.isAtLeast(yield* runUntil(completed, { limitMillis: 300_000, stepMillis: 1_000 }), 0, "backup")

        yield* setupDoltDB({ name: "copy", spec: { bootstrap: { from: { backup: { storage, databases: ["app"] } } } } })
        const bootstrapped = yield* runUntil(
          Effect.map(get(rawDoltDBs, "copy"), (o) => condition(o, "Bootstrapped")?.status === "True"),
          { limitMillis: 30_000 }
        )
        assert.isAtLeast(bootstrapped, 0, "no Bootstrapped condition")
        yield* runUntil(Effect.succeed(false), { limitMillis: 5_000 })
        for (const pod of ["copy-0", "copy-1", "copy-2"])
          assert.strictEqual(yield* model.read(yield* podIP(pod), "app", "k"), "v1", `${pod} lacks the row`)
        const cm = yield* kube.get(ConfigMaps, Builders.configMapName("copy"), { namespace: ns })
        assert.notProperty(cm.data ?? {}, Builders.BootstrapScriptKey, "the bootstrap step stayed after Bootstrapped")
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed: 11 })))),
    120_000
  )

  it.effect(
    "a backup that cannot be read keeps the primary from starting: never an empty primary",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        const model = yield* DoltModel.DoltCluster
        yield* createDoltDB({
          name: "broken",
          spec: { bootstrap: { from: { backup: { storage: { local: { path: "/db/nothing" } }, databases: ["app"] } } } }
        })
        yield* runUntil(Effect.succeed(false), { limitMillis: 120_000, stepMillis: 1_000 })
        assert.isFalse(yield* isReady({ name: "broken" }))
        const doltdbObject = yield* get(rawDoltDBs, "broken")
        assert.strictEqual(condition(doltdbObject, "Bootstrapped")?.status, "False")
        // The bootstrap primary's server never ran: nothing answers on broken-0.
        const server = yield* model.serverAt(yield* podIP("broken-0"))
        assert.isTrue(server === undefined || !server.running, "broken-0 serves without its data")
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed: 12 })))),
    120_000
  )
})
