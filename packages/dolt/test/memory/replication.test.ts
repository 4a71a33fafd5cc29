/** The model's behaviour table, dolt-cluster.md §2.6, §3 and §4: async replication, status rows, what replicates. */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { DoltCluster } from "../../src/memory/index.ts"
import { boot, during, inWorld, pods, tick } from "./harness.ts"

const setup = (replicas: number, extra: Parameters<typeof pods>[1] = {}) =>
  Effect.gen(function* () {
    const booted = yield* boot(pods(replicas, extra))
    const dolt = yield* Dolt
    const cluster = yield* DoltCluster
    const world = yield* SimWorld
    yield* dolt.createDatabase(booted.targets[0]!, { name: "app" })
    return { ...booted, dolt, cluster, world }
  })

describe("§2.6 the primary and its standbys", () => {
  it.effect("replication is asynchronous: the commit is acknowledged before any standby has it", () =>
    inWorld(
      Effect.gen(function* () {
        const { host, cluster } = yield* setup(2)
        yield* tick(1_000)
        const w = yield* cluster.write(host(0), "app", "k", "v")
        assert.strictEqual(w.finishedAt, w.startedAt)
        yield* tick(400)
        assert.isUndefined(yield* cluster.read(host(1), "app", "k"))
        yield* tick(200)
        assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "v")
      }),
      { replicationDelay: "500 millis" }
    )
  )
  it.effect("pushes retry every second while a standby is unreachable, with current_error, then catch up", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, host, dolt, cluster, world } = yield* setup(2)
        yield* tick(100)
        yield* world.cutBoth("ns/db-0", "ns/db-1")
        yield* cluster.write(host(0), "app", "k", "v")
        yield* tick(2_500)
        const [down] = yield* dolt.clusterStatus(targets[0]!)
        assert.isNotNull(down?.currentError ?? null)
        assert.isAbove(down?.replicationLagMillis ?? 0, 2_000)
        yield* world.healAll
        yield* tick(1_100)
        const [up] = yield* dolt.clusterStatus(targets[0]!)
        assert.deepStrictEqual([up?.currentError, up?.replicationLagMillis], [null, 0])
        assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "v")
      })
    )
  )
  it.effect(
    "dolt_cluster_ack_writes_timeout_secs: commits wait for the standbys; on timeout they succeed with 3024",
    () =>
      inWorld(
        Effect.gen(function* () {
          const { host, cluster, processes } = yield* setup(3, { ackWritesTimeoutSecs: 2 })
          yield* tick(100)
          const fast = yield* during(cluster.write(host(0), "app", "a", "1"), 100)
          assert.deepStrictEqual([fast.outcome, fast.warning], ["acked", undefined])
          assert.isAbove(fast.finishedAt, fast.startedAt)
          yield* processes[2]!.stop("KILL")
          const slow = yield* during(cluster.write(host(0), "app", "b", "2"), 2_100)
          assert.strictEqual(slow.outcome, "acked")
          assert.strictEqual(slow.finishedAt - slow.startedAt, 2_000)
          assert.strictEqual(slow.warning, "3024: Timed out replication of commit to 1 out of 2 replicas.")
        })
      )
  )
  it.effect("after a timed-out wait the circuit breaker skips waiting for that standby until it caught up", () =>
    inWorld(
      Effect.gen(function* () {
        const { host, cluster, processes } = yield* setup(2, { ackWritesTimeoutSecs: 1 })
        yield* tick(100)
        yield* processes[1]!.stop("KILL")
        yield* during(cluster.write(host(0), "app", "a", "1"), 1_100)
        const next = yield* during(cluster.write(host(0), "app", "b", "2"), 10)
        assert.strictEqual(next.finishedAt, next.startedAt)
        assert.include(next.warning ?? "", "3024")
      })
    )
  )
  it.effect("heartbeats update the standby's last_update every second while the primary is caught up", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, dolt } = yield* setup(2)
        yield* tick(100)
        const first = (yield* dolt.clusterStatus(targets[1]!))[0]?.lastUpdateMillis ?? null
        yield* tick(3_000)
        const later = (yield* dolt.clusterStatus(targets[1]!))[0]?.lastUpdateMillis ?? null
        assert.isNotNull(first)
        assert.isAtLeast((later ?? 0) - (first ?? 0), 2_000)
      })
    )
  )
  it.effect("DROP DATABASE on the primary is replicated to the standbys", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, dolt } = yield* setup(2)
        yield* tick(100)
        assert.deepStrictEqual(yield* dolt.listDatabases(targets[1]!), ["app"])
        yield* dolt.dropDatabase(targets[0]!, "app")
        yield* tick(100)
        assert.deepStrictEqual(yield* dolt.listDatabases(targets[1]!), [])
      })
    )
  )
})

