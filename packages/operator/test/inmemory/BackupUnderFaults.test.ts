/**
 * Backups under faults, in memory: a writer keeps committing through `<name>-primary` while a Backup runs and the
 * primary's node is lost (failover), or a switchover is requested, at seeded times. Whatever happens, a Backup that
 * Completed holds a state the cluster kept: every write in the backed-up root is in the current primary's root,
 * and every one of them was acknowledged to its client.
 */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Pods, resource } from "@doltdb-op/core/services/Kube"
import { DoltModel } from "@doltdb-op/dolt"
import { SimCluster } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, HashSet, Layer } from "effect"
import { TestClock } from "effect/testing"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, isReady, setupDoltDB } from "./fixtures.ts"

const ns = "default"
const apiVersion = "k8s.dolthub.com/v1alpha"
const rawBackups = resource({ apiVersion, kind: "Backup", plural: "backups", namespaced: true })
const primaryHost = "db-primary.default.svc.cluster.local"

const get = (res: typeof rawDoltDBs, name: string) =>
  Effect.flatMap(Kube, (kube) =>
    kube.get(res, name, { namespace: ns }).pipe(Effect.catch(() => Effect.succeed(undefined)))
  )
const status = (o: KubeObject | undefined) => (o?.status ?? {}) as Record<string, unknown>

type Fault = "failover" | "switchover"

const scenario = (seed: number, fault: Fault, faultAfterMillis: number) =>
  Effect.gen(function* () {
    yield* startOperator()
    const kube = yield* Kube
    const model = yield* DoltModel.DoltCluster
    const sim = yield* SimCluster
    yield* setupDoltDB()
    yield* (yield* Dolt).createDatabase(yield* adminTarget("db-0"), { name: "app" })
    yield* runUntil(Effect.succeed(false), { limitMillis: 3_000 })

    // A writer: one commit every 200 ms through the primary Service, whatever answers.
    let i = 0
    const writer = yield* Effect.forkChild(
      Effect.forever(
        Effect.gen(function* () {
          i += 1
          yield* model.write(primaryHost, "app", `k${i}`, `v${i}`)
          yield* Effect.sleep(200)
        })
      )
    )
    yield* kube.create(rawBackups, {
      apiVersion,
      kind: "Backup",
      metadata: { name: "bk", namespace: ns },
      spec: { doltDBRef: { name: "db" }, storage: { local: { path: "/db/backups" } }, backoffLimit: 3 }
    } as unknown as KubeObject)
    yield* runUntil(Effect.succeed(false), { limitMillis: faultAfterMillis, stepMillis: 50 })
    const primary = status(yield* get(rawDoltDBs, "db")).currentPrimaryPodIndex as number
    if (fault === "failover") yield* sim.nodeLost(sim.nodeOf(ns, `db-${primary}`)!)
    else
      yield* kube.mergePatch(
        rawDoltDBs,
        "db",
        { spec: { replication: { primary: { podIndex: (primary + 1) % 3 } } } },
        { namespace: ns }
      )
    const finished = Effect.map(get(rawBackups, "bk"), (o) => ["Completed", "Failed"].includes(String(status(o).phase)))
    const took = yield* runUntil(finished, { limitMillis: 600_000, stepMillis: 500 })
    assert.isAtLeast(took, 0, `backup never finished: ${JSON.stringify(yield* get(rawBackups, "bk"))}`)
    yield* runUntil(isReady(), { limitMillis: 300_000 })
    yield* Fiber.interrupt(writer)
    yield* TestClock.adjust(1)

    const bk = status(yield* get(rawBackups, "bk"))
    assert.strictEqual(bk.phase, "Completed", `seed ${seed}, ${fault} at ${faultAfterMillis} ms: ${String(bk.error)}`)
    const saved = model.backupStore.get("file:///db/backups/app")
    assert.isDefined(saved, "nothing stored for a Completed backup")
    const now = status(yield* get(rawDoltDBs, "db")).currentPrimaryPodIndex as number
    const server = (yield* model.serverAt(
      ((yield* kube.get(Pods, `db-${now}`, { namespace: ns })).status as { podIP: string }).podIP
    ))!
    const kept = server.data.databases.get("app")!.root.writes
    const acked = new Set((yield* model.ledger).filter((e) => e.outcome === "acked").map((e) => e.id))
    for (const id of saved!.root.writes) {
      assert.isTrue(HashSet.has(kept, id), `seed ${seed}: backed-up write ${id} is not in the primary's data`)
      assert.isTrue(acked.has(id), `seed ${seed}: backed-up write ${id} was never acknowledged`)
    }
  })

describe("backups under faults, in memory", () => {
  const cases: ReadonlyArray<[number, Fault, number]> = [
    [21, "failover", 300],
    [22, "failover", 900],
    [23, "switchover", 200],
    [24, "switchover", 1_100]
  ]
  for (const [seed, fault, at] of cases)
    it.effect(
      `seed ${seed}: ${fault} ${at} ms into the backup; the Completed copy is a state the cluster kept`,
      () => scenario(seed, fault, at).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed })))),
      120_000
    )
})
