/**
 * What the Database, User and Grant planners share: the observed parent DoltDB, the last SQL failure, the
 * requeue/retry/cleanup policies, the gate on the parent and the deletion (finalizer) flow, and the assembly of a
 * plan that writes status only when it changed.
 *
 * Fixes over the reference (reference-operator.md §7, §13.4, §13.1 item 15):
 * - The parent gate is "the primary serves SQL", not "every replica is healthy": one broken standby does not stop
 *   SQL management. The observe step decides readiness and passes `NotReady` with a stable reason.
 * - A deleting object whose DoltDB stays unreachable releases its finalizer after a bounded wait (`Deletion.ts`).
 * - Status is written only when it differs (structural comparison), conditions carry `observedGeneration`.
 */
import { type Condition, type DoltDBRef, type ObjectMeta, resolveDoltDBRef } from "../api/Common.ts"
import { parseGoDuration } from "../api/GoDuration.ts"
import { ApiVersion } from "../api/Group.ts"
import {
  type Action,
  type ClusterRef,
  event,
  type ObjectRef,
  type Plan,
  type Requeue,
  type SqlOp,
  withRequeue
} from "../plan/Action.ts"
import { type ConditionInput, findCondition, jsonEqual, setConditions } from "../status/Conditions.ts"

export type SqlResourceKind = "Database" | "User" | "Grant"

export const Finalizers = {
  Database: "database.k8s.dolthub.com/finalizer",
  User: "user.k8s.dolthub.com/finalizer",
  Grant: "grant.k8s.dolthub.com/finalizer"
} as const satisfies Record<SqlResourceKind, string>

/** `Ready` reasons. `Created`/`Failed` are the reference's; the others name what the reference folds into `Failed`. */
export const ReadyReason = {
  Created: "Created",
  Failed: "Failed",
  DoltDBNotFound: "DoltDBNotFound",
  DoltDBNotReady: "DoltDBNotReady",
  InvalidSpec: "InvalidSpec",
  PasswordSecretNotFound: "PasswordSecretNotFound",
  PasswordKeyNotFound: "PasswordKeyNotFound",
  NamespaceNotAllowed: "NamespaceNotAllowed",
  ReservedAccount: "ReservedAccount",
  AlreadyExists: "AlreadyExists",
  DatabaseNotAllowed: "DatabaseNotAllowed",
  UserNotFound: "UserNotFound",
  InvalidPrivilege: "InvalidPrivilege",
  GrantRejected: "GrantRejected"
} as const

/**
 * The parent DoltDB as the observe step resolved it. `Ready` means the current primary accepted the SQL reads
 * (whatever the standbys do); it carries those reads. A failed read is `NotReady` with the error as reason.
 * `reason` must be stable between reconciles (no timestamps or counters), or the status would churn.
 */
export type ParentDoltDB<Reads> =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "NotReady"; readonly reason: string }
  /** The DoltDB does not let this object's namespace attach (`Tenancy.referenceAccess`): nothing is read or run. */
  | { readonly _tag: "Refused"; readonly reason: string }
  | { readonly _tag: "Ready"; readonly reads: Reads }

/**
 * The SQL action that failed when the previous plan for this object ran (the runtime keeps it per object and
 * clears it after a plan runs through). `error` is the Dolt error tag (`DoltSqlError`, `DoltUnreachable`, ...).
 */
export interface SqlFailure {
  readonly op: SqlOp
  readonly error: string
  readonly message: string
}

/** The reference's SQLTemplate fields, inlined into each spec. */
export interface SqlTemplate {
  readonly requeueInterval?: string
  readonly retryInterval?: string
  readonly cleanupPolicy?: "Skip" | "Delete"
  readonly adopt?: boolean
}

/** Status fields every SQL resource carries. */
export interface ResourceStatus {
  readonly conditions?: ReadonlyArray<Condition>
  readonly observedGeneration?: number
}

/** The decoded object (the API's Database/User/Grant types fit this shape). */
export interface SqlResourceObject<Spec, Status> {
  readonly metadata: ObjectMeta
  readonly spec: Spec & SqlTemplate & { readonly doltDBRef: DoltDBRef }
  readonly status?: Status
}

export interface PlannerOptions {
  /** Drift-check period when `spec.requeueInterval` is unset (the reference's `--requeue-sql`, 30 s). Reads only. */
  readonly defaultRequeueMillis: number
  /** How long a deleting object waits for an unreachable DoltDB (or a failing cleanup) before giving up. */
  readonly deletionTimeoutMillis: number
  /** Upper bound of the waiting backoff hint (parent not ready, user not created yet). */
  readonly maxWaitMillis: number
}

export const defaultPlannerOptions: PlannerOptions = {
  defaultRequeueMillis: 30_000,
  deletionTimeoutMillis: 600_000,
  maxWaitMillis: 60_000
}

export interface PlanResult<S> extends Plan {
  /** The status the object has once the plan ran; the observed status object itself when nothing changed. */
  readonly status: S
}