describe("§3 dolt_cluster.dolt_cluster_status", () => {
  it.effect(
    "one row per database and remote; lag NULL until the first push, then 0; reset to NULL on role change",
    () =>
      inWorld(
        Effect.gen(function* () {
          const { targets, dolt } = yield* setup(3)
          const before = yield* dolt.clusterStatus(targets[0]!)
          assert.deepStrictEqual(
            before.map((r) => [
              r.database,
              r.standbyRemote,
              r.role,
              r.epoch,
              r.replicationLagMillis,
              r.lastUpdateMillis
            ]),
            [
              ["app", "db-1", "primary", 1, null, null],
              ["app", "db-2", "primary", 1, null, null]
            ]
          )
          yield* tick(100)
          const after = yield* dolt.clusterStatus(targets[0]!)
          assert.deepStrictEqual(
            after.map((r) => [r.replicationLagMillis, r.currentError]),
            [
              [0, null],
              [0, null]
            ]
          )
          const standby = yield* dolt.clusterStatus(targets[1]!)
          assert.deepStrictEqual(
            standby.map((r) => [r.standbyRemote, r.role, r.replicationLagMillis, r.currentError]),
            [
              ["db-0", "standby", null, null],
              ["db-2", "standby", null, null]
            ]
          )
          assert.isTrue(standby.every((r) => r.lastUpdateMillis !== null))
          yield* during(dolt.assumeRole(targets[0]!, "standby", 2), 100)
          const demoted = yield* dolt.clusterStatus(targets[0]!)
          assert.isTrue(demoted.every((r) => r.lastUpdateMillis === null && r.replicationLagMillis === null))
        })
      )
  )
})

describe("§4 what gets replicated", () => {
  it.effect("CREATE DATABASE on the primary appears on the standbys on first push, with its data", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, host, dolt, cluster } = yield* setup(3)
        yield* cluster.write(host(0), "app", "k", "v")
        yield* tick(100)
        for (const t of targets) assert.deepStrictEqual(yield* dolt.listDatabases(t), ["app"])
        assert.strictEqual(yield* cluster.read(host(2), "app", "k"), "v")
      })
    )
  )
  it.effect("users and grants replicate as a whole store", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, dolt } = yield* setup(2)
        const account = { name: "app_user", host: "%" }
        yield* dolt.createUser(targets[0]!, account, Redacted.make("pw"))
        yield* dolt.grant(targets[0]!, {
          account,
          privileges: ["SELECT"],
          database: "app",
          table: "*",
          grantOption: false
        })
        yield* tick(100)
        assert.isTrue(yield* dolt.userExists(targets[1]!, account))
        assert.deepStrictEqual(
          yield* dolt.showGrants(targets[1]!, account),
          yield* dolt.showGrants(targets[0]!, account)
        )
      })
    )
  )
  it.effect("branches and committed dolt_ignore patterns replicate with the database", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, dolt } = yield* setup(2)
        assert.deepStrictEqual(yield* dolt.ensureBranches(targets[0]!, "app", ["dev", "dev"]), ["dev"])
        assert.deepStrictEqual(yield* dolt.ensureBranches(targets[0]!, "app", ["dev"]), [])
        assert.deepStrictEqual(yield* dolt.ensureIgnorePatterns(targets[0]!, "app", ["tmp_*"]), ["tmp_*"])
        assert.deepStrictEqual(yield* dolt.ensureIgnorePatterns(targets[0]!, "app", ["tmp_*"]), [])
        yield* tick(100)
        assert.deepStrictEqual((yield* dolt.listBranches(targets[1]!, "app")).map((b) => b.name).sort(), [
          "dev",
          "main"
        ])
      })
    )
  )
  it.effect("backup definitions are per server and not replicated", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, dolt } = yield* setup(2)
        yield* dolt.backupAdd(targets[0]!, "app", "bk", "file:///backups/app")
        yield* tick(100)
        assert.deepStrictEqual(yield* dolt.listBackups(targets[0]!, "app"), [
          { name: "bk", url: "file:///backups/app" }
        ])
        assert.deepStrictEqual(yield* dolt.listBackups(targets[1]!, "app"), [])
      })
    )
  )
})

