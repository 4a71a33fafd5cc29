/**
 * The Database controller end to end in memory: a 1-replica DoltDB, then a Database with system branches and
 * dolt_ignore patterns created on its primary, left alone once converged, and dropped on deletion.
 */

import { SqlResources } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, resource } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, DoltWrites, KubeWrites, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, setupDoltDB } from "./fixtures.ts"

const ns = "default"
const apiVersion = "k8s.dolthub.com/v1alpha"
/** The admin user: a password that needs quoting. */
const admin = { adminPassword: "s3cret!'pw" }
const rawDatabases = resource({ apiVersion, kind: "Database", plural: "databases", namespaced: true })

const get = (res: typeof rawDoltDBs, name: string) =>
  Effect.flatMap(Kube, (kube) =>
    kube.get(res, name, { namespace: ns }).pipe(Effect.catch(() => Effect.succeed(undefined)))
  )

const condition = (o: KubeObject | undefined, type: string) =>
  (
    (o?.status as { conditions?: ReadonlyArray<{ type: string; status: string; reason: string }> } | undefined)
      ?.conditions ?? []
  ).find((c) => c.type === type)

const ready = (res: typeof rawDoltDBs, name: string) =>
  Effect.map(get(res, name), (o) => condition(o, "Ready")?.status === "True")

/** The DoltDB's only pod, addressed as the operator addresses it. */
const primaryTarget = adminTarget("db-0", admin)

/** The admin Secret and a 1-replica DoltDB, run until Ready. */
const doltdbReady = setupDoltDB({ ...admin, replicas: 1 })

describe("Database controller in memory", () => {
  it.effect(
    "creates the database, its branches and committed dolt_ignore patterns; no writes once converged; drops it on deletion",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        const kube = yield* Kube
        yield* doltdbReady
        yield* kube.create(rawDatabases, {
          apiVersion,
          kind: "Database",
          metadata: { name: "app", namespace: ns },
          spec: {
            doltDBRef: { name: "db" },
            name: "app",
            systemBranches: ["dev", "qa"],
            doltIgnorePatterns: ["tmp_*", "scratch"],
            cleanupPolicy: "Delete"
          }
        } as unknown as KubeObject)
        const took = yield* runUntil(ready(rawDatabases, "app"), { limitMillis: 120_000 })
        assert.isAtLeast(took, 0, "the Database never became Ready")

        const dolt = yield* Dolt
        const target = yield* primaryTarget
        assert.include(yield* dolt.listDatabases(target), "app")
        assert.deepStrictEqual((yield* dolt.listBranches(target, "app")).map((b) => b.name).sort(), [
          "dev",
          "main",
          "qa"
        ])
        assert.deepStrictEqual([...(yield* dolt.ignorePatterns(target, "app"))].sort(), ["scratch", "tmp_*"])
        const app = yield* get(rawDatabases, "app")
        assert.include(app?.metadata.finalizers ?? [], SqlResources.Finalizers.Database)
        assert.strictEqual((app?.status as { databaseName?: string } | undefined)?.databaseName, "app")
        assert.strictEqual(operator.doltCalls.total(["createDatabase"]), 1)
        assert.strictEqual(operator.doltCalls.total(["ensureIgnorePatterns"]), 1)
        assert.strictEqual(operator.doltCalls.total(["ensureBranches"]), 1)

        // Converged: the drift checks (every 30 s) read, and write nothing, to Dolt or to the API server.
        yield* runUntil(Effect.succeed(false), { limitMillis: 5_000 })
        const kubeBefore = operator.kubeCalls.total(KubeWrites)
        const doltBefore = operator.doltCalls.total(DoltWrites)
        const checksBefore = operator.doltCalls.total(["ignorePatterns"])
        yield* runUntil(Effect.succeed(false), { limitMillis: 60_000 })
        assert.strictEqual(operator.doltCalls.total(DoltWrites) - doltBefore, 0, "Dolt writes in steady state")
        assert.strictEqual(operator.kubeCalls.total(KubeWrites) - kubeBefore, 0, "API writes in steady state")
        assert.isAtLeast(operator.doltCalls.total(["ignorePatterns"]) - checksBefore, 2, "the drift checks ran")

        // Deletion (cleanupPolicy Delete): the database is dropped, then the finalizer is released.
        yield* kube.delete(rawDatabases, "app", { namespace: ns })
        const gone = Effect.map(get(rawDatabases, "app"), (o) => o === undefined)
        assert.isAtLeast(yield* runUntil(gone, { limitMillis: 60_000 }), 0, "the finalizer was never released")
        assert.notInclude(yield* dolt.listDatabases(target), "app")
        assert.strictEqual(operator.doltCalls.total(["dropDatabase"]), 1)
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed: 7 })))),
    60_000
  )

  it.effect(
    "adopts an existing database (spec.adopt): nothing created, a charset that differs from the spec is reported, not altered",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        const kube = yield* Kube
        yield* doltdbReady
        const dolt = yield* Dolt
        const target = yield* primaryTarget
        yield* dolt.createDatabase(target, { name: "legacy", charset: "latin1", collation: "latin1_swedish_ci" })
        yield* kube.create(rawDatabases, {
          apiVersion,
          kind: "Database",
          metadata: { name: "legacy", namespace: ns },
          spec: { doltDBRef: { name: "db" }, name: "legacy", cleanupPolicy: "Skip", adopt: true }
        } as unknown as KubeObject)
        assert.isAtLeast(yield* runUntil(ready(rawDatabases, "legacy"), { limitMillis: 120_000 }), 0)
        const legacy = yield* get(rawDatabases, "legacy")
        const cs = condition(legacy, SqlResources.CharsetCollationCondition)
        assert.strictEqual(cs?.status, "False")
        assert.strictEqual(cs?.reason, "ChangeNotApplied")
        assert.strictEqual(operator.doltCalls.total(DoltWrites), 0, "nothing to create or commit")
        assert.deepStrictEqual(yield* dolt.databaseDefaults(target, "legacy"), {
          charset: "latin1",
          collation: "latin1_swedish_ci"
        })

        // cleanupPolicy Skip: deleting the object leaves the database in place.
        yield* kube.delete(rawDatabases, "legacy", { namespace: ns })
        const gone = Effect.map(get(rawDatabases, "legacy"), (o) => o === undefined)
        assert.isAtLeast(yield* runUntil(gone, { limitMillis: 60_000 }), 0, "the finalizer was never released")
        assert.include(yield* dolt.listDatabases(target), "legacy")
        assert.strictEqual(operator.doltCalls.total(["dropDatabase"]), 0)
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed: 8 })))),
    60_000
  )
})
