/**
 * A controller: N workers taking keys from a `WorkQueue` and reconciling them, with controller-runtime's
 * result handling (pkg/internal/controller/controller.go `reconcileHandler`):
 *
 * | outcome                        | queue                      | `controller_runtime_reconcile_total{result}` |
 * |--------------------------------|----------------------------|----------------------------------------------|
 * | failure or defect              | `addRateLimited`           | `error` (+ errors_total; defects: panics_total) |
 * | `requeueAfter(d)`, d > 0       | `forget` + `addAfter(d)`   | `requeue_after`                              |
 * | `requeue`                      | `addRateLimited`           | `requeue`                                    |
 * | `done` (or `requeueAfter(0)`)  | `forget`                   | `success`                                    |
 *
 * The queue never hands a key to two workers at once, so one key is never reconciled twice concurrently.
 * `run` returns once the queue is shut down and every worker has finished its key; interrupting `run`
 * interrupts the reconciles in flight (reconcilers are idempotent, so a cut reconcile is safe to redo).
 */
import { Cause, Clock, Data, Duration, Effect, Exit, Fiber, Metric } from "effect"
import * as ControllerMetrics from "./ControllerMetrics.ts"
import type { WorkQueue } from "./WorkQueue.ts"

export type ReconcileResult = Data.TaggedEnum<{
  Done: {}
  Requeue: {}
  RequeueAfter: { readonly after: Duration.Duration }
}>
export const ReconcileResult = Data.taggedEnum<ReconcileResult>()

/** Converged: forget the key's failures; the next event re-queues it. */
export const done: ReconcileResult = ReconcileResult.Done()
/** Try again after the rate limiter's backoff for this key. */
export const requeue: ReconcileResult = ReconcileResult.Requeue()
/** Try again after `after` (e.g. a periodic drift check); resets the key's backoff. */
export const requeueAfter = (after: Duration.Input): ReconcileResult =>
  ReconcileResult.RequeueAfter({ after: Duration.fromInputUnsafe(after) })

/** A 409 Conflict (the object changed since it was read), directly or as the cause of a failed action. */
const isConflict = (error: unknown, depth = 0): boolean =>
  typeof error === "object" &&
  error !== null &&
  ((error as { _tag?: unknown })._tag === "Conflict" ||
    (depth < 3 && isConflict((error as { cause?: unknown }).cause, depth + 1)))

/**
 * A failure that is the normal optimistic-concurrency retry: only conflicts, no defect. Logged at info without a
 * stack (controller-runtime logs it as an error with one); still counted as a reconcile error.
 */
const conflictOnly = <E>(cause: Cause.Cause<E>): string | undefined => {
  if (Cause.hasDies(cause) || cause.reasons.length === 0) return undefined
  const errors = cause.reasons.map((reason) => (reason._tag === "Fail" ? reason.error : undefined))
  if (!errors.every((error) => isConflict(error))) return undefined
  const first = errors[0] as { message?: unknown }
  return typeof first.message === "string" ? first.message : "Conflict"
}

export interface ControllerOptions<E, R> {
  /** The controller's name: the `controller` label of its metrics and log annotation. */
  readonly name: string
  readonly queue: WorkQueue
  readonly reconcile: (key: string) => Effect.Effect<ReconcileResult, E, R>
  /** Concurrent reconciles (controller-runtime `MaxConcurrentReconciles`); defaults to 1. */
  readonly workers?: number
}

export interface Controller {
  readonly name: string
  readonly queue: WorkQueue
  readonly workers: number
  /** Run the workers until the queue shuts down (or until interrupted). */
  readonly run: Effect.Effect<void>
}

interface WorkerSlot {
  /** The key this worker is processing, if any. */
  key: string | undefined
  /** Whether it is counted in `controller_runtime_active_workers`. */
  active: boolean
}

