/**
 * A tiny benchmark of the in-memory API server and the simulated cluster. Prints figures; asserts nothing.
 *
 *   npm exec -- node packages/k8s/bench/inMemory.ts
 */
import { performance } from "node:perf_hooks"
import { Kube, type KubeObject, Pods, StatefulSets } from "@doltdb-op/core/services/Kube"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { InMemoryKube } from "../src/memory/InMemoryKube.ts"
import { SimCluster } from "../src/sim/SimCluster.ts"

const pod = (i: number): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: `db-${i}`,
    namespace: `ns-${i % 100}`,
    labels: { app: `db-${i % 100}`, role: i % 3 === 0 ? "primary" : "standby" }
  },
  spec: {
    containers: [
      {
        name: "dolt",
        image: "dolthub/dolt:2.3.1",
        env: [
          { name: "DOLT_ROOT_PATH", value: "/db" },
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }
        ],
        ports: [{ name: "tcp-dolt", containerPort: 3306 }],
        volumeMounts: [
          { name: "dolt-config", mountPath: "/etc/doltdb" },
          { name: "dolt-data", mountPath: "/db" }
        ]
      }
    ],
    volumes: [{ name: "dolt-config", configMap: { name: "db-config" } }]
  }
})

const sts = (i: number, image: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: `db-${i}`, namespace: `bench-${i}` },
  spec: {
    replicas: 3,
    serviceName: `db-${i}-internal`,
    selector: { matchLabels: { app: `db-${i}` } },
    template: {
      metadata: { labels: { app: `db-${i}` } },
      spec: { containers: [{ name: "dolt", image, readinessProbe: { initialDelaySeconds: 5, periodSeconds: 5 } }] }
    },
    volumeClaimTemplates: [{ metadata: { name: "dolt-data" }, spec: { resources: { requests: { storage: "1Gi" } } } }]
  }
})

const time = <A, E, R>(label: string, n: number, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const result = yield* effect
    const ms = performance.now() - start
    console.log(
      `${label.padEnd(52)} ${String(n).padStart(6)} ops ${ms.toFixed(0).padStart(6)} ms ${Math.round((n / ms) * 1000)
        .toString()
        .padStart(8)} ops/s`
    )
    return result
  })

const apiServer = Effect.gen(function* () {
  const kube = yield* Kube
  const N = 3000
  yield* time(
    "create pod",
    N,
    Effect.forEach(
      Array.from({ length: N }, (_, i) => i),
      (i) => kube.create(Pods, pod(i)),
      { discard: true }
    )
  )
  yield* time(
    "patchStatus pod (changing)",
    20_000,
    Effect.forEach(
      Array.from({ length: 20_000 }, (_, i) => i),
      (i) =>
        kube.patchStatus(Pods, `db-${i % N}`, { phase: "Running", observed: i }, { namespace: `ns-${(i % N) % 100}` }),
      { discard: true }
    )
  )
  yield* time(
    "apply StatefulSet (SSA, half of them no-ops)",
    10_000,
    Effect.forEach(
      Array.from({ length: 10_000 }, (_, i) => i),
      (i) => kube.apply(StatefulSets, sts(i % 100, `dolt:${Math.floor(i / 200) % 2}`) as never, { fieldManager: "op" }),
      { discard: true }
    )
  )
  yield* time(
    "get pod",
    50_000,
    Effect.forEach(
      Array.from({ length: 50_000 }, (_, i) => i),
      (i) => kube.get(Pods, `db-${i % N}`, { namespace: `ns-${i % 100}` }),
      { discard: true }
    )
  )
  yield* time(
    "list pods by label selector (30 of 3000)",
    1_000,
    Effect.forEach(
      Array.from({ length: 1_000 }, (_, i) => i),
      (i) =>
        kube.list(Pods, { namespace: `ns-${i % 100}`, labelSelector: `app=db-${i % 100},role in (primary,standby)` }),
      { discard: true }
    )
  )
}).pipe(Effect.provide(InMemoryKube.layer()))

const CLUSTERS = 100
const simulated = Effect.gen(function* () {
  const kube = yield* Kube
  const sim = yield* SimCluster
  const start = performance.now()
  for (let i = 0; i < CLUSTERS; i++) yield* kube.create(StatefulSets, sts(i, "dolthub/dolt:2.3.1"))
  let seconds = 0
  while (true) {
    yield* sim.settle
    const all = yield* kube.list(StatefulSets)
    if (all.items.every((s) => (s.status as { readyReplicas?: number } | undefined)?.readyReplicas === 3)) break
    yield* TestClock.adjust("1 second")
    seconds++
  }
  const ms = performance.now() - start
  const server = yield* InMemoryKube
  const writes = [...server.state.writes.values()].reduce((a, b) => a + b, 0)
  console.log(
    `SimCluster: ${CLUSTERS} StatefulSets x 3 pods Ready after ${seconds} virtual s, ${ms.toFixed(0)} ms wall, ${writes} API writes, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`
  )
}).pipe(
  Effect.provide(SimCluster.layer().pipe(Layer.provideMerge(InMemoryKube.layer()), Layer.provideMerge(SimWorld.layer))),
  Effect.provide(TestClock.layer())
)

// one failover-simulation-sized schedule: a fresh cluster, one StatefulSet of 3 pods, 300 virtual seconds
const schedule = Effect.gen(function* () {
  const kube = yield* Kube
  const sim = yield* SimCluster
  yield* kube.create(StatefulSets, sts(0, "dolthub/dolt:2.3.1"))
  for (let i = 0; i < 300; i++) {
    yield* TestClock.adjust("1 second")
    yield* sim.settle
  }
}).pipe(
  Effect.provide(SimCluster.layer().pipe(Layer.provideMerge(InMemoryKube.layer()), Layer.provideMerge(SimWorld.layer))),
  Effect.provide(TestClock.layer()),
  Effect.scoped
)

await Effect.runPromise(Effect.scoped(Effect.andThen(apiServer, simulated)))
const SCHEDULES = 50
const started = performance.now()
for (let i = 0; i < SCHEDULES; i++) await Effect.runPromise(schedule)
console.log(
  `Schedules: ${SCHEDULES} x (fresh cluster, 3 pods, 300 virtual s): ${((performance.now() - started) / SCHEDULES).toFixed(1)} ms each`
)
