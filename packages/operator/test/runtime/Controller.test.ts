import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Logger, Metric, Random, Schema } from "effect"
import { TestClock } from "effect/testing"
import * as Controller from "../../src/runtime/Controller.ts"
import * as ControllerMetrics from "../../src/runtime/ControllerMetrics.ts"
import * as WorkQueue from "../../src/runtime/WorkQueue.ts"

class Conflict extends Schema.TaggedError<Conflict>()("Conflict", { message: Schema.String }) {}
class ActionFailed extends Schema.TaggedError<ActionFailed>()("ActionFailed", { cause: Schema.Unknown }) {}
class Boom extends Schema.TaggedError<Boom>()("Boom", { attempt: Schema.Number }) {}

const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, Metric.MetricRegistry, new Map())

const total = (controller: string, result: ControllerMetrics.ResultLabel) =>
  Effect.map(
    Metric.value(Metric.withAttributes(ControllerMetrics.reconcileTotal, { controller, result })),
    (s) => s.count
  )
const counter = (metric: Metric.Counter<number>, controller: string) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, { controller })), (s) => s.count)
const gauge = (metric: Metric.Gauge<number>, controller: string) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, { controller })), (s) => s.value)

describe("Controller", () => {
  it.effect("N workers reconcile distinct keys in parallel but never one key twice at once", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "c" })
      const inFlight = new Map<string, number>()
      const calls = new Map<string, number>()
      let concurrent = 0
      let maxConcurrent = 0
      let overlaps = 0
      const controller = yield* Controller.make({
        name: "c",
        queue,
        workers: 4,
        reconcile: (key) =>
          Effect.gen(function* () {
            const mine = (inFlight.get(key) ?? 0) + 1
            inFlight.set(key, mine)
            if (mine > 1) overlaps++
            calls.set(key, (calls.get(key) ?? 0) + 1)
            concurrent++
            maxConcurrent = Math.max(maxConcurrent, concurrent)
            yield* Effect.sleep("1 second")
            concurrent--
            inFlight.set(key, (inFlight.get(key) ?? 1) - 1)
            return Controller.done
          })
      })
      const running = yield* Effect.forkChild(controller.run, { startImmediately: true })
      for (const key of ["a", "b", "c"]) yield* queue.add(key)
      yield* Effect.yieldNow
      assert.strictEqual(yield* gauge(ControllerMetrics.activeWorkers, "c"), 3)
      // events for "a" keep arriving while it is being reconciled
      for (let i = 0; i < 3; i++) {
        yield* queue.add("a")
        yield* TestClock.adjust("300 millis")
      }
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(overlaps, 0)
      assert.strictEqual(maxConcurrent, 3)
      assert.strictEqual(calls.get("a"), 2, "re-queued once after done, however many adds arrived meanwhile")
      assert.strictEqual(calls.get("b"), 1)
      assert.strictEqual(yield* total("c", "success"), 4)
      assert.strictEqual(yield* gauge(ControllerMetrics.maxConcurrentReconciles, "c"), 4)
      assert.strictEqual(yield* gauge(ControllerMetrics.activeWorkers, "c"), 0)
      const time = yield* Metric.value(Metric.withAttributes(ControllerMetrics.reconcileTime, { controller: "c" }))
      assert.strictEqual(time.count, 4)
      assert.strictEqual(time.sum, 4)
      yield* Fiber.interrupt(running)
    }).pipe(isolated)
  )

  it.effect("random adds, delays and failures: no overlap per key, and no add is ever lost", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "rnd" })
      const keys = ["a", "b", "c", "d", "e"]
      const running = new Set<string>()
      const lastAdd = new Map<string, number>()
      const lastStart = new Map<string, number>()
      let overlaps = 0
      const controller = yield* Controller.make({
        name: "rnd",
        queue,
        workers: 3,
        reconcile: (key) =>
          Effect.gen(function* () {
            if (running.has(key)) overlaps++
            running.add(key)
            lastStart.set(key, yield* Effect.clockWith((clock) => clock.currentTimeMillis))
            yield* Effect.sleep(Duration.millis(yield* Random.nextIntBetween(0, 300)))
            running.delete(key)
            const roll = yield* Random.nextIntBetween(0, 9)
            if (roll === 0) return yield* new Boom({ attempt: 0 })
            return roll === 1 ? Controller.requeueAfter("200 millis") : Controller.done
          })
      })
      yield* Effect.forkChild(controller.run, { startImmediately: true })
      for (let step = 0; step < 400; step++) {
        const key = keys[yield* Random.nextIntBetween(0, keys.length - 1)]!
        lastAdd.set(key, yield* Effect.clockWith((clock) => clock.currentTimeMillis))
        yield* queue.add(key)
        yield* TestClock.adjust(Duration.millis(yield* Random.nextIntBetween(0, 100)))
      }
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(overlaps, 0)
      for (const key of keys) {
        // every add is followed by a reconcile that started at or after it (level-triggered: nothing lost)
        assert.isAtLeast(lastStart.get(key) ?? -1, lastAdd.get(key) ?? 0, key)
      }
    }).pipe(isolated, Random.withSeed(42))
  )

  it.effect("errors are retried with the per-key backoff, counted, and forgotten on success", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "err" })
      const attempts: Array<number> = []
      const controller = yield* Controller.make({
        name: "err",
        queue,
        reconcile: () =>
          Effect.gen(function* () {
            const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
            attempts.push(now)
            if (attempts.length === 3) return yield* Effect.die("unexpected")
            if (attempts.length < 4) return yield* new Boom({ attempt: attempts.length })
            return Controller.done
          })
      })
      yield* Effect.forkChild(controller.run, { startImmediately: true })
      yield* queue.add("x")
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(attempts, [0, 5, 15, 35], "5, 10, 20 ms backoff")
      assert.strictEqual(yield* queue.numRequeues("x"), 0, "forgotten after success")
      assert.strictEqual(yield* total("err", "error"), 3)
      assert.strictEqual(yield* counter(ControllerMetrics.reconcileErrors, "err"), 3)
      assert.strictEqual(yield* counter(ControllerMetrics.reconcilePanics, "err"), 1)
      assert.strictEqual(yield* total("err", "success"), 1)
    }).pipe(isolated)
  )

  it.effect(
    "a 409 Conflict is a retry logged at info without a stack; other failures at error with their cause",
    () => {
      const logs: Array<{ level: string; message: string; cause: boolean }> = []
      const recorder = Logger.make(({ logLevel, message, cause }) => {
        const text = Array.isArray(message) ? String(message[0]) : String(message)
        logs.push({ level: logLevel, message: text, cause: cause.reasons.length > 0 })
      })
      return Effect.gen(function* () {
        const queue = yield* WorkQueue.make({ name: "conflict" })
        let attempts = 0
        const controller = yield* Controller.make({
          name: "conflict",
          queue,
          reconcile: () =>
            Effect.gen(function* () {
              attempts++
              if (attempts === 1) return yield* new Conflict({ message: "the object has been modified" })
              if (attempts === 2)
                return yield* new ActionFailed({
                  cause: new Conflict({ message: "status: the object has been modified" })
                })
              if (attempts === 3) return yield* new Boom({ attempt: attempts })
              return Controller.done
            })
        })
        yield* Effect.forkChild(controller.run, { startImmediately: true })
        yield* queue.add("x")
        yield* TestClock.adjust("1 second")
        const failures = logs.filter((l) => /Conflict|Reconciler error/u.test(l.message))
        assert.deepStrictEqual(failures, [
          {
            level: "Info",
            message: "The object changed while it was reconciled (409 Conflict): retrying",
            cause: false
          },
          {
            level: "Info",
            message: "The object changed while it was reconciled (409 Conflict): retrying",
            cause: false
          },
          { level: "Error", message: "Reconciler error", cause: true }
        ])
        assert.strictEqual(yield* counter(ControllerMetrics.reconcileErrors, "conflict"), 3, "still counted")
      }).pipe(isolated, Effect.provide(Logger.layer([recorder])))
    }
  )

  it.effect("requeue uses the rate limiter; requeueAfter forgets and waits exactly", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "rq" })
      const attempts: Array<number> = []
      const controller = yield* Controller.make({
        name: "rq",
        queue,
        reconcile: () =>
          Effect.gen(function* () {
            attempts.push(yield* Effect.clockWith((clock) => clock.currentTimeMillis))
            switch (attempts.length) {
              case 1:
              case 2:
                return Controller.requeue
              case 3:
                return Controller.requeueAfter("30 seconds")
              case 4:
                return Controller.requeueAfter(0)
              default:
                return Controller.done
            }
          })
      })
      yield* Effect.forkChild(controller.run, { startImmediately: true })
      yield* queue.add("x")
      yield* TestClock.adjust("30 seconds")
      assert.deepStrictEqual(attempts, [0, 5, 15])
      yield* TestClock.adjust("15 millis")
      assert.deepStrictEqual(attempts, [0, 5, 15, 30_015])
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(attempts.length, 4, "requeueAfter(0) counts as success and does not requeue")
      assert.strictEqual(yield* total("rq", "requeue"), 2)
      assert.strictEqual(yield* total("rq", "requeue_after"), 1)
      assert.strictEqual(yield* total("rq", "success"), 1)
      assert.strictEqual(yield* total("rq", "error"), 0)
    }).pipe(isolated)
  )

  it.effect("a worker whose fiber crashes is replaced and its key retried", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "crash" })
      let attempts = 0
      const controller = yield* Controller.make({
        name: "crash",
        queue,
        reconcile: () =>
          Effect.suspend(() => {
            attempts++
            // Type-checks, but the runtime kills the fiber ("not a valid effect") past any error handler.
            const notAnEffect = (() => 0) as unknown as () => Effect.Effect<Controller.ReconcileResult>
            return attempts === 1 ? Effect.andThen(Effect.void, notAnEffect) : Effect.succeed(Controller.done)
          })
      })
      const running = yield* Effect.forkChild(controller.run, { startImmediately: true })
      yield* queue.add("x")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(attempts, 2, "retried after the crash")
      assert.isUndefined(running.pollUnsafe(), "the controller keeps running")
      assert.strictEqual(yield* counter(ControllerMetrics.reconcilePanics, "crash"), 1)
      assert.strictEqual(yield* total("crash", "success"), 1)
      assert.strictEqual(yield* gauge(ControllerMetrics.activeWorkers, "crash"), 0)
      yield* queue.add("y")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(attempts, 3, "the replacement worker takes new keys")
    }).pipe(isolated)
  )

  it.effect("queue shutDown lets the in-flight reconcile finish, then run returns", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "s" })
      let finished = 0
      const controller = yield* Controller.make({
        name: "s",
        queue,
        workers: 2,
        reconcile: () =>
          Effect.as(
            Effect.andThen(
              Effect.sleep("10 seconds"),
              Effect.sync(() => finished++)
            ),
            Controller.done
          )
      })
      const running = yield* Effect.forkChild(controller.run, { startImmediately: true })
      yield* queue.add("a")
      yield* queue.add("b")
      yield* Effect.yieldNow
      const shutting = yield* Effect.forkChild(queue.shutDown, { startImmediately: true })
      yield* TestClock.adjust("5 seconds")
      assert.isUndefined(running.pollUnsafe())
      assert.isUndefined(shutting.pollUnsafe())
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(shutting)
      yield* Fiber.join(running)
      assert.strictEqual(finished, 2)
    }).pipe(isolated)
  )

  it.effect("interrupting run interrupts the reconciles in flight and releases their keys", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "i" })
      let interrupted = 0
      const controller = yield* Controller.make({
        name: "i",
        queue,
        reconcile: () =>
          Effect.as(
            Effect.onInterrupt(Effect.sleep("1 hour"), () => Effect.sync(() => interrupted++)),
            Controller.done
          )
      })
      const running = yield* Effect.forkChild(controller.run, { startImmediately: true })
      yield* queue.add("a")
      yield* Effect.yieldNow
      assert.strictEqual(yield* gauge(ControllerMetrics.activeWorkers, "i"), 1)
      yield* Fiber.interrupt(running)
      assert.strictEqual(interrupted, 1)
      assert.strictEqual(yield* gauge(ControllerMetrics.activeWorkers, "i"), 0)
      assert.strictEqual(yield* total("i", "error"), 0, "an interruption is not an error")
      // the key was marked done, so a drain does not hang
      yield* queue.shutDown
    }).pipe(isolated)
  )
})