export const make = <E, R>(options: ControllerOptions<E, R>): Effect.Effect<Controller, never, R> =>
  Effect.gen(function* () {
    const { name, queue } = options
    const workers = Math.max(1, options.workers ?? 1)
    const services = yield* Effect.context<R>()
    const reconcile = (key: string) => Effect.provideContext(options.reconcile(key), services)
    const labels = { controller: name }
    const total = (result: ControllerMetrics.ResultLabel) =>
      Metric.withAttributes(ControllerMetrics.reconcileTotal, { ...labels, result })
    const errors = Metric.withAttributes(ControllerMetrics.reconcileErrors, labels)
    const panics = Metric.withAttributes(ControllerMetrics.reconcilePanics, labels)
    const time = Metric.withAttributes(ControllerMetrics.reconcileTime, labels)
    const active = Metric.withAttributes(ControllerMetrics.activeWorkers, labels)
    const maxConcurrent = Metric.withAttributes(ControllerMetrics.maxConcurrentReconciles, labels)
    // Present from the start (at 0), as controller-runtime does, so rates and alerts see a series before a failure.
    yield* Effect.forEach([errors, panics, ...ControllerMetrics.resultLabels.map(total)], (m) => Metric.update(m, 0), {
      discard: true
    })

    const onFailure = (key: string, cause: Cause.Cause<E>) =>
      Effect.gen(function* () {
        yield* Metric.update(errors, 1)
        yield* Metric.update(total("error"), 1)
        if (Cause.hasDies(cause)) yield* Metric.update(panics, 1)
        const conflict = conflictOnly(cause)
        if (conflict !== undefined)
          yield* Effect.logInfo("The object changed while it was reconciled (409 Conflict): retrying", {
            message: conflict
          })
        else yield* Effect.logError("Reconciler error", cause)
        yield* queue.addRateLimited(key)
      })

    const onResult = (key: string, result: ReconcileResult) => {
      if (result._tag === "RequeueAfter" && Duration.toMillis(result.after) > 0) {
        return Effect.all([
          queue.forget(key),
          queue.addAfter(key, result.after),
          Metric.update(total("requeue_after"), 1)
        ])
      }
      if (result._tag === "Requeue") {
        return Effect.all([queue.addRateLimited(key), Metric.update(total("requeue"), 1)])
      }
      return Effect.all([queue.forget(key), Metric.update(total("success"), 1)])
    }

    const handle = (key: string, slot: WorkerSlot) =>
      Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        yield* Metric.modify(active, 1)
        slot.active = true
        const exit = yield* Effect.exit(reconcile(key)).pipe(
          Effect.ensuring(
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              slot.active = false
              return Effect.andThen(Metric.modify(active, -1), Metric.update(time, (now - started) / 1000))
            })
          )
        )
        if (Exit.isSuccess(exit)) return yield* onResult(key, exit.value)
        // An interrupted reconcile is neither a success nor an error: the controller is stopping.
        if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.interrupt
        return yield* onFailure(key, exit.cause)
      }).pipe(Effect.annotateLogs({ controller: name, key }))

    // Taking a key and registering its `done` happen with interruption masked, so no key is ever lost
    // between the two; waiting for a key and the reconcile itself stay interruptible.
    const processNext = (slot: WorkerSlot) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(restore(queue.take), (key) => {
          slot.key = key
          return restore(handle(key, slot)).pipe(
            Effect.ensuring(
              Effect.suspend(() => {
                slot.key = undefined
                return queue.done(key)
              })
            )
          )
        })
      )
    const worker = (slot: WorkerSlot) =>
      Effect.forever(processNext(slot)).pipe(Effect.catchTag("WorkQueueShutDown", () => Effect.void))

    // A fiber can die without running its handlers (a reconciler handing the runtime a value that is not an
    // Effect, which `Effect.andThen(effect, () => value)` type-checks but fails at run time). Supervise each
    // worker: count the crash as a panic, release and retry its key, start a new worker.
    const supervisedWorker = Effect.gen(function* () {
      while (true) {
        const slot: WorkerSlot = { key: undefined, active: false }
        const exit = yield* Fiber.await(yield* Effect.forkChild(worker(slot), { startImmediately: true }))
        if (Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause)) return
        yield* Effect.logError("Worker crashed; starting a new one", exit.cause)
        yield* Metric.update(panics, 1)
        yield* Metric.update(errors, 1)
        yield* Metric.update(total("error"), 1)
        if (slot.active) yield* Metric.modify(active, -1)
        if (slot.key !== undefined) {
          yield* queue.done(slot.key)
          yield* queue.addRateLimited(slot.key)
        }
      }
    })

    const run = Effect.gen(function* () {
      for (const result of ControllerMetrics.resultLabels) yield* Metric.update(total(result), 0)
      yield* Metric.update(errors, 0)
      yield* Metric.update(panics, 0)
      yield* Metric.update(active, 0)
      yield* Metric.update(maxConcurrent, workers)
      yield* Effect.logInfo("Starting workers", { workers })
      yield* Effect.forEach(Array.from({ length: workers }), () => supervisedWorker, {
        concurrency: "unbounded",
        discard: true
      })
      yield* Effect.logInfo("All workers finished")
    }).pipe(Effect.annotateLogs({ controller: name }))

    return { name, queue, workers, run } satisfies Controller
  })