/** Where the parent DoltDB is: `spec.doltDBRef`, its namespace defaulting to the object's; name "" when unset. */
export const parentRefOf = (object: SqlResourceObject<unknown, unknown>): ClusterRef => {
  const ref = resolveDoltDBRef(object.spec.doltDBRef, object.metadata.namespace ?? "")
  return { namespace: ref.namespace, name: ref.name ?? "" }
}

/** Everything the planners derive from the object, the clock and the options. */
export interface PlanContext {
  readonly kind: SqlResourceKind
  readonly ref: ObjectRef
  readonly cluster: ClusterRef
  readonly generation: number
  readonly now: number
  readonly resourceVersion: string | undefined
  readonly finalizer: string
  readonly hasFinalizer: boolean
  /** The object lives in another namespace than its DoltDB (a tenant the DoltDB allowed). */
  readonly crossNamespace: boolean
  /** `spec.adopt`, honoured only in the DoltDB's own namespace. */
  readonly mayAdopt: boolean
  /** Epoch millis of `deletionTimestamp`; `undefined` when not being deleted. */
  readonly deletingSince: number | undefined
  readonly cleanupPolicy: "Skip" | "Delete"
  readonly requeueMillis: number
  readonly retryMillis: number | undefined
  readonly options: PlannerOptions
}

const deletionTime = (meta: ObjectMeta, now: number): number | undefined => {
  if (meta.deletionTimestamp === undefined) return undefined
  const parsed = Date.parse(meta.deletionTimestamp)
  return Number.isNaN(parsed) ? now : parsed
}

export const makeContext = (
  kind: SqlResourceKind,
  object: SqlResourceObject<unknown, unknown>,
  now: number,
  options: PlannerOptions = defaultPlannerOptions
): PlanContext => {
  const meta = object.metadata
  const spec = object.spec
  const retry = spec.retryInterval === undefined ? undefined : parseGoDuration(spec.retryInterval)
  const requeue = spec.requeueInterval === undefined ? undefined : parseGoDuration(spec.requeueInterval)
  const cluster = parentRefOf(object)
  const crossNamespace = cluster.namespace !== (meta.namespace ?? "")
  return {
    kind,
    ref: {
      apiVersion: ApiVersion,
      kind,
      namespace: meta.namespace ?? "",
      name: meta.name ?? "",
      ...(meta.uid === undefined ? {} : { uid: meta.uid })
    },
    cluster,
    generation: meta.generation ?? 0,
    now,
    resourceVersion: meta.resourceVersion,
    finalizer: Finalizers[kind],
    hasFinalizer: meta.finalizers?.includes(Finalizers[kind]) === true,
    crossNamespace,
    mayAdopt: !crossNamespace && spec.adopt === true,
    deletingSince: deletionTime(meta, now),
    cleanupPolicy: spec.cleanupPolicy ?? "Delete",
    // A zero interval would be a hot loop; treat it as unset.
    requeueMillis: requeue === undefined || requeue === 0 ? options.defaultRequeueMillis : requeue,
    retryMillis: retry === undefined || retry === 0 ? undefined : retry,
    options
  }
}

/** `status` with the Ready condition set and `observedGeneration` refreshed. */
export const withReady = <S extends ResourceStatus>(ctx: PlanContext, status: S, ready: ConditionInput): S => ({
  ...status,
  conditions: setConditions(status.conditions, [ready], ctx.generation, ctx.now),
  observedGeneration: ctx.generation
})

export const created: ConditionInput = {
  type: "Ready",
  status: "True",
  reason: ReadyReason.Created,
  message: "Created"
}

export const notReady = (reason: string, message: string): ConditionInput => ({
  type: "Ready",
  status: "False",
  reason,
  message
})

/**
 * The backoff hint while waiting on something outside the object (parent not ready, account not created yet):
 * `spec.retryInterval` when set, else half the time already waited (since the Ready condition turned to `reason`),
 * between 1 s and `maxWaitMillis`.
 */
export const waitMillis = (ctx: PlanContext, status: ResourceStatus | undefined, reason: string): number => {
  if (ctx.retryMillis !== undefined) return ctx.retryMillis
  const ready = findCondition(status?.conditions, "Ready")
  const since = ready?.reason === reason ? Date.parse(ready.lastTransitionTime) : Number.NaN
  const waited = Number.isNaN(since) ? 0 : Math.max(0, ctx.now - since)
  return Math.min(ctx.options.maxWaitMillis, Math.max(1_000, Math.floor(waited / 2)))
}

/** What one reconcile decided, before it becomes a plan. */
export interface Step<S> {
  /**
   * Status recorded before any SQL runs (what this object is about to create), so a crash between the statement and
   * the final status write still leaves the record that the object created it.
   */
  readonly intent?: S | undefined
  /** SQL to run on the primary, in order. */
  readonly sql: ReadonlyArray<SqlOp>
  /** Events describing the SQL (emitted after it ran) or the transition. */
  readonly events: ReadonlyArray<Action>
  /** Status once everything succeeded. */
  readonly status: S
  /** Status recorded before the SQL is retried after a failure (Ready False naming the error). */
  readonly failureStatus?: S | undefined
  /** Emitted with `failureStatus` when that write happens (once per failure transition). */
  readonly failureEvent?: Action | undefined
  readonly finalizer: "add" | "remove" | "keep"
  readonly requeue?: Requeue | undefined
}

