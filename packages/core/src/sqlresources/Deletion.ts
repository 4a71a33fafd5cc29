/**
 * The finalizer flow shared by Database, User and Grant. Unlike the reference (§7.5, §13.4 item 35), a DoltDB
 * that stays unreachable, or a cleanup that keeps failing, blocks deletion only for a bounded time: then the
 * finalizer is released with a Warning event naming what was left behind.
 */
import { type Action, event, type SqlOp } from "../plan/Action.ts"
import { rfc3339 } from "../status/Conditions.ts"
import { failureEvent, failureMessage } from "./SqlFailures.ts"
import {
  assemble,
  notReady,
  type ParentDoltDB,
  type PlanContext,
  type PlanResult,
  qualified,
  ReadyReason,
  type ResourceStatus,
  type SqlFailure,
  waitMillis,
  withReady
} from "./SqlResource.ts"

/** What a kind's cleanup does when the parent is ready. */
export interface Cleanup {
  readonly sql: ReadonlyArray<SqlOp>
  readonly events: ReadonlyArray<Action>
}

/**
 * The finalizer flow of a deleting object:
 * - no finalizer: nothing to do;
 * - cleanupPolicy Skip, the DoltDB is gone, or it refuses this object's namespace: release without SQL;
 * - DoltDB not ready (or the cleanup SQL keeps failing) past `deletionTimeoutMillis`: release with a Warning naming
 *   what was left behind;
 * - DoltDB not ready: Ready False and wait;
 * - otherwise run the cleanup SQL, then release.
 */
export const planDeletion = <S extends ResourceStatus, Reads>(input: {
  readonly ctx: PlanContext
  readonly current: S | undefined
  readonly empty: S
  readonly parent: ParentDoltDB<Reads>
  readonly failure: SqlFailure | undefined
  /** What cleanup would remove, in words (`database app`, `account 'bob'@'%'`). */
  readonly leftBehind: string
  readonly cleanup: (reads: Reads) => Cleanup
}): PlanResult<S> => {
  const { ctx, current, parent, failure, leftBehind } = input
  const unchanged: PlanResult<S> = { actions: [], status: current ?? input.empty }
  if (!ctx.hasFinalizer) return unchanged
  const release = (type: "Normal" | "Warning", reason: string, message: string): PlanResult<S> => ({
    actions: [
      event(ctx.ref, type, reason, message),
      { _tag: "SetFinalizer", ref: ctx.ref, finalizer: ctx.finalizer, present: false }
    ],
    status: current ?? input.empty
  })
  if (ctx.cleanupPolicy === "Skip") {
    return release("Normal", "CleanupSkipped", `cleanupPolicy Skip: ${leftBehind} left in place`)
  }
  if (parent._tag === "Missing") {
    return release("Normal", "CleanupSkipped", `DoltDB ${qualified(ctx.cluster)} no longer exists: nothing to clean up`)
  }
  // Never touch a DoltDB this object may not use, whatever its status claims.
  if (parent._tag === "Refused") {
    return release("Warning", "CleanupRefused", `${parent.reason}: ${leftBehind} left in place`)
  }
  const since = ctx.deletingSince ?? ctx.now
  const deadline = since + ctx.options.deletionTimeoutMillis
  const stuck = parent._tag === "NotReady" || failure !== undefined
  if (stuck && ctx.now >= deadline) {
    const why =
      parent._tag === "NotReady"
        ? `DoltDB ${qualified(ctx.cluster)} is not ready (${parent.reason})`
        : `cleanup keeps failing (${failure?.message ?? ""})`
    return release(
      "Warning",
      "CleanupAbandoned",
      `${why} for ${Math.round(ctx.options.deletionTimeoutMillis / 1000)}s after deletion: ${leftBehind} left behind`
    )
  }
  const empty = current ?? input.empty
  if (parent._tag === "NotReady") {
    const ready = notReady(
      ReadyReason.DoltDBNotReady,
      `DoltDB ${qualified(ctx.cluster)} is not ready: ${parent.reason}; cleanup of ${leftBehind} waits until ${rfc3339(deadline)}`
    )
    return assemble(ctx, current, {
      sql: [],
      events: [],
      status: withReady(ctx, empty, ready),
      finalizer: "keep",
      requeue: { millis: Math.min(waitMillis(ctx, current, ready.reason), deadline - ctx.now), why: ready.message }
    })
  }
  const cleanup = input.cleanup(parent.reads)
  const message = `Error cleaning up ${leftBehind}: ${failure === undefined ? "" : failureMessage(failure)}`
  const failureStatus =
    failure === undefined || cleanup.sql.length === 0
      ? undefined
      : withReady(ctx, empty, notReady(ReadyReason.Failed, message))
  return assemble(ctx, current, {
    sql: cleanup.sql,
    events: cleanup.events,
    // Nothing more to record once the finalizer is gone: the object disappears.
    status: failureStatus ?? empty,
    ...(failureStatus === undefined ? {} : { failureStatus, failureEvent: failureEvent(ctx, message) }),
    finalizer: "remove"
  })
}
