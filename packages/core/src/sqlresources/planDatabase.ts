/**
 * The Database planner: create the database when missing (charset and collation apply at creation only; a later
 * difference is reported in the `CharsetCollation` condition, never silently ignored), then commit the missing
 * dolt_ignore patterns and create the missing system branches (ignore patterns first, so new branches carry them).
 *
 * Renaming `spec.name` creates a new database. The previous one keeps its data: it is listed in
 * `status.retainedDatabases` (condition `PreviousDatabasesRetained`) and dropped with this Database on deletion
 * when cleanupPolicy is Delete. `status.databaseName` records the database this object manages, so the finalizer
 * drops the right one whatever the spec says by then; status is the only record of ownership (a spec names any
 * database). An existing database is never taken over unless `spec.adopt` asks for it (from the DoltDB's own
 * namespace only); the status naming a database to create is written before CREATE DATABASE runs.
 * Patterns and branches removed from the spec are left in place (they may hold data or history).
 */
import * as Schema from "effect/Schema"
import type { Condition } from "../api/Common.ts"
import type { DatabaseSpec } from "../api/Database.ts"
import { type Action, event, type SqlOp } from "../plan/Action.ts"
import { BranchName, CharsetName, DatabaseName, ParameterText } from "../services/dolt/names.ts"
import { type ConditionInput, setConditions } from "../status/Conditions.ts"
import { planDeletion } from "./Deletion.ts"
import { failureHandling } from "./SqlFailures.ts"
import {
  assemble,
  created,
  invalidParentRef,
  makeContext,
  type ParentDoltDB,
  type PlanContext,
  type PlannerOptions,
  type PlanResult,
  qualified,
  ReadyReason,
  type ResourceStatus,
  refuse,
  rejectSpec,
  type SqlFailure,
  type SqlResourceObject,
  waitForParent,
  withReady
} from "./SqlResource.ts"

// Guards built once: building one per call dominates the planner's cost.
const isDatabaseName = Schema.is(DatabaseName)
const isCharsetName = Schema.is(CharsetName)
const isBranchName = Schema.is(BranchName)
const isParameterText = Schema.is(ParameterText)

export interface DatabaseResourceStatus extends ResourceStatus {
  /** The database this object created or adopted (proposed `status.databaseName`). */
  readonly databaseName?: string
  /** Databases of earlier `spec.name`s, left in place by a rename (proposed `status.retainedDatabases`). */
  readonly retainedDatabases?: ReadonlyArray<string>
}

/** What the primary reports about the database named by `spec.name` (when it exists). */
export interface DatabaseDetails {
  readonly branches: ReadonlyArray<string>
  /** `dolt_ignore` patterns as of the HEAD commit of `main` (uncommitted rows do not count). */
  readonly committedIgnorePatterns: ReadonlyArray<string>
  /** From `information_schema.SCHEMATA`, when read. */
  readonly charset?: string | undefined
  readonly collation?: string | undefined
}

export interface DatabaseReads {
  /** User databases on the primary (`listDatabases`). */
  readonly databases: ReadonlyArray<string>
  /** Present when `spec.name` is among `databases`. */
  readonly details?: DatabaseDetails | undefined
}

export interface DatabaseObserved {
  /** Operator clock, epoch millis. */
  readonly now: number
  readonly database: SqlResourceObject<DatabaseSpec, DatabaseResourceStatus>
  readonly parent: ParentDoltDB<DatabaseReads>
  readonly lastFailure?: SqlFailure | undefined
  readonly options?: PlannerOptions
}

export const CharsetCollationCondition = "CharsetCollation"
export const RetainedCondition = "PreviousDatabasesRetained"

const removeCondition = (conditions: ReadonlyArray<Condition> | undefined, type: string) =>
  conditions?.some((c) => c.type === type) === true ? conditions.filter((c) => c.type !== type) : conditions

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
const present = (names: ReadonlyArray<string>, name: string) => names.some((n) => sameName(n, name))
const unique = (names: ReadonlyArray<string>) => names.filter((n, i) => names.findIndex((m) => sameName(m, n)) === i)

/**
 * The databases deletion drops: only what status records (created, or adopted on request), never `spec.name`: a
 * spec can name anyone's database, status is written only by the operator.
 */
