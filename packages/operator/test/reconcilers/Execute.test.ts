/**
 * The executor's contexts: a controller without SQL resources has no `primaryOf`, and an `Sql` step there fails as an
 * action (not a defect); a refusal's Warning (`required`) that cannot be written fails the plan before its status
 * patch, any other Event is best effort.
 */
import type { Action } from "@doltdb-op/core/plan/Action"
import { Dolt, type DoltShape } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeShape } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { type ExecuteContext, execute } from "../../src/reconcilers/Execute.ts"

const ctx: ExecuteContext = {
  fieldManager: "doltdb-operator",
  controller: "doltdb",
  instance: "test",
  credentials: undefined
}
const regarding = { apiVersion: "k8s.dolthub.com/v1alpha", kind: "DoltDB", namespace: "ns", name: "db", uid: "u" }

/** A Kube whose Event writes fail and whose status patches are recorded. */
const kube = (calls: Array<string>): KubeShape =>
  new Proxy({} as KubeShape, {
    get: (_, method: string) =>
      method === "emitEvent"
        ? () => Effect.fail(new Error("the API server is unavailable"))
        : method === "patchStatus"
          ? () => Effect.sync(() => void calls.push("patchStatus"))
          : () => Effect.die(`unexpected Kube.${method}`)
  })
const dolt = new Proxy({} as DoltShape, { get: (_, method: string) => () => Effect.die(`unexpected Dolt.${method}`) })

const run = (plan: ReadonlyArray<Action>, calls: Array<string>) =>
  execute(ctx, plan).pipe(Effect.provideService(Kube, kube(calls)), Effect.provideService(Dolt, dolt), Effect.exit)

const patch: Action = { _tag: "PatchStatus", ref: regarding, status: { replicas: 1 }, replaces: {} }

describe("execute", () => {
  it.effect("an Sql step in a controller without SQL resources fails as an action, not a defect", () =>
    Effect.gen(function* () {
      const exit = yield* run(
        [{ _tag: "Sql", cluster: { namespace: "ns", name: "db" }, op: { _tag: "DropDatabase", name: "app" } }],
        []
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.include(JSON.stringify(exit), "this controller runs no SQL-resource statements")
      assert.notInclude(JSON.stringify(exit), "Die")
    })
  )

  it.effect("a required Warning that cannot be written stops the plan before its status patch; others do not", () =>
    Effect.gen(function* () {
      const warning = {
        _tag: "Event",
        regarding,
        type: "Warning",
        reason: "FailoverBlocked",
        message: "no standby"
      } as const
      const required: Array<string> = []
      assert.isTrue(Exit.isFailure(yield* run([{ ...warning, required: true }, patch], required)))
      assert.deepStrictEqual(required, [])
      const optional: Array<string> = []
      assert.isTrue(Exit.isSuccess(yield* run([warning, patch], optional)))
      assert.deepStrictEqual(optional, ["patchStatus"])
    })
  )
})
