/**
 * One HTTP request to the API server, with client-node doing what it is good at (kubeconfig, in-cluster
 * credentials, TLS, auth plugins via `applySecurityAuthentication`) and us doing the rest: plain JSON bodies (the
 * generated typed serializer would rename CRD fields such as `enum`/`default` and turn times into `Date`s), the exact
 * content types for apply and merge patches, a timeout on every call, and the mapping of failures to tagged errors.
 */
import { type ErrorContext, type KubeError, kubeError, tagForStatus } from "@doltdb-op/core/services/Kube"
import { HttpMethod, type KubeConfig, RequestContext } from "@kubernetes/client-node"
import { Duration, Effect } from "effect"
import { fetch } from "undici"

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

export interface ApiRequest {
  readonly method: Method
  readonly path: string
  readonly query?: Readonly<Record<string, string | undefined>>
  readonly body?: unknown
  readonly contentType?: string
}

const methods: Record<Method, HttpMethod> = {
  GET: HttpMethod.GET,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE
}

export const urlOf = (kc: KubeConfig, path: string, query: Readonly<Record<string, string | undefined>> = {}): URL => {
  const server = kc.getCurrentCluster()?.server
  if (server === undefined) throw new Error("kubeconfig has no current cluster")
  const url = new URL(server.replace(/\/$/, "") + path)
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v)
  return url
}

/** An authenticated request context (headers + TLS dispatcher) for `url`. */
export const authenticate = async (kc: KubeConfig, url: URL, method: Method): Promise<RequestContext> => {
  const ctx = new RequestContext(url.toString(), methods[method])
  await kc.applySecurityAuthentication(ctx)
  return ctx
}

interface RawResponse {
  readonly status: number
  readonly text: string
}

/** The error for a non-2xx response, from its `Status` body when it has one. */
export const errorForResponse = (ctx: ErrorContext, status: number, text: string): KubeError => {
  let reason: string | undefined
  let message = text.trim() === "" ? `HTTP ${status}` : text.trim()
  try {
    const body = JSON.parse(text) as { kind?: string; reason?: string; message?: string }
    if (body.kind === "Status") {
      reason = body.reason
      if (body.message !== undefined) message = body.message
    }
  } catch {
    // not JSON (a proxy's HTML page, an empty body): keep the raw text
  }
  return kubeError(tagForStatus(status, reason), ctx, message, { status, reason })
}

/** The error for a request that got no response. */
export const errorForFailure = (ctx: ErrorContext, cause: unknown): KubeError => {
  const name = cause instanceof Error ? cause.name : ""
  const text =
    cause instanceof Error
      ? `${cause.message}${cause.cause instanceof Error ? `: ${cause.cause.message}` : ""}`
      : String(cause)
  if (name === "TimeoutError") return kubeError("Timeout", ctx, `request timed out: ${text}`, cause)
  return kubeError("Unavailable", ctx, `API server unreachable: ${text}`, cause)
}

export const send = (
  kc: KubeConfig,
  timeout: Duration.Duration,
  ctx: ErrorContext,
  request: ApiRequest
): Effect.Effect<unknown, KubeError> =>
  Effect.tryPromise({
    try: async (signal): Promise<RawResponse> => {
      const url = urlOf(kc, request.path, request.query)
      const auth = await authenticate(kc, url, request.method)
      const headers: Record<string, string> = { ...auth.getHeaders(), Accept: "application/json" }
      if (request.body !== undefined) headers["Content-Type"] = request.contentType ?? "application/json"
      const dispatcher = auth.getDispatcher()
      const response = await fetch(url, {
        method: request.method,
        headers,
        ...(dispatcher === undefined ? {} : { dispatcher }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(Duration.toMillis(timeout))]),
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) })
      })
      return { status: response.status, text: await response.text() }
    },
    catch: (cause) => errorForFailure(ctx, cause)
  }).pipe(
    Effect.flatMap(({ status, text }) => {
      if (status < 200 || status >= 300) return Effect.fail(errorForResponse(ctx, status, text))
      if (text === "") return Effect.succeed(undefined)
      return Effect.try({
        try: () => JSON.parse(text) as unknown,
        catch: (cause) => kubeError("Unavailable", ctx, "API server sent a body that is not JSON", cause)
      })
    })
  )
