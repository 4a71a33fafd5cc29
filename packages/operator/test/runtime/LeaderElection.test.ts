import { Kube, Leases } from "@doltdb-op/core/services/Kube"
import { InMemoryKube } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Random, Scope, SubscriptionRef } from "effect"
import { TestClock } from "effect/testing"
import { Health } from "../../src/runtime/Health.ts"
import * as LeaderElection from "../../src/runtime/LeaderElection.ts"
import { LeaseClient, type LeaseClientShape, LeaseError, makeMemory } from "../../src/runtime/LeaseClient.ts"

const lease = { namespace: "operators", name: "k8s.dolthub.com" }

/** A view of a shared store whose writes can be cut, as if this replica lost the API server. */
const breakable = (client: LeaseClientShape) => {
  let broken = false
  const cut = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E | LeaseError> =>
    Effect.suspend(
      (): Effect.Effect<A, E | LeaseError> =>
        broken ? Effect.fail(new LeaseError({ lease, message: "connection refused" })) : effect
    )
  const view: LeaseClientShape = {
    get: (ref) => cut(client.get(ref)),
    create: (ref, record) => cut(client.create(ref, record)),
    update: (ref, record, rv) => cut(client.update(ref, record, rv))
  }
  return {
    view,
    setBroken: (value: boolean) =>
      Effect.sync(() => {
        broken = value
      })
  }
}

const candidate = (identity: string, client: LeaseClientShape) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const election = yield* LeaderElection.elect({ ...lease, identity }).pipe(
      Effect.provideService(LeaseClient, client),
      Scope.provide(scope)
    )
    return { election, stop: Scope.close(scope, Exit.void) }
  })

