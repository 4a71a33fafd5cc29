/**
 * Event sources: feed work-queue keys from any `Stream` of watch events, through a mapper from an event to
 * the keys it concerns (controller-runtime's `handler.EnqueueRequestForObject`, `EnqueueRequestForOwner`,
 * `EnqueueRequestsFromMapFunc`).
 *
 * The object types are structural and minimal, so the Kube service's decoded objects (or client-node's
 * models) fit without a dependency on either. A key is `namespace/name` (just `name` for cluster objects).
 */
import { Duration, Effect, Schedule, type Stream } from "effect"
import * as StreamM from "effect/Stream"
import type { WorkQueue } from "./WorkQueue.ts"

export interface WatchedOwner {
  readonly apiVersion: string
  readonly kind: string
  readonly name: string
  readonly controller?: boolean | undefined
}

export interface WatchedMeta {
  readonly name?: string | undefined
  readonly namespace?: string | undefined
  readonly labels?: Readonly<Record<string, string>> | undefined
  readonly annotations?: Readonly<Record<string, string>> | undefined
  readonly ownerReferences?: ReadonlyArray<WatchedOwner> | undefined
}

/** The least a watched object has: key mappers read only its metadata (core's `KubeObject` and typed kinds fit). */
export interface Watched {
  readonly metadata?: WatchedMeta | undefined
}

export interface WatchEvent<A> {
  /** `ADDED`, `MODIFIED`, `DELETED`, ... (every type maps to keys the same way: reconciles are level-triggered). */
  readonly type: string
  readonly object: A
}

/** From an event to the keys to reconcile. */
export type KeyMapper<A, R = never> = (event: WatchEvent<A>) => Effect.Effect<ReadonlyArray<string>, never, R>

export const objectKey = (namespace: string | undefined, name: string): string =>
  namespace ? `${namespace}/${name}` : name

export const parseObjectKey = (key: string): { readonly namespace: string | undefined; readonly name: string } => {
  const slash = key.indexOf("/")
  return slash < 0
    ? { namespace: undefined, name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) }
}

const keysOf = (namespace: string | undefined, names: ReadonlyArray<string | undefined>) =>
  Effect.succeed(names.filter((name): name is string => !!name).map((name) => objectKey(namespace, name)))

/** The object itself (a controller's primary kind). */
export const toSelf: KeyMapper<Watched> = ({ object }) => keysOf(object.metadata?.namespace, [object.metadata?.name])

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "")

/**
 * The controlling owner of the given kind (and API group), e.g. a StatefulSet or ConfigMap to its DoltDB.
 * Only the ownerReference with `controller: true` counts, like `EnqueueRequestForOwner(..., OnlyControllerOwner())`.
 */
export const toControllerOwner =
  (owner: { readonly group: string; readonly kind: string }): KeyMapper<Watched> =>
  ({ object }) =>
    keysOf(
      object.metadata?.namespace,
      (object.metadata?.ownerReferences ?? [])
        .filter((ref) => ref.controller === true && ref.kind === owner.kind && groupOf(ref.apiVersion) === owner.group)
        .map((ref) => ref.name)
    )

/** The object named by an annotation in the same namespace, e.g. a Pod to its DoltDB via `k8s.dolthub.com/doltdb`. */
export const toAnnotated =
  (annotation: string): KeyMapper<Watched> =>
  ({ object }) =>
    keysOf(object.metadata?.namespace, [object.metadata?.annotations?.[annotation]])

/** The object named by a label in the same namespace, e.g. a Pod to its DoltDB via `app.kubernetes.io/name`. */
export const toLabelled =
  (label: string): KeyMapper<Watched> =>
  ({ object }) =>
    keysOf(object.metadata?.namespace, [object.metadata?.labels?.[label]])

/**
 * The objects that reference this one, looked up by `referrers`; only objects carrying `label` are considered.
 * E.g. Secrets labelled `k8s.dolthub.com/watch` to the Users whose password refers to them.
 */
export const toReferrers =
  <A extends Watched, R>(options: {
    readonly label?: string | undefined
    readonly referrers: (object: A) => Effect.Effect<ReadonlyArray<string>, never, R>
  }): KeyMapper<A, R> =>
  ({ object }) =>
    options.label !== undefined && object.metadata?.labels?.[options.label] === undefined
      ? Effect.succeed([])
      : options.referrers(object)

interface Versioned {
  readonly metadata?:
    | (WatchedMeta & {
        readonly generation?: number | undefined
        readonly deletionTimestamp?: string | undefined
        readonly finalizers?: ReadonlyArray<string> | undefined
      })
    | undefined
}

/**
 * Drop `MODIFIED` events that change none of `metadata.generation`, labels, annotations, finalizers and
 * `deletionTimestamp`: status-only updates, our own status patches included (controller-runtime's
 * `GenerationChangedPredicate` or'ed with the label/annotation predicates). Opt-in, for a controller's primary
 * kind when it does not react to others' status writes; objects without a generation always pass. Remembers the
 * last state per object, so make one per source.
 */
export const onlySpecChanges = <A extends Versioned, R>(mapper: KeyMapper<A, R>): KeyMapper<A, R> => {
  const seen = new Map<string, string>()
  return (event) => {
    const meta = event.object.metadata
    if (meta?.generation === undefined || meta.name === undefined) return mapper(event)
    const key = objectKey(meta.namespace, meta.name)
    if (event.type === "DELETED") {
      seen.delete(key)
      return mapper(event)
    }
    const fingerprint = JSON.stringify([
      meta.generation,
      meta.labels ?? {},
      meta.annotations ?? {},
      meta.finalizers ?? [],
      meta.deletionTimestamp ?? ""
    ])
    const unchanged = event.type === "MODIFIED" && seen.get(key) === fingerprint
    seen.set(key, fingerprint)
    return unchanged ? Effect.succeed([]) : mapper(event)
  }
}

/** Restart delays after a watch stream fails: 200 ms doubling, at most 30 s. */
export const defaultRestartSchedule: Schedule.Schedule<unknown> = Schedule.min([
  Schedule.exponential("200 millis"),
  Schedule.spaced(Duration.seconds(30))
])

/**
 * Add the keys of every event of `events` to `queue`, forever: the stream is restarted when it ends (a watch
 * timing out) and, after `restartSchedule`, when it fails (an exhausted schedule starts over). Run it forked in the controller's scope.
 */
export const feed = <A, E, R, R2>(options: {
  readonly queue: WorkQueue
  readonly events: Stream.Stream<WatchEvent<A>, E, R>
  readonly toKeys: KeyMapper<A, R2>
  readonly restartSchedule?: Schedule.Schedule<unknown, E> | undefined
}): Effect.Effect<never, never, R | R2> =>
  StreamM.runForEach(options.events, (event) =>
    Effect.flatMap(options.toKeys(event), (keys) => Effect.forEach(keys, options.queue.add, { discard: true }))
  ).pipe(
    Effect.tapCause((cause) => Effect.logWarning("Watch failed; restarting", cause)),
    Effect.retry(options.restartSchedule ?? defaultRestartSchedule),
    // Only a finite `restartSchedule` gets here; the source must keep feeding, so start over.
    Effect.catchCause(() => Effect.void),
    Effect.forever,
    Effect.annotateLogs({ queue: options.queue.name })
  )