const managedDatabases = (status: DatabaseResourceStatus | undefined): ReadonlyArray<string> => {
  const main = status?.databaseName
  return unique([...(main === undefined ? [] : [main]), ...(status?.retainedDatabases ?? [])])
}

const deletion = (o: DatabaseObserved, ctx: PlanContext, current: DatabaseResourceStatus | undefined) => {
  const names = managedDatabases(current)
  return planDeletion({
    ctx,
    current,
    empty: {},
    parent: o.parent,
    failure: o.lastFailure,
    leftBehind: names.length === 0 ? "no database" : `database ${names.join(", ")}`,
    cleanup: (reads: DatabaseReads) => {
      const drop = names.filter((n) => present(reads.databases, n))
      return {
        sql: drop.map((name): SqlOp => ({ _tag: "DropDatabase", name })),
        events: drop.map((name) => event(ctx.ref, "Normal", "Dropped", `dropped database ${name}`))
      }
    }
  })
}

const validateSpec = (spec: DatabaseSpec): string | undefined => {
  if (!isDatabaseName(spec.name)) return `spec.name ${JSON.stringify(spec.name)} is not a valid database name`
  if (spec.charset !== "" && !isCharsetName(spec.charset))
    return `spec.charset ${JSON.stringify(spec.charset)} is not valid`
  if (spec.collation !== "" && !isCharsetName(spec.collation)) {
    return `spec.collation ${JSON.stringify(spec.collation)} is not valid`
  }
  const branch = (spec.systemBranches ?? []).find((b) => !isBranchName(b))
  if (branch !== undefined) return `spec.systemBranches entry ${JSON.stringify(branch)} is not a valid branch name`
  const pattern = (spec.doltIgnorePatterns ?? []).find((p) => !isParameterText(p))
  if (pattern !== undefined) return `spec.doltIgnorePatterns entry ${JSON.stringify(pattern)} is not valid`
  return undefined
}

/** `CharsetCollation`: True when the server's values match the spec, False when they differ; unset when unread. */
const charsetCondition = (spec: DatabaseSpec, details: DatabaseDetails | undefined): ConditionInput | undefined => {
  if (details?.charset === undefined && details?.collation === undefined) return undefined
  const differs = (want: string, have: string | undefined) => want !== "" && have !== undefined && !sameName(want, have)
  if (differs(spec.charset, details.charset) || differs(spec.collation, details.collation)) {
    return {
      type: CharsetCollationCondition,
      status: "False",
      reason: "ChangeNotApplied",
      message: `database ${spec.name} has charset ${details.charset ?? "?"} and collation ${details.collation ?? "?"}; the spec asks for ${spec.charset} and ${spec.collation}, which apply at creation only (ALTER DATABASE is not run)`
    }
  }
  return {
    type: CharsetCollationCondition,
    status: "True",
    reason: "Matches",
    message: "charset and collation match the spec"
  }
}

