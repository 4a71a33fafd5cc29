/**
 * Model speed, printed (not asserted): simulated seconds per wall second for an idle 3-pod cluster (heartbeats
 * only), a write-heavy one, and graceful switchovers per wall second.
 * Run: npm exec -- node packages/dolt/bench/model.ts
 */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { DoltCluster, layer, ModelPods } from "../src/memory/index.ts"

const o: ModelPods.ModelPodsOptions = { replicas: 3 }
const world = () => layer().pipe(Layer.provideMerge(Layer.fresh(SimWorld.layer)), Layer.provideMerge(TestClock.layer()))

const timed = async (label: string, unit: string, count: number, program: Effect.Effect<void, unknown, never>) => {
  const start = performance.now()
  await Effect.runPromise(program)
  const seconds = (performance.now() - start) / 1000
  console.log(`${label}: ${(count / seconds).toFixed(0)} ${unit}/s (${count} in ${seconds.toFixed(2)} s)`)
}

const boot = Effect.gen(function* () {
  yield* ModelPods.startPods(o)
  const targets = [0, 1, 2].map((i) => ModelPods.target(o, i))
  yield* (yield* Dolt).createDatabase(targets[0]!, { name: "app" })
  return targets
})

const idle = (simSeconds: number) =>
  Effect.gen(function* () {
    yield* boot
    yield* TestClock.adjust(simSeconds * 1000)
  }).pipe(Effect.scoped, Effect.provide(world()))

const writes = (count: number) =>
  Effect.gen(function* () {
    yield* boot
    const cluster = yield* DoltCluster
    for (let i = 0; i < count; i++) {
      yield* cluster.write(ModelPods.podHost(o, 0), "app", `k${i % 100}`, `v${i}`)
      if (i % 10 === 0) yield* TestClock.adjust(50)
    }
  }).pipe(Effect.scoped, Effect.provide(world()))

const switchovers = (count: number) =>
  Effect.gen(function* () {
    const targets = yield* boot
    const dolt = yield* Dolt
    let primary = 0
    for (let epoch = 2; epoch < count + 2; epoch++) {
      yield* TestClock.adjust(100)
      const next = (primary + 1) % 3
      const f = yield* Effect.forkChild(dolt.transitionToStandby(targets[primary]!, epoch, 0), {
        startImmediately: true
      })
      yield* TestClock.adjust(200)
      yield* Fiber.join(f)
      yield* dolt.assumeRole(targets[next]!, "primary", epoch)
      primary = next
    }
  }).pipe(Effect.scoped, Effect.provide(world()))

await timed("idle 3-pod cluster", "simulated seconds", 3_600, idle(3_600))
await timed("writes through the primary", "writes", 20_000, writes(20_000))
await timed("graceful switchovers", "switchovers", 500, switchovers(500))
