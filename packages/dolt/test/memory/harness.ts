/** A fresh simulated world with model Dolt pods for each test. */
import { Dolt, type DoltTarget } from "@doltdb-op/core/services/Dolt"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as DoltModelLayer from "../../src/memory/DoltModelLayer.ts"
import { DoltCluster, ModelPods, layer as modelLayer } from "../../src/memory/index.ts"

export const world = (options: Parameters<typeof modelLayer>[0] = {}) =>
  modelLayer(options).pipe(Layer.provideMerge(Layer.fresh(SimWorld.layer)))

/** Runs `body` with a fresh world (no state shared between tests). */
export const inWorld = <A, E>(
  body: Effect.Effect<A, E, Dolt | DoltCluster | SimWorld>,
  options: Parameters<typeof modelLayer>[0] = {}
) => Effect.provide(body, world(options))

export const pods = (
  replicas: number,
  extra: Partial<ModelPods.ModelPodsOptions> = {}
): ModelPods.ModelPodsOptions => ({
  replicas,
  ...extra
})

export const boot = (o: ModelPods.ModelPodsOptions) =>
  Effect.gen(function* () {
    const processes = yield* ModelPods.startPods(o)
    const targets: ReadonlyArray<DoltTarget> = processes.map((_, i) => ModelPods.target(o, i))
    return { processes: [...processes], targets, host: (i: number) => ModelPods.podHost(o, i) }
  })

export const tick = (ms: number) => TestClock.adjust(ms)

export const roleOf = (t: DoltTarget) =>
  Effect.gen(function* () {
    const dolt = yield* Dolt
    const r = yield* dolt.roleAndEpoch(t)
    return `${r.role}@${r.epoch}`
  })

/** A connection kept open across statements (taint and kill tests). */
export const session = (t: DoltTarget) =>
  Effect.gen(function* () {
    const cluster = yield* DoltCluster
    return yield* DoltModelLayer.make(cluster).openSession(t)
  })

/** Runs `effect` in the background while the test clock moves `ms` forward, then joins it. */
export const during = <A, E, R>(effect: Effect.Effect<A, E, R>, ms: number) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(effect, { startImmediately: true })
    yield* TestClock.adjust(ms)
    return yield* Fiber.join(fiber)
  })