export const planDatabase = (o: DatabaseObserved): PlanResult<DatabaseResourceStatus> => {
  const ctx = makeContext("Database", o.database, o.now, o.options)
  const current = o.database.status
  const spec = o.database.spec
  if (ctx.deletingSince !== undefined) return deletion(o, ctx, current)
  const invalidRef = invalidParentRef(ctx)
  if (invalidRef !== undefined) return rejectSpec(ctx, current, {}, ReadyReason.InvalidSpec, invalidRef)
  const invalid = validateSpec(spec)
  if (invalid !== undefined) return rejectSpec(ctx, current, {}, ReadyReason.InvalidSpec, invalid)
  if (o.parent._tag !== "Ready") return waitForParent(ctx, current, {}, o.parent)

  const reads = o.parent.reads
  const name = spec.name
  const exists = present(reads.databases, name)
  const ours = managedDatabases(current).some((n) => sameName(n, name))
  const adopting = exists && !ours
  if (adopting && !ctx.mayAdopt) {
    return refuse(
      ctx,
      current,
      {},
      ReadyReason.AlreadyExists,
      ctx.crossNamespace
        ? `database ${name} already exists in DoltDB ${qualified(ctx.cluster)} and was not created by this Database; objects from another namespace never adopt`
        : `database ${name} already exists and was not created by this Database: set spec.adopt: true to manage it (cleanupPolicy Delete then drops it on deletion)`
    )
  }
  const details = exists ? reads.details : undefined
  const patterns = unique(spec.doltIgnorePatterns ?? [])
  const branches = unique(spec.systemBranches ?? [])
  const missingPatterns = patterns.filter((p) => !(details?.committedIgnorePatterns ?? []).includes(p))
  const missingBranches = branches.filter((b) => !(details?.branches ?? []).includes(b))
  const sql: Array<SqlOp> = []
  const events: Array<Action> = []
  if (!exists) {
    sql.push({
      _tag: "CreateDatabase",
      name,
      ...(spec.charset === "" ? {} : { charset: spec.charset }),
      ...(spec.collation === "" ? {} : { collation: spec.collation })
    })
    const again = current?.databaseName !== undefined && sameName(current.databaseName, name)
    events.push(event(ctx.ref, "Normal", "Created", `${again ? "re-created missing" : "created"} database ${name}`))
  } else if (adopting) {
    events.push(event(ctx.ref, "Normal", "Adopted", `adopted existing database ${name} (spec.adopt)`))
  }
  if (missingPatterns.length > 0) {
    sql.push({ _tag: "EnsureIgnorePatterns", database: name, patterns: missingPatterns })
    events.push(
      event(
        ctx.ref,
        "Normal",
        "IgnorePatternsCommitted",
        `committed dolt_ignore patterns ${missingPatterns.join(", ")} in ${name}`
      )
    )
  }
  if (missingBranches.length > 0) {
    sql.push({ _tag: "EnsureBranches", database: name, branches: missingBranches })
    events.push(
      event(ctx.ref, "Normal", "BranchesCreated", `created branches ${missingBranches.join(", ")} in ${name} from main`)
    )
  }

  // Rename bookkeeping: the previous database is retained (data is never dropped by a spec edit).
  const previous = current?.databaseName
  const renamedFrom = previous !== undefined && !sameName(previous, name) ? previous : undefined
  const retained = unique([...(current?.retainedDatabases ?? []), ...(renamedFrom === undefined ? [] : [renamedFrom])])
    // A database someone dropped is no longer ours to drop; a name renamed back to is current again.
    .filter((n) => !sameName(n, name) && present(reads.databases, n))
  if (renamedFrom !== undefined && present(reads.databases, renamedFrom)) {
    events.push(
      event(
        ctx.ref,
        "Normal",
        "DatabaseRetained",
        `database ${renamedFrom} left in place after spec.name changed to ${name}`
      )
    )
  }
  const { base, ...onFailure } = failureHandling(ctx, current, {}, sql, o.lastFailure)
  const { retainedDatabases: _, ...rest } = base
  let conditions = rest.conditions
  const charset = charsetCondition(spec, details)
  if (charset !== undefined) conditions = setConditions(conditions, [charset], ctx.generation, ctx.now)
  conditions =
    retained.length === 0
      ? removeCondition(conditions, RetainedCondition)
      : setConditions(
          conditions,
          [
            {
              type: RetainedCondition,
              status: "True",
              reason: "Renamed",
              message: `database ${retained.join(", ")} of an earlier spec.name left in place; ${ctx.cleanupPolicy === "Delete" ? "dropped when this Database is deleted" : "kept on deletion (cleanupPolicy Skip)"}`
            }
          ],
          ctx.generation,
          ctx.now
        )
  const next: DatabaseResourceStatus = {
    ...rest,
    ...(conditions === undefined ? {} : { conditions }),
    databaseName: name,
    ...(retained.length === 0 ? {} : { retainedDatabases: retained })
  }
  // Recorded before CREATE DATABASE runs: a crash in between must not leave a database we created looking foreign.
  const intent: DatabaseResourceStatus | undefined = exists
    ? undefined
    : {
        ...(current ?? {}),
        databaseName: name,
        ...(renamedFrom === undefined && current?.retainedDatabases === undefined
          ? {}
          : {
              retainedDatabases: unique([
                ...(current?.retainedDatabases ?? []),
                ...(renamedFrom === undefined ? [] : [renamedFrom])
              ])
            })
      }
  return assemble(ctx, current, {
    intent,
    sql,
    events,
    status: withReady(ctx, next, created),
    ...onFailure,
    finalizer: "add"
  })
}
