import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Metric } from "effect"
import { TestClock } from "effect/testing"
import * as WorkQueue from "../../src/runtime/WorkQueue.ts"
import * as QueueMetrics from "../../src/runtime/WorkQueueMetrics.ts"

// Every test gets its own metric registry so values do not leak between tests.
const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, Metric.MetricRegistry, new Map())

const gaugeOf = (metric: Metric.Gauge<number>, name: string) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, QueueMetrics.labels(name))), (state) => state.value)
const countOf = (metric: Metric.Counter<number>, name: string) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, QueueMetrics.labels(name))), (state) => state.count)

describe("WorkQueue", () => {
  it.effect("de-duplicates: a queued key is queued once, in FIFO order", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "q" })
      yield* queue.add("a")
      yield* queue.add("b")
      yield* queue.add("a")
      assert.strictEqual(yield* queue.len, 2)
      assert.strictEqual(yield* queue.take, "a")
      assert.strictEqual(yield* queue.take, "b")
      assert.strictEqual(yield* queue.len, 0)
    }).pipe(isolated)
  )

  it.effect("a key added while processing is held back and handed out again after done", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "q" })
      yield* queue.add("a")
      const first = yield* queue.take
      yield* queue.add("a")
      yield* queue.add("a")
      assert.strictEqual(yield* queue.len, 0, "not handed out while being processed")
      const second = yield* queue.take.pipe(Effect.forkChild({ startImmediately: true }))
      yield* Effect.yieldNow
      assert.isUndefined(second.pollUnsafe(), "a second taker must wait")
      yield* queue.done(first)
      assert.strictEqual(yield* Fiber.join(second), "a")
      yield* queue.done("a")
      assert.strictEqual(yield* queue.len, 0, "re-queued once, not twice")
    }).pipe(isolated)
  )

  it.effect("addAfter: the earliest deadline wins and later ones are dropped", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "q" })
      yield* queue.addAfter("a", "10 seconds")
      yield* queue.addAfter("a", "5 seconds")
      yield* queue.addAfter("a", "20 seconds")
      assert.strictEqual(yield* queue.waitingLen, 1)
      yield* TestClock.adjust("4999 millis")
      assert.strictEqual(yield* queue.len, 0)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* queue.len, 1)
      assert.strictEqual(yield* queue.waitingLen, 0)
      yield* queue.done(yield* queue.take)
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual(yield* queue.len, 0, "the 10 s and 20 s deadlines were superseded")
      yield* queue.addAfter("b", 0)
      assert.strictEqual(yield* queue.len, 1, "a zero delay adds at once")
    }).pipe(isolated)
  )

  it.effect("addRateLimited waits the per-key backoff; forget resets it", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "q" })
      yield* queue.addRateLimited("a") // 5 ms
      yield* TestClock.adjust("4 millis")
      assert.strictEqual(yield* queue.len, 0)
      yield* TestClock.adjust("1 millis")
      yield* queue.done(yield* queue.take)
      yield* queue.addRateLimited("a") // 10 ms
      yield* TestClock.adjust("9 millis")
      assert.strictEqual(yield* queue.len, 0)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* queue.len, 1)
      assert.strictEqual(yield* queue.numRequeues("a"), 2)
      yield* queue.forget("a")
      assert.strictEqual(yield* queue.numRequeues("a"), 0)
    }).pipe(isolated)
  )

  it.effect("shutDown rejects adds, fails takers and waits for in-flight keys", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "q" })
      yield* queue.add("a")
      yield* queue.add("b")
      yield* queue.addAfter("c", "1 second")
      const key = yield* queue.take
      const shutting = yield* queue.shutDown.pipe(Effect.forkChild({ startImmediately: true }))
      yield* Effect.yieldNow
      assert.isUndefined(shutting.pollUnsafe(), "waits while a key is being processed")
      const exit = yield* Effect.exit(queue.take)
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(Exit.findErrorOption(exit)._tag, "Some")
      yield* queue.add("d")
      assert.strictEqual(yield* queue.isShuttingDown, true)
      yield* queue.done(key)
      yield* Fiber.join(shutting)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* queue.waitingLen, 0, "pending delays are dropped")
      const again = yield* Effect.flip(queue.take)
      assert.strictEqual(again._tag, "WorkQueueShutDown")
    }).pipe(isolated)
  )

  it.effect("a blocked taker is woken by shutDown", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "q" })
      const taker = yield* queue.take.pipe(Effect.flip, Effect.forkChild({ startImmediately: true }))
      yield* queue.shutDown
      assert.strictEqual((yield* Fiber.join(taker))._tag, "WorkQueueShutDown")
    }).pipe(isolated)
  )

  it.effect("metrics: adds, depth, retries, queue and work durations, unfinished work", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "doltdb" })
      yield* queue.add("a")
      yield* queue.add("a")
      yield* queue.add("b")
      assert.strictEqual(yield* countOf(QueueMetrics.adds, "doltdb"), 2)
      assert.strictEqual(yield* gaugeOf(QueueMetrics.depth, "doltdb"), 2)
      yield* TestClock.adjust("3 seconds")
      const key = yield* queue.take
      assert.strictEqual(yield* gaugeOf(QueueMetrics.depth, "doltdb"), 1)
      const latency = yield* Metric.value(
        Metric.withAttributes(QueueMetrics.queueDuration, QueueMetrics.labels("doltdb"))
      )
      assert.strictEqual(latency.count, 1)
      assert.strictEqual(latency.sum, 3)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* gaugeOf(QueueMetrics.unfinishedWork, "doltdb"), 2)
      const other = yield* queue.take
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* gaugeOf(QueueMetrics.unfinishedWork, "doltdb"), 4)
      assert.strictEqual(yield* gaugeOf(QueueMetrics.longestRunningProcessor, "doltdb"), 3)
      yield* queue.done(key)
      yield* queue.done(other)
      const work = yield* Metric.value(Metric.withAttributes(QueueMetrics.workDuration, QueueMetrics.labels("doltdb")))
      assert.strictEqual(work.count, 2)
      assert.strictEqual(work.sum, 4)
      assert.strictEqual(yield* gaugeOf(QueueMetrics.unfinishedWork, "doltdb"), 0)
      yield* queue.addAfter("a", "1 second")
      yield* queue.addRateLimited("b")
      assert.strictEqual(yield* countOf(QueueMetrics.retries, "doltdb"), 2)
    }).pipe(isolated)
  )
})
