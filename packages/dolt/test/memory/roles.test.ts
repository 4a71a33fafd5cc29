/** The model's behaviour table, dolt-cluster.md §2.1-§2.3: roles, epochs, assume-role and graceful transitions. */
import { Dolt, standbysCaughtUp } from "@doltdb-op/core/services/Dolt"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber } from "effect"
import { DoltCluster, ModelPods } from "../../src/memory/index.ts"
import { boot, during, inWorld, pods, roleOf, session, tick } from "./harness.ts"

const three = pods(3)

describe("§2.1 system variables", () => {
  it.effect(
    "role and epoch come from @@global.dolt_cluster_role/_epoch: bootstrap primary and standbys at epoch 1",
    () =>
      inWorld(
        Effect.gen(function* () {
          const { targets } = yield* boot(three)
          assert.deepStrictEqual(yield* Effect.forEach(targets, roleOf), ["primary@1", "standby@1", "standby@1"])
        })
      )
  )
  it.effect("a server without a cluster section has no dolt_cluster_role variable", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(pods(1))
        const dolt = yield* Dolt
        const e = yield* Effect.flip(dolt.roleAndEpoch(targets[0]!))
        assert.strictEqual(e._tag, "DoltSqlError")
        assert.include(e.message, "Unknown system variable '@@global.dolt_cluster_role'")
        assert.strictEqual((yield* Effect.flip(dolt.clusterStatus(targets[0]!)))._tag, "DoltSqlError")
        // dolt 1.86.4 panics on the procedure without a cluster config; the client loses the connection.
        const lost = yield* Effect.flip(dolt.assumeRole(targets[0]!, "primary", 1))
        assert.strictEqual(lost._tag, "DoltUnreachable")
      })
    )
  )
})

