/**
 * A rate-limited, delaying, de-duplicating work queue with client-go's semantics (util/workqueue queue.go,
 * delaying_queue.go, rate_limiting_queue.go), Effect-native and driven by `Clock`, so `TestClock` controls it.
 *
 * - A key is queued at most once ("dirty"); a key added while it is being processed is handed out again
 *   after `done`, never to two takers at once.
 * - `addAfter` keeps the earliest pending deadline per key; `addRateLimited` asks the rate limiter.
 * - `shutDown` stops accepting keys, makes `take` fail with `WorkQueueShutDown` (queued keys are dropped: a
 *   level-triggered controller re-lists on its next start) and waits until every taken key is `done`.
 *   That differs from client-go, whose takers keep draining queued keys after shutdown; stopping promptly
 *   matters more to us because a new leader may start as soon as we step down.
 *
 * Hand-written on `Latch` + `MutableList` rather than effect's `Queue` because popping a key and marking it
 * "processing" must be one atomic step, which effect's `Queue.take` cannot share with us.
 */
import { Clock, Context, Duration, Effect, FiberMap, Latch, Metric, MutableList, Schema, type Scope } from "effect"
import * as RateLimiter from "./RateLimiter.ts"
import * as QueueMetrics from "./WorkQueueMetrics.ts"

export class WorkQueueShutDown extends Schema.TaggedError<WorkQueueShutDown>()("WorkQueueShutDown", {
  name: Schema.String
}) {}

export interface WorkQueue {
  readonly name: string
  /** Queue `key` unless it is already queued (or shutting down). */
  readonly add: (key: string) => Effect.Effect<void>
  /** Queue `key` after `delay`; an earlier pending deadline for the same key wins. */
  readonly addAfter: (key: string, delay: Duration.Input) => Effect.Effect<void>
  /** Queue `key` after the rate limiter's delay for it (one more failure of `key`). */
  readonly addRateLimited: (key: string) => Effect.Effect<void>
  /** Reset the rate limiter's failure count for `key`. */
  readonly forget: (key: string) => Effect.Effect<void>
  readonly numRequeues: (key: string) => Effect.Effect<number>
  /** Wait for the next key; the caller must call `done(key)` when it has finished with it. */
  readonly take: Effect.Effect<string, WorkQueueShutDown>
  readonly done: (key: string) => Effect.Effect<void>
  /** Stop accepting keys, wake every taker, wait until every taken key is done. Idempotent. */
  readonly shutDown: Effect.Effect<void>
  readonly isShuttingDown: Effect.Effect<boolean>
  /** Keys waiting to be taken (not counting keys being processed). */
  readonly len: Effect.Effect<number>
  /** Keys with a pending `addAfter` deadline. */
  readonly waitingLen: Effect.Effect<number>
}

export interface WorkQueueOptions {
  /** The queue's name: the `name`/`controller` label of its metrics; use the controller's name. */
  readonly name: string
  /** Defaults to `RateLimiter.defaultController`. */
  readonly rateLimiter?: RateLimiter.RateLimiter
}

