/**
 * The User planner: create the account with the password from its Secret, set the password again only when the
 * Secret (name, key or resourceVersion) differs from the one recorded in `status.passwordSecret` — never on every
 * requeue as the reference does — and keep the account from being re-created needlessly.
 *
 * Renaming `spec.name`/`spec.host`: the new account is created, then the previous one (`status.account`) is dropped
 * in the same plan when cleanupPolicy is Delete (a renamed login should stop working; its privileges belong to
 * Grants that name it), or left in place with an event under Skip. Until the plan ran through, `status.account`
 * still names the previous account, so an interrupted rename resumes.
 *
 * Ownership is status only: deletion drops `status.account`, never the spec's. An existing account the User did not
 * create is left alone and reported unless `spec.adopt` (DoltDB's own namespace only); the admin account and
 * Dolt's own accounts are never managed. The account about to be created is recorded in status before CREATE USER.
 */
import * as Schema from "effect/Schema"
import type { UserSpec } from "../api/User.ts"
import { type Action, event, type SqlOp } from "../plan/Action.ts"
import { type Account, HostName, UserName } from "../services/dolt/names.ts"
import { planDeletion } from "./Deletion.ts"
import { failureHandling } from "./SqlFailures.ts"
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

/** The Secret version whose password was last set on the account (proposed `status.passwordSecret`). */
export interface AppliedPasswordSecret {
  readonly name: string
  readonly key: string
  readonly resourceVersion: string
}

export interface UserResourceStatus extends ResourceStatus {
  /** The account this User created or adopted (host lower-cased, as servers store it). */
  readonly account?: Account
  readonly passwordSecret?: AppliedPasswordSecret
  /** The account of an earlier `spec.name`/`spec.host` while a rename is in progress (dropped under Delete). */
  readonly previousAccount?: Account
}

/** The password Secret as observed (never its value: plans carry only the reference). */
export type PasswordSecret =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Present"; readonly resourceVersion: string; readonly keys: ReadonlyArray<string> }

export interface UserReads {
  /** Which of `userAccountsToRead` exist on the primary. */
  readonly existingAccounts: ReadonlyArray<Account>
  /** Account names no User may manage (`Tenancy.reservedAccountNames`: Dolt's, the admin's, the MCP server's). */
  readonly reservedNames?: ReadonlyArray<string>
}

export interface UserObserved {
  /** Operator clock, epoch millis. */
  readonly now: number
  readonly user: SqlResourceObject<UserSpec, UserResourceStatus>
  /** The Secret named by `spec.passwordSecretKeyRef` in the User's namespace. */
  readonly secret: PasswordSecret
  readonly parent: ParentDoltDB<UserReads>
  readonly lastFailure?: SqlFailure | undefined
  readonly options?: PlannerOptions
}

const specAccount = (spec: UserSpec): Account => ({ name: spec.name, host: spec.host.toLowerCase() })
const sameAccount = (a: Account, b: Account) => a.name === b.name && a.host.toLowerCase() === b.host.toLowerCase()
const accountText = (a: Account) => `'${a.name}'@'${a.host}'`

/** The accounts whose existence the observe step checks: the spec's and the recorded one when it differs. */
export const userAccountsToRead = (user: SqlResourceObject<UserSpec, UserResourceStatus>): ReadonlyArray<Account> => {
  const spec = specAccount(user.spec)
  const accounts = [spec]
  for (const a of [user.status?.account, user.status?.previousAccount])
    if (a !== undefined && !accounts.some((b) => sameAccount(a, b))) accounts.push(a)
  return accounts
}

const exists = (reads: UserReads, account: Account) => reads.existingAccounts.some((a) => sameAccount(a, account))

const isReserved = (reads: UserReads, account: Account) => (reads.reservedNames ?? []).includes(account.name)

const deletion = (o: UserObserved, ctx: PlanContext, current: UserResourceStatus | undefined) => {
  // Only what status records (the operator writes it); a spec names anyone's account.
  const accounts = [current?.account, current?.previousAccount].filter((a): a is Account => a !== undefined)
  return planDeletion({
    ctx,
    current,
    empty: {},
    parent: o.parent,
    failure: o.lastFailure,
    leftBehind: accounts.length === 0 ? "no account" : `account ${accounts.map(accountText).join(", ")}`,
    cleanup: (reads: UserReads) => {
      const drop = accounts.filter((a) => exists(reads, a) && !isReserved(reads, a))
      return {
        sql: drop.map((a): SqlOp => ({ _tag: "DropUser", name: a.name, host: a.host })),
        events: drop.map((a) => event(ctx.ref, "Normal", "Dropped", `dropped account ${accountText(a)}`))
      }
    }
  })
}

const samePassword = (a: AppliedPasswordSecret | undefined, b: AppliedPasswordSecret) =>
  a !== undefined && a.name === b.name && a.key === b.key && a.resourceVersion === b.resourceVersion

