/**
 * The manager (controller-runtime's `Manager`, reduced to what we need): a set of controller definitions that
 * run only while this replica leads. On leadership each controller gets a fresh work queue, its sources start
 * feeding it (an informer's first `SYNC` enqueues every existing object: level-triggered, nothing carried over
 * from an earlier term), and its workers start; on loss of leadership all of it is interrupted and discarded.
 *
 * Each running controller holds a readiness gate `<name>-controller` that opens when all its sources have
 * synced (see `Health`).
 */
import { type InformerEvent, Kube, type Resource } from "@doltdb-op/core/services/Kube"
import { Effect, Layer, Option, type Scope, Stream, SubscriptionRef } from "effect"
import * as Controller from "./Controller.ts"
import type * as EventSource from "./EventSource.ts"
import { Health } from "./Health.ts"
import * as InformerCache from "./InformerCache.ts"
import { LeaderElection, whileLeader } from "./LeaderElection.ts"
import type * as RateLimiter from "./RateLimiter.ts"
import * as WorkQueue from "./WorkQueue.ts"

/** Something that feeds keys into a controller's queue; `synced` must be run once its initial listing is in. */
export interface Source<R = never> {
  readonly feed: (queue: WorkQueue.WorkQueue, synced: Effect.Effect<void>) => Effect.Effect<never, never, R>
}

export interface ControllerDefinition<R = never> {
  readonly name: string
  readonly workers: number
  readonly reconcile: (key: string) => Effect.Effect<Controller.ReconcileResult, unknown, R>
  readonly sources: ReadonlyArray<Source<R>>
  readonly rateLimiter?: Effect.Effect<RateLimiter.RateLimiter>
}

/**
 * Keys from an informer stream (`Kube.informer`): every `SYNC` enqueues all listed objects (and the first one
 * marks the source synced), every watch event is mapped by `toKeys`.
 */
export const fromInformer = <A, R>(
  events: Stream.Stream<InformerEvent<A>, never, R>,
  toKeys: EventSource.KeyMapper<A, R>
): Source<R> => ({
  feed: (queue, synced) => {
    let first = true
    return events.pipe(
      Stream.runForEach((event) => {
        const watchEvents = event.type === "SYNC" ? event.items.map((object) => ({ type: "ADDED", object })) : [event]
        const enqueue = Effect.forEach(
          watchEvents,
          (watchEvent) =>
            Effect.flatMap(toKeys(watchEvent), (keys) => Effect.forEach(keys, queue.add, { discard: true })),
          { discard: true }
        )
        if (event.type !== "SYNC" || !first) return enqueue
        first = false
        return Effect.andThen(enqueue, synced)
      }),
      // An informer stream never fails and only ends when interrupted; if it ever ends, idle until interrupted.
      Effect.andThen(Effect.never)
    )
  }
})

/**
 * Watch `resource` through the `Kube` informer in each of `namespaces` (all namespaces when empty, as
 * `--watch-namespaces` says), mapping events to keys with `toKeys`.
 */
export const watch = <A, R = never>(
  resource: Resource<A>,
  options: {
    readonly namespaces: ReadonlyArray<string>
    readonly toKeys: EventSource.KeyMapper<A, R>
    readonly labelSelector?: string
    /** The controller's own kind: reconciles `get` it from the informer cache (see InformerCache). */
    readonly cacheGets?: boolean
  }
): Source<R | Kube> => ({
  feed: (queue, synced) =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const cache = yield* Effect.serviceOption(InformerCache.InformerCache)
      const scopes: ReadonlyArray<string | undefined> =
        options.namespaces.length === 0 ? [undefined] : options.namespaces
      let pending = scopes.length
      const oneSynced = Effect.suspend(() => (--pending === 0 ? synced : Effect.void))
      return yield* Effect.forEach(
        scopes,
        (namespace) => {
          const events = kube.informer(resource, {
            ...(namespace === undefined ? {} : { namespace }),
            ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector })
          })
          // The cache sees each event before its keys are queued (see InformerCache).
          const cached = Option.match(cache, {
            onNone: () => events,
            onSome: (c) => {
              const onEvent = c.register(resource, {
                namespace,
                labelSelector: options.labelSelector,
                gets: options.cacheGets
              })
              return Stream.tap(events, (event) => Effect.sync(() => onEvent(event)))
            }
          })
          return fromInformer(cached, options.toKeys).feed(queue, oneSynced)
        },
        { concurrency: "unbounded", discard: true }
      ).pipe(Effect.andThen(Effect.never))
    })
})

