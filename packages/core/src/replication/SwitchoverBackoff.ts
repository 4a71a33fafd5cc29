/**
 * Re-attempting an aborted switchover. An abort (the target did not confirm the drained primary's final state) costs
 * a drain and two epochs; retrying at once, every poll, repeats that outage while whatever held the target back
 * lasts. So the request stays pending and is re-attempted after a delay that doubles with each abort towards the
 * same index (5 s, 10 s, 20 s, then every 30 s), recorded in status so an operator restart keeps it. A new podIndex,
 * or the primary reaching the requested index, ends it.
 */
import type { ReplicationState } from "./ReplicationObserved.ts"

export interface SwitchoverBackoff {
  /** The index the aborted switchover went to. */
  readonly to: number
  /** Aborts in a row towards `to`. */
  readonly attempts: number
  /** Operator clock, epoch millis: not re-attempted before this. */
  readonly retryAt: number
}

export const FirstRetryMillis = 5_000
/** Kept well under the simulator's 60 s recovery bound: a request pending when the faults end is honoured in it. */
export const MaxRetryMillis = 30_000

export const retryDelayMillis = (attempts: number): number =>
  Math.min(FirstRetryMillis * 2 ** Math.max(0, Math.min(attempts - 1, 16)), MaxRetryMillis)

/** The back-off after one more abort of a switchover to `to`. */
export const afterAbort = (state: ReplicationState, to: number, now: number): SwitchoverBackoff => {
  const attempts = (state.switchoverBackoff?.to === to ? state.switchoverBackoff.attempts : 0) + 1
  return { to, attempts, retryAt: now + retryDelayMillis(attempts) }
}

/**
 * How long a switchover to `target` must still wait, or `undefined` when it may start now. Any switchover waits (the
 * rolling update's too: what held the drain back may be the primary), except one to a podIndex the user asked for
 * since, which is a new request.
 */
export const waitBeforeSwitchover = (
  state: ReplicationState,
  target: number,
  desiredPrimary: number,
  now: number
): number | undefined => {
  const b = state.switchoverBackoff
  if (b === undefined || now >= b.retryAt) return undefined
  return target === desiredPrimary && desiredPrimary !== b.to ? undefined : b.retryAt - now
}

/**
 * The back-off is over once the primary is where the aborted switchover went, or its delay has passed with no
 * switchover pending (it is kept while one may still come: the rolling update asks only once no transition is
 * recorded).
 */
export const backoffOver = (state: ReplicationState, primary: number, now: number): boolean => {
  const b = state.switchoverBackoff
  return b !== undefined && (b.to === primary || now >= b.retryAt)
}

export const describeBackoff = (b: SwitchoverBackoff, name: string, now: number): string =>
  `the switchover to '${name}' aborted ${b.attempts === 1 ? "once" : `${b.attempts} times in a row`}; re-attempting in ${Math.max(0, Math.ceil((b.retryAt - now) / 1000))}s`
