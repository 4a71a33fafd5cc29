/**
 * Deleting the primary's pod (a drain, an eviction, `kubectl delete pod`) while a standby lags: the graceful
 * hand-over cannot complete (Dolt's graceful demotion waits for every standby, 10 s at most), and the deletion must
 * still fail over promptly, fencing first. Regression for the e2e flake "deleting the primary pod fails over": the
 * failover's fence retried the graceful demotion until the transition's 60 s timeout, and the old primary came back
 * primary.
 */

import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject } from "@doltdb-op/core/services/Kube"
import { DoltModel } from "@doltdb-op/dolt"
import { SimCluster } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, podIP, setupDoltDB } from "./fixtures.ts"

const ns = "default"

const status = (o: KubeObject | undefined) => (o?.status ?? {}) as Record<string, unknown>
const get = Effect.flatMap(Kube, (kube) =>
  kube.get(rawDoltDBs, "db", { namespace: ns }).pipe(Effect.catch(() => Effect.succeed(undefined)))
)

describe("deleting the primary's pod while a standby lags", () => {
  it.effect.each([
    { seed: 11, preStopDemote: false as const, why: "the preStop's hand-over fails" },
    { seed: 12, preStopDemote: false as const, why: "the preStop's hand-over fails" },
    { seed: 13, preStopDemote: 1, why: "the preStop hands over to the caught-up standby" }
  ])(
    "fails over promptly, fences first, loses no acknowledged write: $why (seed $seed)",
    ({ seed, preStopDemote }) =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupDoltDB()
        const dolt = yield* DoltModel.DoltCluster
        const sql = yield* Dolt
        yield* sql.createDatabase(yield* adminTarget("db-0"), { name: "app" })
        yield* runUntil(Effect.succeed(false), { limitMillis: 3_000 })
        // A client writing every 100 ms through db-primary; db-2 receives every push 120 s late, so it lags (and
        // the old primary, which waits for its standbys after SIGTERM, lingers until the grace period ends).
        let n = 0
        yield* Effect.forkChild(
          Effect.forever(
            Effect.andThen(
              Effect.suspend(() => dolt.write("db-primary.default.svc.cluster.local", "app", `k${++n}`, `v${n}`)),
              Effect.sleep(100)
            )
          )
        )
        yield* dolt.setReplicationDelay(yield* podIP("db-2"), "120 seconds")
        yield* runUntil(Effect.succeed(false), { limitMillis: 2_000 })

        // At most one writable primary at every step.
        let twoPrimaries = 0
        const moved = Effect.gen(function* () {
          const servers = yield* dolt.servers
          const writable = servers.filter((s) => s.running && s.role === "primary")
          const top = Math.max(...servers.map((s) => s.epoch))
          if (writable.filter((s) => s.epoch === top).length > 1) twoPrimaries++
          const s = status(yield* get)
          return s.currentPrimary !== undefined && s.currentPrimary !== "db-0" && s.primaryTransition === undefined
        })
        const sim = yield* SimCluster
        yield* sim.deletePod(ns, "db-0")
        const took = yield* runUntil(moved, { limitMillis: 120_000, stepMillis: 100 })
        assert.isAtLeast(took, 0, `no failover: ${JSON.stringify(status(yield* get))}`)
        // The hand-over window is 12 s (Dolt's graceful wait is 10 s); the pod's grace period and the transition
        // timeout are 60 s, which is what it took before the old primary was fenced by force.
        assert.isAtMost(took, 20_000, `the failover took ${took} ms`)
        assert.strictEqual(twoPrimaries, 0, "two writable primaries at the same epoch")
        yield* runUntil(Effect.succeed(false), { limitMillis: 3_000 })
        assert.deepStrictEqual(yield* dolt.lostAcknowledgedWrites(), [], "acknowledged writes lost")
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed, termWaitsForStandbys: true, preStopDemote })))),
    120_000
  )
})
