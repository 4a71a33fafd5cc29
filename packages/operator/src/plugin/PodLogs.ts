/**
 * Pod logs for `kubectl doltdb logs`: the `Kube` service has no log endpoint (the operator never reads logs), so
 * the plugin has this small service of its own. Live: `GET /api/v1/namespaces/{ns}/pods/{pod}/log` through the
 * same kubeconfig credentials as `KubeLive`; tests provide lines directly.
 */
import { type KubeError, kubeError } from "@doltdb-op/core/services/Kube"
import { type Connection, errorForFailure, errorForResponse, urlOf } from "@doltdb-op/k8s/live/ApiRequest"
import { Context, Effect, Layer } from "effect"
import { fetch } from "undici"

export interface LogOptions {
  readonly container?: string | undefined
  readonly tailLines?: number | undefined
  readonly previous?: boolean | undefined
}

export interface PodLogsShape {
  readonly read: (namespace: string, pod: string, options: LogOptions) => Effect.Effect<string, KubeError>
}

export class PodLogs extends Context.Service<PodLogs, PodLogsShape>()("@doltdb-op/operator/plugin/PodLogs") {}

export const layerLive = (conn: Connection): Layer.Layer<PodLogs> =>
  Layer.succeed(PodLogs, {
    read: (namespace, pod, options) => {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`
      const ctx = { verb: "get", kind: "Pod", name: `${pod}/log`, namespace }
      return Effect.tryPromise({
        try: async (signal) => {
          const url = urlOf(conn.kc, path, {
            container: options.container,
            tailLines: options.tailLines === undefined ? undefined : String(options.tailLines),
            previous: options.previous === true ? "true" : undefined
          })
          const { headers, dispatcher } = await conn.authenticate(url, "GET")
          const response = await fetch(url, {
            // As kubectl sends it: the log comes as text/plain, errors as a JSON Status (an API server answers
            // `Accept: text/plain` alone with 406: it only negotiates json, yaml and protobuf; found by the e2e test).
            headers: { ...headers, Accept: "application/json, */*" },
            ...(dispatcher === undefined ? {} : { dispatcher }),
            signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)])
          })
          return { status: response.status, text: await response.text() }
        },
        catch: (cause) => errorForFailure(ctx, cause)
      }).pipe(
        Effect.flatMap(({ status, text }) =>
          status >= 200 && status < 300 ? Effect.succeed(text) : Effect.fail(errorForResponse(ctx, status, text))
        )
      )
    }
  })

/** Fixed logs per pod name (tests); a pod without an entry fails like a pod that does not exist. */
export const layerStatic = (logs: Readonly<Record<string, string>>): Layer.Layer<PodLogs> =>
  Layer.succeed(PodLogs, {
    read: (namespace, pod) =>
      logs[pod] === undefined
        ? Effect.fail(kubeError("NotFound", { verb: "get", kind: "Pod", name: pod, namespace }, `pod ${pod} not found`))
        : Effect.succeed(logs[pod])
  })

/** Every line of `text` prefixed with `[pod] `, as `kubectl logs --prefix` does. */
export const prefixed = (pod: string, text: string): string =>
  text === ""
    ? ""
    : text
        .replace(/\n$/, "")
        .split("\n")
        .map((line) => `[${pod}] ${line}`)
        .join("\n")
