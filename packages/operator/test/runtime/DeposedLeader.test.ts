// A leader deposed while it is in the middle of a plan (a slow API call, a paused process: its work was not
// interrupted) must not issue the plan's role change once another replica may lead (#13 §2).
import type { Action } from "@doltdb-op/core/plan/Action"
import { Dolt, type DoltShape } from "@doltdb-op/core/services/Dolt"
import { Kube } from "@doltdb-op/core/services/Kube"
import { InMemoryKube } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Fiber, Random, Redacted, Scope, SubscriptionRef } from "effect"
import { TestClock } from "effect/testing"
import { type ClusterExecutor, execute } from "../../src/reconcilers/Execute.ts"
import * as LeaderElection from "../../src/runtime/LeaderElection.ts"
import { LeaseClient, type LeaseClientShape, LeaseError, makeMemory } from "../../src/runtime/LeaseClient.ts"
import { skewedClock } from "./clocks.ts"

const lease = { namespace: "operators", name: "k8s.dolthub.com" }

/** A Dolt service that records role changes and refuses anything else. */
const recordingDolt = (calls: Array<string>): DoltShape =>
  new Proxy({} as DoltShape, {
    get: (_, method: string) =>
      method === "assumeRole"
        ? (target: { host: string }, role: string, epoch: number) =>
            Effect.sync(() => void calls.push(`assumeRole ${target.host} ${role} ${epoch}`))
        : method === "transitionToStandby"
          ? (target: { host: string }, epoch: number) =>
              Effect.sync(() => {
                calls.push(`transitionToStandby ${target.host} ${epoch}`)
                return []
              })
          : () => Effect.die(`unexpected Dolt.${method}`)
  })

const ctx: ClusterExecutor = {
  _tag: "ClusterExecutor",
  fieldManager: "doltdb-operator",
  controller: "doltdb",
  instance: "test",
  credentials: { user: "admin", password: Redacted.make("secret") },
  backup: () => Effect.die("unexpected backup step")
}

const target = { host: "db-1.db-internal.ns.svc.cluster.local", port: 3306, ordinal: 1, pod: "db-1" }
const plan: ReadonlyArray<Action> = [
  {
    _tag: "Apply",
    object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "db-config", namespace: "ns" }, data: {} },
    force: true
  },
  { _tag: "AssumeRole", target, role: "primary", epoch: 2 },
  { _tag: "TransitionToStandby", target, epoch: 2, minCaughtUp: 0, requireCaughtUp: [] }
]

/** Replica `a` leads with a lease client that can be cut; `b` stands by on the same store. */
const twoReplicas = (clockOfA?: Clock.Clock) =>
  Effect.gen(function* () {
    const store = yield* makeMemory
    let broken = false
    const cutA: LeaseClientShape = {
      get: (ref) => (broken ? Effect.fail(new LeaseError({ lease, message: "connection refused" })) : store.get(ref)),
      create: (ref, r) => (broken ? Effect.fail(new LeaseError({ lease, message: "refused" })) : store.create(ref, r)),
      update: (ref, r, rv) =>
        broken ? Effect.fail(new LeaseError({ lease, message: "refused" })) : store.update(ref, r, rv)
    }
    const scope = yield* Scope.make()
    const start = (identity: string, client: LeaseClientShape) =>
      LeaderElection.elect({ ...lease, identity }).pipe(
        Effect.provideService(LeaseClient, client),
        Scope.provide(scope)
      )
    const a = yield* clockOfA === undefined
      ? start("a", cutA)
      : Effect.provideService(start("a", cutA), Clock.Clock, clockOfA)
    yield* a.decided
    const b = yield* start("b", store)
    yield* b.decided
    return {
      a,
      b,
      store,
      cutA: Effect.sync(() => {
        broken = true
      }),
      stop: Scope.close(scope, Exit.void)
    }
  })

/** Run `plan` as replica `a`, its first (Kube) step held until `gate` opens; returns the fiber. */
const runHeld = (election: LeaderElection.LeaderElectionShape, gate: Deferred.Deferred<void>, calls: Array<string>) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    const held = {
      ...kube,
      apply: ((...args) => Effect.andThen(Deferred.await(gate), kube.apply(...args))) as typeof kube.apply
    }
    return yield* execute(ctx, plan).pipe(
      Effect.provideService(Kube, held),
      Effect.provideService(Dolt, recordingDolt(calls)),
      Effect.provideService(LeaderElection.LeaderElection, election),
      Effect.forkChild({ startImmediately: true })
    )
  })

describe("a deposed leader mid-plan", () => {
  it.effect("does not issue the role change once its lease was taken over", () =>
    Effect.gen(function* () {
      const replicas = yield* twoReplicas()
      const gate = yield* Deferred.make<void>()
      const calls: Array<string> = []
      const fiber = yield* runHeld(replicas.a, gate, calls)
      // a loses the API server while its Apply hangs; b takes the Lease once a's lease expired.
      yield* replicas.cutA
      for (let i = 0; i < 150 && !(yield* SubscriptionRef.get(replicas.b.isLeader)); i++)
        yield* TestClock.adjust("100 millis")
      assert.isTrue(yield* SubscriptionRef.get(replicas.b.isLeader), "b took over")
      assert.strictEqual((yield* replicas.store.get(lease)).record.holderIdentity, "b")
      // The Apply returns: the plan goes on, but the promotion is refused.
      yield* Deferred.succeed(gate, undefined)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
      const failure = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      const error = failure?._tag === "Fail" ? (failure.error as { action: string; message: string }) : undefined
      assert.strictEqual(error?.action, "AssumeRole")
      assert.match(error?.message ?? "", /^not the leader: a does not hold the leader lease/)
      assert.deepStrictEqual(calls, [], "no role change reached a server")
      yield* replicas.stop
    }).pipe(Effect.provide(InMemoryKube.layer()), Random.withSeed(9))
  )

  it.effect("does not issue it after a pause past its renew deadline, before its renew loop noticed", () =>
    Effect.gen(function* () {
      const { skewed, offsets } = yield* skewedClock
      const replicas = yield* twoReplicas(skewed)
      const gate = yield* Deferred.make<void>()
      const calls: Array<string> = []
      const fiber = yield* runHeld(replicas.a, gate, calls)
      yield* TestClock.adjust("1 second")
      // a's process is frozen for 8 s (no fiber runs) while its Apply is in flight; it resumes with the Apply's
      // answer before its renew loop runs: `isLeader` still says true, the monotonic clock says the lease is stale.
      offsets.pause = 8000
      assert.isTrue(yield* SubscriptionRef.get(replicas.a.isLeader))
      yield* Deferred.succeed(gate, undefined)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(calls, [], "no role change reached a server")
      yield* replicas.stop
    }).pipe(Effect.provide(InMemoryKube.layer()), Random.withSeed(9))
  )

  it.effect("a leader that keeps its lease runs the same plan to the end", () =>
    Effect.gen(function* () {
      const replicas = yield* twoReplicas()
      const gate = yield* Deferred.make<void>()
      const calls: Array<string> = []
      const fiber = yield* runHeld(replicas.a, gate, calls)
      yield* TestClock.adjust("20 seconds")
      yield* Deferred.succeed(gate, undefined)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(calls, [`assumeRole ${target.host} primary 2`, `transitionToStandby ${target.host} 2`])
      yield* replicas.stop
    }).pipe(Effect.provide(InMemoryKube.layer()), Random.withSeed(9))
  )
})
