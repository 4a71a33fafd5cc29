/**
 * One watch connection as a Stream. Hand-written over `fetch` instead of client-node's `Watch`, which drops the
 * `Status` body of a failed watch (we need its reason to tell 410 Gone from other failures), swallows lines it
 * cannot parse, and aborts any watch that is quiet for 30 s. Here the server ends the watch (`timeoutSeconds`),
 * a client-side deadline a little later catches a stalled connection, and every failure is a tagged error.
 */
import {
  type ErrorContext,
  type KubeError,
  type KubeObject,
  kubeError,
  tagForStatus,
  type WatchEvent
} from "@doltdb-op/core/services/Kube"
import type { Bookmark } from "@doltdb-op/core/services/kube/Informer"
import { Cause, Duration, Effect, Queue, Stream } from "effect"
import { fetch } from "undici"
import { type Connection, errorForFailure, errorForResponse, urlOf } from "./ApiRequest.ts"

export interface WatchRequest {
  readonly path: string
  readonly query: Readonly<Record<string, string | undefined>>
  /** The watch's own length (sent as `timeoutSeconds`). */
  readonly timeout: Duration.Duration
  /** Waiting for the response headers. */
  readonly connectTimeout: Duration.Duration
}

type Event = WatchEvent<KubeObject> | Bookmark

export const watchStream = (
  conn: Connection,
  ctx: ErrorContext,
  request: WatchRequest
): Stream.Stream<Event, KubeError> =>
  Stream.callback<Event, KubeError>((queue) =>
    Effect.gen(function* () {
      const controller = new AbortController()
      yield* Effect.addFinalizer(() => Effect.sync(() => controller.abort()))
      const seconds = Math.max(1, Math.round(Duration.toSeconds(request.timeout)))
      const url = urlOf(conn.kc, request.path, {
        ...request.query,
        watch: "true",
        allowWatchBookmarks: "true",
        timeoutSeconds: String(seconds)
      })
      // a connection that outlives the server's own deadline has stalled: end it like a normal close
      const deadline = AbortSignal.timeout(seconds * 1000 + 15_000)
      const response = yield* Effect.tryPromise({
        try: async () => {
          const { headers, dispatcher } = await conn.authenticate(url, "GET")
          return fetch(url, {
            method: "GET",
            headers: { ...headers, Accept: "application/json" },
            ...(dispatcher === undefined ? {} : { dispatcher }),
            signal: AbortSignal.any([controller.signal, deadline])
          })
        },
        catch: (cause) => errorForFailure(ctx, cause)
      }).pipe(
        Effect.timeoutOrElse({
          duration: request.connectTimeout,
          orElse: () => Effect.fail(kubeError("Timeout", ctx, "watch: no response headers in time"))
        })
      )
      if (response.status !== 200) {
        const text = yield* Effect.promise(() => response.text().catch(() => ""))
        return yield* Effect.fail(errorForResponse(ctx, response.status, text))
      }
      const body = response.body
      if (body === null) return yield* Effect.fail(kubeError("Unavailable", ctx, "watch: response without a body"))

      const onLine = (line: string): boolean => {
        if (line.trim() === "") return true
        let parsed: { type?: string; object?: Record<string, unknown> }
        try {
          parsed = JSON.parse(line) as typeof parsed
        } catch (cause) {
          Queue.failCauseUnsafe(
            queue,
            Cause.fail(kubeError("Unavailable", ctx, `watch: unparsable line: ${line.slice(0, 200)}`, cause))
          )
          return false
        }
        const object = parsed.object ?? {}
        const rv = ((object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? "") as string
        switch (parsed.type) {
          case "ADDED":
          case "MODIFIED":
          case "DELETED":
            Queue.offerUnsafe(queue, {
              type: parsed.type,
              object: object as unknown as KubeObject,
              resourceVersion: rv
            })
            return true
          case "BOOKMARK":
            Queue.offerUnsafe(queue, { type: "BOOKMARK", resourceVersion: rv })
            return true
          case "ERROR": {
            const status = object as { code?: number; reason?: string; message?: string }
            const code = status.code ?? 500
            Queue.failCauseUnsafe(
              queue,
              Cause.fail(
                kubeError(tagForStatus(code, status.reason), ctx, status.message ?? `watch error ${code}`, status)
              )
            )
            return false
          }
          default:
            return true
        }
      }

      yield* Effect.tryPromise({
        try: async () => {
          const decoder = new TextDecoder()
          let buffer = ""
          for await (const chunk of body) {
            buffer += decoder.decode(chunk as Uint8Array, { stream: true })
            let newline = buffer.indexOf("\n")
            while (newline >= 0) {
              const line = buffer.slice(0, newline)
              buffer = buffer.slice(newline + 1)
              if (!onLine(line)) return
              newline = buffer.indexOf("\n")
            }
          }
          if (buffer.length > 0) onLine(buffer)
          Queue.endUnsafe(queue)
        },
        catch: (cause) => cause
      }).pipe(
        Effect.catch((cause) =>
          Effect.sync(() => {
            if (deadline.aborted) Queue.endUnsafe(queue)
            else Queue.failCauseUnsafe(queue, Cause.fail(errorForFailure(ctx, cause)))
          })
        )
      )
    })
  )