describe("§2.2 dolt_assume_cluster_role", () => {
  it.effect("same role and same epoch is a no-op that does not taint the connection", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(three)
        const s = yield* session(targets[0]!)
        yield* s.assumeRole("primary", 1)
        assert.strictEqual((yield* s.roleAndEpoch).role, "primary")
      })
    )
  )
  it.effect("'detected_broken_config' cannot be assumed", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(three)
        const s = yield* session(targets[1]!)
        const e = yield* Effect.flip(s.assumeRole("detected_broken_config", 5))
        assert.include(e.message, "cannot set role to detected_broken_config")
      })
    )
  )
  it.effect("an invalid role is rejected", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(three)
        const e = yield* Effect.flip((yield* session(targets[1]!)).assumeRole("leader", 5))
        assert.strictEqual(e._tag, "DoltSqlError")
        assert.include(e.message, "valid roles are 'primary' and 'standby'")
      })
    )
  )
  it.effect("a lower epoch is rejected: already at epoch C", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(three)
        const dolt = yield* Dolt
        yield* dolt.assumeRole(targets[1]!, "standby", 4)
        const e = yield* Effect.flip(dolt.assumeRole(targets[1]!, "primary", 3))
        assert.strictEqual(e._tag, "DoltEpochConflict")
        assert.include(e.message, "error assuming role 'primary' at epoch 3; already at epoch 4")
      })
    )
  )
  it.effect("the same epoch with a different role is rejected", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(three)
        const e = yield* Effect.flip((yield* Dolt).assumeRole(targets[1]!, "primary", 1))
        assert.strictEqual(e._tag, "DoltEpochConflict")
        assert.include(e.message, "already at epoch 1 with different role, 'standby'")
      })
    )
  )
  it.effect("a higher epoch with the same role just adopts the epoch", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(three)
        const s = yield* session(targets[1]!)
        yield* s.assumeRole("standby", 10)
        yield* s.assumeRole("standby", 12)
        assert.strictEqual(yield* roleOf(targets[1]!), "standby@12")
        // No role change: the connection is still usable.
        assert.strictEqual((yield* s.roleAndEpoch).epoch, 12)
      })
    )
  )
  it.effect(
    "primary -> standby is graceful: it waits for the standbys, kills other connections, then is read-only",
    () =>
      inWorld(
        Effect.gen(function* () {
          const { targets, host } = yield* boot(three)
          const dolt = yield* Dolt
          const cluster = yield* DoltCluster
          yield* dolt.createDatabase(targets[0]!, { name: "app" })
          yield* cluster.write(host(0), "app", "k", "v")
          const other = yield* session(targets[0]!)
          yield* during(dolt.assumeRole(targets[0]!, "standby", 2), 200)
          assert.strictEqual(yield* roleOf(targets[0]!), "standby@2")
          assert.strictEqual((yield* Effect.flip(other.roleAndEpoch))._tag, "DoltUnreachable")
          assert.strictEqual((yield* cluster.write(host(0), "app", "k", "w")).outcome, "failed")
          // Everything the primary had reached both standbys before it stepped down.
          assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "v")
          assert.strictEqual(yield* cluster.read(host(2), "app", "k"), "v")
        })
      )
  )
  it.effect(
    "a graceful transition with a standby down fails after 10 s; the server stays primary at its old epoch",
    () =>
      inWorld(
        Effect.gen(function* () {
          const { targets, processes } = yield* boot(three)
          const dolt = yield* Dolt
          yield* dolt.createDatabase(targets[0]!, { name: "app" })
          yield* processes[2]!.stop("KILL")
          const fiber = yield* Effect.forkChild(Effect.flip(dolt.assumeRole(targets[0]!, "standby", 2)), {
            startImmediately: true
          })
          yield* tick(9_900)
          assert.isUndefined(fiber.pollUnsafe(), "the transition gave up before Dolt's 10 s")
          yield* tick(200)
          const e = yield* Fiber.join(fiber)
          assert.strictEqual(e._tag, "DoltNotCaughtUp")
          assert.include(e.message, "could not replicate databases to standby in a timely manner")
          assert.strictEqual(yield* roleOf(targets[0]!), "primary@1")
        })
      )
  )
  it.effect("a role change during the graceful wait fails the transition: 'the role configuration changed'", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, processes } = yield* boot(three)
        const dolt = yield* Dolt
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        yield* tick(100)
        yield* processes[2]!.stop("KILL")
        // Something db-2 does not have yet, so the transition has to wait for it.
        yield* (yield* DoltCluster).write(ModelPods.podHost(three, 0), "app", "k", "v")
        const fiber = yield* Effect.forkChild(Effect.flip(dolt.assumeRole(targets[0]!, "standby", 2)), {
          startImmediately: true
        })
        yield* tick(1_000)
        // Meanwhile db-1 is promoted at a higher epoch; its first push demotes db-0 under the waiting transition.
        yield* dolt.assumeRole(targets[1]!, "primary", 5)
        yield* tick(10_000)
        const e = yield* Fiber.join(fiber)
        assert.strictEqual(e._tag, "DoltEpochConflict")
        assert.include(e.message, "the role configuration changed while we were replicating")
        assert.strictEqual(yield* roleOf(targets[0]!), "standby@5")
      })
    )
  )
  it.effect("standby -> primary is read-write at once and kills the other connections", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, host } = yield* boot(pods(2))
        const dolt = yield* Dolt
        const cluster = yield* DoltCluster
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        yield* tick(100)
        yield* dolt.assumeRole(targets[0]!, "standby", 2)
        const other = yield* session(targets[1]!)
        yield* dolt.assumeRole(targets[1]!, "primary", 2)
        assert.strictEqual((yield* Effect.flip(other.roleAndEpoch))._tag, "DoltUnreachable")
        assert.strictEqual((yield* cluster.write(host(1), "app", "k", "v")).outcome, "acked")
      })
    )
  )
  it.effect("a successful role change taints the calling connection; a fresh connection works", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(three)
        const s = yield* session(targets[1]!)
        yield* s.assumeRole("primary", 2)
        const e = yield* Effect.flip(s.roleAndEpoch)
        assert.strictEqual(e._tag, "DoltConnectionTainted")
        assert.include(e.message, "this connection can no longer be used")
        assert.strictEqual(yield* roleOf(targets[1]!), "primary@2")
      })
    )
  )
  it.effect("role and epoch persist across a restart when DOLT_ROOT_PATH is on the volume", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, processes } = yield* boot(three)
        yield* (yield* Dolt).assumeRole(targets[1]!, "primary", 13)
        yield* processes[1]!.stop("KILL")
        yield* ModelPods.startPod(three, 1, 1)
        assert.strictEqual(yield* roleOf(targets[1]!), "primary@13")
      })
    )
  )
  it.effect("without DOLT_ROOT_PATH on the volume a restart falls back to bootstrap_role and bootstrap_epoch", () =>
    inWorld(
      Effect.gen(function* () {
        const o = pods(3, { rootPathOnVolume: false })
        const { targets, processes } = yield* boot(o)
        yield* (yield* Dolt).assumeRole(targets[1]!, "primary", 13)
        yield* processes[1]!.stop("KILL")
        yield* ModelPods.startPod(o, 1, 1)
        assert.strictEqual(yield* roleOf(targets[1]!), "standby@1")
      })
    )
  )
  it.effect("bootstrap values are ignored once a role is persisted", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, processes } = yield* boot(three)
        yield* during((yield* Dolt).assumeRole(targets[0]!, "standby", 2), 200)
        yield* processes[0]!.stop("TERM")
        yield* ModelPods.startPod(three, 0, 1)
        assert.strictEqual(yield* roleOf(targets[0]!), "standby@2")
      })
    )
  )
})

