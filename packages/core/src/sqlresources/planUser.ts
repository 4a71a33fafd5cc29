/**
 * The User planner: create the account with the password from its Secret, set the password again only when the
 * Secret (name, key or resourceVersion) differs from the one recorded in `status.passwordSecret` — never on every
 * requeue as the reference does — and keep the account from being re-created needlessly.
 *
 * Renaming `spec.name`/`spec.host`: the new account is created, then the previous one (`status.account`) is dropped
 * in the same plan when cleanupPolicy is Delete (a renamed login should stop working; its privileges belong to
 * Grants that name it), or left in place with an event under Skip. Until the plan ran through, `status.account`
 * still names the previous account, so an interrupted rename resumes.
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
  ReadyReason,
  type ResourceStatus,
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
}

/** The password Secret as observed (never its value: plans carry only the reference). */
export type PasswordSecret =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Present"; readonly resourceVersion: string; readonly keys: ReadonlyArray<string> }

export interface UserReads {
  /** Which of `userAccountsToRead` exist on the primary. */
  readonly existingAccounts: ReadonlyArray<Account>
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
  const recorded = user.status?.account
  return recorded === undefined || sameAccount(recorded, spec) ? [spec] : [spec, recorded]
}

const exists = (reads: UserReads, account: Account) => reads.existingAccounts.some((a) => sameAccount(a, account))

/** The account deletion drops: the recorded one, or the spec's when the finalizer predates our status. */
const managedAccount = (ctx: PlanContext, user: UserObserved["user"]): Account | undefined =>
  user.status?.account ?? (ctx.hasFinalizer ? specAccount(user.spec) : undefined)

const deletion = (o: UserObserved, ctx: PlanContext, current: UserResourceStatus | undefined) => {
  const account = managedAccount(ctx, o.user)
  return planDeletion({
    ctx,
    current,
    empty: {},
    parent: o.parent,
    failure: o.lastFailure,
    leftBehind: account === undefined ? "no account" : `account ${accountText(account)}`,
    cleanup: (reads: UserReads) =>
      account === undefined || !exists(reads, account)
        ? { sql: [], events: [] }
        : {
            sql: [{ _tag: "DropUser", name: account.name, host: account.host }],
            events: [event(ctx.ref, "Normal", "Dropped", `dropped account ${accountText(account)}`)]
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
  const password = { namespace: ctx.ref.namespace, name: secretName, key }
  const applied: AppliedPasswordSecret = { name: secretName, key, resourceVersion: o.secret.resourceVersion }
  const recorded = current?.account
  const sql: Array<SqlOp> = []
  const events: Array<Action> = []
  if (!exists(reads, account)) {
    sql.push({ _tag: "CreateUser", name: account.name, host: account.host, password })
    const again = recorded !== undefined && sameAccount(recorded, account)
    events.push(
      event(ctx.ref, "Normal", "Created", `${again ? "re-created missing" : "created"} account ${accountText(account)}`)
    )
  } else if (!samePassword(current?.passwordSecret, applied)) {
    sql.push({ _tag: "SetPassword", name: account.name, host: account.host, password })
    events.push(
      current?.passwordSecret === undefined
        ? event(ctx.ref, "Normal", "PasswordSet", `set the password of existing account ${accountText(account)}`)
        : event(ctx.ref, "Normal", "PasswordRotated", `password of ${accountText(account)} rotated from ${secretText}`)
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
  return assemble(ctx, current, {
    sql,
    events,
    status: withReady(ctx, { ...base, account, passwordSecret: applied }, created),
    ...onFailure,
    finalizer: "add"
  })
}