export const planUser = (o: UserObserved): PlanResult<UserResourceStatus> => {
  const ctx = makeContext("User", o.user, o.now, o.options)
  const current = o.user.status
  const spec = o.user.spec
  if (ctx.deletingSince !== undefined) return deletion(o, ctx, current)
  const invalidRef = invalidParentRef(ctx)
  if (invalidRef !== undefined) return rejectSpec(ctx, current, {}, ReadyReason.InvalidSpec, invalidRef)
  if (!isUserName(spec.name)) {
    return rejectSpec(
      ctx,
      current,
      {},
      ReadyReason.InvalidSpec,
      `spec.name ${JSON.stringify(spec.name)} is not a valid user name`
    )
  }
  if (!isHostName(spec.host)) {
    return rejectSpec(
      ctx,
      current,
      {},
      ReadyReason.InvalidSpec,
      `spec.host ${JSON.stringify(spec.host)} is not a valid host`
    )
  }
  if (o.parent._tag !== "Ready") return waitForParent(ctx, current, {}, o.parent)

  const secretName = spec.passwordSecretKeyRef.name ?? ""
  const key = spec.passwordSecretKeyRef.key
  const secretText = `Secret ${ctx.ref.namespace}/${secretName}`
  const missing =
    secretName === ""
      ? notReady(ReadyReason.PasswordSecretNotFound, "spec.passwordSecretKeyRef.name is not set")
      : o.secret._tag === "Missing"
        ? notReady(ReadyReason.PasswordSecretNotFound, `${secretText} (key ${key}) not found`)
        : o.secret.keys.includes(key)
          ? undefined
          : notReady(ReadyReason.PasswordKeyNotFound, `${secretText} has no key ${key}`)
  if (missing !== undefined || o.secret._tag === "Missing") {
    const ready = missing ?? notReady(ReadyReason.PasswordSecretNotFound, `${secretText} not found`)
    return assemble(ctx, current, {
      sql: [],
      events: [],
      status: withReady(ctx, current ?? {}, ready),
      finalizer: "keep",
      requeue: { millis: waitMillis(ctx, current, ready.reason), why: ready.message }
    })
  }

  const reads = o.parent.reads
  const account = specAccount(spec)
  if (isReserved(reads, account)) {
    return refuse(
      ctx,
      current,
      {},
      ReadyReason.ReservedAccount,
      `account ${accountText(account)} is reserved (the DoltDB's admin account or one of Dolt's own): a User never manages it`
    )
  }
  const recordedAccount = current?.account
  const ours = recordedAccount !== undefined && sameAccount(recordedAccount, account)
  const adopting = exists(reads, account) && !ours
  if (adopting && !ctx.mayAdopt) {
    return refuse(
      ctx,
      current,
      {},
      ReadyReason.AlreadyExists,
      ctx.crossNamespace
        ? `account ${accountText(account)} already exists in DoltDB ${qualified(ctx.cluster)} and was not created by this User; objects from another namespace never adopt`
        : `account ${accountText(account)} already exists and was not created by this User: set spec.adopt: true to manage its password (cleanupPolicy Delete then drops it on deletion)`
    )
  }
  const password = { namespace: ctx.ref.namespace, name: secretName, key }
  const applied: AppliedPasswordSecret = { name: secretName, key, resourceVersion: o.secret.resourceVersion }
  // The account a rename leaves behind: recorded as `previousAccount` by the intent write, or still `account`.
  const recorded =
    current?.previousAccount ??
    (recordedAccount !== undefined && !sameAccount(recordedAccount, account) ? recordedAccount : undefined)
  const sql: Array<SqlOp> = []
  const events: Array<Action> = []
  if (!exists(reads, account)) {
    sql.push({ _tag: "CreateUser", name: account.name, host: account.host, password })
    const again = ours
    events.push(
      event(ctx.ref, "Normal", "Created", `${again ? "re-created missing" : "created"} account ${accountText(account)}`)
    )
  } else if (adopting || !samePassword(current?.passwordSecret, applied)) {
    sql.push({ _tag: "SetPassword", name: account.name, host: account.host, password })
    events.push(
      adopting
        ? event(
            ctx.ref,
            "Normal",
            "Adopted",
            `adopted existing account ${accountText(account)} and set its password (spec.adopt)`
          )
        : current?.passwordSecret === undefined
          ? event(ctx.ref, "Normal", "PasswordSet", `set the password of account ${accountText(account)}`)
          : event(
              ctx.ref,
              "Normal",
              "PasswordRotated",
              `password of ${accountText(account)} rotated from ${secretText}`
            )
    )
  }
  if (recorded !== undefined && !sameAccount(recorded, account) && exists(reads, recorded)) {
    if (ctx.cleanupPolicy === "Delete") {
      sql.push({ _tag: "DropUser", name: recorded.name, host: recorded.host })
      events.push(
        event(
          ctx.ref,
          "Normal",
          "Dropped",
          `dropped previous account ${accountText(recorded)} (renamed to ${accountText(account)})`
        )
      )
    } else {
      events.push(
        event(
          ctx.ref,
          "Normal",
          "CleanupSkipped",
          `cleanupPolicy Skip: previous account ${accountText(recorded)} left in place`
        )
      )
    }
  }
  const { base, ...onFailure } = failureHandling(ctx, current, {}, sql, o.lastFailure)
  // Recorded before CREATE USER runs, so a crash in between cannot make the account look foreign.
  const intent = exists(reads, account)
    ? undefined
    : { ...(current ?? {}), account, ...(recorded === undefined ? {} : { previousAccount: recorded }) }
  const { previousAccount: _previous, ...settled } = base
  return assemble(ctx, current, {
    intent,
    sql,
    events,
    status: withReady(ctx, { ...settled, account, passwordSecret: applied }, created),
    ...onFailure,
    finalizer: "add"
  })
}
