/**
 * A deduplicating work queue with one worker fiber: the shape of every simulated controller. Keys enqueued while a
 * key is pending are merged; a failed reconcile is retried after a delay (through Clock).
 */
import { type Duration, Effect, Queue } from "effect"

export interface Worker {
  readonly enqueue: (key: string) => void
  /** True when nothing is queued or running. */
  readonly idle: () => boolean
}

export const startWorker = <E>(
  name: string,
  reconcile: (key: string) => Effect.Effect<void, E>,
  retryAfter: Duration.Input = "1 second"
) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const queue = yield* Queue.unbounded<string>()
    const pending = new Set<string>()
    let busy = false
    const enqueue = (key: string) => {
      if (pending.has(key)) return
      pending.add(key)
      Queue.offerUnsafe(queue, key)
    }
    const retry = (key: string) =>
      Effect.sleep(retryAfter).pipe(Effect.andThen(Effect.sync(() => enqueue(key))), Effect.forkIn(scope))
    yield* Effect.forever(
      Effect.gen(function* () {
        const key = yield* Queue.take(queue)
        pending.delete(key)
        busy = true
        yield* reconcile(key).pipe(
          Effect.catch((error) =>
            Effect.logDebug(`${name}: ${key} failed, retrying`, error).pipe(Effect.andThen(retry(key)))
          ),
          Effect.ensuring(
            Effect.sync(() => {
              busy = false
            })
          )
        )
      })
    ).pipe(Effect.forkScoped)
    // retries waiting on the clock do not count as busy: a test advances time to run them
    return { enqueue, idle: () => !busy && pending.size === 0 } satisfies Worker
  })

/** Stable short hash (FNV-1a, 32 bit) of a JSON value with sorted keys: revision hashes, volume ids. */
export const stableHash = (value: unknown): string => {
  const canonical = (v: unknown): string => {
    if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null"
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`
  }
  let h = 0x811c9dc5
  const s = canonical(value)
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, "0")
}

/**
 * A revision hash in the API server's alphabet: the hash's decimal digits mapped like apimachinery's
 * `rand.SafeEncodeString` (so `<sts>-<hash>` looks like a real `controller-revision-hash`, e.g. `db-6b85664f4d`).
 */
export const revisionHash = (value: unknown): string => {
  const alphanums = "bcdfghjklmnpqrstvwxz2456789"
  const decimal = String(Number.parseInt(stableHash(value), 16))
  let out = ""
  for (let i = 0; i < decimal.length; i++) out += alphanums[decimal.charCodeAt(i) % alphanums.length]
  return out
}
