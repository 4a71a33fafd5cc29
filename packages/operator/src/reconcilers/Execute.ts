/**
 * Runs a plan's actions in order through the Kube and Dolt services, stopping at the first failure (so fencing
 * that fails never lets a promotion run); once they all succeeded, the plan's `requeueAfter` is the reconcile result.
 */
import type {
  Action,
  BackupOp,
  ClusterRef,
  ObjectRef,
  Plan,
  PodTarget,
  SecretKeyRef,
  SqlOp
} from "@doltdb-op/core/plan/Action"
import { Dolt, type DoltTarget, standbysCaughtUp } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Secrets } from "@doltdb-op/core/services/Kube"
import { Data, Duration, Effect, Option, Redacted } from "effect"
import * as Controller from "../runtime/Controller.ts"
import { LeaderElection } from "../runtime/LeaderElection.ts"
import { type Credentials, CredentialsUnavailable, doltTarget, secretValue } from "./Credentials.ts"
import { mergePatch } from "./MergePatch.ts"
import { resourceFor } from "./Resources.ts"
import { issueCertificates } from "./tls/issueCertificates.ts"

export class ActionFailed extends Data.TaggedError("ActionFailed")<{
  readonly action: Action["_tag"]
  readonly message: string
  readonly cause?: unknown
  /** The SQL statement that failed (`Sql` actions), for the SQL-resource planners' `lastFailure`. */
  readonly op?: SqlOp
  /** The failure's tag (`DoltReadOnly`, `DoltUnreachable`, ...). */
  readonly errorTag?: string
}> {}

export interface ExecuteContext {
  readonly fieldManager: string
  readonly controller: string
  readonly instance: string
  /** Admin credentials of the DoltDB a pod target belongs to. */
  readonly credentials: Credentials | undefined
  /** The SQL target of a cluster's current primary: the SQL-resource controllers only (their `Sql` steps). */
  readonly primaryOf?: (cluster: ClusterRef) => Effect.Effect<DoltTarget, ActionFailed, Kube>
  /** Runs backup steps (the Backup reconciler only). */
  readonly backup?: (regarding: ObjectRef, op: BackupOp) => Effect.Effect<void, ActionFailed, Kube | Dolt>
}

const describe = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e)

const fail = (action: Action["_tag"]) => (cause: unknown) =>
  new ActionFailed({ action, message: describe(cause), cause })

const resourceOf = (apiVersion: string, kind: string, action: Action["_tag"]) => {
  const res = resourceFor(apiVersion, kind)
  return res === undefined
    ? Effect.fail(new ActionFailed({ action, message: `no resource descriptor for ${apiVersion} ${kind}` }))
    : Effect.succeed(res)
}

const podTarget = (ctx: ExecuteContext, target: PodTarget, action: Action["_tag"]) =>
  ctx.credentials === undefined
    ? Effect.fail(new ActionFailed({ action, message: "no credentials for the DoltDB" }))
    : Effect.succeed(doltTarget(target.host, target.port, ctx.credentials))

/**
 * A role change (promotion, demotion, fencing a pod by deletion) runs only while this replica holds the leader
 * Lease within its renew deadline: a deposed leader that resumes mid-plan (a paused process, a slow call) must not
 * change a role the new leader is deciding. Without a `LeaderElection` in context (simulation, tests) it passes.
 */
const ensureLeading = (action: Action["_tag"]) =>
  Effect.flatMap(Effect.serviceOption(LeaderElection), (election) =>
    Option.isNone(election)
      ? Effect.void
      : election.value.ensureLeading.pipe(
          Effect.mapError(
            (e) => new ActionFailed({ action, message: `not the leader: ${e.message}`, cause: e, errorTag: e._tag })
          )
        )
  )

const readSecret = Effect.fnUntraced(function* (ref: SecretKeyRef) {
  const kube = yield* Kube
  // Read at execution time: plans never carry secrets.
  const secret = yield* kube.get(Secrets, ref.name, { namespace: ref.namespace }).pipe(Effect.mapError(fail("Sql")))
  const value = secretValue(secret as KubeObject, ref.key)
  if (value === undefined)
    return yield* new ActionFailed({
      action: "Sql",
      message: `Secret ${ref.namespace}/${ref.name} has no key ${ref.key}`
    })
  return Redacted.make(value)
})

