/**
 * How the SQL resource planners report and retry a statement that failed in the previous plan (the runtime keeps
 * the failure per object and clears it once a plan runs through): Ready False naming the statement and the
 * server's message, a Warning once per failure, and the retry on `spec.retryInterval` or the runtime's backoff.
 */
import { type Action, event, type SqlOp } from "../plan/Action.ts"
import type { ConditionInput } from "../status/Conditions.ts"
import {
  notReady,
  type PlanContext,
  ReadyReason,
  type ResourceStatus,
  type SqlFailure,
  type Step,
  withReady
} from "./SqlResource.ts"

/** Requeue after a plan that retries failed SQL: `spec.retryInterval` if set, else the runtime's backoff applies. */
export const retryRequeue = (ctx: PlanContext) =>
  ctx.retryMillis === undefined ? undefined : { millis: ctx.retryMillis, why: "retry after a failed statement" }

/** A Warning event for a failure the status now reports (emitted once, when the failure status is written). */
export const failureEvent = (ctx: PlanContext, message: string): Action => event(ctx.ref, "Warning", "Failed", message)

/**
 * How a plan with `sql` handles the previous failure: when the SQL is planned again, Ready False naming the error
 * is recorded first (with a Warning), the final status is built on top of it (so Ready's lastTransitionTime shows
 * the flip back), and the retry follows `spec.retryInterval` instead of the drift-check period.
 */
export const failureHandling = <S extends ResourceStatus>(
  ctx: PlanContext,
  current: S | undefined,
  empty: S,
  sql: ReadonlyArray<SqlOp>,
  lastFailure: SqlFailure | undefined,
  ready: (failure: SqlFailure) => ConditionInput = failedReady
): Pick<Step<S>, "failureStatus" | "failureEvent" | "requeue"> & { readonly base: S } => {
  const failure = sql.length > 0 ? lastFailure : undefined
  if (failure === undefined) {
    return { base: current ?? empty, requeue: { millis: ctx.requeueMillis, why: "drift check" } }
  }
  const failureStatus = withReady(ctx, current ?? empty, ready(failure))
  return {
    base: failureStatus,
    failureStatus,
    failureEvent: failureEvent(ctx, failureMessage(failure)),
    requeue: retryRequeue(ctx)
  }
}

const accountText = (name: string, host: string) => `'${name}'@'${host}'`
const level = (database: string, table: string) => (database === "*" ? "*.*" : `${database}.${table}`)

/** A SQL action in words, for messages (never the password: plans carry only the Secret reference). */
export const describeSqlOp = (op: SqlOp): string => {
  switch (op._tag) {
    case "CreateDatabase":
      return `CREATE DATABASE ${op.name}`
    case "DropDatabase":
      return `DROP DATABASE ${op.name}`
    case "EnsureBranches":
      return `creating branches ${op.branches.join(", ")} in ${op.database}`
    case "EnsureIgnorePatterns":
      return `committing dolt_ignore patterns ${op.patterns.join(", ")} in ${op.database}`
    case "CreateUser":
      return `CREATE USER ${accountText(op.name, op.host)}`
    case "SetPassword":
      return `ALTER USER ${accountText(op.name, op.host)}`
    case "DropUser":
      return `DROP USER ${accountText(op.name, op.host)}`
    case "Grant":
    case "Revoke": {
      const privileges = op.privileges.length === 0 ? (op._tag === "Grant" ? "USAGE" : "") : op.privileges.join(", ")
      const option = op.grantOption && op._tag === "Revoke" ? `${privileges === "" ? "" : ", "}GRANT OPTION` : ""
      const suffix = op.grantOption && op._tag === "Grant" ? " WITH GRANT OPTION" : ""
      const direction = op._tag === "Grant" ? "TO" : "FROM"
      return `${op._tag.toUpperCase()} ${privileges}${option} ON ${level(op.database, op.table)} ${direction} ${accountText(op.name, op.host)}${suffix}`
    }
  }
}

/** The failed statement and the server's message. */
export const failureMessage = (failure: SqlFailure): string => `${describeSqlOp(failure.op)} failed: ${failure.message}`

/** Ready False for the SQL that failed last time (the SQL is planned again after this status is recorded). */
export const failedReady = (failure: SqlFailure): ConditionInput =>
  notReady(ReadyReason.Failed, failureMessage(failure))