describe("LeaderElection", () => {
  it.effect("two candidates: one leads, the other takes over when it stops renewing, never both at once", () =>
    Effect.gen(function* () {
      const store = yield* makeMemory
      const a = breakable(store)
      const candidateA = yield* candidate("a", a.view)
      yield* candidateA.election.decided
      const candidateB = yield* candidate("b", store)
      yield* candidateB.election.decided
      const leaders = Effect.all([
        SubscriptionRef.get(candidateA.election.isLeader),
        SubscriptionRef.get(candidateB.election.isLeader)
      ])
      // Step the clock in 100 ms ticks and check the invariant at every instant.
      const tick = (seconds: number, onTick: (now: number, a: boolean, b: boolean) => void = () => {}) =>
        Effect.gen(function* () {
          for (let i = 0; i < seconds * 10; i++) {
            yield* TestClock.adjust("100 millis")
            const [isA, isB] = yield* leaders
            assert.isFalse(isA && isB, "two leaders at the same instant")
            onTick(i, isA, isB)
          }
        })

      assert.deepStrictEqual(yield* leaders, [true, false])
      yield* tick(30)
      assert.deepStrictEqual(yield* leaders, [true, false], "the leader keeps renewing")

      yield* a.setBroken(true)
      let aLostAt: number | undefined
      let bLedAt: number | undefined
      yield* tick(40, (i, isA, isB) => {
        if (!isA && aLostAt === undefined) aLostAt = i
        if (isB && bLedAt === undefined) bLedAt = i
      })
      assert.isDefined(aLostAt)
      assert.isDefined(bLedAt)
      assert.isAtMost(aLostAt!, 100, "a steps down within renewDeadline (10 s) of its last renewal")
      assert.isAbove(bLedAt!, aLostAt!, "b leads only after a stepped down")
      assert.isAtMost(bLedAt!, 200)
      const taken = yield* store.get(lease)
      assert.strictEqual(taken.record.holderIdentity, "b")
      assert.strictEqual(taken.record.leaseTransitions, 1)

      // a recovers but stays standby while b renews
      yield* a.setBroken(false)
      yield* tick(30)
      assert.deepStrictEqual(yield* leaders, [false, true])

      // b shuts down: it releases the Lease and a takes over without waiting for expiry
      yield* candidateB.stop
      assert.isFalse(yield* SubscriptionRef.get(candidateB.election.isLeader))
      yield* TestClock.adjust("5 seconds")
      assert.isTrue(yield* SubscriptionRef.get(candidateA.election.isLeader))
      const back = yield* store.get(lease)
      assert.strictEqual(back.record.holderIdentity, "a")
      assert.strictEqual(back.record.leaseTransitions, 2)
      yield* candidateA.stop
    }).pipe(Random.withSeed(7))
  )

  it.effect("works through the Kube service's Leases (in-memory API server) and opens the readiness gate", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const health = yield* Health
      const election = yield* LeaderElection.LeaderElection
      yield* election.decided
      assert.isTrue(yield* SubscriptionRef.get(election.isLeader))
      assert.isTrue(yield* health.isReady)
      assert.deepStrictEqual(yield* health.readiness, [{ name: "leader-election", ready: true }])
      yield* TestClock.adjust("1 minute")
      const stored = yield* kube.get(Leases, lease.name, { namespace: lease.namespace })
      assert.strictEqual(stored.spec?.holderIdentity, election.identity)
      assert.strictEqual(stored.spec?.leaseDurationSeconds, 15)
      assert.strictEqual(stored.spec?.renewTime, "1970-01-01T00:01:00.000000Z")
      assert.strictEqual(stored.spec?.acquireTime, "1970-01-01T00:00:00.000000Z")
    }).pipe(
      Effect.provide(
        LeaderElection.LeaderElection.layer({ ...lease, identity: "pod-0_abc" }).pipe(
          Layer.provideMerge(Health.layer),
          Layer.provide(LeaseClient.layerKube),
          Layer.provideMerge(InMemoryKube.layer())
        )
      )
    )
  )

  it.effect("rejects a renew deadline that is not below the lease duration", () =>
    Effect.gen(function* () {
      const store = yield* makeMemory
      const error = yield* LeaderElection.elect({
        ...lease,
        identity: "x",
        leaseDuration: "10 seconds",
        renewDeadline: "10 seconds"
      }).pipe(Effect.provideService(LeaseClient, store), Effect.flip)
      assert.strictEqual(error._tag, "InvalidLeaderElectionOptions")
    })
  )

  it.effect("whileLeader starts work on true, interrupts it on false, restarts it on true", () =>
    Effect.gen(function* () {
      const isLeader = yield* SubscriptionRef.make(false)
      let started = 0
      let stopped = 0
      const work = Effect.acquireRelease(
        Effect.sync(() => started++),
        () => Effect.sync(() => stopped++)
      ).pipe(Effect.andThen(Effect.never))
      yield* LeaderElection.whileLeader(work).pipe(
        Effect.provideService(LeaderElection.LeaderElection, { identity: "me", isLeader, decided: Effect.void }),
        Effect.forkChild({ startImmediately: true })
      )
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual([started, stopped], [0, 0])
      yield* SubscriptionRef.set(isLeader, true)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual([started, stopped], [1, 0])
      yield* SubscriptionRef.set(isLeader, true)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual([started, stopped], [1, 0], "a repeated true does not restart the work")
      yield* SubscriptionRef.set(isLeader, false)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual([started, stopped], [1, 1])
      yield* SubscriptionRef.set(isLeader, true)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual([started, stopped], [2, 1])
    })
  )

  it.effect("whileLeader restarts failed work with a backoff while leading", () =>
    Effect.gen(function* () {
      const isLeader = yield* SubscriptionRef.make(true)
      let runs = 0
      const work = Effect.suspend(() => {
        runs++
        return runs < 3 ? Effect.fail("informer exploded") : Effect.never
      })
      yield* LeaderElection.whileLeader(work).pipe(
        Effect.provideService(LeaderElection.LeaderElection, { identity: "me", isLeader, decided: Effect.void }),
        Effect.forkChild({ startImmediately: true })
      )
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(runs, 1)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(runs, 2)
      yield* TestClock.adjust("1998 millis")
      assert.strictEqual(runs, 2, "the second restart waits 2 s")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(runs, 3)
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(runs, 3, "running work is left alone")
    })
  )

  it.effect("identity is the pod name plus a random suffix", () =>
    Effect.gen(function* () {
      const identity = yield* LeaderElection.makeIdentity
      assert.match(identity, /^.+_[0-9a-f]{8}$/)
      assert.notStrictEqual(identity, yield* LeaderElection.makeIdentity)
    })
  )
})
