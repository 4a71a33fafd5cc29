/**
 * Leader election on a `coordination.k8s.io` Lease, with client-go's algorithm (tools/leaderelection) and timing
 * on the monotonic clock (`Clock.monotonicTimeNanos`), so a wall-clock step (NTP, a VM resume) never stretches or
 * shortens a lease:
 *
 * - Acquire: take the Lease if it is free, released, or its record has not changed for `leaseDuration` *as
 *   observed by our own clock* (the moment our read returned a new resourceVersion), so clock skew between
 *   replicas does not matter. A standby polls every `retryPeriod` (plus up to 20 % jitter) and also wakes exactly
 *   when the lease it observed expires, so a crashed leader is replaced `leaseDuration` after its last renewal plus
 *   at most one poll.
 * - Renew: every `retryPeriod`; the leader stops leading `renewDeadline` after the start of its last successful
 *   renewal (a timer, not the next loop turn). Since `renewDeadline < leaseDuration`, it stops before anyone else
 *   may start.
 * - `ensureLeading` is the fence for role changes: it fails unless this replica leads *and* its last renewal is
 *   less than `renewDeadline` old by the monotonic clock, even if the renew loop has not run yet (a paused
 *   process); the executor checks it right before promotion, demotion and fencing.
 * - On step-down the replica becomes a candidate again (client-go exits the process instead); on scope close
 *   a leader releases the Lease so a standby takes over at once.
 *
 * Leadership is published as `isLeader: SubscriptionRef<boolean>`; `whileLeader` runs work only while it is
 * `true` and interrupts it on `false`.
 */
import {
  Cause,
  Clock,
  Config,
  Context,
  Duration,
  Effect,
  Latch,
  Layer,
  Option,
  Random,
  Schedule,
  Schema,
  type Scope,
  Stream,
  SubscriptionRef
} from "effect"
import { Health } from "./Health.ts"
import {
  LeaseClient,
  type LeaseClientShape,
  type LeaseConflict,
  type LeaseError,
  type LeaseNotFound,
  type LeaseRecord,
  type VersionedLease
} from "./LeaseClient.ts"

export interface LeaderElectionOptions {
  /** Lease namespace and name (`--leader-election-namespace`, `--leader-election-id`). */
  readonly namespace: string
  readonly name: string
  /** Unique per process: see `makeIdentity`. */
  readonly identity: string
  readonly leaseDuration?: Duration.Input
  readonly renewDeadline?: Duration.Input
  readonly retryPeriod?: Duration.Input
  /** Release the Lease when the scope closes (default true). */
  readonly releaseOnCancel?: boolean
}

export class InvalidLeaderElectionOptions extends Schema.TaggedError<InvalidLeaderElectionOptions>()(
  "InvalidLeaderElectionOptions",
  { message: Schema.String }
) {}

/** This replica does not lead (or its lease may have been taken over): it must not change any server's role. */
export class NotLeading extends Schema.TaggedError<NotLeading>()("NotLeading", { message: Schema.String }) {}

export interface LeaderElectionShape {
  readonly identity: string
  readonly isLeader: SubscriptionRef.SubscriptionRef<boolean>
  /** Completes once the first attempt to take the Lease has finished (we know whether we lead or stand by). */
  readonly decided: Effect.Effect<void>
  /** Succeeds only while this replica leads within its renew deadline (monotonic clock); see the module doc. */
  readonly ensureLeading: Effect.Effect<void, NotLeading>
}

/**
 * Lease 10 s, renew deadline 7 s, retry 2 s. client-go, controller-runtime and CloudNativePG default to
 * 15 s / 10 s / 2 s, with which a standby replaces a crashed leader 15–20 s later; the takeover goal here is 15 s.
 * 10 s keeps client-go's structure (renew well before the lease ends, 3 s between the leader's step-down and the
 * earliest takeover, and role changes fenced by `ensureLeading`) and replaces a crashed leader in 8–13 s.
 */
export const defaults = {
  leaseDuration: Duration.seconds(10),
  renewDeadline: Duration.seconds(7),
  retryPeriod: Duration.seconds(2)
} as const

/** client-go's bound: renewDeadline must exceed jitterFactor × retryPeriod. */
const jitterFactor = 1.2
/** A standby's poll jitter (a fraction of retryPeriod): spreads candidates without delaying a takeover much. */
const standbyJitter = 0.2

