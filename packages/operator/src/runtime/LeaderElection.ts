/**
 * Leader election on a `coordination.k8s.io` Lease, with client-go's algorithm (tools/leaderelection):
 *
 * - Acquire: every `retryPeriod` (jittered), take the Lease if it is free, released, or its record has not
 *   changed for `leaseDuration` *as observed by our own clock* (so clock skew between replicas does not matter).
 * - Renew: every `retryPeriod`; if no renewal succeeded for `renewDeadline`, step down (any error counts as
 *   a failed renewal). Since `renewDeadline < leaseDuration`, we stop leading before anyone else may start.
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
import { LeaseClient, type LeaseClientShape, type LeaseRecord, type VersionedLease } from "./LeaseClient.ts"

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

export interface LeaderElectionShape {
  readonly identity: string
  readonly isLeader: SubscriptionRef.SubscriptionRef<boolean>
  /** Completes once the first attempt to take the Lease has finished (we know whether we lead or stand by). */
  readonly decided: Effect.Effect<void>
}

/** client-go's defaults (and controller-runtime's): 15 s / 10 s / 2 s. */
export const defaults = {
  leaseDuration: Duration.seconds(15),
  renewDeadline: Duration.seconds(10),
  retryPeriod: Duration.seconds(2)
} as const

const jitterFactor = 1.2

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

/** Start electing in the current scope; leadership is released and the loop stopped when the scope closes. */
export const elect = Effect.fnUntraced(function* (options: LeaderElectionOptions) {
  const client = yield* LeaseClient
  const leaseDuration = Duration.fromInputUnsafe(options.leaseDuration ?? defaults.leaseDuration)
  const renewDeadline = Duration.fromInputUnsafe(options.renewDeadline ?? defaults.renewDeadline)
  const retryPeriod = Duration.fromInputUnsafe(options.retryPeriod ?? defaults.retryPeriod)
  if (!Duration.isGreaterThan(leaseDuration, renewDeadline)) {
    return yield* new InvalidLeaderElectionOptions({ message: "leaseDuration must be greater than renewDeadline" })
  }
  if (Duration.toMillis(renewDeadline) <= jitterFactor * Duration.toMillis(retryPeriod)) {
    return yield* new InvalidLeaderElectionOptions({ message: "renewDeadline must be greater than 1.2 * retryPeriod" })
  }
  const isLeader = yield* SubscriptionRef.make(false)
  const decided = Latch.makeUnsafe(false)
  const candidate = makeCandidate(client, options, Math.round(Duration.toSeconds(leaseDuration)))
  const renewDeadlineMillis = Duration.toMillis(renewDeadline)

  const acquire = Effect.gen(function* () {
    while (!(yield* candidate.tryAcquireOrRenew)) {
      yield* decided.open
      const jitter = yield* Random.next
      yield* Effect.sleep(Duration.times(retryPeriod, 1 + jitter * jitterFactor))
    }
  })

  // Returns when a renewal has not succeeded for `renewDeadline`.
  const renew = Effect.gen(function* () {
    let lastRenewed = yield* Clock.currentTimeMillis
    while (true) {
      yield* Effect.sleep(retryPeriod)
      const attemptAt = yield* Clock.currentTimeMillis
      const remaining = lastRenewed + renewDeadlineMillis - attemptAt
      const renewed =
        remaining > 0
          ? Option.getOrElse(yield* Effect.timeoutOption(candidate.tryAcquireOrRenew, remaining), () => false)
          : false
      if (renewed) lastRenewed = attemptAt
      else if ((yield* Clock.currentTimeMillis) - lastRenewed >= renewDeadlineMillis) return
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
      yield* Effect.logWarning("Lost the leader lease: stopping the controllers")
    }
  }).pipe(Effect.annotateLogs({ lease: `${options.namespace}/${options.name}`, identity: options.identity }))

  yield* Effect.addFinalizer(() =>
    Effect.gen(function* () {
      const leading = yield* SubscriptionRef.get(isLeader)
      yield* SubscriptionRef.set(isLeader, false)
      if (leading && options.releaseOnCancel !== false) yield* candidate.release
    })
  )
  yield* Effect.forkScoped(loop)
  return { identity: options.identity, isLeader, decided: decided.await } satisfies LeaderElectionShape
}) as (
  options: LeaderElectionOptions
) => Effect.Effect<LeaderElectionShape, InvalidLeaderElectionOptions, LeaseClient | Scope.Scope>

/** One candidate's view of the Lease: the last record it saw and when (by its own clock) that record changed. */
const makeCandidate = (client: LeaseClientShape, options: LeaderElectionOptions, leaseDurationSeconds: number) => {
  const lease = { namespace: options.namespace, name: options.name }
  const { identity } = options
  let observed: VersionedLease | undefined
  let observedAt = 0

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

  const tryAcquireOrRenew: Effect.Effect<boolean> = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const current = yield* client.get(lease).pipe(
      Effect.map(Option.some),
      Effect.catchTag("LeaseNotFound", () => Effect.succeedNone)
    )
    if (Option.isNone(current)) {
      observed = yield* client.create(lease, desired(undefined, now))
      observedAt = now
      return true
    }
    if (observed?.resourceVersion !== current.value.resourceVersion) {
      observed = current.value
      observedAt = now
    }
    const held = current.value.record
    const heldByOther = held.holderIdentity !== "" && held.holderIdentity !== identity
    if (heldByOther && observedAt + held.leaseDurationSeconds * 1000 > now) return false
    observed = yield* client.update(lease, desired(held, now), current.value.resourceVersion)
    observedAt = now
    return true
  }).pipe(
    Effect.catch((error) =>
      Effect.as(Effect.logDebug("Lease acquire/renew failed", { error: error._tag, message: error.message }), false)
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
    Effect.map(SubscriptionRef.make(true), (isLeader) => ({ identity: "", isLeader, decided: Effect.void }))
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
