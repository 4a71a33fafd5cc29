/**
 * One HTTP request to the API server, with client-node doing what it is good at (kubeconfig, in-cluster
 * credentials, TLS, auth plugins via `applySecurityAuthentication`) and us doing the rest: plain JSON bodies (the
 * generated typed serializer would rename CRD fields such as `enum`/`default` and turn times into `Date`s), the exact
 * content types for apply and merge patches, a timeout on every call, and the mapping of failures to tagged errors.
 */
import { type ErrorContext, type KubeError, kubeError, tagForStatus } from "@doltdb-op/core/services/Kube"
import { HttpMethod, type KubeConfig, RequestContext } from "@kubernetes/client-node"
import { Duration, Effect } from "effect"
import { type Dispatcher, fetch } from "undici"

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

export interface Authenticated {
  readonly headers: Record<string, string>
  readonly dispatcher: Dispatcher | undefined
}

/**
 * The credentials and the connection pool of one API server. client-node's `applySecurityAuthentication` builds a
 * new undici Agent on every call (no connection reuse: a TLS handshake per request, idle sockets piling up), so
 * headers are refreshed per request (rotating service-account tokens, exec plugins) while the first dispatcher is
 * kept and reused. (A client certificate that rotates is picked up only by a new connection.)
 */
export interface Connection {
  readonly kc: KubeConfig
  readonly authenticate: (url: URL, method: Method) => Promise<Authenticated>
  readonly close: () => Promise<void>
}

export const makeConnection = (kc: KubeConfig): Connection => {
  let pooled: Dispatcher | undefined
  let closed = false
  return {
    kc,
    authenticate: async (url, method) => {
      const ctx = new RequestContext(url.toString(), methods[method])
      await kc.applySecurityAuthentication(ctx)
      const fresh = ctx.getDispatcher()
      if (pooled === undefined && !closed) pooled = fresh
      else if (fresh !== undefined && fresh !== pooled) void fresh.close()
      return { headers: ctx.getHeaders(), dispatcher: pooled }
    },
    close: async () => {
      closed = true
      const d = pooled
      pooled = undefined
      if (d !== undefined) await d.close()
    }
  }
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
  conn: Connection,
  timeout: Duration.Duration,
  ctx: ErrorContext,
  request: ApiRequest
): Effect.Effect<unknown, KubeError> =>
  Effect.tryPromise({
    try: async (signal): Promise<RawResponse> => {
      const url = urlOf(conn.kc, request.path, request.query)
      const { headers: authHeaders, dispatcher } = await conn.authenticate(url, request.method)
      const headers: Record<string, string> = { ...authHeaders, Accept: "application/json" }
      if (request.body !== undefined) headers["Content-Type"] = request.contentType ?? "application/json"
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
