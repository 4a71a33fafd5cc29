import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"
import * as ProcessMetrics from "../../src/runtime/ProcessMetrics.ts"

const sampleOf = (text: string, name: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

describe("ProcessMetrics", () => {
  it.effect("exports CPU, memory and start time while the layer lives", () =>
    Effect.gen(function* () {
      yield* Layer.build(ProcessMetrics.layer)
      const text = yield* PrometheusMetrics.format()
      assert.include(text, "# TYPE process_cpu_seconds_total counter")
      assert.isAbove(sampleOf(text, "process_cpu_seconds_total") ?? 0, 0)
      assert.isAbove(sampleOf(text, "process_resident_memory_bytes") ?? 0, 1_000_000)
      assert.isAbove(sampleOf(text, "nodejs_heap_size_used_bytes") ?? 0, 0)
      assert.isAbove(sampleOf(text, "process_start_time_seconds") ?? 0, 1_700_000_000)
    }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("removes its series when the layer is released", () =>
    Effect.gen(function* () {
      yield* Effect.scoped(Layer.build(ProcessMetrics.layer))
      assert.notInclude(yield* PrometheusMetrics.format(), "process_resident_memory_bytes")
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )
})
