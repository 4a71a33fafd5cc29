/**
 * A standby that keeps refusing the primary's pushes as `Unauthenticated` (a real Dolt standby whose key fetch is
 * stuck on a re-created peer's old address: e2e figures runs 6 and 7; the model's `refusesCredentials` fault) is
 * restarted by the operator once the bound has passed, with a `StandbyRestarted` Warning; the new process accepts
 * the primary again, catches up, and is not restarted again. The primary stays where it is throughout.
 */
import { Replication } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Events, Kube, type KubeObject, Pods } from "@doltdb-op/core/services/Kube"
import { DoltModel } from "@doltdb-op/dolt"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, podIP, setupDoltDB } from "./fixtures.ts"

const ns = "default"

const uidOf = (pod: string) =>
  Effect.flatMap(Kube, (kube) =>
    kube.get(Pods, pod, { namespace: ns }).pipe(
      Effect.map((p) => p.metadata.uid),
      Effect.catch(() => Effect.succeed(undefined))
    )
  )

const status = Effect.flatMap(Kube, (kube) =>
  kube.get(rawDoltDBs, "db", { namespace: ns }).pipe(
    Effect.map((d: KubeObject) => (d.status ?? {}) as Record<string, unknown>),
    Effect.catch(() => Effect.succeed({} as Record<string, unknown>))
  )
)

const verdictOf = (pod: string) =>
  Effect.map(status, (s) => {
    const evidence = s.replicationEvidence as { standbys?: ReadonlyArray<{ pod: string; caughtUp: boolean }> }
    return evidence?.standbys?.find((v) => v.pod === pod)?.caughtUp
  })

const restartWarnings = Effect.flatMap(Kube, (kube) =>
  Effect.map(kube.list(Events, { namespace: ns }), (list) =>
    list.items.filter((e) => e.reason === "StandbyRestarted").map((e) => String(e.note))
  )
)

describe("a standby that refuses the primary's credentials", () => {
  it.effect(
    "is restarted past the bound, accepts the primary again and is restarted only once",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupDoltDB()
        const dolt = yield* DoltModel.DoltCluster
        const sql = yield* Dolt
        yield* sql.createDatabase(yield* adminTarget("db-0"), { name: "app" })
        const writing = Effect.map(dolt.write("db-primary.default.svc.cluster.local", "app", "k", "v"), () => false)
        yield* runUntil(writing, { limitMillis: 3_000 })
        assert.isTrue(yield* verdictOf("db-1"), "db-1 was not caught up before the fault")

        const before = yield* uidOf("db-1")
        yield* dolt.setFault(yield* podIP("db-1"), { refusesCredentials: true })
        // Writes go on (asynchronous replication): the primary keeps pushing, and db-1 keeps refusing.
        const restarted = Effect.gen(function* () {
          yield* dolt.write("db-primary.default.svc.cluster.local", "app", "k", "v").pipe(Effect.ignore)
          const uid = yield* uidOf("db-1")
          return uid !== undefined && uid !== before
        })
        const after = yield* runUntil(restarted, { limitMillis: 4 * Replication.StuckStandbyMillis })
        assert.isAtLeast(after, 0, "db-1 was never restarted")
        assert.isAtLeast(after, Replication.StuckStandbyMillis, "restarted before the bound")
        const warnings = yield* restartWarnings
        assert.strictEqual(warnings.length, 1)
        assert.include(warnings[0]!, "standby db-1 has refused primary db-0's credentials")

        // The new process accepts the primary again: caught up, and left alone from then on.
        const caughtUp = Effect.map(verdictOf("db-1"), (v) => v === true)
        assert.isAtLeast(yield* runUntil(caughtUp, { limitMillis: 30_000 }), 0, "db-1 never caught up again")
        const restartedUid = yield* uidOf("db-1")
        yield* runUntil(Effect.succeed(false), { limitMillis: 2 * Replication.StuckStandbyMillis })
        assert.strictEqual(yield* uidOf("db-1"), restartedUid, "db-1 was restarted again")
        assert.strictEqual((yield* restartWarnings).length, 1)
        assert.strictEqual((yield* status).currentPrimary, "db-0")
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed: 5 })))),
    60_000
  )
})
