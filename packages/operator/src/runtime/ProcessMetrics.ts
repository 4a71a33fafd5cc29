/**
 * The standard process metrics Prometheus clients export (names as prom-client's defaults), read from Node when
 * scraped: controller-runtime's registry carries Go's equivalents, and dashboards expect CPU and memory next to
 * the reconcile metrics. Hand-written because prom-client would bring a second registry; these few gauges are
 * registered into effect's own.
 */
import { Effect, Layer, Metric } from "effect"

const cpuSeconds = Metric.counter("process_cpu_seconds_total", {
  description: "Total user and system CPU time spent in seconds.",
  incremental: true
})
const residentMemory = Metric.gauge("process_resident_memory_bytes", { description: "Resident memory size in bytes." })
const heapUsed = Metric.gauge("nodejs_heap_size_used_bytes", {
  description: "Process heap size used from Node.js in bytes."
})
const heapTotal = Metric.gauge("nodejs_heap_size_total_bytes", {
  description: "Process heap size from Node.js in bytes."
})
const startTime = Metric.gauge("process_start_time_seconds", {
  description: "Start time of the process since unix epoch in seconds."
})

const noUpdates = { update: () => {}, modify: () => {} }

/** Registers the process metrics for the layer's lifetime. */
export const layer: Layer.Layer<never> = Layer.effectDiscard(
  Effect.gen(function* () {
    const context = yield* Effect.context<never>()
    const registrations = [
      Metric.registerUnsafe(cpuSeconds, context, {
        get: () => {
          const usage = process.cpuUsage()
          return { count: (usage.user + usage.system) / 1e6, incremental: true }
        },
        ...noUpdates
      }),
      Metric.registerUnsafe(residentMemory, context, {
        get: () => ({ value: process.memoryUsage.rss() }),
        ...noUpdates
      }),
      Metric.registerUnsafe(heapUsed, context, {
        get: () => ({ value: process.memoryUsage().heapUsed }),
        ...noUpdates
      }),
      Metric.registerUnsafe(heapTotal, context, {
        get: () => ({ value: process.memoryUsage().heapTotal }),
        ...noUpdates
      }),
      // When the process started (not "now"): Node's time origin, fixed at startup.
      Metric.registerUnsafe(startTime, context, {
        get: () => ({ value: Math.floor(performance.timeOrigin / 1000) }),
        ...noUpdates
      })
    ]
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const registration of registrations) registration.remove()
      })
    )
  })
)
