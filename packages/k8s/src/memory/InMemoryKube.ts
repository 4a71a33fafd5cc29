/**
 * `InMemoryKube`: the `Kube` service over `ApiServerState`, plus the controls tests and the simulation drive
 * (fault injection, watch drops, compaction, the controllers' fault-free client).
 *
 * Time comes only from `Clock` (creationTimestamp, deletionTimestamp, latency, watch timeouts) and randomness only
 * from Effect's `Random` seeded by the layer's `seed`, so a run under `TestClock` is reproducible.
 */
import {
  type ApplyConfig,
  type DeleteOptions,
  type EventInput,
  Events,
  Kube,
  type KubeError,
  type KubeObject,
  type KubeShape,
  kubeError,
  type ListOptions,
  type Resource,
  type WatchEvent,
  type WatchOptions
} from "@doltdb-op/core/services/Kube"
import { makeInformer } from "@doltdb-op/core/services/kube/Informer"
import { Cause, Clock, Context, type Duration, Effect, Layer, Option, Queue, Random, Result, Stream } from "effect"
import { decodeItems, decodeOrSkip, decoderFor, encoderFor } from "../Codec.ts"
import { eventObject } from "../EventObject.ts"
import { ApiServerState, type StoreEvent, typeKeyOf } from "./ApiServerState.ts"
import type { Json } from "./FieldSet.ts"

export type Verb =
  | "get"
  | "list"
  | "watch"
  | "create"
  | "replace"
  | "apply"
  | "patch"
  | "patchStatus"
  | "delete"
  | "event"

export interface Faults {
  /** Probability (0..1) that a call of this verb fails with `Unavailable` before reaching the server. */
  readonly errorRate?: Partial<Record<Verb, number>>
  /** Added to every call (through Clock: advance a TestClock to let calls finish). */
  readonly latency?: Duration.Input
  /** Probability that an open watch drops (fails with `Unavailable`) after delivering an event. */
  readonly watchDropRate?: number
  /** Probability that a watch resuming from a resourceVersion fails with `Gone`. */
  readonly goneOnResumeRate?: number
}

export interface InMemoryKubeShape {
  /** The server state (read it in assertions; `writes` counts committed writes by verb). */
  readonly state: ApiServerState
  readonly setFaults: (faults: Faults) => Effect.Effect<void>
  /** End every open watch with `Unavailable` (a dropped connection). */
  readonly dropWatches: Effect.Effect<void>
  /** Forget the event log: resuming from any older resourceVersion fails with `Gone`. */
  readonly compact: Effect.Effect<void>
  /** The same server without faults: for simulated controllers and test setup. */
  readonly system: KubeShape
}

export class InMemoryKube extends Context.Service<InMemoryKube, InMemoryKubeShape>()("@doltdb-op/k8s/InMemoryKube") {
  /** A fresh in-memory API server providing both `Kube` (with faults) and its controls. */
  static readonly layer = (options: { readonly seed?: number | string; readonly eventWindow?: number } = {}) =>
    Layer.effectContext(
      Effect.gen(function* () {
        const rng = yield* Random.Random
        const server = makeInMemory(new ApiServerState({ eventWindow: options.eventWindow ?? 10_000 }), rng)
        return Context.make(InMemoryKube, server).pipe(Context.add(Kube, server.kube))
      }).pipe(Random.withSeed(options.seed ?? 0))
    )
}

type Rng = Random.Random

const fromResult = Effect.fromResult