describe("§2.3 dolt_cluster_transition_to_standby", () => {
  it.effect("returns one row per database and standby, plus mysql and dolt_branch_control", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(three)
        const dolt = yield* Dolt
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        const rows = yield* during(dolt.transitionToStandby(targets[0]!, 2, 1), 200)
        assert.deepStrictEqual(
          rows.map((r) => `${r.caughtUp ? 1 : 0} ${r.database} ${r.remote} ${r.remoteUrl}`).sort(),
          [
            "1 app db-1 http://db-1.db-internal.ns.svc.cluster.local:50051/app",
            "1 app db-2 http://db-2.db-internal.ns.svc.cluster.local:50051/app",
            "1 dolt_branch_control db-1 http://db-1.db-internal.ns.svc.cluster.local:50051",
            "1 dolt_branch_control db-2 http://db-2.db-internal.ns.svc.cluster.local:50051",
            "1 mysql db-1 http://db-1.db-internal.ns.svc.cluster.local:50051",
            "1 mysql db-2 http://db-2.db-internal.ns.svc.cluster.local:50051"
          ]
        )
        assert.strictEqual(yield* roleOf(targets[0]!), "standby@2")
      })
    )
  )
  it.effect("with min_caught_up it succeeds once enough standby hosts caught up on every database", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, host } = yield* boot(three)
        const dolt = yield* Dolt
        const cluster = yield* DoltCluster
        const world = yield* SimWorld
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        yield* tick(100)
        yield* world.cutBoth("ns/db-0", "ns/db-2")
        yield* cluster.write(host(0), "app", "k", "v")
        const rows = yield* during(dolt.transitionToStandby(targets[0]!, 2, 1), 10_100)
        const hosts = standbysCaughtUp(rows)
        assert.deepStrictEqual(
          hosts.map((h) => [h.hostname, h.caughtUp]),
          [
            ["db-1.db-internal.ns.svc.cluster.local", true],
            ["db-2.db-internal.ns.svc.cluster.local", false]
          ]
        )
      })
    )
  )
  it.effect("too few caught-up standbys: 'could not ensure N replicas were caught up', still primary", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, processes } = yield* boot(three)
        const dolt = yield* Dolt
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        yield* processes[1]!.stop("KILL")
        yield* processes[2]!.stop("KILL")
        const e = yield* during(Effect.flip(dolt.transitionToStandby(targets[0]!, 2, 1)), 10_100)
        assert.strictEqual(e._tag, "DoltNotCaughtUp")
        assert.include(e.message, "could not ensure 1 replicas were caught up on all 3 databases. Only caught up 0")
        assert.strictEqual(yield* roleOf(targets[0]!), "primary@1")
      })
    )
  )
  it.effect("on a standby it fails as the read-only server it is", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(three)
        const e = yield* Effect.flip((yield* Dolt).transitionToStandby(targets[1]!, 2, 1))
        assert.strictEqual(e._tag, "DoltReadOnly")
      })
    )
  )
  it.effect("the epoch must be higher than the primary's own", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(three)
        const e = yield* Effect.flip((yield* Dolt).transitionToStandby(targets[0]!, 1, 1))
        assert.strictEqual(e._tag, "DoltEpochConflict")
        const now = yield* Clock.currentTimeMillis
        assert.strictEqual(now, 0)
      })
    )
  )
})

describe("the modelled preStop hook (as Probes.buildPreStop writes it)", () => {
  it.effect("a primary being stopped hands over gracefully: standby at epoch + 1 once its standbys caught up", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, processes } = yield* boot(three)
        yield* (yield* Dolt).createDatabase(targets[0]!, { name: "app" })
        yield* tick(100)
        yield* processes[0]!.preStop
        assert.strictEqual(yield* roleOf(targets[0]!), "standby@2")
      })
    )
  )
  it.effect("without a reachable standby the primary stays primary after Dolt's 10 s wait", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, processes } = yield* boot(three)
        yield* processes[1]!.stop("KILL")
        yield* processes[2]!.stop("KILL")
        yield* during(processes[0]!.preStop, 10_100)
        assert.strictEqual(yield* roleOf(targets[0]!), "primary@1")
      })
    )
  )
  it.effect("preStopDemote: false leaves the role alone", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, processes } = yield* boot(three)
        yield* tick(100)
        yield* processes[0]!.preStop
        assert.strictEqual(yield* roleOf(targets[0]!), "primary@1")
      }),
      { preStopDemote: false }
    )
  )
})
