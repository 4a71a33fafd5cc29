/**
 * What the three SQL-resource reconcilers share: executing a plan against the cluster's primary and remembering,
 * per object, the SQL statement that failed last (the planners' `lastFailure`: they report it in status and retry).
 */
import type { SqlResources } from "@doltdb-op/core"
import type { Plan } from "@doltdb-op/core/plan/Action"
import { Effect } from "effect"
import { ActionFailed, execute, resultOf, type SqlExecutor } from "../Execute.ts"
import type { ClusterPrimary } from "./ClusterPrimary.ts"

export interface SqlReconcilerOptions {
  readonly fieldManager: string
  readonly instance: string
  readonly planner: SqlResources.PlannerOptions
}

/** Failures by object key; lives as long as the controller. */
export type FailureMemory = Map<string, SqlResources.SqlFailure>

export const executeSqlPlan = (
  options: SqlReconcilerOptions,
  key: string,
  primary: ClusterPrimary,
  plan: Plan,
  failures: FailureMemory
) => {
  const ctx: SqlExecutor = {
    _tag: "SqlExecutor",
    fieldManager: options.fieldManager,
    controller: "doltdb-operator",
    instance: options.instance,
    primaryOf: () =>
      primary._tag === "Ready"
        ? Effect.succeed(primary.target)
        : Effect.fail(
            new ActionFailed({
              action: "Sql",
              message: primary._tag === "Missing" ? "the DoltDB does not exist" : primary.reason
            })
          )
  }
  return execute(ctx, plan.actions).pipe(
    Effect.tap(() => Effect.sync(() => failures.delete(key))),
    Effect.tapError((e) =>
      Effect.sync(() => {
        if (e.op !== undefined) failures.set(key, { op: e.op, error: e.errorTag ?? "Unknown", message: e.message })
      })
    ),
    Effect.as(resultOf(plan))
  )
}
