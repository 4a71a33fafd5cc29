import { ConfigMaps, Kube, type KubeObject } from "@doltdb-op/core/services/Kube"
import { InMemoryKube } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Metric, SubscriptionRef } from "effect"
import { TestClock } from "effect/testing"
import * as Controller from "../../src/runtime/Controller.ts"
import * as EventSource from "../../src/runtime/EventSource.ts"
import { Health } from "../../src/runtime/Health.ts"
import { LeaderElection } from "../../src/runtime/LeaderElection.ts"
import * as Manager from "../../src/runtime/Manager.ts"

const configMap = (namespace: string, name: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace },
  data: {}
})

/**
 * Let the forked fibers (informers, switchMap, workers) run: TestClock.adjust only waits for work woken by
 * sleeps, and a change of leadership travels through several scheduler turns.
 */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 200; i++) yield* Effect.yieldNow
})

describe("Manager", () => {
  it.effect("not ready until the first leadership state is known", () =>
    Effect.gen(function* () {
      const health = yield* Health
      const isLeader = yield* SubscriptionRef.make(false)
      const decided = yield* Deferred.make<void>()
      yield* Layer.build(
        Manager.layer<never>([]).pipe(
          Layer.provide(
            Layer.succeed(LeaderElection, {
              identity: "test",
              isLeader,
              decided: Deferred.await(decided),
              ensureLeading: Effect.void
            })
          )
        )
      )
      yield* settle
      assert.isFalse(yield* health.isReady)
      yield* Deferred.succeed(decided, undefined)
      yield* settle
      assert.isTrue(yield* health.isReady, "a standby is ready")
    }).pipe(Effect.provide(Health.layer))
  )

  it.effect("runs controllers fed by informers only while leading, re-listing on every new term", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const health = yield* Health
      const isLeader = yield* SubscriptionRef.make(false)
      const reconciled: Array<string> = []
      let interrupted = 0
      const definition = {
        name: "configmap",
        workers: 2,
        reconcile: (key: string) =>
          Effect.gen(function* () {
            reconciled.push(key)
            // "slow" keys hang so the test can see them interrupted on lost leadership
            if (key.endsWith("slow")) yield* Effect.onInterrupt(Effect.never, () => Effect.sync(() => interrupted++))
            return Controller.done
          })
      }
      yield* kube.create(ConfigMaps, configMap("team-a", "a"), { namespace: "team-a" })
      yield* kube.create(ConfigMaps, configMap("elsewhere", "ignored"), { namespace: "elsewhere" })

      const source = Manager.watch(ConfigMaps, { namespaces: ["team-a", "team-b"], toKeys: EventSource.toSelf })
      yield* Layer.build(
        Manager.layer([{ ...definition, sources: [source] }]).pipe(
          Layer.provide(
            Layer.succeed(LeaderElection, {
              identity: "test",
              isLeader,
              decided: Effect.void,
              ensureLeading: Effect.void
            })
          )
        )
      )
      yield* TestClock.adjust("1 second")
      yield* settle
      assert.deepStrictEqual(reconciled, [], "nothing runs while standing by")
      assert.deepStrictEqual(yield* health.readiness, [{ name: "controllers-started", ready: true }])

      yield* SubscriptionRef.set(isLeader, true)
      yield* TestClock.adjust("1 second")
      yield* settle
      assert.deepStrictEqual(reconciled, ["team-a/a"])
      assert.deepStrictEqual(yield* health.readiness, [
        { name: "configmap-controller", ready: true },
        { name: "controllers-started", ready: true }
      ])

      yield* kube.create(ConfigMaps, configMap("team-b", "b"), { namespace: "team-b" })
      yield* kube.create(ConfigMaps, configMap("team-b", "slow"), { namespace: "team-b" })
      yield* TestClock.adjust("1 second")
      yield* settle
      assert.deepStrictEqual(reconciled, ["team-a/a", "team-b/b", "team-b/slow"])

      yield* SubscriptionRef.set(isLeader, false)
      yield* TestClock.adjust("1 second")
      yield* settle
      assert.strictEqual(interrupted, 1, "the reconcile in flight is interrupted on lost leadership")
      assert.deepStrictEqual(
        yield* health.readiness,
        [{ name: "controllers-started", ready: true }],
        "a standby has no controller gate"
      )
      yield* kube.create(ConfigMaps, configMap("team-a", "c"), { namespace: "team-a" })
      yield* TestClock.adjust("1 second")
      yield* settle
      assert.strictEqual(reconciled.length, 3)

      yield* SubscriptionRef.set(isLeader, true)
      yield* TestClock.adjust("1 second")
      yield* settle
      assert.deepStrictEqual(
        reconciled.slice(3).sort(),
        ["team-a/a", "team-a/c", "team-b/b", "team-b/slow"],
        "a new term lists everything again"
      )
    }).pipe(
      Effect.provide(Layer.mergeAll(InMemoryKube.layer(), Health.layer)),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )
})
