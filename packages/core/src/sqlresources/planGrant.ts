/**
 * The Grant planner: GRANT only what the account lacks, REVOKE only what this Grant granted earlier and the spec
 * no longer lists, never touch privileges someone else granted.
 *
 * Ownership lives in `status.applied`: the target (account and level) and the privileges and grant option this
 * Grant issued. A privilege the account already held when the Grant asked for it is not ours and is never revoked.
 * A Grant without `status.applied` takes over the spec's privileges the account already holds only with
 * `spec.adopt` (DoltDB's own namespace; e.g. a Grant the reference operator made). A finalizer alone proves nothing:
 * anyone can create an object with it. Reserved accounts are never touched; a Grant from another namespace grants
 * only on databases that namespace's Database objects created.
 * Moving a Grant (other database, table, username or host) revokes ours at the old target, then grants at the new.
 * REVOKE ALL PRIVILEGES removes the level's privileges whoever granted them: the one place a narrowing spec can
 * touch someone else's privilege on the same level.
 * The account is found by `spec.username`/`spec.host`, not through a User object (reference flaw §13.4).
 */
import * as Schema from "effect/Schema"
import type { GrantSpec } from "../api/Grant.ts"
import { type Action, event, type SqlOp } from "../plan/Action.ts"
import { type Account, HostName, TableName, UserName } from "../services/dolt/names.ts"
import { planDeletion } from "./Deletion.ts"
import {
  afterRevoke,
  canonical,
  covers,
  holds,
  holdsExplicitly,
  isStaticPrivilege,
  normalizePrivileges
} from "./Privileges.ts"
import { type HeldGrant, levelKey, parseShowGrants } from "./ShowGrants.ts"
import { describeSqlOp, failedReady, failureHandling, failureMessage } from "./SqlFailures.ts"
import {
  assemble,
  created,
  invalidParentRef,
  makeContext,
  notReady,
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
  waitMillis,
  withReady
} from "./SqlResource.ts"

// Guards built once: building one per call dominates the planner's cost.
const isUserName = Schema.is(UserName)
const isHostName = Schema.is(HostName)
const isTableName = Schema.is(TableName)

/** What this Grant granted and answers for (proposed `status.applied`). */
export interface AppliedGrant {
  readonly username: string
  readonly host: string
  readonly database: string
  readonly table: string
  /** Privileges this Grant issued, canonical (sorted; `ALL PRIVILEGES` alone). */
  readonly privileges: ReadonlyArray<string>
  /** Whether this Grant issued `WITH GRANT OPTION`. */
  readonly grantOption: boolean
}

export interface GrantResourceStatus extends ResourceStatus {
  readonly applied?: AppliedGrant
}

/** `SHOW GRANTS FOR` one account on the primary. */
export interface AccountGrants {
  readonly account: Account
  readonly exists: boolean
  /** The raw lines (parsed here, so any server's format is handled in one place). */
  readonly lines: ReadonlyArray<string>
}

export interface GrantReads {
  /** One entry per account of `grantAccountsToRead`. */
  readonly accounts: ReadonlyArray<AccountGrants>
  /** Account names no Grant may touch (`Tenancy.reservedAccountNames`). */
  readonly reservedNames?: ReadonlyArray<string>
  /**
   * For a Grant from another namespace than its DoltDB: the databases the Database objects of the Grant's namespace
   * created in that DoltDB (their `status.databaseName`), the only ones it may grant on.
   */
  readonly tenantDatabases?: ReadonlyArray<string>
}

export interface GrantObserved {
  /** Operator clock, epoch millis. */
  readonly now: number
  readonly grant: SqlResourceObject<GrantSpec, GrantResourceStatus>
  readonly parent: ParentDoltDB<GrantReads>
  readonly lastFailure?: SqlFailure | undefined
  readonly options?: PlannerOptions
}

const specAccount = (spec: GrantSpec): Account => ({ name: spec.username, host: spec.host.toLowerCase() })
const sameAccount = (a: Account, b: Account) => a.name === b.name && a.host.toLowerCase() === b.host.toLowerCase()
const appliedAccount = (a: AppliedGrant): Account => ({ name: a.username, host: a.host })
const sameLevel = (a: AppliedGrant, database: string, table: string) =>
  levelKey(a.database, a.table) === levelKey(database, table)

/** The accounts whose `SHOW GRANTS` the observe step reads: the spec's, and the recorded one when it differs. */
export const grantAccountsToRead = (
  grant: SqlResourceObject<GrantSpec, GrantResourceStatus>
): ReadonlyArray<Account> => {
  const spec = specAccount(grant.spec)
  const applied = grant.status?.applied
  return applied === undefined || sameAccount(appliedAccount(applied), spec) ? [spec] : [spec, appliedAccount(applied)]
}

const noGrants: HeldGrant = { database: "*", table: "*", privileges: [], grantOption: false }

/** What `account` holds on `database.table`; `undefined` when the account does not exist or was not read. */
const heldOn = (reads: GrantReads, account: Account, database: string, table: string): HeldGrant | undefined => {
  const entry = reads.accounts.find((a) => sameAccount(a.account, account))
  if (entry === undefined || !entry.exists) return undefined
  return parseShowGrants(entry.lines, isStaticPrivilege).get(levelKey(database, table)) ?? noGrants
}

