/**
 * A DoltDB whose children the API server would refuse for their size (issue #13 §4), end to end in memory: the
 * operator creates none of them, says so on the DoltDB (Ready False, ChildTooLarge, naming the ConfigMap and its
 * size) with one Warning event, and proceeds once the spec is fixed.
 */
import { ConfigMaps, Events, Kube, type KubeObject, StatefulSets } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { createDoltDB } from "./fixtures.ts"

const ns = "big"
const readyOf = (o: KubeObject | undefined) =>
  (
    (o?.status as { conditions?: ReadonlyArray<{ type: string; reason: string; message?: string }> } | undefined)
      ?.conditions ?? []
  ).find((c) => c.type === "Ready")

describe("children over the API server's size limits, in memory", () => {
  it.effect(
    "32 replicas with 40 KB of metrics labels: no child created, Ready False ChildTooLarge, one Warning; fixed spec proceeds",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        const kube = yield* Kube
        const metricsLabels = (team: string) => ({ server: { metrics: { enabled: true, labels: { team } } } })
        yield* createDoltDB({ namespace: ns, replicas: 32, spec: metricsLabels("x".repeat(40_000)) })
        const doltdb = kube.get(rawDoltDBs, "db", { namespace: ns })
        const reported = yield* runUntil(
          Effect.map(doltdb, (o) => readyOf(o)?.reason === "ChildTooLarge"),
          { limitMillis: 60_000 }
        )
        assert.isAtLeast(reported, 0, `Ready: ${JSON.stringify(readyOf(yield* doltdb))}`)
        assert.match(
          readyOf(yield* doltdb)?.message ?? "",
          /^ConfigMap db-config data is [\d,]+ bytes, over the API server's limit of 1,048,576 bytes/u
        )
        // A while later: still nothing applied, and one event, not one per pass.
        yield* runUntil(Effect.succeed(false), { limitMillis: 60_000 })
        assert.deepStrictEqual((yield* kube.list(ConfigMaps, { namespace: ns })).items, [])
        assert.deepStrictEqual((yield* kube.list(StatefulSets, { namespace: ns })).items, [])
        const warnings = (yield* kube.list(Events, { namespace: ns })).items.filter(
          (e) => (e as { reason?: string }).reason === "ChildTooLarge"
        )
        assert.strictEqual(warnings.length, 1, "one Warning event")
        assert.strictEqual((warnings[0] as { type?: string }).type, "Warning")

        // The fix: shorter labels. The children appear.
        const current = yield* doltdb
        yield* kube.replace(rawDoltDBs, {
          ...current,
          spec: { ...(current.spec as Record<string, unknown>), ...metricsLabels("x") }
        } as KubeObject)
        const created = yield* runUntil(
          Effect.map(kube.list(StatefulSets, { namespace: ns }), (list) => list.items.length === 1),
          { limitMillis: 60_000 }
        )
        assert.isAtLeast(created, 0, "the StatefulSet was never created after the fix")
        assert.notStrictEqual(readyOf(yield* doltdb)?.reason, "ChildTooLarge")
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed: 7 })))),
    120_000
  )
})
