/**
 * Per-key retry delays for the work queue, with client-go's semantics (util/workqueue/default_rate_limiters.go):
 * an exponential per-key failure limiter, a token bucket shared by all keys, and "max of" to combine them.
 *
 * Hand-written because neither effect nor any kept library offers a *per-key* limiter that answers "how long
 * until this key may run again" (effect's `Schedule` is per-retry-loop, not per key in a shared queue).
 * State lives in plain maps mutated inside `Effect.sync`, so every call is atomic on the JS thread.
 */
import { Clock, Duration, Effect } from "effect"

export interface RateLimiter {
  /** The delay before `key` may be processed again; every call counts as one more failure of `key`. */
  readonly when: (key: string) => Effect.Effect<Duration.Duration>
  /** Forget the failures of `key` (call after a successful reconcile). */
  readonly forget: (key: string) => Effect.Effect<void>
  /** How many times `key` has failed since it was last forgotten. */
  readonly numRequeues: (key: string) => Effect.Effect<number>
}

export interface ExponentialOptions {
  readonly base: Duration.Input
  readonly max: Duration.Input
}

/** `base * 2^failures`, capped at `max` (client-go `ItemExponentialFailureRateLimiter`). */
export const itemExponentialFailure = (options: ExponentialOptions): Effect.Effect<RateLimiter> =>
  Effect.sync(() => {
    const baseMillis = Duration.toMillis(Duration.fromInputUnsafe(options.base))
    const maxMillis = Duration.toMillis(Duration.fromInputUnsafe(options.max))
    const failures = new Map<string, number>()
    return {
      when: (key) =>
        Effect.sync(() => {
          const exp = failures.get(key) ?? 0
          failures.set(key, exp + 1)
          const backoff = baseMillis * 2 ** exp
          return Duration.millis(Number.isFinite(backoff) && backoff < maxMillis ? backoff : maxMillis)
        }),
      forget: (key) => Effect.sync(() => void failures.delete(key)),
      numRequeues: (key) => Effect.sync(() => failures.get(key) ?? 0)
    }
  })

export interface BucketOptions {
  /** Tokens added per second. */
  readonly qps: number
  /** Bucket size; the bucket starts full. */
  readonly burst: number
}

/**
 * A token bucket shared by all keys (client-go `BucketRateLimiter` over golang.org/x/time/rate's `Reserve`):
 * each call takes a token, going into debt when the bucket is empty; the delay is the time to repay the debt.
 */
export const bucket = (options: BucketOptions): Effect.Effect<RateLimiter> =>
  Effect.sync(() => {
    let tokens = options.burst
    let last: number | undefined
    return {
      when: () =>
        Clock.clockWith((clock) =>
          Effect.sync(() => {
            const now = clock.currentTimeMillisUnsafe()
            const elapsedSeconds = last === undefined ? Number.POSITIVE_INFINITY : Math.max(0, now - last) / 1000
            tokens = Math.min(options.burst, tokens + elapsedSeconds * options.qps) - 1
            last = last === undefined ? now : Math.max(now, last)
            return tokens < 0 ? Duration.millis((-tokens / options.qps) * 1000) : Duration.zero
          })
        ),
      forget: () => Effect.void,
      numRequeues: () => Effect.succeed(0)
    }
  })

/** The longest delay of all limiters; every limiter is consulted on every call (client-go `MaxOfRateLimiter`). */
export const maxOf = (limiters: ReadonlyArray<RateLimiter>): RateLimiter => ({
  when: (key) =>
    Effect.map(
      Effect.forEach(limiters, (limiter) => limiter.when(key)),
      (delays) => delays.reduce((longest, delay) => Duration.max(longest, delay), Duration.zero)
    ),
  forget: (key) => Effect.forEach(limiters, (limiter) => limiter.forget(key), { discard: true }),
  numRequeues: (key) =>
    Effect.map(
      Effect.forEach(limiters, (limiter) => limiter.numRequeues(key)),
      (counts) => Math.max(0, ...counts)
    )
})

/**
 * controller-runtime's default: per-key exponential 5 ms .. 1000 s, max'ed with an overall 10 qps / burst 100
 * bucket (client-go `DefaultTypedControllerRateLimiter`).
 */
export const defaultController: Effect.Effect<RateLimiter> = Effect.gen(function* () {
  const perKey = yield* itemExponentialFailure({ base: "5 millis", max: "1000 seconds" })
  const overall = yield* bucket({ qps: 10, burst: 100 })
  return maxOf([perKey, overall])
})

/**
 * The default limiter with the per-key delay capped at `max` (the DoltDB controller: its poll interval). A DoltDB
 * is also how a dead primary is noticed: after a burst of API errors the default's per-key back-off reaches minutes
 * (1000 s at most), and the key's next reconcile, hence failover detection, would wait that long.
 */
export const cappedController = (max: Duration.Input): Effect.Effect<RateLimiter> =>
  Effect.gen(function* () {
    const perKey = yield* itemExponentialFailure({ base: "5 millis", max })
    const overall = yield* bucket({ qps: 10, burst: 100 })
    return maxOf([perKey, overall])
  })