const runAction = Effect.fnUntraced(function* (ctx: ExecuteContext, action: Action) {
  const kube = yield* Kube
  const dolt = yield* Dolt
  switch (action._tag) {
    case "Apply": {
      const res = yield* resourceOf(action.object.apiVersion, action.object.kind, action._tag)
      yield* kube
        .apply(res, action.object, { fieldManager: action.fieldManager ?? ctx.fieldManager, force: action.force })
        .pipe(Effect.mapError(fail(action._tag)))
      return
    }
    case "Delete": {
      const res = yield* resourceOf(action.ref.apiVersion, action.ref.kind, action._tag)
      if (action.ref.kind === "Pod") yield* ensureLeading(action._tag)
      yield* kube
        .delete(res, action.ref.name, {
          namespace: action.ref.namespace,
          ...(action.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: action.gracePeriodSeconds }),
          ...(action.propagationPolicy === undefined ? {} : { propagationPolicy: action.propagationPolicy }),
          ...(action.ref.uid === undefined ? {} : { preconditions: { uid: action.ref.uid } })
        })
        .pipe(
          Effect.catchTag("NotFound", () => Effect.void),
          Effect.mapError(fail(action._tag))
        )
      return
    }
    case "PatchStatus": {
      const res = yield* resourceOf(action.ref.apiVersion, action.ref.kind, action._tag)
      yield* kube
        .patchStatus(res, action.ref.name, mergePatch(action.replaces ?? {}, action.status), {
          namespace: action.ref.namespace,
          fieldManager: ctx.fieldManager,
          ...(action.resourceVersion === undefined ? {} : { resourceVersion: action.resourceVersion })
        })
        .pipe(Effect.mapError(fail(action._tag)))
      return
    }
    case "SetFinalizer": {
      const res = yield* resourceOf(action.ref.apiVersion, action.ref.kind, action._tag)
      const current = yield* kube
        .get(res, action.ref.name, { namespace: action.ref.namespace })
        .pipe(Effect.mapError(fail(action._tag)))
      const finalizers = current.metadata.finalizers ?? []
      const has = finalizers.includes(action.finalizer)
      if (has === action.present) return
      const next = action.present ? [...finalizers, action.finalizer] : finalizers.filter((f) => f !== action.finalizer)
      yield* kube
        .mergePatch(
          res,
          action.ref.name,
          { metadata: { finalizers: next } },
          {
            namespace: action.ref.namespace,
            fieldManager: ctx.fieldManager,
            ...(current.metadata.resourceVersion === undefined
              ? {}
              : { resourceVersion: current.metadata.resourceVersion })
          }
        )
        .pipe(Effect.mapError(fail(action._tag)))
      return
    }
    case "AssumeRole": {
      const target = yield* podTarget(ctx, action.target, action._tag)
      yield* ensureLeading(action._tag)
      yield* dolt.assumeRole(target, action.role, action.epoch).pipe(Effect.mapError(fail(action._tag)))
      return
    }
    case "SetAckWritesTimeout": {
      const target = yield* podTarget(ctx, action.target, action._tag)
      const set = dolt.setAckWritesTimeout(target, action.seconds).pipe(Effect.mapError(fail(action._tag)))
      yield* action.bestEffort
        ? set.pipe(
            Effect.catch((e) =>
              Effect.logWarning(`could not set the ack-writes wait on ${action.target.pod}: ${e.message}`)
            )
          )
        : set
      return
    }
    case "TransitionToStandby": {
      const target = yield* podTarget(ctx, action.target, action._tag)
      yield* ensureLeading(action._tag)
      const rows = yield* dolt
        .transitionToStandby(target, action.epoch, action.minCaughtUp)
        .pipe(Effect.mapError(fail(action._tag)))
      const caught = new Set(
        standbysCaughtUp(rows)
          .filter((s) => s.caughtUp)
          .map((s) => s.remote)
      )
      const missing = action.requireCaughtUp.filter((r) => !caught.has(r))
      if (missing.length > 0)
        return yield* new ActionFailed({
          action: action._tag,
          message: `demoted, but ${missing.join(", ")} did not report caught up; the next reconcile picks the promotion target`
        })
      return
    }
    case "Sql": {
      if (ctx.primaryOf === undefined)
        return yield* new ActionFailed({
          action: action._tag,
          message: "this controller runs no SQL-resource statements"
        })
      const target = yield* ctx.primaryOf(action.cluster)
      const op = action.op
      const run = <A, E, R>(e: Effect.Effect<A, E, R>) =>
        e.pipe(
          Effect.asVoid,
          Effect.mapError(
            (cause) =>
              new ActionFailed({
                action: "Sql",
                message: describe(cause),
                cause,
                op,
                errorTag:
                  typeof cause === "object" && cause !== null && "_tag" in cause ? String(cause._tag) : "Unknown"
              })
          )
        )
      switch (op._tag) {
        case "CreateDatabase":
          return yield* run(
            dolt.createDatabase(target, {
              name: op.name,
              ...(op.charset === undefined ? {} : { charset: op.charset }),
              ...(op.collation === undefined ? {} : { collation: op.collation })
            })
          )
        case "DropDatabase":
          return yield* run(dolt.dropDatabase(target, op.name))
        case "EnsureBranches":
          return yield* run(dolt.ensureBranches(target, op.database, op.branches, op.from))
        case "EnsureIgnorePatterns":
          return yield* run(dolt.ensureIgnorePatterns(target, op.database, op.patterns))
        case "CreateUser":
          return yield* run(
            Effect.flatMap(readSecret(op.password), (password) =>
              dolt.createUser(target, { name: op.name, host: op.host }, password)
            )
          )
        case "SetPassword":
          return yield* run(
            Effect.flatMap(readSecret(op.password), (password) =>
              dolt.setPassword(target, { name: op.name, host: op.host }, password)
            )
          )
        case "DropUser":
          return yield* run(dolt.dropUser(target, { name: op.name, host: op.host }))
        case "Grant":
        case "Revoke": {
          const grant = {
            account: { name: op.name, host: op.host },
            privileges: op.privileges,
            database: op.database,
            table: op.table,
            grantOption: op.grantOption
          }
          return yield* run(op._tag === "Grant" ? dolt.grant(target, grant) : dolt.revoke(target, grant))
        }
      }
      return
    }
    case "Event": {
      yield* kube
        .emitEvent({
          regarding: {
            apiVersion: action.regarding.apiVersion,
            kind: action.regarding.kind,
            name: action.regarding.name,
            uid: action.regarding.uid ?? "",
            namespace: action.regarding.namespace
          },
          type: action.type,
          reason: action.reason,
          action: action.reason,
          note: action.message.slice(0, 1024),
          reportingController: ctx.controller,
          reportingInstance: ctx.instance
        })
        // An Event that cannot be written is not worth failing a reconcile for, unless it announces a refusal.
        .pipe(
          Effect.catch((e) =>
            action.required === true
              ? Effect.fail(fail(action._tag)(e))
              : Effect.logWarning("event not recorded", describe(e))
          )
        )
      return
    }
    case "Backup": {
      if (ctx.backup === undefined)
        return yield* new ActionFailed({ action: action._tag, message: "this controller runs no backup steps" })
      return yield* ctx.backup(action.regarding, action.op)
    }
    case "IssueCertificates": {
      yield* issueCertificates(action, ctx.fieldManager).pipe(Effect.mapError(fail(action._tag)))
      return
    }
  }
})

/** Runs `actions` in order; fails with the first failing action. */
export const execute = Effect.fn("Plan.execute")(function* (ctx: ExecuteContext, actions: ReadonlyArray<Action>) {
  for (const action of actions) {
    yield* runAction(ctx, action).pipe(
      Effect.annotateLogs({ action: action._tag }),
      Effect.catchDefect((defect) => Effect.fail(new ActionFailed({ action: action._tag, message: describe(defect) })))
    )
  }
})

/**
 * What the controller does once `plan`'s actions succeeded: requeue after its `requeueAfter` (at least 1 ms, since
 * the controller treats a zero delay as done and 0 means "as soon as possible"), or nothing until the next event.
 */
export const resultOf = (plan: Plan): Controller.ReconcileResult =>
  plan.requeueAfter === undefined
    ? Controller.done
    : Controller.requeueAfter(Duration.millis(Math.max(plan.requeueAfter.millis, 1)))

export { CredentialsUnavailable }