const sameStatus = jsonEqual

/**
 * Turns a step into a plan: [failure status] -> SQL -> events -> status -> finalizer, and its requeue. The executor
 * stops at the first failure, so status and finalizer record only what succeeded. The first status write carries the
 * observed resourceVersion (a stale cache must not overwrite the ownership records kept in status).
 */
export const assemble = <S extends ResourceStatus>(
  ctx: PlanContext,
  current: S | undefined,
  step: Step<S>
): PlanResult<S> => {
  const actions: Array<Action> = []
  let guarded = false
  const patch = (status: S) => {
    actions.push({
      _tag: "PatchStatus",
      ref: ctx.ref,
      status: status as Readonly<Record<string, unknown>>,
      ...(guarded || ctx.resourceVersion === undefined ? {} : { resourceVersion: ctx.resourceVersion })
    })
    guarded = true
  }
  let before: S | undefined = current
  // One write before the SQL: the failure being retried (conditions) with what is about to be created (records).
  const failed = step.failureStatus
  const intent = step.intent
  const first =
    failed === undefined
      ? intent
      : intent === undefined
        ? failed
        : { ...failed, ...intent, conditions: failed.conditions, observedGeneration: failed.observedGeneration }
  if (first !== undefined && step.sql.length > 0 && !sameStatus(first, current)) {
    patch(first)
    if (failed !== undefined && !sameStatus(failed, current) && step.failureEvent !== undefined)
      actions.push(step.failureEvent)
    before = first
  }
  for (const op of step.sql) actions.push({ _tag: "Sql", cluster: ctx.cluster, op })
  actions.push(...step.events)
  const changed = !sameStatus(step.status, before)
  if (changed) patch(step.status)
  if (step.finalizer !== "keep") {
    const present = step.finalizer === "add"
    if (present !== ctx.hasFinalizer) {
      actions.push({ _tag: "SetFinalizer", ref: ctx.ref, finalizer: ctx.finalizer, present })
    }
  }
  return { actions, ...withRequeue(step.requeue), status: changed ? step.status : (before ?? step.status) }
}

export const qualified = (ref: ClusterRef) => `${ref.namespace}/${ref.name}`

/** Ready False while the parent DoltDB is missing or its primary is not serving; no SQL. */
export const waitForParent = <S extends ResourceStatus>(
  ctx: PlanContext,
  current: S | undefined,
  empty: S,
  parent:
    | { readonly _tag: "Missing" }
    | { readonly _tag: "NotReady"; readonly reason: string }
    | { readonly _tag: "Refused"; readonly reason: string }
): PlanResult<S> => {
  if (parent._tag === "Refused") return refuse(ctx, current, empty, ReadyReason.NamespaceNotAllowed, parent.reason)
  const ready =
    parent._tag === "Missing"
      ? notReady(ReadyReason.DoltDBNotFound, `DoltDB ${qualified(ctx.cluster)} not found`)
      : notReady(ReadyReason.DoltDBNotReady, `DoltDB ${qualified(ctx.cluster)} is not ready: ${parent.reason}`)
  return assemble(ctx, current, {
    sql: [],
    events: [],
    status: withReady(ctx, current ?? empty, ready),
    finalizer: "keep",
    requeue: { millis: waitMillis(ctx, current, ready.reason), why: ready.message }
  })
}

/** The spec problems every kind shares (today: a DoltDB reference without a name). */
export const invalidParentRef = (ctx: PlanContext): string | undefined =>
  ctx.cluster.name === "" ? "spec.doltDBRef.name is not set" : undefined

/** Ready False naming an invalid spec field; no SQL, no requeue (a spec change triggers the next reconcile). */
export const rejectSpec = <S extends ResourceStatus>(
  ctx: PlanContext,
  current: S | undefined,
  empty: S,
  reason: string,
  message: string
): PlanResult<S> =>
  assemble(ctx, current, {
    sql: [],
    events: [],
    status: withReady(ctx, current ?? empty, notReady(reason, message)),
    finalizer: "keep"
  })

/**
 * Ready False for something this object may not do (another namespace's DoltDB, a reserved account, an existing
 * object it does not own), with a Warning event when the condition first turns to it; the spec or the DoltDB must
 * change, so the next check is the slow drift requeue.
 */
export const refuse = <S extends ResourceStatus>(
  ctx: PlanContext,
  current: S | undefined,
  empty: S,
  reason: string,
  message: string
): PlanResult<S> => {
  const previous = findCondition(current?.conditions, "Ready")
  const first = previous?.reason !== reason || previous.message !== message
  return assemble(ctx, current, {
    sql: [],
    events: first ? [event(ctx.ref, "Warning", reason, message)] : [],
    status: withReady(ctx, current ?? empty, notReady(reason, message)),
    finalizer: "keep",
    requeue: { millis: ctx.requeueMillis, why: message }
  })
}
