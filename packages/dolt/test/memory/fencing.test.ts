/** The model's behaviour table, dolt-cluster.md §2.4-§2.5: epoch fencing on replication RPCs, standby writes. */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { DoltCluster, ModelPods } from "../../src/memory/index.ts"
import { boot, during, inWorld, pods, roleOf, tick } from "./harness.ts"

/** db-0 primary@1 cut off from db-1, db-1 promoted at epoch 2, each takes a write, then the network heals. */
const splitThenHeal = Effect.gen(function* () {
  const o = pods(2)
  const { targets, host } = yield* boot(o)
  const dolt = yield* Dolt
  const cluster = yield* DoltCluster
  const world = yield* SimWorld
  yield* dolt.createDatabase(targets[0]!, { name: "app" })
  yield* tick(100)
  yield* world.cutBoth("ns/db-0", "ns/db-1")
  yield* dolt.assumeRole(targets[1]!, "primary", 2)
  const old = yield* cluster.write(host(0), "app", "k", "old")
  const neu = yield* cluster.write(host(1), "app", "k", "new")
  assert.deepStrictEqual([old.outcome, neu.outcome], ["acked", "acked"])
  yield* world.healAll
  yield* tick(3_000)
  return { targets, host, cluster }
})

describe("§2.4 automatic transitions and epoch fencing", () => {
  it.effect("a primary that meets a primary at a higher epoch becomes a standby at that epoch", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* splitThenHeal
        assert.deepStrictEqual(yield* Effect.forEach(targets, roleOf), ["standby@2", "primary@2"])
      })
    )
  )
  it.effect("the newer primary's state overwrites the demoted one's (no merge); the old one never overwrites it", () =>
    inWorld(
      Effect.gen(function* () {
        const { host, cluster } = yield* splitThenHeal
        assert.strictEqual(yield* cluster.read(host(0), "app", "k"), "new")
        assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "new")
        const lost = yield* cluster.lostAcknowledgedWrites()
        assert.deepStrictEqual(
          lost.map((e) => e.value),
          ["old"]
        )
      })
    )
  )
  it.effect("two primaries at the same epoch both become detected_broken_config", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(pods(2))
        const dolt = yield* Dolt
        const world = yield* SimWorld
        yield* world.cutBoth("ns/db-0", "ns/db-1")
        yield* dolt.assumeRole(targets[1]!, "primary", 2)
        yield* dolt.assumeRole(targets[0]!, "primary", 2)
        yield* world.healAll
        yield* tick(2_000)
        assert.deepStrictEqual(yield* Effect.forEach(targets, roleOf), [
          "detected_broken_config@2",
          "detected_broken_config@2"
        ])
      })
    )
  )
  it.effect(
    "detected_broken_config is read-only, reports the error in current_error and leaves via a higher epoch",
    () =>
      inWorld(
        Effect.gen(function* () {
          const { targets, host } = yield* boot(pods(2))
          const dolt = yield* Dolt
          const cluster = yield* DoltCluster
          const world = yield* SimWorld
          yield* dolt.createDatabase(targets[0]!, { name: "app" })
          yield* tick(100)
          yield* world.cutBoth("ns/db-0", "ns/db-1")
          yield* dolt.assumeRole(targets[1]!, "primary", 2)
          yield* dolt.assumeRole(targets[0]!, "primary", 2)
          yield* world.healAll
          yield* tick(2_000)
          assert.strictEqual((yield* cluster.write(host(0), "app", "k", "v")).outcome, "failed")
          const rows = yield* dolt.clusterStatus(targets[0]!)
          assert.isTrue(rows.every((r) => r.currentError?.includes("more than one server was configured as primary")))
          yield* dolt.assumeRole(targets[0]!, "primary", 3)
          yield* dolt.assumeRole(targets[1]!, "standby", 3)
          assert.deepStrictEqual(yield* Effect.forEach(targets, roleOf), ["primary@3", "standby@3"])
          assert.strictEqual((yield* cluster.write(host(0), "app", "k", "v")).outcome, "acked")
        })
      )
  )
  it.effect("a broken-config server pushed to by a primary at a higher epoch becomes its standby", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(pods(3))
        const dolt = yield* Dolt
        const world = yield* SimWorld
        yield* world.isolate("ns/db-2")
        yield* world.cutBoth("ns/db-0", "ns/db-1")
        yield* dolt.assumeRole(targets[1]!, "primary", 2)
        yield* dolt.assumeRole(targets[0]!, "primary", 2)
        yield* world.heal("ns/db-0", "ns/db-1")
        yield* tick(2_000)
        assert.strictEqual(yield* roleOf(targets[0]!), "detected_broken_config@2")
        yield* world.healAll
        yield* dolt.assumeRole(targets[2]!, "primary", 3)
        yield* tick(2_000)
        assert.deepStrictEqual(yield* Effect.forEach(targets, roleOf), ["standby@3", "standby@3", "primary@3"])
      })
    )
  )
  it.effect("a standby adopts the higher epoch of the primary that pushes to it", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets } = yield* boot(pods(3))
        yield* (yield* Dolt).assumeRole(targets[0]!, "primary", 5)
        yield* tick(1_500)
        assert.deepStrictEqual(yield* Effect.forEach(targets, roleOf), ["primary@5", "standby@5", "standby@5"])
      })
    )
  )
  it.effect("gap, modelled conservatively: a standby at a higher epoch still accepts a stale primary's push", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, host } = yield* boot(pods(2))
        const dolt = yield* Dolt
        const cluster = yield* DoltCluster
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        yield* dolt.assumeRole(targets[1]!, "standby", 7)
        yield* cluster.write(host(0), "app", "k", "stale")
        yield* tick(1_500)
        assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "stale")
        assert.deepStrictEqual(yield* Effect.forEach(targets, roleOf), ["primary@1", "standby@7"])
      })
    )
  )
  it.effect("a server never promotes itself, even long after its primary died", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, processes } = yield* boot(pods(3))
        yield* processes[0]!.stop("KILL")
        yield* tick(120_000)
        assert.deepStrictEqual(yield* Effect.forEach(targets.slice(1), roleOf), ["standby@1", "standby@1"])
      })
    )
  )
})

