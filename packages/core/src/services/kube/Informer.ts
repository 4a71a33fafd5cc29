/**
 * The resilient list + watch loop behind `Kube.informer`, written once over a layer's raw `list` and `watch` so the
 * live and in-memory layers behave the same.
 *
 * client-node's own informer relists after 410 but stops for good on any other error, and long watches have been
 * seen to go silent (kubernetes-client/javascript#596, #958). This loop never gives up: `Gone` relists at once, any
 * other failure (dropped connection, 5xx, timeout) waits a jittered exponential backoff and resumes from the last
 * resourceVersion it saw, and every watch is bounded by `watchTimeout` so a silent stall ends by itself.
 */
import { Duration, Effect, Queue, Random, Stream } from "effect"
import type { InformerEvent, InformerOptions, ListOptions, ListResult, WatchEvent, WatchOptions } from "../Kube.ts"
import type { KubeError } from "./Errors.ts"
import type { Resource } from "./Resource.ts"

/** A watch bookmark: no object changed, but the collection reached this resourceVersion. */
export interface Bookmark {
  readonly type: "BOOKMARK"
  readonly resourceVersion: string
}

export interface RawListWatch {
  readonly list: <A>(res: Resource<A>, options?: ListOptions) => Effect.Effect<ListResult<A>, KubeError>
  /** A layer's watch; it may also emit bookmarks, which only move the resume point. */
  readonly watch: <A>(res: Resource<A>, options?: WatchOptions) => Stream.Stream<WatchEvent<A> | Bookmark, KubeError>
}

const listOptionsOf = (options: InformerOptions): ListOptions => ({
  ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
  ...(options.fieldSelector === undefined ? {} : { fieldSelector: options.fieldSelector })
})

export const makeInformer =
  (raw: RawListWatch) =>
  <A>(res: Resource<A>, options: InformerOptions = {}): Stream.Stream<InformerEvent<A>> =>
    Stream.callback<InformerEvent<A>>((queue) =>
      Effect.gen(function* () {
        const min = Duration.toMillis(Duration.fromInputUnsafe(options.backoff?.min ?? "200 millis"))
        const max = Duration.toMillis(Duration.fromInputUnsafe(options.backoff?.max ?? "30 seconds"))
        const watchTimeout = options.watchTimeout ?? "5 minutes"
        const listOptions = listOptionsOf(options)
        let resourceVersion: string | undefined
        let failures = 0

        const relist = Effect.gen(function* () {
          const listed = yield* raw.list(res, listOptions)
          resourceVersion = listed.resourceVersion
          Queue.offerUnsafe(queue, { type: "SYNC", items: listed.items, resourceVersion: listed.resourceVersion })
        })

        const watchOnce = Effect.suspend(() =>
          raw
            .watch(res, {
              ...listOptions,
              ...(resourceVersion === undefined ? {} : { resourceVersion }),
              timeout: watchTimeout
            })
            .pipe(
              Stream.runForEach((event) =>
                Effect.sync(() => {
                  resourceVersion = event.resourceVersion
                  failures = 0
                  if (event.type !== "BOOKMARK") Queue.offerUnsafe(queue, event)
                })
              )
            )
        )

        const step = Effect.gen(function* () {
          if (resourceVersion === undefined) {
            yield* relist
            failures = 0
          }
          yield* watchOnce
        }).pipe(
          Effect.catch((error: KubeError) =>
            Effect.gen(function* () {
              if (error._tag === "Gone") {
                yield* Effect.logDebug(`informer ${res.kind}: resourceVersion too old, relisting`)
                resourceVersion = undefined
                return
              }
              failures++
              const ceiling = Math.min(max, min * 2 ** Math.min(failures - 1, 20))
              const delay = ceiling / 2 + (yield* Random.next) * (ceiling / 2)
              yield* Effect.logWarning(
                `informer ${res.kind}: ${error._tag} (${error.message}); retrying in ${Math.round(delay)} ms`
              )
              yield* Effect.sleep(Duration.millis(delay))
            })
          )
        )
        return yield* Effect.forever(step)
      })
    )
