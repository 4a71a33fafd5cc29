/**
 * The operator's HTTP endpoints: `/healthz` and `/readyz` on the health probe address, `/metrics` (Prometheus
 * text format from effect's metric registry) on the metrics address; one server when both addresses are the
 * same (and not port 0), none for an address set to `0`. Servers close gracefully with the layer's scope (SIGTERM).
 *
 * `/readyz` answers 200 when every readiness gate of `Health` is open and 503 otherwise, listing the gates
 * in the kube-apiserver style (`[+]leader-election ok`, `[-]doltdb-controller not ready`).
 */
import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, type Duration, Effect, Layer } from "effect"
import { HttpRouter, HttpServer, type HttpServerError, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { Health } from "./Health.ts"
import { type BindAddress, formatBindAddress } from "./OperatorConfig.ts"

export interface ProbeServerOptions {
  readonly healthProbeBindAddress: BindAddress
  readonly metricsBindAddress: BindAddress
  /** How long open requests may finish on shutdown (default 5 s; keep below the pod's grace period). */
  readonly gracefulShutdownTimeout?: Duration.Input
}

/** Where the endpoints listen (base URLs), once bound; `undefined` when disabled. */
export class ProbeEndpoints extends Context.Service<
  ProbeEndpoints,
  { readonly health: string | undefined; readonly metrics: string | undefined }
>()("@doltdb-op/operator/runtime/ProbeEndpoints") {}

const healthRoutes = HttpRouter.use(
  Effect.fn(function* (router) {
    const health = yield* Health
    yield* router.add("GET", "/healthz", Effect.succeed(HttpServerResponse.text("ok")))
    yield* router.add(
      "GET",
      "/readyz",
      Effect.map(health.readiness, (checks) => {
        const ready = checks.every((check) => check.ready)
        const lines = checks.map((check) => (check.ready ? `[+]${check.name} ok` : `[-]${check.name} not ready`))
        lines.push(ready ? "readyz check passed" : "readyz check failed")
        return HttpServerResponse.text(`${lines.join("\n")}\n`, { status: ready ? 200 : 503 })
      })
    )
  })
)

const metricsRoutes = PrometheusMetrics.layerHttp({ path: "/metrics" })

const serve = (
  address: Extract<BindAddress, { _tag: "Listen" }>,
  routes: Layer.Layer<never, never, HttpRouter.HttpRouter | Health>,
  options: ProbeServerOptions
) =>
  Effect.gen(function* () {
    const services = yield* Layer.build(
      HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
        Layer.provideMerge(
          NodeHttpServer.layer(createServer, {
            port: address.port,
            ...(address.host === undefined ? {} : { host: address.host }),
            gracefulShutdownTimeout: options.gracefulShutdownTimeout ?? "5 seconds"
          })
        )
      )
    )
    return HttpServer.formatAddress(Context.get(services, HttpServer.HttpServer).address)
  })

export const layer = (options: ProbeServerOptions): Layer.Layer<ProbeEndpoints, HttpServerError.ServeError, Health> =>
  Layer.effect(
    ProbeEndpoints,
    Effect.gen(function* () {
      const health = options.healthProbeBindAddress
      const metrics = options.metricsBindAddress
      // Port 0 asks for any free port, so two port-0 addresses are two servers.
      const shared =
        health._tag === "Listen" &&
        metrics._tag === "Listen" &&
        health.port !== 0 &&
        formatBindAddress(health) === formatBindAddress(metrics)
      if (shared) {
        const url = yield* serve(health, Layer.merge(healthRoutes, metricsRoutes), options)
        yield* Effect.logInfo("Serving /healthz, /readyz and /metrics", { url })
        return { health: url, metrics: url }
      }
      const healthUrl = health._tag === "Listen" ? yield* serve(health, healthRoutes, options) : undefined
      const metricsUrl = metrics._tag === "Listen" ? yield* serve(metrics, metricsRoutes, options) : undefined
      yield* Effect.logInfo("Serving probes and metrics", {
        health: healthUrl ?? "disabled",
        metrics: metricsUrl ?? "disabled"
      })
      return { health: healthUrl, metrics: metricsUrl }
    })
  )
