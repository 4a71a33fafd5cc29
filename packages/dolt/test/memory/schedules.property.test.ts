/**
 * Random schedules against the model: writes, time, graceful switchovers to any pod at a fresh epoch, standby
 * crashes and restarts, partitions. Invariants: epochs never go down, never two primaries at one epoch, and no
 * acknowledged write is lost (graceful switchovers only wait for caught-up standbys; crash failover is not in here).
 */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { assert, it } from "@effect/vitest"
import { Arbitrary, Effect, Schema } from "effect"
import { DoltCluster, ModelPods } from "../../src/memory/index.ts"
import { during, inWorld, tick } from "./harness.ts"

const Ordinal = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 2 }))
const Event = Schema.Union([
  Schema.TaggedStruct("Write", { key: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 9 })) }),
  Schema.TaggedStruct("Tick", { millis: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 3_000 })) }),
  Schema.TaggedStruct("Switchover", { to: Ordinal }),
  Schema.TaggedStruct("Restart", { pod: Ordinal }),
  Schema.TaggedStruct("Cut", { a: Ordinal, b: Ordinal }),
  Schema.TaggedStruct("HealAll", {})
])
const Schedule = Arbitrary.array(Arbitrary.schema(Event), { maxLength: 25 })

const o: ModelPods.ModelPodsOptions = { replicas: 3 }

it.effect.prop(
  "random schedules: epochs only go up, one primary per epoch, no acknowledged write lost",
  [Schedule],
  ([events]) =>
    inWorld(
      Effect.gen(function* () {
        const dolt = yield* Dolt
        const cluster = yield* DoltCluster
        const world = yield* SimWorld
        const processes = [...(yield* ModelPods.startPods(o))]
        const targets = processes.map((_, i) => ModelPods.target(o, i))
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        const lastEpoch = new Map<string, number>()
        let restarts = 0
        let n = 0
        for (const ev of events) {
          switch (ev._tag) {
            case "Write": {
              const servers = yield* cluster.servers
              const primary = servers.find((s) => s.running && s.role === "primary")
              if (primary !== undefined) yield* cluster.write(primary.ip, "app", `k${ev.key}`, `v${n++}`)
              break
            }
            case "Tick":
              yield* tick(ev.millis)
              break
            case "Switchover": {
              const servers = yield* cluster.servers
              const from = servers.findIndex((s) => s.running && s.role === "primary")
              if (from < 0 || from === ev.to) break
              const next = Math.max(...servers.map((s) => s.epoch)) + 1
              const demoted = yield* during(Effect.exit(dolt.transitionToStandby(targets[from]!, next, 0)), 10_500)
              if (demoted._tag === "Success") yield* Effect.ignore(dolt.assumeRole(targets[ev.to]!, "primary", next))
              break
            }
            case "Restart": {
              const servers = yield* cluster.servers
              if (servers[ev.pod]?.role === "primary") break
              yield* processes[ev.pod]!.stop("KILL")
              processes[ev.pod] = yield* ModelPods.startPod(o, ev.pod, ++restarts)
              break
            }
            case "Cut":
              if (ev.a !== ev.b) yield* world.cutBoth(`ns/db-${ev.a}`, `ns/db-${ev.b}`)
              break
            case "HealAll":
              yield* world.healAll
              break
          }
          const servers = yield* cluster.servers
          for (const s of servers) {
            assert.isAtLeast(s.epoch, lastEpoch.get(s.endpoint) ?? 0, `${s.endpoint} went back in epoch`)
            lastEpoch.set(s.endpoint, s.epoch)
          }
          const primaries = servers.filter((s) => s.running && s.role === "primary")
          assert.strictEqual(new Set(primaries.map((p) => p.epoch)).size, primaries.length, "two primaries, one epoch")
        }
        yield* world.healAll
        yield* tick(5_000)
        const servers = yield* cluster.servers
        if (servers.some((s) => s.running && s.role === "primary")) {
          assert.deepStrictEqual(yield* cluster.lostAcknowledgedWrites(), [])
        }
      })
    ),
  { timeout: 120_000, arbitrary: { runs: 400 } }
)