/** A work queue living as long as the current scope; closing the scope shuts it down without waiting. */
export const make = Effect.fnUntraced(function* (options: WorkQueueOptions) {
  const { name } = options
  const rateLimiter = options.rateLimiter ?? (yield* RateLimiter.defaultController)
  const labels = QueueMetrics.labels(name)
  const depth = Metric.withAttributes(QueueMetrics.depth, labels)
  const adds = Metric.withAttributes(QueueMetrics.adds, labels)
  const retries = Metric.withAttributes(QueueMetrics.retries, labels)
  const queueDuration = Metric.withAttributes(QueueMetrics.queueDuration, labels)
  const workDuration = Metric.withAttributes(QueueMetrics.workDuration, labels)

  const ready = MutableList.make<string>()
  const dirty = new Set<string>()
  const processing = new Set<string>()
  const waiting = new Map<string, number>()
  const addedAt = new Map<string, number>()
  const startedAt = new Map<string, number>()
  let shuttingDown = false
  // Open while `ready` may hold keys or the queue is shutting down; takers wait on it.
  const wakeTakers = Latch.makeUnsafe(false)
  const drained = Latch.makeUnsafe(false)
  const delayed = yield* FiberMap.make<string>()

  const beginShutDown = () => {
    if (shuttingDown) return
    shuttingDown = true
    waiting.clear()
    wakeTakers.openUnsafe()
    if (processing.size === 0) drained.openUnsafe()
  }
  yield* Effect.addFinalizer(() => Effect.sync(beginShutDown))

  // Time-based gauges are computed when scraped, as client-go's 500 ms update loop would.
  const context = yield* Effect.context<never>()
  const processorAges = (ctx: Context.Context<never>) => {
    const now = Context.get(ctx, Clock.Clock).currentTimeMillisUnsafe()
    return Array.from(startedAt.values(), (start) => (now - start) / 1000)
  }
  for (const [gauge, summarise] of [
    [QueueMetrics.unfinishedWork, (ages: Array<number>) => ages.reduce((sum, age) => sum + age, 0)],
    [QueueMetrics.longestRunningProcessor, (ages: Array<number>) => Math.max(0, ...ages)]
  ] as const) {
    const registration = Metric.registerUnsafe(Metric.withAttributes(gauge, labels), context, {
      get: (ctx) => ({ value: summarise(processorAges(ctx)) }),
      update: () => {},
      modify: () => {}
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => registration.remove()))
  }
  yield* Metric.update(depth, 0)
  yield* Metric.update(adds, 0)
  yield* Metric.update(retries, 0)

  const add = (key: string): Effect.Effect<void> =>
    Clock.clockWith((clock) =>
      Effect.suspend(() => {
        if (shuttingDown || dirty.has(key)) return Effect.void
        dirty.add(key)
        if (!addedAt.has(key)) addedAt.set(key, clock.currentTimeMillisUnsafe())
        if (!processing.has(key)) {
          MutableList.append(ready, key)
          wakeTakers.openUnsafe()
        }
        return Effect.andThen(Metric.update(adds, 1), Metric.update(depth, dirty.size))
      })
    )

  const addAfter = (key: string, delay: Duration.Input): Effect.Effect<void> =>
    Clock.clockWith((clock) =>
      Effect.suspend(() => {
        if (shuttingDown) return Effect.void
        const millis = Duration.toMillis(delay)
        if (millis <= 0) return Effect.andThen(Metric.update(retries, 1), add(key))
        const readyAt = clock.currentTimeMillisUnsafe() + millis
        const pending = waiting.get(key)
        if (pending !== undefined && pending <= readyAt) return Metric.update(retries, 1)
        waiting.set(key, readyAt)
        const fire = Effect.suspend(() => {
          waiting.delete(key)
          return add(key)
        })
        // A later deadline for the same key is interrupted by FiberMap.run: the earliest wins.
        return Effect.andThen(
          Metric.update(retries, 1),
          FiberMap.run(delayed, key, Effect.andThen(Effect.sleep(Duration.millis(millis)), fire), {
            startImmediately: true
          })
        )
      })
    )

  const take: Effect.Effect<string, WorkQueueShutDown> = Clock.clockWith((clock) =>
    Effect.suspend(() => {
      if (shuttingDown) return Effect.fail(new WorkQueueShutDown({ name }))
      const key = MutableList.take(ready)
      if (key === MutableList.Empty) {
        wakeTakers.closeUnsafe()
        return Effect.andThen(wakeTakers.await, take)
      }
      if (ready.length === 0) wakeTakers.closeUnsafe()
      const now = clock.currentTimeMillisUnsafe()
      processing.add(key)
      dirty.delete(key)
      startedAt.set(key, now)
      const queuedFor = (now - (addedAt.get(key) ?? now)) / 1000
      addedAt.delete(key)
      return Effect.as(Effect.andThen(Metric.update(depth, dirty.size), Metric.update(queueDuration, queuedFor)), key)
    })
  )

  const done = (key: string): Effect.Effect<void> =>
    Clock.clockWith((clock) =>
      Effect.suspend(() => {
        if (!processing.delete(key)) return Effect.void
        const started = startedAt.get(key) ?? clock.currentTimeMillisUnsafe()
        startedAt.delete(key)
        if (shuttingDown) {
          if (processing.size === 0) drained.openUnsafe()
        } else if (dirty.has(key)) {
          MutableList.append(ready, key)
          wakeTakers.openUnsafe()
        }
        return Metric.update(workDuration, (clock.currentTimeMillisUnsafe() - started) / 1000)
      })
    )

  const queue: WorkQueue = {
    name,
    add,
    addAfter,
    addRateLimited: (key) => Effect.flatMap(rateLimiter.when(key), (delay) => addAfter(key, delay)),
    forget: rateLimiter.forget,
    numRequeues: rateLimiter.numRequeues,
    take,
    done,
    shutDown: Effect.suspend(() => {
      beginShutDown()
      return Effect.andThen(FiberMap.clear(delayed), drained.await)
    }),
    isShuttingDown: Effect.sync(() => shuttingDown),
    len: Effect.sync(() => ready.length),
    waitingLen: Effect.sync(() => waiting.size)
  }
  return queue
}) as (options: WorkQueueOptions) => Effect.Effect<WorkQueue, never, Scope.Scope>