describe("the ledger of acknowledged writes", () => {
  it.effect("no acknowledged write is lost across a graceful switchover", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, host, dolt, cluster } = yield* setup(3)
        for (let i = 0; i < 20; i++) yield* cluster.write(host(0), "app", `k${i}`, `v${i}`)
        const rows = yield* during(dolt.transitionToStandby(targets[0]!, 2, 1), 200)
        assert.isTrue(rows.every((r) => r.caughtUp))
        yield* dolt.assumeRole(targets[1]!, "primary", 2)
        for (let i = 20; i < 30; i++) yield* cluster.write(host(1), "app", `k${i}`, `v${i}`)
        assert.deepStrictEqual(yield* cluster.lostAcknowledgedWrites(), [])
        assert.strictEqual((yield* cluster.ledger).filter((e) => e.outcome === "acked").length, 30)
      })
    )
  )
  it.effect("a crash failover loses the acknowledged writes the standby never received, and the ledger says so", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, host, dolt, cluster, world, processes } = yield* setup(2)
        yield* tick(100)
        yield* world.cutBoth("ns/db-0", "ns/db-1")
        yield* cluster.write(host(0), "app", "k", "unreplicated")
        yield* processes[0]!.stop("KILL")
        yield* dolt.assumeRole(targets[1]!, "primary", 2)
        const lost = yield* cluster.lostAcknowledgedWrites()
        assert.deepStrictEqual(
          lost.map((e) => e.value),
          ["unreplicated"]
        )
      })
    )
  )
})

describe("§2.6 circuit breaker half-open probe (2.2.2)", () => {
  it.effect("an open breaker lets one commit per timeout interval wait for real, and closes when it succeeds", () =>
    inWorld(
      Effect.gen(function* () {
        const { host, cluster, world } = yield* setup(2, { ackWritesTimeoutSecs: 1 })
        yield* tick(100)
        yield* world.cutBoth("ns/db-0", "ns/db-1")
        const opened = yield* during(cluster.write(host(0), "app", "a", "1"), 1_100)
        assert.include(opened.warning ?? "", "3024")
        const fastFail = yield* during(cluster.write(host(0), "app", "b", "2"), 10)
        assert.strictEqual(fastFail.finishedAt, fastFail.startedAt)
        yield* world.healAll
        yield* tick(1_000)
        // The probe waits for real, succeeds, and closes the breaker.
        const probe = yield* during(cluster.write(host(0), "app", "c", "3"), 500)
        assert.isAbove(probe.finishedAt, probe.startedAt)
        assert.isUndefined(probe.warning)
        const closed = yield* during(cluster.write(host(0), "app", "d", "4"), 500)
        assert.isAbove(closed.finishedAt, closed.startedAt)
        assert.isUndefined(closed.warning)
      })
    )
  )
  it.effect("DROP DATABASE replication to an unreachable standby keeps retrying and lands once it is back", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, dolt, world } = yield* setup(2)
        yield* tick(100)
        yield* world.cutBoth("ns/db-0", "ns/db-1")
        yield* dolt.dropDatabase(targets[0]!, "app")
        yield* tick(30_000)
        assert.deepStrictEqual(yield* dolt.listDatabases(targets[1]!), ["app"])
        yield* world.healAll
        yield* tick(61_000)
        assert.deepStrictEqual(yield* dolt.listDatabases(targets[1]!), [])
      })
    )
  )
})