export const makeInMemory = (state: ApiServerState, rng: Rng): InMemoryKubeShape & { readonly kube: KubeShape } => {
  let faults: Faults = {}
  const openWatches = new Set<(error: KubeError) => void>()

  // The methods are generic over the resource type, which Effect.fn cannot keep, and this is the simulation's hot
  // path, so they are plain Effect.gen without spans.
  const build = (withFaults: boolean): KubeShape => {
    const enter = (verb: Verb, kind: string): Effect.Effect<number, KubeError> =>
      Effect.gen(function* () {
        if (withFaults) {
          if (faults.latency !== undefined) yield* Effect.sleep(faults.latency)
          const rate = faults.errorRate?.[verb] ?? 0
          if (rate > 0 && rng.nextDoubleUnsafe() < rate) {
            return yield* Effect.fail(kubeError("Unavailable", { verb, kind }, `injected fault: ${verb} failed`))
          }
        }
        return yield* Clock.currentTimeMillis
      })

    const list = <A>(res: Resource<A>, options: ListOptions = {}) =>
      Effect.gen(function* () {
        yield* enter("list", res.kind)
        const listed = yield* fromResult(
          state.list(res, options.namespace, options.labelSelector, options.fieldSelector)
        )
        const items = yield* decodeItems(res, "list")(listed.items)
        return { items, resourceVersion: listed.resourceVersion }
      })

    const rawWatch = (
      res: Resource<unknown>,
      options: WatchOptions
    ): Stream.Stream<WatchEvent<KubeObject>, KubeError> =>
      Stream.callback<WatchEvent<KubeObject>, KubeError>((queue) =>
        Effect.gen(function* () {
          yield* enter("watch", res.kind)
          const filter = yield* fromResult(
            state.filter(res, options.namespace, options.labelSelector, options.fieldSelector, "watch")
          )
          const typeKey = typeKeyOf(res)
          const fail = (error: KubeError): void => {
            Queue.failCauseUnsafe(queue, Cause.fail(error))
          }
          const deliver = (event: StoreEvent) => {
            if (event.typeKey !== typeKey) return
            const now = filter(event.object)
            const before = event.previous !== undefined && filter(event.previous)
            let type = event.type
            if (type === "MODIFIED" && now && !before) type = "ADDED"
            else if (type === "MODIFIED" && !now && before) type = "DELETED"
            else if (!now) return
            Queue.offerUnsafe(queue, { type, object: event.object, resourceVersion: String(event.resourceVersion) })
            if (withFaults && (faults.watchDropRate ?? 0) > 0 && rng.nextDoubleUnsafe() < faults.watchDropRate!) {
              dropOne(kubeError("Unavailable", { verb: "watch", kind: res.kind }, "injected fault: watch dropped"))
            }
          }
          let dropOne = fail
          let from: number | undefined
          if (options.resourceVersion !== undefined && options.resourceVersion !== "0") {
            from = Number(options.resourceVersion)
            if (!Number.isInteger(from)) {
              return yield* Effect.fail(
                kubeError(
                  "Invalid",
                  { verb: "watch", kind: res.kind },
                  `resourceVersion: Invalid value "${options.resourceVersion}"`
                )
              )
            }
            if (withFaults && (faults.goneOnResumeRate ?? 0) > 0 && rng.nextDoubleUnsafe() < faults.goneOnResumeRate!) {
              return yield* Effect.fail(
                kubeError("Gone", { verb: "watch", kind: res.kind }, "injected fault: too old resource version")
              )
            }
          }
          let closed = false
          const close = (error: KubeError) => {
            if (closed) return
            closed = true
            fail(error)
          }
          dropOne = close
          // the snapshot (or backlog) and the subscription happen in one synchronous step: no commit in between
          const started = yield* Effect.acquireRelease(
            Effect.sync((): Result.Result<void, KubeError> => {
              if (from === undefined) {
                const listed = state.list(res, options.namespace, options.labelSelector, options.fieldSelector)
                if (Result.isSuccess(listed)) {
                  for (const o of listed.success.items) {
                    Queue.offerUnsafe(queue, {
                      type: "ADDED",
                      object: o,
                      resourceVersion: o.metadata.resourceVersion ?? ""
                    })
                  }
                }
              } else {
                const backlog = state.eventsSince(res, from)
                if (Result.isFailure(backlog)) return Result.fail(backlog.failure)
                for (const e of backlog.success) deliver(e)
              }
              state.listeners.add(deliver)
              openWatches.add(close)
              return Result.void
            }),
            () =>
              Effect.sync(() => {
                state.listeners.delete(deliver)
                openWatches.delete(close)
              })
          )
          yield* fromResult(started)
          if (options.timeout !== undefined) {
            yield* Effect.sleep(options.timeout)
            closed = true
            Queue.endUnsafe(queue)
          } else {
            yield* Effect.never
          }
        })
      )

    const watch = <A>(res: Resource<A>, options: WatchOptions = {}): Stream.Stream<WatchEvent<A>, KubeError> => {
      const raw = rawWatch(res as Resource<unknown>, options)
      if (res.schema === undefined) return raw as unknown as Stream.Stream<WatchEvent<A>, KubeError>
      const decode = decodeOrSkip(res, "watch")
      return raw.pipe(
        Stream.mapEffect((e) =>
          Effect.map(
            decode(e.object),
            Option.map((object) => ({ ...e, object }))
          )
        ),
        Stream.filter(Option.isSome),
        Stream.map((o) => o.value)
      )
    }

    const get = <A>(res: Resource<A>, name: string, options: { readonly namespace?: string } = {}) =>
      Effect.gen(function* () {
        yield* enter("get", res.kind)
        return yield* decoderFor(res, "get")(yield* fromResult(state.get(res, options.namespace, name)))
      })

    const create = <A>(
      res: Resource<A>,
      object: A,
      options: { readonly fieldManager?: string; readonly namespace?: string } = {}
    ) =>
      Effect.gen(function* () {
        const now = yield* enter("create", res.kind)
        const json = withNamespace(yield* encoderFor(res, "create")(object), options.namespace)
        const created = yield* fromResult(state.create(res, json, options.fieldManager ?? defaultManager, now))
        return yield* decoderFor(res, "create")(created)
      })

    const replace = <A>(
      res: Resource<A>,
      object: A,
      options: { readonly fieldManager?: string; readonly namespace?: string } = {}
    ) =>
      Effect.gen(function* () {
        const now = yield* enter("replace", res.kind)
        const json = withNamespace(yield* encoderFor(res, "replace")(object), options.namespace)
        const replaced = yield* fromResult(state.replace(res, json, options.fieldManager ?? defaultManager, now))
        return yield* decoderFor(res, "replace")(replaced)
      })

    const apply = <A>(
      res: Resource<A>,
      config: ApplyConfig,
      options: { readonly fieldManager: string; readonly force?: boolean }
    ) =>
      Effect.gen(function* () {
        const now = yield* enter("apply", res.kind)
        const applied = yield* fromResult(state.apply(res, config as unknown as KubeObject, options, now))
        return yield* decoderFor(res, "apply")(applied)
      })

    const patch =
      (scope: "main" | "status") =>
      <A>(
        res: Resource<A>,
        name: string,
        body: unknown,
        options: { readonly fieldManager?: string; readonly namespace?: string; readonly resourceVersion?: string } = {}
      ) =>
        Effect.gen(function* () {
          const verb = scope === "main" ? "patch" : "patchStatus"
          const now = yield* enter(verb, res.kind)
          const patched = yield* fromResult(
            state.mergePatch(
              res,
              options.namespace,
              name,
              (scope === "main" ? body : { status: body }) as Json,
              { manager: options.fieldManager ?? defaultManager, resourceVersion: options.resourceVersion, scope },
              now
            )
          )
          return yield* decoderFor(res, verb)(patched)
        })

    const del = <A>(res: Resource<A>, name: string, options: DeleteOptions = {}) =>
      Effect.gen(function* () {
        const now = yield* enter("delete", res.kind)
        yield* fromResult(state.delete(res, options.namespace, name, options, now))
      })

    const emitEvent = (event: EventInput) =>
      Effect.gen(function* () {
        const now = yield* enter("event", "Event")
        const namespace = event.regarding.namespace ?? "default"
        yield* fromResult(
          state.create(
            Events,
            eventObject(event, namespace, now, rng.nextDoubleUnsafe()),
            event.reportingController,
            now
          )
        )
      })

    const shape: KubeShape = {
      get: (res, name, options) => get(res, name, options),
      list: (res, options) => list(res, options),
      watch,
      informer: (res, options) => informer(res, options),
      create: (res, object, options) => create(res, object, options),
      replace: (res, object, options) => replace(res, object, options),
      apply: (res, config, options) => apply(res, config, options),
      mergePatch: (res, name, body, options) => patch("main")(res, name, body, options),
      patchStatus: (res, name, status, options) => patch("status")(res, name, status, options),
      delete: (res, name, options) => del(res, name, options),
      emitEvent
    }
    const informer = makeInformer({ list: shape.list, watch: shape.watch })
    return shape
  }

  return {
    state,
    kube: build(true),
    system: build(false),
    setFaults: (next) =>
      Effect.sync(() => {
        faults = next
      }),
    dropWatches: Effect.sync(() => {
      for (const close of [...openWatches])
        close(kubeError("Unavailable", { verb: "watch", kind: "*" }, "watch connection dropped"))
    }),
    compact: Effect.sync(() => state.compact())
  }
}

const defaultManager = "doltdb-operator"

const withNamespace = (o: KubeObject, namespace: string | undefined): KubeObject =>
  namespace === undefined || o.metadata.namespace !== undefined ? o : { ...o, metadata: { ...o.metadata, namespace } }