describe("§2.5 what a standby does with writes", () => {
  it.effect(
    "database writes fail with 'Database x is read-only.', server-level writes with read only mode; reads work",
    () =>
      inWorld(
        Effect.gen(function* () {
          const { targets, host } = yield* boot(pods(2))
          const dolt = yield* Dolt
          const cluster = yield* DoltCluster
          yield* dolt.createDatabase(targets[0]!, { name: "app" })
          yield* cluster.write(host(0), "app", "k", "v")
          yield* tick(100)
          const w = yield* cluster.write(host(1), "app", "k", "w")
          assert.strictEqual(w.error, "DoltReadOnly: Database app is read-only.")
          const db = yield* Effect.flip(dolt.createDatabase(targets[1]!, { name: "other" }))
          assert.strictEqual(db._tag, "DoltReadOnly")
          assert.strictEqual(db.message, "database server is set to read only mode")
          const user = yield* Effect.flip(dolt.createUser(targets[1]!, { name: "u", host: "%" }, targets[1]!.password))
          assert.strictEqual(user._tag, "DoltReadOnly")
          assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "v")
        })
      )
  )
})

describe("the simulated world", () => {
  it.effect("a killed pod's server is unreachable; restarted, it answers again with what its volume kept", () =>
    inWorld(
      Effect.gen(function* () {
        const o = pods(2)
        const { targets, processes, host } = yield* boot(o)
        const dolt = yield* Dolt
        const cluster = yield* DoltCluster
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        yield* cluster.write(host(0), "app", "k", "v")
        yield* processes[0]!.stop("KILL")
        assert.strictEqual((yield* Effect.flip(dolt.roleAndEpoch(targets[0]!)))._tag, "DoltUnreachable")
        assert.strictEqual((yield* cluster.write(host(0), "app", "k", "w")).outcome, "failed")
        yield* ModelPods.startPod(o, 0, 1)
        assert.strictEqual(yield* cluster.read(host(0), "app", "k"), "v")
      })
    )
  )
  it.effect("an operator partition cuts SQL but not replication; a pod partition cuts replication but not SQL", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, host } = yield* boot(pods(2))
        const dolt = yield* Dolt
        const cluster = yield* DoltCluster
        const world = yield* SimWorld
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        yield* world.cutBoth("operator", "ns/db-0")
        assert.strictEqual((yield* Effect.flip(dolt.roleAndEpoch(targets[0]!)))._tag, "DoltUnreachable")
        yield* cluster.write(host(0), "app", "k", "v")
        yield* tick(100)
        assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "v")
        yield* world.healAll
        yield* world.cutBoth("ns/db-0", "ns/db-1")
        yield* cluster.write(host(0), "app", "k", "w")
        yield* tick(2_000)
        assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "v")
        assert.strictEqual(yield* roleOf(targets[0]!), "primary@1")
      })
    )
  )
  it.effect("a hung server answers nothing: calls time out after 10 s, replication stops, probes fail", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, processes, host } = yield* boot(pods(2))
        const dolt = yield* Dolt
        const cluster = yield* DoltCluster
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        yield* tick(100)
        yield* cluster.setFault(host(1), { hung: true })
        assert.isFalse(yield* processes[1]!.probe("readiness"))
        const e = yield* during(Effect.flip(dolt.roleAndEpoch(targets[1]!)), 10_000)
        assert.strictEqual(e._tag, "DoltTimeout")
        yield* cluster.write(host(0), "app", "k", "v")
        yield* tick(2_000)
        yield* cluster.setFault(host(1), { hung: false })
        assert.isUndefined(yield* cluster.read(host(1), "app", "k"))
        yield* tick(1_100)
        assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "v")
      })
    )
  )
  it.effect("a primary whose probes fail still takes writes and replicates them (NotReady is not dead)", () =>
    inWorld(
      Effect.gen(function* () {
        const { targets, processes, host } = yield* boot(pods(2))
        const dolt = yield* Dolt
        const cluster = yield* DoltCluster
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        yield* cluster.setFault(host(0), { probeFailing: true })
        assert.isFalse(yield* processes[0]!.probe("readiness"))
        assert.strictEqual((yield* cluster.write(host(0), "app", "k", "v")).outcome, "acked")
        yield* tick(100)
        assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "v")
      })
    )
  )
})
