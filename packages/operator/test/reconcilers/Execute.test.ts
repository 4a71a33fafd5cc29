/**
 * The executor's contexts: each kind of controller has its own, and a step that needs a capability its context lacks
 * (an `Sql` step in the DoltDB controller, a role change or backup step in the Snapshot controller) fails as an action,
 * not a defect; a refusal's Warning (`required`) that cannot be written fails the plan before its status
 * patch, any other Event is best effort.
 */
import type { Action } from "@doltdb-op/core/plan/Action"
import { Dolt, type DoltShape } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeShape } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import {
  type ClusterExecutor,
  type ExecuteContext,
  execute,
  type ObjectExecutor,
  type SqlExecutor
} from "../../src/reconcilers/Execute.ts"

const identity = { fieldManager: "doltdb-operator", controller: "doltdb", instance: "test" }
const cluster: ClusterExecutor = {
  _tag: "ClusterExecutor",
  ...identity,
  credentials: undefined,
  backup: () => Effect.die("unexpected backup step")
}
const objects: ObjectExecutor = { _tag: "ObjectExecutor", ...identity }
const primary = {
  host: "db-0.db-internal.ns.svc.cluster.local",
  port: 3306,
  user: "admin",
  password: Redacted.make("s")
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
/** A Dolt whose `dropDatabase` is recorded with its target's host. */
const dolt = (calls: Array<string>): DoltShape =>
  new Proxy({} as DoltShape, {
    get: (_, method: string) =>
      method === "dropDatabase"
        ? (target: { host: string }, name: string) =>
            Effect.sync(() => void calls.push(`drop ${name} on ${target.host}`))
        : () => Effect.die(`unexpected Dolt.${method}`)
  })

const run = (plan: ReadonlyArray<Action>, calls: Array<string>, ctx: ExecuteContext = cluster) =>
  execute(ctx, plan).pipe(
    Effect.provideService(Kube, kube(calls)),
    Effect.provideService(Dolt, dolt(calls)),
    Effect.exit
  )

const dropApp: Action = {
  _tag: "Sql",
  cluster: { namespace: "ns", name: "db" },
  op: { _tag: "DropDatabase", name: "app" }
}
const assumePrimary: Action = {
  _tag: "AssumeRole",
  target: { host: primary.host, port: 3306, ordinal: 0, pod: "db-0" },
  role: "primary",
  epoch: 2
}

const patch: Action = { _tag: "PatchStatus", ref: regarding, status: { replicas: 1 }, replaces: {} }

describe("execute", () => {
  it.effect("an Sql step in the DoltDB controller fails as an action, not a defect", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const exit = yield* run([dropApp], calls)
      assert.isTrue(Exit.isFailure(exit))
      assert.include(JSON.stringify(exit), "the ClusterExecutor runs no Sql steps")
      assert.notInclude(JSON.stringify(exit), "Die")
      assert.deepStrictEqual(calls, [])
    })
  )

  it.effect("the SQL executor runs an Sql step on the cluster's primary", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const sql: SqlExecutor = { _tag: "SqlExecutor", ...identity, primaryOf: () => Effect.succeed(primary) }
      assert.isTrue(Exit.isSuccess(yield* run([dropApp], calls, sql)))
      assert.deepStrictEqual(calls, [`drop app on ${primary.host}`])
    })
  )

  it.effect("role changes and backup steps outside the cluster executor fail as actions, and stop the plan", () =>
    Effect.gen(function* () {
      const backup: Action = { _tag: "Backup", regarding, op: { _tag: "RemoveRemotes", targets: [], remotes: [] } }
      for (const step of [assumePrimary, backup]) {
        const calls: Array<string> = []
        const exit = yield* run([step, patch], calls, objects)
        assert.isTrue(Exit.isFailure(exit))
        assert.include(JSON.stringify(exit), `the ObjectExecutor runs no ${step._tag} steps`)
        assert.notInclude(JSON.stringify(exit), "Die")
        assert.deepStrictEqual(calls, [])
      }
    })
  )

  it.effect("a role change without the DoltDB's credentials fails as an action", () =>
    Effect.gen(function* () {
      const exit = yield* run([assumePrimary], [])
      assert.isTrue(Exit.isFailure(exit))
      assert.include(JSON.stringify(exit), "no credentials for the DoltDB")
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