/** The monotonic clock in milliseconds (arbitrary origin; only differences mean anything). */
const monotonicMillis: Effect.Effect<number> = Effect.map(Clock.monotonicTimeNanos, (nanos) => Number(nanos) / 1e6)

/**
 * `<pod name or hostname>_<random suffix>`, like client-go's `hostname + "_" + uuid`: unique even when a pod
 * restarts under the same name while its old process still holds the Lease.
 */
export const makeIdentity: Effect.Effect<string> = Effect.gen(function* () {
  const host = yield* Config.String("POD_NAME").pipe(
    Config.orElse(() => Config.String("HOSTNAME")),
    Config.withDefault("doltdb-operator"),
    Effect.orElseSucceed(() => "doltdb-operator")
  )
  const suffix = yield* Random.nextIntBetween(0, 0xffffffff)
  return `${host}_${suffix.toString(16).padStart(8, "0")}`
})

/** Validated timings in milliseconds. */
const timingsOf = (options: LeaderElectionOptions) => {
  const leaseDuration = Duration.fromInputUnsafe(options.leaseDuration ?? defaults.leaseDuration)
  const renewDeadline = Duration.fromInputUnsafe(options.renewDeadline ?? defaults.renewDeadline)
  const retryPeriod = Duration.fromInputUnsafe(options.retryPeriod ?? defaults.retryPeriod)
  if (!Duration.isGreaterThan(leaseDuration, renewDeadline))
    return Effect.fail(
      new InvalidLeaderElectionOptions({ message: "leaseDuration must be greater than renewDeadline" })
    )
  if (Duration.toMillis(renewDeadline) <= jitterFactor * Duration.toMillis(retryPeriod))
    return Effect.fail(
      new InvalidLeaderElectionOptions({ message: "renewDeadline must be greater than 1.2 * retryPeriod" })
    )
  if (Duration.toMillis(leaseDuration) < 1000)
    return Effect.fail(new InvalidLeaderElectionOptions({ message: "leaseDuration must be at least 1 second" }))
  return Effect.succeed({
    leaseSeconds: Math.round(Duration.toSeconds(leaseDuration)),
    renewDeadline: Duration.toMillis(renewDeadline),
    retry: Duration.toMillis(retryPeriod)
  })
}

/** Start electing in the current scope; leadership is released and the loop stopped when the scope closes. */
export const elect = Effect.fnUntraced(function* (options: LeaderElectionOptions) {
  const client = yield* LeaseClient
  const timings = yield* timingsOf(options)
  const isLeader = yield* SubscriptionRef.make(false)
  const decided = Latch.makeUnsafe(false)
  const candidate = makeCandidate(client, options, timings.leaseSeconds)
  // Monotonic millis until which this replica may act as the leader (start of the last renewal + renewDeadline).
  let leadingUntil = Number.NEGATIVE_INFINITY

  const acquire = Effect.gen(function* () {
    while (true) {
      const attempt = yield* candidate.tryAcquireOrRenew
      if (attempt._tag === "Held") {
        leadingUntil = attempt.startedAt + timings.renewDeadline
        return
      }
      yield* decided.open
      const poll = timings.retry * (1 + (yield* Random.next) * standbyJitter)
      // Wake when the observed lease expires (1 ms past it), if that comes before the next poll.
      const wait = attempt.expiresIn === undefined ? poll : Math.min(poll, Math.max(attempt.expiresIn, 0) + 1)
      yield* Effect.sleep(Duration.millis(wait))
    }
  })

  // Returns once `leadingUntil` has passed without a successful renewal.
  const renew = Effect.gen(function* () {
    while (true) {
      const remaining = leadingUntil - (yield* monotonicMillis)
      if (remaining <= 0) return
      yield* Effect.sleep(Duration.millis(Math.min(timings.retry, remaining)))
      const left = leadingUntil - (yield* monotonicMillis)
      if (left <= 0) return
      const attempt = yield* Effect.timeoutOption(candidate.tryAcquireOrRenew, left)
      if (Option.isSome(attempt) && attempt.value._tag === "Held")
        leadingUntil = attempt.value.startedAt + timings.renewDeadline
    }
  })

  const loop = Effect.gen(function* () {
    while (true) {
      yield* acquire
      yield* decided.open
      yield* SubscriptionRef.set(isLeader, true)
      yield* Effect.logInfo("Acquired the leader lease")
      yield* renew
      yield* SubscriptionRef.set(isLeader, false)
      yield* Effect.logWarning("Lost the leader lease (no renewal within the renew deadline): stopping the controllers")
    }
  }).pipe(Effect.annotateLogs({ lease: `${options.namespace}/${options.name}`, identity: options.identity }))

  // Read with the clock the election runs on, whoever calls it.
  const clock = yield* Clock.clockWith(Effect.succeed)
  const ensureLeading: Effect.Effect<void, NotLeading> = Effect.gen(function* () {
    const now = yield* Effect.provideService(monotonicMillis, Clock.Clock, clock)
    if (!(yield* SubscriptionRef.get(isLeader)))
      return yield* new NotLeading({ message: `${options.identity} does not hold the leader lease` })
    if (now >= leadingUntil)
      return yield* new NotLeading({
        message: `${options.identity} has not renewed the leader lease for ${timings.renewDeadline} ms and may have lost it`
      })
  })

  yield* Effect.addFinalizer(() =>
    Effect.gen(function* () {
      const leading = yield* SubscriptionRef.get(isLeader)
      yield* SubscriptionRef.set(isLeader, false)
      leadingUntil = Number.NEGATIVE_INFINITY
      if (leading && options.releaseOnCancel !== false) yield* candidate.release
    })
  )
  yield* Effect.forkScoped(loop)
  return { identity: options.identity, isLeader, decided: decided.await, ensureLeading } satisfies LeaderElectionShape
}) as (
  options: LeaderElectionOptions
) => Effect.Effect<LeaderElectionShape, InvalidLeaderElectionOptions, LeaseClient | Scope.Scope>

