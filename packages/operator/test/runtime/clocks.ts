import { Clock, Effect } from "effect"

/**
 * The test clock seen through offsets, as one process sees it: `wall` moves only the wall clock (an NTP step),
 * `pause` moves only the monotonic clock (the process was frozen: time passed, no fiber ran).
 */
export const skewedClock = Clock.clockWith((clock) =>
  Effect.sync(() => {
    const offsets = { wall: 0, pause: 0 }
    const wallMillis = () => clock.currentTimeMillisUnsafe() + offsets.wall
    const wallNanos = () => clock.currentTimeNanosUnsafe() + BigInt(offsets.wall) * 1_000_000n
    const monoNanos = () => clock.monotonicTimeNanosUnsafe() + BigInt(offsets.pause) * 1_000_000n
    const skewed: Clock.Clock = {
      currentTimeMillisUnsafe: wallMillis,
      currentTimeMillis: Effect.sync(wallMillis),
      currentTimeNanosUnsafe: wallNanos,
      currentTimeNanos: Effect.sync(wallNanos),
      monotonicTimeNanosUnsafe: monoNanos,
      monotonicTimeNanos: Effect.sync(monoNanos),
      sleep: (duration) => clock.sleep(duration)
    }
    return { skewed, offsets }
  })
)