const accountText = (a: Account) => `'${a.name}'@'${a.host}'`
const levelText = (database: string, table: string) => (database === "*" ? "*.*" : `${database}.${table}`)

/** Revokes what `owned` lists and the account still holds on the level; `undefined` when nothing is left to revoke. */
const revokeOwned = (account: Account, owned: AppliedGrant, held: HeldGrant): SqlOp | undefined => {
  const privileges = owned.privileges.filter((p) => holdsExplicitly(held.privileges, p))
  const grantOption = owned.grantOption && held.grantOption
  if (privileges.length === 0 && !grantOption) return undefined
  return {
    _tag: "Revoke",
    name: account.name,
    host: account.host,
    privileges,
    database: owned.database,
    table: owned.table,
    grantOption
  }
}

const validateTarget = (spec: GrantSpec): string | undefined => {
  if (!isUserName(spec.username)) return `spec.username ${JSON.stringify(spec.username)} is not a valid user name`
  if (!isHostName(spec.host)) return `spec.host ${JSON.stringify(spec.host)} is not a valid host`
  if (spec.database !== "*" && !isTableName(spec.database)) {
    return `spec.database ${JSON.stringify(spec.database)} is not a valid database name`
  }
  if (spec.table !== "*" && !isTableName(spec.table)) {
    return `spec.table ${JSON.stringify(spec.table)} is not a valid table name`
  }
  if (spec.database === "*" && spec.table !== "*") return `spec.table ${JSON.stringify(spec.table)} needs a database`
  return undefined
}

/** A GRANT the server refused (bad privilege for the level, missing privilege of the admin) vs. any other failure. */
const failureReady = (failure: SqlFailure) =>
  failure.op._tag === "Grant" && ["DoltSqlError", "DoltAccessDenied", "DoltInvalidInput"].includes(failure.error)
    ? notReady(
        ReadyReason.GrantRejected,
        `privileges ${failure.op.privileges.join(", ") || "GRANT OPTION"} rejected: ${failureMessage(failure)}`
      )
    : failedReady(failure)

const deletion = (
  o: GrantObserved,
  ctx: PlanContext,
  current: GrantResourceStatus | undefined
): PlanResult<GrantResourceStatus> => {
  const spec = o.grant.spec
  const recorded = current?.applied
  const account = recorded === undefined ? specAccount(spec) : appliedAccount(recorded)
  const leftBehind =
    recorded === undefined
      ? `privileges ${spec.privileges.join(", ")} on ${levelText(spec.database, spec.table)} of ${accountText(account)}`
      : `privileges ${[...recorded.privileges, ...(recorded.grantOption ? ["GRANT OPTION"] : [])].join(", ") || "(none)"} on ${levelText(recorded.database, recorded.table)} of ${accountText(account)}`
  return planDeletion({
    ctx,
    current,
    empty: {},
    parent: o.parent,
    failure: o.lastFailure,
    leftBehind,
    cleanup: (reads) => {
      const held = heldOn(reads, account, recorded?.database ?? spec.database, recorded?.table ?? spec.table)
      if (held === undefined) return { sql: [], events: [] }
      const owned = recorded ?? (ctx.mayAdopt ? adopted(spec, held) : undefined)
      if (owned === undefined) return { sql: [], events: [] }
      const op = revokeOwned(account, owned, held)
      return op === undefined
        ? { sql: [], events: [] }
        : { sql: [op], events: [event(ctx.ref, "Normal", "PrivilegesRevoked", `${describeSqlOp(op)} (Grant deleted)`)] }
    }
  })
}

/**
 * What a Grant may not target: a reserved account (from any namespace), and from another namespace anything but a
 * database its own namespace's Database objects created (never `*`).
 */
const tenancyRefusal = (
  ctx: PlanContext,
  spec: GrantSpec,
  reads: GrantReads,
  account: Account
): { readonly reason: string; readonly message: string } | undefined => {
  if ((reads.reservedNames ?? []).includes(account.name))
    return {
      reason: ReadyReason.ReservedAccount,
      message: `account ${accountText(account)} is reserved (the DoltDB's admin account or one of Dolt's own): a Grant never changes its privileges`
    }
  if (!ctx.crossNamespace) return undefined
  const allowed = reads.tenantDatabases ?? []
  if (spec.database === "*" || !allowed.some((d) => d.toLowerCase() === spec.database.toLowerCase()))
    return {
      reason: ReadyReason.DatabaseNotAllowed,
      message: `spec.database ${JSON.stringify(spec.database)}: a Grant from namespace ${ctx.ref.namespace} may grant only on databases created by Database objects of that namespace in DoltDB ${qualified(ctx.cluster)} (${allowed.length === 0 ? "none yet" : allowed.join(", ")})`
    }
  return undefined
}