/** One attempt's outcome: we hold the Lease (since `startedAt`), or another holder's lease expires in `expiresIn`. */
type Attempt =
  | { readonly _tag: "Held"; readonly startedAt: number }
  | { readonly _tag: "Standby"; readonly expiresIn?: number }

/**
 * One candidate's view of the Lease: the last record it saw and when (by its own monotonic clock) that record
 * changed. Failures are logged once when they start (warning) and once when they end, not at every retry.
 */
const makeCandidate = (client: LeaseClientShape, options: LeaderElectionOptions, leaseDurationSeconds: number) => {
  const lease = { namespace: options.namespace, name: options.name }
  const { identity } = options
  let observed: VersionedLease | undefined
  let observedAt = 0
  let failing = false
  let holderSeen: string | undefined

  const desired = (previous: LeaseRecord | undefined, now: number): LeaseRecord => {
    const stillMine = previous?.holderIdentity === identity
    return {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: stillMine ? (previous.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions:
        previous === undefined ? 0 : stillMine ? previous.leaseTransitions : previous.leaseTransitions + 1
    }
  }

  const attempt: Effect.Effect<Attempt, LeaseNotFound | LeaseConflict | LeaseError> = Effect.gen(function* () {
    const startedAt = yield* monotonicMillis
    // Wall time only for the record's informational timestamps (other clients read them); never for decisions.
    const wall = yield* Clock.currentTimeMillis
    const current = yield* client.get(lease).pipe(
      Effect.map(Option.some),
      Effect.catchTag("LeaseNotFound", () => Effect.succeedNone)
    )
    if (Option.isNone(current)) {
      observed = yield* client.create(lease, desired(undefined, wall))
      observedAt = yield* monotonicMillis
      return { _tag: "Held", startedAt }
    }
    const readAt = yield* monotonicMillis
    if (observed?.resourceVersion !== current.value.resourceVersion) {
      // The record changed at some point before our read returned: count its age from then (the later bound).
      observed = current.value
      observedAt = readAt
    }
    const held = current.value.record
    const heldByOther = held.holderIdentity !== "" && held.holderIdentity !== identity
    if (heldByOther) {
      if (holderSeen !== held.holderIdentity) {
        holderSeen = held.holderIdentity
        yield* Effect.logInfo("The leader lease is held by another replica: standing by", {
          holder: held.holderIdentity
        })
      }
      const expiresIn = observedAt + held.leaseDurationSeconds * 1000 - readAt
      if (expiresIn > 0) return { _tag: "Standby", expiresIn }
    }
    observed = yield* client.update(lease, desired(held, wall), current.value.resourceVersion)
    observedAt = yield* monotonicMillis
    holderSeen = identity
    return { _tag: "Held", startedAt }
  })

  const tryAcquireOrRenew: Effect.Effect<Attempt> = attempt.pipe(
    Effect.tap(() =>
      Effect.suspend(() => {
        if (!failing) return Effect.void
        failing = false
        return Effect.logInfo("Leader lease calls succeed again")
      })
    ),
    Effect.catch((error) =>
      Effect.suspend(() => {
        // Losing a race for the Lease is the normal outcome of two candidates at once.
        if (error._tag === "LeaseConflict")
          return Effect.as(Effect.logDebug("Leader lease changed concurrently; will retry"), {
            _tag: "Standby"
          } as const)
        const first = !failing
        failing = true
        const log = first ? Effect.logWarning : Effect.logDebug
        return Effect.as(
          log("Leader lease acquire/renew failed; retrying", { error: error._tag, message: error.message }),
          { _tag: "Standby" } as const
        )
      })
    )
  )

  // Hand the Lease over at once: empty holder, 1 s duration (client-go `release`). Only if we still hold it.
  const release: Effect.Effect<void> = Effect.gen(function* () {
    if (observed === undefined || observed.record.holderIdentity !== identity) return
    const now = yield* Clock.currentTimeMillis
    const record: LeaseRecord = {
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: observed.record.leaseTransitions
    }
    observed = yield* client.update(lease, record, observed.resourceVersion)
    yield* Effect.logInfo("Released the leader lease")
  }).pipe(
    Effect.catch((error) => Effect.logWarning("Could not release the leader lease", { error: error._tag })),
    Effect.timeoutOption(Duration.seconds(5)),
    Effect.asVoid
  )

  return { tryAcquireOrRenew, release }
}

export class LeaderElection extends Context.Service<LeaderElection, LeaderElectionShape>()(
  "@doltdb-op/operator/runtime/LeaderElection"
) {
  /**
   * Elect through `LeaseClient`; registers the `leader-election` readiness gate when `Health` is provided.
   */
  static readonly layer = (
    options: LeaderElectionOptions
  ): Layer.Layer<LeaderElection, InvalidLeaderElectionOptions, LeaseClient> =>
    Layer.effect(
      LeaderElection,
      Effect.gen(function* () {
        const election = yield* elect(options)
        const health = yield* Effect.serviceOption(Health)
        if (Option.isSome(health)) {
          const open = yield* health.value.gate("leader-election")
          yield* Effect.forkScoped(Effect.andThen(election.decided, open))
        }
        return election
      })
    )

  /** Leader election disabled (`--leader-elect=false`): always the leader. */
  static readonly layerAlwaysLeader: Layer.Layer<LeaderElection> = Layer.effect(
    LeaderElection,
    Effect.map(SubscriptionRef.make(true), (isLeader) => ({
      identity: "",
      isLeader,
      decided: Effect.void,
      ensureLeading: Effect.void
    }))
  )
}

/** Restart delays for leader work that failed: 1 s doubling, at most 1 minute. */
const workRestartSchedule = Schedule.min([Schedule.exponential("1 second"), Schedule.spaced("1 minute")])

/**
 * Run `work` (in its own scope) whenever `isLeader` turns true and interrupt it when it turns false
 * (effect4-idioms §1.3). Work that fails while we lead is logged and restarted with a capped backoff, so a
 * failure never leaves a leader that does nothing. Returns only if interrupted; run it forked.
 */
export const whileLeader = <A, E, R>(
  work: Effect.Effect<A, E, R>
): Effect.Effect<void, never, LeaderElection | Exclude<R, Scope.Scope>> =>
  Effect.flatMap(LeaderElection, ({ isLeader }) =>
    SubscriptionRef.changes(isLeader).pipe(
      Stream.changes,
      Stream.switchMap((leading) =>
        leading
          ? Stream.fromEffectDrain(
              Effect.scoped(work).pipe(
                Effect.tapCause((cause) =>
                  Cause.hasInterruptsOnly(cause)
                    ? Effect.void
                    : Effect.logError("Leader work failed; restarting", cause)
                ),
                Effect.retry(workRestartSchedule),
                // The schedule never ends, so this is unreachable; it only tells the types so.
                Effect.catch(() => Effect.void),
                Effect.onInterrupt(() => Effect.logInfo("Not the leader any more: controllers stopped"))
              )
            )
          : Stream.empty
      ),
      Stream.runDrain
    )
  )
