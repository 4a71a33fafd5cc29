import { DoltDBPlanner } from "@doltdb-op/core"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { TestClock } from "effect/testing"
import { controllers } from "../../src/Operator.ts"
import * as RateLimiter from "../../src/runtime/RateLimiter.ts"
import { defaultOperatorOptions } from "../../src/simulate/SimulatedCluster.ts"

const millisOf = (limiter: RateLimiter.RateLimiter, key: string) =>
  Effect.map(limiter.when(key), (delay) => Duration.toMillis(delay))

describe("RateLimiter", () => {
  it.effect("exponential per-key failures: 5 ms doubling, capped at 1000 s, forgotten on success", () =>
    Effect.gen(function* () {
      const limiter = yield* RateLimiter.itemExponentialFailure({ base: "5 millis", max: "1000 seconds" })
      const delays: Array<number> = []
      for (let i = 0; i < 20; i++) delays.push(yield* millisOf(limiter, "a"))
      assert.deepStrictEqual(delays.slice(0, 5), [5, 10, 20, 40, 80])
      assert.strictEqual(delays[17], 655_360) // 5 ms * 2^17
      assert.strictEqual(delays[18], 1_000_000) // 5 ms * 2^18 = 1310.72 s, capped
      assert.strictEqual(delays[19], 1_000_000)
      assert.strictEqual(yield* limiter.numRequeues("a"), 20)
      // keys are independent
      assert.strictEqual(yield* millisOf(limiter, "b"), 5)
      yield* limiter.forget("a")
      assert.strictEqual(yield* limiter.numRequeues("a"), 0)
      assert.strictEqual(yield* millisOf(limiter, "a"), 5)
    })
  )

  it.effect("token bucket: burst 100 free, then 1/qps per call, refilled by the clock", () =>
    Effect.gen(function* () {
      const limiter = yield* RateLimiter.bucket({ qps: 10, burst: 100 })
      for (let i = 0; i < 100; i++) assert.strictEqual(yield* millisOf(limiter, `k${i}`), 0)
      assert.strictEqual(yield* millisOf(limiter, "x"), 100)
      assert.strictEqual(yield* millisOf(limiter, "y"), 200)
      // 1 s later the debt of 2 tokens is repaid and 8 more accrued
      yield* TestClock.adjust("1 second")
      for (let i = 0; i < 8; i++) assert.strictEqual(yield* millisOf(limiter, `z${i}`), 0)
      assert.strictEqual(yield* millisOf(limiter, "late"), 100)
      assert.strictEqual(yield* limiter.numRequeues("x"), 0)
    })
  )

  it.effect("default controller limiter is the max of both and counts every call in the bucket", () =>
    Effect.gen(function* () {
      const limiter = yield* RateLimiter.defaultController
      assert.strictEqual(yield* millisOf(limiter, "a"), 5)
      assert.strictEqual(yield* millisOf(limiter, "a"), 10)
      // 98 more calls drain the bucket (2 tokens already used) ...
      for (let i = 0; i < 98; i++) yield* limiter.when(`other${i}`)
      // ... so a fresh key now waits on the bucket (100 ms) rather than its own 5 ms
      assert.strictEqual(yield* millisOf(limiter, "fresh"), 100)
      assert.strictEqual(yield* limiter.numRequeues("a"), 2)
      yield* limiter.forget("a")
      assert.strictEqual(yield* limiter.numRequeues("a"), 0)
    })
  )

  it.effect(
    "the DoltDB controller's per-key back-off stops at the poll interval (failover detection is not delayed)",
    () =>
      Effect.gen(function* () {
        // A burst of API errors: 30 failures in a row would reach 1000 s with the default limiter.
        const doltdb = controllers(defaultOperatorOptions).find((c) => c.name === "doltdb")
        assert.isDefined(doltdb?.rateLimiter)
        const limiter = yield* doltdb!.rateLimiter!
        const delays: Array<number> = []
        for (let i = 0; i < 30; i++) {
          delays.push(yield* millisOf(limiter, "ns/db"))
          yield* TestClock.adjust("1 second") // keeps the shared bucket full: only the per-key delay counts
        }
        assert.deepStrictEqual(delays.slice(0, 3), [5, 10, 20])
        assert.strictEqual(Math.max(...delays), DoltDBPlanner.PollMillis)
        assert.strictEqual(delays.at(-1), DoltDBPlanner.PollMillis)
        // The other controllers keep controller-runtime's default.
        const database = controllers(defaultOperatorOptions).find((c) => c.name !== "doltdb")
        assert.isUndefined(database?.rateLimiter)
      })
  )
})
