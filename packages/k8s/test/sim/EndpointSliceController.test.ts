import { EndpointSlices, Kube, type KubeObject, Pods, Services, StatefulSets } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SimCluster } from "../../src/sim/SimCluster.ts"
import { advance, registerTestRuntime, simLayer, statefulSet } from "./fixtures.ts"

interface Endpoint {
  readonly addresses: ReadonlyArray<string>
  readonly conditions: { ready: boolean; serving: boolean; terminating: boolean }
  readonly hostname?: string
  readonly targetRef: { name: string }
}

const service = (name: string, selector: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "db" },
  spec: { selector, ports: [{ name: "tcp-dolt", port: 3306 }], ...extra }
})

const endpointsOf = (svc: string) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    const slices = yield* kube.list(EndpointSlices, {
      namespace: "db",
      labelSelector: `kubernetes.io/service-name=${svc}`
    })
    assert.strictEqual(slices.items.length, 1)
    const slice = slices.items[0]!
    const endpoints = (slice.endpoints as ReadonlyArray<Endpoint>) ?? []
    return {
      ports: slice.ports,
      byPod: Object.fromEntries([...endpoints].map((e) => [e.targetRef.name, e]))
    }
  })

describe("simulated EndpointSlice controller", () => {
  it.effect("tracks pod readiness, selector labels, hostnames and publishNotReadyAddresses", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      const sim = yield* SimCluster
      yield* kube.create(StatefulSets, statefulSet("db", { podManagementPolicy: "Parallel" }))
      yield* kube.create(Services, service("db-internal", { app: "db" }, { clusterIP: "None" }))
      yield* kube.create(Services, service("db-all", { app: "db" }, { publishNotReadyAddresses: true }))
      yield* kube.create(Services, service("db-primary", { app: "db", role: "primary" }))
      yield* advance(2)
      let internal = yield* endpointsOf("db-internal")
      assert.deepStrictEqual(Object.keys(internal.byPod).sort(), ["db-0", "db-1", "db-2"])
      assert.deepStrictEqual(internal.byPod["db-1"]!.conditions, { ready: true, serving: true, terminating: false })
      assert.strictEqual(internal.byPod["db-1"]!.hostname, "db-1")
      assert.deepStrictEqual(internal.ports, [{ name: "tcp-dolt", port: 3306, protocol: "TCP" }])
      assert.deepStrictEqual((yield* endpointsOf("db-primary")).byPod, {})

      yield* sim.setPodUnready("db", "db-1", true)
      yield* advance(0)
      internal = yield* endpointsOf("db-internal")
      assert.deepStrictEqual(internal.byPod["db-1"]!.conditions, { ready: false, serving: false, terminating: false })
      const all = yield* endpointsOf("db-all")
      assert.deepStrictEqual(all.byPod["db-1"]!.conditions, { ready: true, serving: true, terminating: false })

      // a label moves a pod into a selector, deletion marks it terminating
      yield* kube.mergePatch(Pods, "db-0", { metadata: { labels: { role: "primary" } } }, { namespace: "db" })
      yield* advance(0)
      const primary = yield* endpointsOf("db-primary")
      assert.deepStrictEqual(Object.keys(primary.byPod), ["db-0"])
      assert.isTrue(primary.byPod["db-0"]!.conditions.ready)
      runtime.setPreStopSeconds(10)
      yield* sim.deletePod("db", "db-2", 30)
      yield* advance(0)
      internal = yield* endpointsOf("db-internal")
      assert.deepStrictEqual(internal.byPod["db-2"]!.conditions, { ready: false, serving: true, terminating: true })
    }).pipe(Effect.provide(simLayer))
  )
})
