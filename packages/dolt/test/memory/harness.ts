/** A fresh simulated world with model Dolt pods for each test. */
import { Dolt, type DoltTarget } from "@doltdb-op/core/services/Dolt"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { type DoltCluster, ModelPods, layer as modelLayer } from "../../src/memory/index.ts"

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
