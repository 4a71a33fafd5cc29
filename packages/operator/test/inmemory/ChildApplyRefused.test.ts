/**
 * A child the API server keeps refusing cannot hold up a failover (issue #12 §5). The DoltDB's plan stops at its
 * first failing action, so the replication steps (fencing, promotion, role labels, the status that records them)
 * run before any child apply: here RBAC refuses every apply of the PodDisruptionBudget (as when the operator's role
 * lacks `policy/poddisruptionbudgets`) from before the primary's node is lost until the end.
 */
import { Builders } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import {
  Forbidden,
  Kube,
  type KubeObject,
  type KubeShape,
  PodDisruptionBudgets,
  Services
} from "@doltdb-op/core/services/Kube"
import { DoltModel } from "@doltdb-op/dolt"
import { SimCluster } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, setupDoltDB } from "./fixtures.ts"

const ns = "default"

/** The operator's Kube, refusing every apply of a PodDisruptionBudget while `refusing.on`; counts the refusals. */
const refusingBudgets = (kube: KubeShape, refusing: { on: boolean; count: number }): KubeShape => ({
  ...kube,
  apply: (res, config, options) => {
    if (!refusing.on || config.kind !== "PodDisruptionBudget") return kube.apply(res, config, options)
    refusing.count++
    return Effect.fail(
      new Forbidden({
        verb: "apply",
        kind: config.kind,
        namespace: ns,
        name: config.metadata.name,
        message: 'poddisruptionbudgets.policy "db-pdb" is forbidden: cannot patch resource "poddisruptionbudgets"'
      })
    )
  }
})

const status = (o: KubeObject | undefined) => (o?.status ?? {}) as Record<string, unknown>
const doltdb = Effect.flatMap(Kube, (kube) =>
  kube.get(rawDoltDBs, "db", { namespace: ns }).pipe(Effect.catch(() => Effect.succeed(undefined)))
)

describe("a child apply the API server keeps refusing", () => {
  it.effect(
    "RBAC refuses the PodDisruptionBudget while the primary's node is lost: the failover still completes and writes resume",
    () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const refusing = { on: false, count: 0 }
        yield* startOperator().pipe(Effect.provideService(Kube, refusingBudgets(kube, refusing)))
        yield* setupDoltDB()
        const dolt = yield* DoltModel.DoltCluster
        const sql = yield* Dolt
        yield* sql.createDatabase(yield* adminTarget("db-0"), { name: "app" })
        // Let the database replicate, so the standbys are caught up when the primary is lost.
        yield* runUntil(Effect.succeed(false), { limitMillis: 3_000 })

        // From now on the budget cannot be applied; it is gone, so every pass of the DoltDB tries to apply it.
        refusing.on = true
        yield* kube.delete(PodDisruptionBudgets, "db-pdb", { namespace: ns })
        const refused = yield* runUntil(
          Effect.sync(() => refusing.count >= 2),
          { limitMillis: 30_000 }
        )
        assert.isAtLeast(refused, 0, "the operator never tried to re-apply the PodDisruptionBudget")

        const sim = yield* SimCluster
        yield* sim.nodeLost(sim.nodeOf(ns, "db-0")!)
        const before = refusing.count
        const moved = Effect.map(doltdb, (d) => {
          const s = status(d)
          return s.currentPrimary !== undefined && s.currentPrimary !== "db-0" && s.primaryTransition === undefined
        })
        assert.isAtLeast(
          yield* runUntil(moved, { limitMillis: 120_000 }),
          0,
          `the failover did not complete: ${JSON.stringify(status(yield* doltdb))}`
        )
        const after = status(yield* doltdb)
        assert.isAtLeast(after.replicationEpoch as number, 2)
        const servers = yield* dolt.servers
        const top = Math.max(...servers.map((s) => s.epoch))
        assert.strictEqual(servers.filter((s) => s.running && s.role === "primary" && s.epoch === top).length, 1)
        const primary = yield* kube.get(Services, "db-primary", { namespace: ns })
        assert.strictEqual(
          (primary.spec as { selector: Record<string, string> }).selector[Builders.PodNameLabel],
          after.currentPrimary
        )
        const acked = Effect.map(
          dolt.write("db-primary.default.svc.cluster.local", "app", "after", "failover"),
          (w) => w.outcome === "acked"
        )
        assert.isAtLeast(yield* runUntil(acked, { limitMillis: 30_000 }), 0, "writes did not resume")
        // The budget was refused all along: the failover went through while the child kept failing.
        assert.isAbove(refusing.count, before, "the PodDisruptionBudget was not retried during the failover")
        const budgets = yield* kube.list(PodDisruptionBudgets, { namespace: ns })
        assert.deepStrictEqual(
          budgets.items.map((b) => b.metadata.name),
          []
        )
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed: 3 })))),
    60_000
  )
})
