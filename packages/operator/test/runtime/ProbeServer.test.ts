import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Metric, Scope } from "effect"
import { Health } from "../../src/runtime/Health.ts"
import type { BindAddress } from "../../src/runtime/OperatorConfig.ts"
import * as ProbeServer from "../../src/runtime/ProbeServer.ts"

const loopback: BindAddress = { _tag: "Listen", host: "127.0.0.1", port: 0 }

const get = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, type: response.headers.get("content-type"), body: await response.text() }
  })

/** Start the servers in a scope of our own so the test can close them and check they are gone. */
const start = (options: ProbeServer.ProbeServerOptions) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const services = yield* Layer.buildWithScope(
      ProbeServer.layer(options).pipe(Layer.provideMerge(Health.layer)),
      scope
    )
    return {
      endpoints: Context.get(services, ProbeServer.ProbeEndpoints),
      health: Context.get(services, Health),
      stop: Scope.close(scope, Exit.void)
    }
  })

describe("ProbeServer", () => {
  it.live("serves /healthz and /readyz on the probe address and /metrics on the metrics address", () =>
    Effect.gen(function* () {
      const requests = Metric.counter("doltdb_probe_test_total", { description: "test counter" })
      yield* Metric.update(requests, 3)
      const { endpoints, health, stop } = yield* start({
        healthProbeBindAddress: loopback,
        metricsBindAddress: loopback
      })
      assert.isDefined(endpoints.health)
      assert.isDefined(endpoints.metrics)
      const healthUrl = endpoints.health!
      const metricsUrl = endpoints.metrics!

      assert.deepStrictEqual(yield* get(`${healthUrl}/healthz`), {
        status: 200,
        type: "text/plain",
        body: "ok"
      })
      const readyNoGates = yield* get(`${healthUrl}/readyz`)
      assert.strictEqual(readyNoGates.status, 200)

      const gateScope = yield* Scope.make()
      const open = yield* health.gate("leader-election").pipe(Scope.provide(gateScope))
      const notReady = yield* get(`${healthUrl}/readyz`)
      assert.strictEqual(notReady.status, 503)
      assert.strictEqual(notReady.body, "[-]leader-election not ready\nreadyz check failed\n")
      yield* open
      const ready = yield* get(`${healthUrl}/readyz`)
      assert.strictEqual(ready.status, 200)
      assert.strictEqual(ready.body, "[+]leader-election ok\nreadyz check passed\n")
      yield* Scope.close(gateScope, Exit.void)

      const metrics = yield* get(`${metricsUrl}/metrics`)
      assert.strictEqual(metrics.status, 200)
      assert.strictEqual(metrics.type, "text/plain; version=0.0.4; charset=utf-8")
      assert.include(metrics.body, "# TYPE doltdb_probe_test_total counter\ndoltdb_probe_test_total 3\n")
      assert.strictEqual((yield* get(`${healthUrl}/metrics`)).status, 404, "metrics are not on the probe port")
      assert.strictEqual((yield* get(`${metricsUrl}/healthz`)).status, 404, "probes are not on the metrics port")

      yield* stop
      const refused = yield* Effect.exit(Effect.tryPromise(() => fetch(`${healthUrl}/healthz`)))
      assert.isTrue(Exit.isFailure(refused), "the server is closed with its scope")
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.live("one server when both addresses are the same; none when disabled", () =>
    Effect.gen(function* () {
      const twice = yield* start({ healthProbeBindAddress: loopback, metricsBindAddress: loopback })
      assert.notStrictEqual(twice.endpoints.health, twice.endpoints.metrics, "port 0 twice means two servers")
      yield* twice.stop
      const probe = yield* start({ healthProbeBindAddress: loopback, metricsBindAddress: { _tag: "Disabled" } })
      const port = Number(new URL(probe.endpoints.health!).port)
      yield* probe.stop
      const same: BindAddress = { _tag: "Listen", host: "127.0.0.1", port }
      const combined = yield* start({ healthProbeBindAddress: same, metricsBindAddress: same })
      assert.strictEqual(combined.endpoints.health, combined.endpoints.metrics)
      assert.strictEqual((yield* get(`${combined.endpoints.health}/healthz`)).status, 200)
      assert.strictEqual((yield* get(`${combined.endpoints.metrics}/metrics`)).status, 200)
      yield* combined.stop

      const none = yield* start({
        healthProbeBindAddress: { _tag: "Disabled" },
        metricsBindAddress: { _tag: "Disabled" }
      })
      assert.deepStrictEqual(none.endpoints, { health: undefined, metrics: undefined })
      yield* none.stop
    })
  )
})