const gateOf = <R>(definition: ControllerDefinition<R>) =>
  Effect.flatMap(Health, (health) => health.gate(`${definition.name}-controller`))

/** Run one controller with its sources in the current scope until interrupted (or its queue shuts down). */
export const runController = <R>(
  definition: ControllerDefinition<R>,
  /** The opener of a readiness gate registered by the caller; absent: register `<name>-controller` here. */
  readyGate?: Effect.Effect<void>
): Effect.Effect<void, never, R | Health | Scope.Scope> =>
  Effect.gen(function* () {
    const openGate = readyGate ?? (yield* gateOf(definition))
    const queue = yield* WorkQueue.make({
      name: definition.name,
      ...(definition.rateLimiter === undefined ? {} : { rateLimiter: yield* definition.rateLimiter })
    })
    let pending = definition.sources.length
    const sourceSynced = Effect.suspend(() => (--pending === 0 ? openGate : Effect.void))
    if (pending === 0) yield* openGate
    for (const source of definition.sources) yield* Effect.forkScoped(source.feed(queue, sourceSynced))
    // With an informer cache in scope, reconciles list watched kinds from it (see InformerCache).
    const cache = yield* Effect.serviceOption(InformerCache.InformerCache)
    const reconcile = Option.match(cache, {
      onNone: () => definition.reconcile,
      onSome: (c) => (key: string) =>
        Effect.flatMap(Effect.serviceOption(Kube), (kube) =>
          Option.isNone(kube)
            ? definition.reconcile(key)
            : Effect.provideService(definition.reconcile(key), Kube, c.client(kube.value))
        )
    })
    const controller = yield* Controller.make({
      name: definition.name,
      queue,
      workers: definition.workers,
      reconcile
    })
    yield* controller.run
  }).pipe(Effect.annotateLogs({ controller: definition.name }))

/**
 * Run `definitions` whenever this replica leads (all of them, concurrently), stop them when it does not.
 * Add it to the program's layers; it needs `LeaderElection` (or `LeaderElection.layerAlwaysLeader`) and `Health`.
 *
 * Readiness: a `controllers-started` gate stays closed until this replica has acted on its first known
 * leadership state (as a standby: nothing to start; as the leader: every controller's gate is registered), so
 * `/readyz` never reports ready in the moment between startup and the controllers' own gates.
 */
export const layer = <R>(
  definitions: ReadonlyArray<ControllerDefinition<R>>
): Layer.Layer<never, never, Exclude<R, Scope.Scope> | LeaderElection | Health> =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const health = yield* Health
      const election = yield* LeaderElection
      const openStarted = yield* health.gate("controllers-started")
      yield* Effect.forkScoped(
        Effect.gen(function* () {
          yield* election.decided
          if (!(yield* SubscriptionRef.get(election.isLeader))) yield* openStarted
        })
      )
      yield* Effect.forkScoped(
        whileLeader(
          Effect.gen(function* () {
            yield* Effect.logInfo("Leading: starting controllers", { controllers: definitions.map((d) => d.name) })
            const gates = yield* Effect.forEach(definitions, gateOf)
            yield* openStarted
            // One informer cache per leadership term, shared by every controller's sources and reconciles.
            yield* Effect.forEach(definitions, (definition, i) => runController(definition, gates[i]), {
              concurrency: "unbounded",
              discard: true
            }).pipe(Effect.provideService(InformerCache.InformerCache, InformerCache.make()))
          })
        )
      )
    })
  )
