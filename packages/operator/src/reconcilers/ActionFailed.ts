/** How a plan's step fails: the executor's one error, so a controller can record which step and statement failed. */
import type { Action, SqlOp } from "@doltdb-op/core/plan/Action"
import { Data } from "effect"

export class ActionFailed extends Data.TaggedError("ActionFailed")<{
  readonly action: Action["_tag"]
  readonly message: string
  readonly cause?: unknown
  /** The SQL statement that failed (`Sql` actions), for the SQL-resource planners' `lastFailure`. */
  readonly op?: SqlOp
  /** The failure's tag (`DoltReadOnly`, `DoltUnreachable`, ...). */
  readonly errorTag?: string
}> {}

export const describe = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e)

/** Wraps any failure of `action` as an `ActionFailed` carrying its message. */
export const failedAs = (action: Action["_tag"]) => (cause: unknown) =>
  new ActionFailed({ action, message: describe(cause), cause })