/** Everything the spec lists that the account holds (what `spec.adopt` takes over). */
const adopted = (spec: GrantSpec, held: HeldGrant): AppliedGrant | undefined => {
  const n = normalizePrivileges(spec.privileges, spec.grantOption)
  if (n._tag === "Invalid") return undefined
  return {
    username: spec.username,
    host: spec.host.toLowerCase(),
    database: spec.database,
    table: spec.table,
    privileges: n.privileges.filter((p) => holds(held.privileges, p)),
    grantOption: n.grantOption && held.grantOption
  }
}

export const planGrant = (o: GrantObserved): PlanResult<GrantResourceStatus> => {
  const ctx = makeContext("Grant", o.grant, o.now, o.options)
  const current = o.grant.status
  const spec = o.grant.spec
  if (ctx.deletingSince !== undefined) return deletion(o, ctx, current)
  const invalidRef = invalidParentRef(ctx)
  if (invalidRef !== undefined) return rejectSpec(ctx, current, {}, ReadyReason.InvalidSpec, invalidRef)
  const invalidTarget = validateTarget(spec)
  if (invalidTarget !== undefined) return rejectSpec(ctx, current, {}, ReadyReason.InvalidSpec, invalidTarget)
  const desired = normalizePrivileges(spec.privileges, spec.grantOption)
  if (desired._tag === "Invalid") {
    return rejectSpec(
      ctx,
      current,
      {},
      ReadyReason.InvalidPrivilege,
      `privileges ${desired.rejected.map((r) => JSON.stringify(r)).join(", ")} are not allowed`
    )
  }
  if (o.parent._tag !== "Ready") return waitForParent(ctx, current, {}, o.parent)
  const reads = o.parent.reads
  const account = specAccount(spec)
  const refusal = tenancyRefusal(ctx, spec, reads, account)
  if (refusal !== undefined) return refuse(ctx, current, {}, refusal.reason, refusal.message)
  const held = heldOn(reads, account, spec.database, spec.table)
  if (held === undefined) {
    const ready = notReady(ReadyReason.UserNotFound, `account ${accountText(account)} does not exist`)
    return assemble(ctx, current, {
      sql: [],
      events: [],
      status: withReady(ctx, current ?? {}, ready),
      finalizer: "keep",
      requeue: { millis: waitMillis(ctx, current, ready.reason), why: ready.message }
    })
  }

  const sql: Array<SqlOp> = []
  const events: Array<Action> = []
  const recorded = current?.applied
  const moved =
    recorded !== undefined &&
    (!sameAccount(appliedAccount(recorded), account) || !sameLevel(recorded, spec.database, spec.table))
  if (recorded !== undefined && moved) {
    const oldAccount = appliedAccount(recorded)
    const oldHeld = heldOn(reads, oldAccount, recorded.database, recorded.table)
    const op = oldHeld === undefined ? undefined : revokeOwned(oldAccount, recorded, oldHeld)
    if (op !== undefined) {
      sql.push(op)
      events.push(event(ctx.ref, "Normal", "PrivilegesRevoked", `${describeSqlOp(op)} (Grant moved)`))
    }
  }
  const owned: AppliedGrant | undefined =
    recorded !== undefined && !moved
      ? recorded
      : recorded === undefined && ctx.mayAdopt
        ? adopted(spec, held)
        : undefined
  const ownedPrivileges = owned?.privileges ?? []

  const revoke = ownedPrivileges.filter((p) => !covers(desired.privileges, p) && holdsExplicitly(held.privileges, p))
  const revokeOption = owned?.grantOption === true && !desired.grantOption && held.grantOption
  const remaining = afterRevoke(held.privileges, revoke)
  const grant = desired.privileges.filter((p) => !holds(remaining, p))
  const grantOption = desired.grantOption && !held.grantOption
  if (revoke.length > 0 || revokeOption) {
    const op: SqlOp = {
      _tag: "Revoke",
      name: account.name,
      host: account.host,
      privileges: revoke,
      database: spec.database,
      table: spec.table,
      grantOption: revokeOption
    }
    sql.push(op)
    events.push(event(ctx.ref, "Normal", "PrivilegesRevoked", `${describeSqlOp(op)} (no longer in spec)`))
  }
  if (grant.length > 0 || grantOption) {
    const op: SqlOp = {
      _tag: "Grant",
      name: account.name,
      host: account.host,
      privileges: grant,
      database: spec.database,
      table: spec.table,
      grantOption
    }
    sql.push(op)
    events.push(event(ctx.ref, "Normal", "PrivilegesGranted", describeSqlOp(op)))
  }

  const applied: AppliedGrant = {
    username: account.name,
    host: account.host,
    database: spec.database,
    table: spec.table,
    privileges: canonical([...ownedPrivileges.filter((p) => covers(desired.privileges, p)), ...grant]),
    grantOption: desired.grantOption && (owned?.grantOption === true || grantOption)
  }
  const { base, ...onFailure } = failureHandling(ctx, current, {}, sql, o.lastFailure, failureReady)
  return assemble(ctx, current, {
    sql,
    events,
    status: withReady(ctx, { ...base, applied }, created),
    ...onFailure,
    finalizer: "add"
  })
}
