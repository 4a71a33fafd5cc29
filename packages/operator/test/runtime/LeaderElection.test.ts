import { Kube, Leases } from "@doltdb-op/core/services/Kube"
import { InMemoryKube } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Layer, Logger, Random, References, Scope, SubscriptionRef } from "effect"
import { TestClock } from "effect/testing"
import { Health } from "../../src/runtime/Health.ts"
import * as LeaderElection from "../../src/runtime/LeaderElection.ts"
import { LeaseClient, type LeaseClientShape, LeaseError, makeMemory } from "../../src/runtime/LeaseClient.ts"
import { skewedClock } from "./clocks.ts"

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

const candidate = (identity: string, client: LeaseClientShape, clock?: Clock.Clock) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const elect = LeaderElection.elect({ ...lease, identity }).pipe(
      Effect.provideService(LeaseClient, client),
      Scope.provide(scope)
    )
    const election = yield* clock === undefined ? elect : Effect.provideService(elect, Clock.Clock, clock)
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
      assert.isAtMost(aLostAt!, 70, "a steps down within renewDeadline (7 s) of its last renewal")
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
      assert.strictEqual(stored.spec?.leaseDurationSeconds, 10)
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

  it.effect(
    "a crashed leader is replaced within leaseDuration + one poll of its last renewal; it stepped down before",
    () =>
      Effect.gen(function* () {
        const takeovers: Array<number> = []
        for (let seed = 1; seed <= 16; seed++) {
          const store = yield* makeMemory
          const a = breakable(store)
          const candidateA = yield* candidate("a", a.view)
          yield* candidateA.election.decided
          // b's reads, timed: the first one after a's last renewal is when b can first see it.
          const reads: Array<number> = []
          const timed: LeaseClientShape = {
            ...store,
            get: (ref) =>
              Effect.andThen(
                Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => reads.push(t))),
                store.get(ref)
              )
          }
          const candidateB = yield* candidate("b", timed)
          yield* candidateB.election.decided
          // Let the standby's polls fall at some phase relative to the leader's renewals.
          yield* TestClock.adjust(`${7000 + seed * 311} millis`)
          const lastRenewal = (yield* store.get(lease)).record.renewTime!
          yield* a.setBroken(true)
          const start = yield* Clock.currentTimeMillis
          let aLost: number | undefined
          let bLed: number | undefined
          for (let t = 0; t < 20_000 && bLed === undefined; t += 50) {
            yield* TestClock.adjust("50 millis")
            const now = start + t + 50
            const [isA, isB] = [
              yield* SubscriptionRef.get(candidateA.election.isLeader),
              yield* SubscriptionRef.get(candidateB.election.isLeader)
            ]
            assert.isFalse(isA && isB, "two leaders at the same instant")
            if (!isA && aLost === undefined) aLost = now
            if (isB && bLed === undefined) bLed = now
          }
          assert.isDefined(bLed, `seed ${seed}: b never took over`)
          assert.isAtMost(aLost! - lastRenewal, 7050, `seed ${seed}: a steps down 7 s after its last renewal`)
          assert.isAtLeast(bLed! - lastRenewal, 10_000, `seed ${seed}: b waits for the lease to expire`)
          const seen = reads.find((t) => t >= lastRenewal)!
          assert.isAtMost(seen - lastRenewal, 2400, "b reads the Lease at least every 2.4 s")
          // b wakes exactly when its view of the lease expires (within the 50 ms sampling step), not a poll later.
          assert.isAtMost(bLed! - seen, 10_051, `seed ${seed}: b takes over 10 s after it saw the last renewal`)
          takeovers.push(bLed! - lastRenewal)
          yield* candidateA.stop
          yield* candidateB.stop
        }
        // The standby's view of the last renewal is at most one poll (2.4 s) late; it wakes when that view expires.
        assert.isAtMost(Math.max(...takeovers), 12_450, `takeover after the last renewal (ms): ${takeovers.join(", ")}`)
      }).pipe(Random.withSeed(11))
  )

  it.effect(
    "lease timing uses the monotonic clock: a leader whose wall clock steps back an hour still steps down",
    () =>
      Effect.gen(function* () {
        const store = yield* makeMemory
        const a = breakable(store)
        const { skewed, offsets } = yield* skewedClock
        const candidateA = yield* candidate("a", a.view, skewed)
        yield* candidateA.election.decided
        const candidateB = yield* candidate("b", store)
        yield* candidateB.election.decided
        yield* TestClock.adjust("3 seconds")
        // a loses the API server and its wall clock steps back (an NTP correction): by the wall clock its last
        // renewal would look an hour in the future, and it would never step down while b takes over.
        yield* a.setBroken(true)
        offsets.wall = -3_600_000
        let bLed = false
        for (let i = 0; i < 200; i++) {
          yield* TestClock.adjust("100 millis")
          const isA = yield* SubscriptionRef.get(candidateA.election.isLeader)
          const isB = yield* SubscriptionRef.get(candidateB.election.isLeader)
          assert.isFalse(isA && isB, "two leaders at the same instant")
          bLed ||= isB
        }
        assert.isTrue(bLed, "b took over")
        yield* candidateA.stop
        yield* candidateB.stop
      }).pipe(Random.withSeed(3))
  )

  it.effect("ensureLeading fails once the renew deadline passed by the monotonic clock, before the loop notices", () =>
    Effect.gen(function* () {
      const store = yield* makeMemory
      const { skewed, offsets } = yield* skewedClock
      const candidateA = yield* candidate("a", store, skewed)
      yield* candidateA.election.decided
      const candidateB = yield* candidate("b", store)
      yield* candidateB.election.decided
      yield* TestClock.adjust("5 seconds")
      yield* candidateA.election.ensureLeading
      assert.strictEqual((yield* Effect.flip(candidateB.election.ensureLeading))._tag, "NotLeading")
      // a's process was frozen for 20 s: no fiber ran, so a still believes it leads, but its lease is stale.
      offsets.pause = 20_000
      assert.isTrue(yield* SubscriptionRef.get(candidateA.election.isLeader))
      const refused = yield* Effect.flip(candidateA.election.ensureLeading)
      assert.strictEqual(refused._tag, "NotLeading")
      assert.match(refused.message, /may have lost it/)
      yield* candidateA.stop
      yield* candidateB.stop
    }).pipe(Random.withSeed(5))
  )

  it.effect("a failing Lease call logs one warning when failures start and one info line when they end", () => {
    const logs: Array<string> = []
    const recorder = Logger.make(({ logLevel, message }) => {
      const text = Array.isArray(message) ? String(message[0]) : String(message)
      if (/Leader lease/u.test(text)) logs.push(`${logLevel} ${text}`)
    })
    return Effect.gen(function* () {
      const store = yield* makeMemory
      const b = breakable(store)
      const candidateA = yield* candidate("a", store)
      yield* candidateA.election.decided
      const candidateB = yield* candidate("b", b.view)
      yield* candidateB.election.decided
      yield* b.setBroken(true)
      yield* TestClock.adjust("10 seconds")
      yield* b.setBroken(false)
      yield* TestClock.adjust("5 seconds")
      // b polls every 2-2.4 s: 10 s of failures are 4 or 5 failed calls.
      assert.strictEqual(logs[0], "Warn Leader lease acquire/renew failed; retrying")
      assert.strictEqual(logs.at(-1), "Info Leader lease calls succeed again")
      const repeats = logs.slice(1, -1)
      assert.isAtLeast(repeats.length, 3)
      assert.deepStrictEqual(new Set(repeats), new Set(["Debug Leader lease acquire/renew failed; retrying"]))
      yield* candidateA.stop
      yield* candidateB.stop
    }).pipe(
      Effect.provide(Logger.layer([recorder])),
      Effect.provideService(References.MinimumLogLevel, "Trace"),
      Random.withSeed(4)
    )
  })

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
        Effect.provideService(LeaderElection.LeaderElection, {
          identity: "me",
          isLeader,
          decided: Effect.void,
          ensureLeading: Effect.void
        }),
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
        Effect.provideService(LeaderElection.LeaderElection, {
          identity: "me",
          isLeader,
          decided: Effect.void,
          ensureLeading: Effect.void
        }),
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
