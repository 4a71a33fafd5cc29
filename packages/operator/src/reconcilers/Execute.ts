/**
 * Runs a plan's actions in order through the Kube and Dolt services, stopping at the first failure (so fencing
 * that fails never lets a promotion run); once they all succeeded, the plan's `requeueAfter` is the reconcile result.
 */
import type { Action, Plan, PodTarget } from "@doltdb-op/core/plan/Action"
import { Dolt, standbysCaughtUp } from "@doltdb-op/core/services/Dolt"
import { Kube } from "@doltdb-op/core/services/Kube"
import { Duration, Effect, Option } from "effect"
import * as Controller from "../runtime/Controller.ts"
import { LeaderElection } from "../runtime/LeaderElection.ts"
import { ActionFailed, describe, failedAs } from "./ActionFailed.ts"
import { CredentialsUnavailable, doltTarget } from "./Credentials.ts"
import type { ExecuteContext } from "./ExecuteContext.ts"
import { mergePatch } from "./MergePatch.ts"
import { resourceFor } from "./Resources.ts"
import { runSqlOp } from "./sql/runSqlOp.ts"
import { issueCertificates } from "./tls/issueCertificates.ts"

export { ActionFailed } from "./ActionFailed.ts"
export type { ClusterExecutor, ExecuteContext, ObjectExecutor, SqlExecutor } from "./ExecuteContext.ts"

const resourceOf = (apiVersion: string, kind: string, action: Action["_tag"]) => {
  const res = resourceFor(apiVersion, kind)
  return res === undefined
    ? Effect.fail(new ActionFailed({ action, message: `no resource descriptor for ${apiVersion} ${kind}` }))
    : Effect.succeed(res)
}

/** A step this controller's plans never contain: an action failure (a planner bug), not a defect. */
const notRunBy = (ctx: ExecuteContext, action: Action["_tag"]) =>
  new ActionFailed({ action, message: `the ${ctx._tag} runs no ${action} steps` })

/** A pod step's SQL target: only the cluster executor has the credentials. */
const podTarget = (ctx: ExecuteContext, target: PodTarget, action: Action["_tag"]) =>
  ctx._tag !== "ClusterExecutor"
    ? Effect.fail(notRunBy(ctx, action))
    : ctx.credentials === undefined
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

const runAction = Effect.fnUntraced(function* (ctx: ExecuteContext, action: Action) {
  const kube = yield* Kube
  const dolt = yield* Dolt
  switch (action._tag) {
    case "Apply": {
      const res = yield* resourceOf(action.object.apiVersion, action.object.kind, action._tag)
      yield* kube
        .apply(res, action.object, { fieldManager: action.fieldManager ?? ctx.fieldManager, force: action.force })
        .pipe(Effect.mapError(failedAs(action._tag)))
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
          Effect.mapError(failedAs(action._tag))
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
        .pipe(Effect.mapError(failedAs(action._tag)))
      return
    }
    case "SetFinalizer": {
      const res = yield* resourceOf(action.ref.apiVersion, action.ref.kind, action._tag)
      const current = yield* kube
        .get(res, action.ref.name, { namespace: action.ref.namespace })
        .pipe(Effect.mapError(failedAs(action._tag)))
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
        .pipe(Effect.mapError(failedAs(action._tag)))
      return
    }
    case "AssumeRole": {
      const target = yield* podTarget(ctx, action.target, action._tag)
      yield* ensureLeading(action._tag)
      yield* dolt.assumeRole(target, action.role, action.epoch).pipe(Effect.mapError(failedAs(action._tag)))
      return
    }
    case "SetAckWritesTimeout": {
      const target = yield* podTarget(ctx, action.target, action._tag)
      const set = dolt.setAckWritesTimeout(target, action.seconds).pipe(Effect.mapError(failedAs(action._tag)))
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
        .pipe(Effect.mapError(failedAs(action._tag)))
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
      if (ctx._tag !== "SqlExecutor") return yield* notRunBy(ctx, action._tag)
      return yield* runSqlOp(yield* ctx.primaryOf(action.cluster), action.op)
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
              ? Effect.fail(failedAs(action._tag)(e))
              : Effect.logWarning("event not recorded", describe(e))
          )
        )
      return
    }
    case "Backup": {
      if (ctx._tag !== "ClusterExecutor") return yield* notRunBy(ctx, action._tag)
      return yield* ctx.backup(action.regarding, action.op)
    }
    case "IssueCertificates": {
      yield* issueCertificates(action, ctx.fieldManager).pipe(Effect.mapError(failedAs(action._tag)))
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
