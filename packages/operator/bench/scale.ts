/**
 * One operator, many clusters: the real operator (the controllers `run` uses, default worker counts) against the
 * in-memory cluster (API server, StatefulSet controller, kubelet, Dolt model) on simulated time, with N DoltDBs
 * x 3 replicas plus a Database, a User (with its password Secret) and a Grant each. Prints figures; asserts nothing.
 *
 * - cold convergence: simulated time until every DoltDB, Database, User and Grant is Ready; wall time, CPU
 *   seconds and peak RSS of this process (which holds the simulated cluster too, so RSS is an upper bound for the
 *   operator alone); API requests by verb and Dolt calls (one SQL statement each, most of them) by method.
 * - steady state: the same counts per simulated minute, after convergence.
 * - failover of one DoltDB while the others are steady: its primary is isolated from everything (network), a
 *   client writes through `<name>-primary` every 100 ms; time from the fault to the first write acknowledged by
 *   another server. The same fault is measured in a world with that one DoltDB alone, for comparison.
 *
 *   npm run bench:scale                   (500 DoltDBs)
 *   node packages/operator/bench/scale.ts [doltdbs=500] [steady-minutes=1]
 */
import { Kube, type KubeObject, type KubeShape, resource, Secrets } from "@doltdb-op/core/services/Kube"
import { podEndpoint, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { DoltModel } from "@doltdb-op/dolt"
import { SimCluster } from "@doltdb-op/k8s"
import { Clock, Effect, Layer, References } from "effect"
import { TestClock } from "effect/testing"
import { clusterLayer, KubeWrites, startOperator } from "../src/simulate/SimulatedCluster.ts"

const count = Number(process.argv[2] ?? 500)
const steadyMinutes = Number(process.argv[3] ?? 1)
const perNamespace = 10
const group = "k8s.dolthub.com/v1alpha"
const raw = (kind: string, plural: string) => resource({ apiVersion: group, kind, plural, namespaced: true })
const kinds = {
  DoltDB: raw("DoltDB", "doltdbs"),
  Database: raw("Database", "databases"),
  User: raw("User", "users"),
  Grant: raw("Grant", "grants")
} as const

const cluster = (i: number) => ({ ns: `team-${String(Math.floor(i / perNamespace)).padStart(3, "0")}`, name: `db${i}` })
const b64 = (s: string) => Buffer.from(s).toString("base64")

const create = (i: number) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    const { ns, name } = cluster(i)
    const meta = (n: string) => ({ name: n, namespace: ns })
    const ref = { doltDBRef: { name } }
    const objects: ReadonlyArray<readonly [ReturnType<typeof raw>, Record<string, unknown>]> = [
      [
        Secrets,
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: meta(`${name}-credentials`),
          data: { "admin-user": b64("root"), "admin-password": b64("pw") }
        }
      ],
      [
        Secrets,
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { ...meta(`${name}-app`), labels: { "k8s.dolthub.com/watch": "true" } },
          data: { password: b64("app-pw") }
        }
      ],
      [
        kinds.DoltDB,
        {
          apiVersion: group,
          kind: "DoltDB",
          metadata: meta(name),
          spec: { engineVersion: "2.3.1", replicas: 3, storage: { size: "1Gi" }, replication: { enabled: true } }
        }
      ],
      [
        kinds.Database,
        { apiVersion: group, kind: "Database", metadata: meta(`${name}-app`), spec: { ...ref, name: "app" } }
      ],
      [
        kinds.User,
        {
          apiVersion: group,
          kind: "User",
          metadata: meta(`${name}-app`),
          spec: { ...ref, name: "app", passwordSecretKeyRef: { name: `${name}-app`, key: "password" } }
        }
      ],
      [
        kinds.Grant,
        {
          apiVersion: group,
          kind: "Grant",
          metadata: meta(`${name}-app`),
          spec: { ...ref, username: "app", database: "app", privileges: ["SELECT", "INSERT"] }
        }
      ]
    ]
    for (const [res, object] of objects) yield* kube.create(res, object as unknown as KubeObject)
  })

const isReady = (o: KubeObject) =>
  ((o.status as { conditions?: ReadonlyArray<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
    (c) => c.type === "Ready" && c.status === "True"
  )

/** How many of each kind are Ready (read outside the operator's counted client). */
const readiness = Effect.gen(function* () {
  const kube = yield* Kube
  const out: Record<string, number> = {}
  for (const [kind, res] of Object.entries(kinds)) out[kind] = (yield* kube.list(res)).items.filter(isReady).length
  return out
})

interface Usage {
  readonly wallSeconds: number
  readonly cpuSeconds: number
}

const meter = () => {
  const wall = performance.now()
  const cpu = process.cpuUsage()
  return (): Usage => {
    const c = process.cpuUsage(cpu)
    return { wallSeconds: (performance.now() - wall) / 1000, cpuSeconds: (c.user + c.system) / 1e6 }
  }
}

let peakRss = 0
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}

const diff = (after: ReadonlyMap<string, number>, before: ReadonlyMap<string, number>) => {
  const out: Record<string, number> = {}
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out[k] = v - (before.get(k) ?? 0)
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]))
}

const perMinute = (counts: Record<string, number>, minutes: number) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Math.round(v / minutes)]))

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)

/** Advance simulated time by `millis` in steps, settling the simulated controllers after each. */
const advance = (millis: number, step: number) =>
  Effect.gen(function* () {
    const sim = yield* SimCluster
    for (let t = 0; t < millis; t += step) {
      yield* TestClock.adjust(step)
      yield* sim.settle
      sampleRss()
    }
  })

/** Isolate DoltDB `i`'s primary; millis until a write through its primary Service is acknowledged elsewhere. */
const failover = (i: number) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    const world = yield* SimWorld
    const dolt = yield* DoltModel.DoltCluster
    const sim = yield* SimCluster
    const { ns, name } = cluster(i)
    const before = (yield* kube.get(kinds.DoltDB, name, { namespace: ns })).status as { currentPrimary?: string }
    const old = `${ns}/${before.currentPrimary}`
    const host = `${name}-primary.${ns}.svc.cluster.local`
    yield* dolt.write(host, "app", "before", "failover")
    const start = yield* Clock.currentTimeMillis
    yield* world.isolate(podEndpoint(ns, before.currentPrimary ?? `${name}-0`))
    for (let n = 0; n < 1200; n++) {
      const w = yield* dolt.write(host, "app", `k${n}`, `v${n}`)
      if (w.outcome === "acked" && w.server !== old) return w.finishedAt - start
      yield* TestClock.adjust(100)
      yield* sim.settle
      sampleRss()
    }
    return undefined
  })

const fmt = (n: number, digits = 1) => n.toFixed(digits)

/** Failed operator API calls by error tag (conflicts from stale reads show here). */
const failures = new Map<string, number>()
const countingFailures = (kube: KubeShape): KubeShape =>
  new Proxy(kube, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== "function" || property === "watch" || property === "informer") return value
      return (...args: Array<unknown>) =>
        Effect.tapError((value as (...a: Array<unknown>) => Effect.Effect<unknown, { _tag: string }>)(...args), (e) =>
          Effect.sync(() =>
            failures.set(
              `${String(property)} ${(args[0] as { kind?: string }).kind} ${e._tag}`,
              (failures.get(`${String(property)} ${(args[0] as { kind?: string }).kind} ${e._tag}`) ?? 0) + 1
            )
          )
        )
    }
  })

const world = (doltdbs: number) =>
  Effect.gen(function* () {
    failures.clear()
    const operator = yield* startOperator({ doltdbWorkers: 10, workers: 1 }).pipe(
      Effect.provideService(Kube, countingFailures(yield* Kube))
    )
    const kube = yield* Kube
    const usage = meter()
    for (let i = 0; i < doltdbs; i++) yield* create(i)
    // Cold convergence: every object Ready.
    let simulated = 0
    let ready: Record<string, number> = {}
    const limit = 30 * 60_000
    while (simulated < limit) {
      yield* advance(1_000, 500)
      simulated += 1_000
      ready = yield* readiness
      if (Object.values(ready).every((n) => n === doltdbs)) break
      if (simulated % 10_000 === 0)
        console.error(
          `  ... ${simulated / 1000} s simulated, ready ${JSON.stringify(ready)}, wall ${fmt(usage().wallSeconds)} s`
        )
    }
    const converge = usage()
    const convergeKube = diff(operator.kubeCalls.snapshot(), new Map())
    const convergeDolt = diff(operator.doltCalls.snapshot(), new Map())
    const convergeFailures = Object.fromEntries(failures)
    // Steady state: let requeues spread out, then count.
    yield* advance(30_000, 1_000)
    const kubeBefore = operator.kubeCalls.snapshot()
    const doltBefore = operator.doltCalls.snapshot()
    const steadyUsage = meter()
    yield* advance(steadyMinutes * 60_000, 1_000)
    const steady = steadyUsage()
    const steadyKube = diff(operator.kubeCalls.snapshot(), kubeBefore)
    const steadyDolt = diff(operator.doltCalls.snapshot(), doltBefore)
    const writes = KubeWrites.reduce((n, w) => n + (steadyKube[w] ?? 0), 0)
    const took = yield* failover(Math.floor(doltdbs / 2))
    void kube
    return {
      doltdbs,
      convergedSimulatedSeconds: simulated / 1000,
      converged: Object.values(ready).every((n) => n === doltdbs),
      ready,
      converge,
      convergeKube,
      convergeDolt,
      convergeFailures,
      steady,
      steadyKube: perMinute(steadyKube, steadyMinutes),
      steadyDolt: perMinute(steadyDolt, steadyMinutes),
      steadyWritesPerMinute: writes / steadyMinutes,
      failoverMillis: took
    }
  })

const run = (doltdbs: number) =>
  Effect.runPromise(
    Effect.scoped(world(doltdbs)).pipe(
      Effect.provide(Layer.fresh(clusterLayer({ seed: 1 }))),
      Effect.provide(TestClock.layer()),
      Effect.provideService(References.MinimumLogLevel, "None")
    )
  )

const print = (r: Awaited<ReturnType<typeof run>>) => {
  const line = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")
  console.log(`${r.doltdbs} DoltDBs x 3 replicas + Database/User/Grant each`)
  console.log(
    `  cold convergence: ${r.converged ? "" : "NOT converged after "}${r.convergedSimulatedSeconds} s simulated ` +
      `(ready: ${line(r.ready)}); wall ${fmt(r.converge.wallSeconds)} s, CPU ${fmt(r.converge.cpuSeconds)} s`
  )
  console.log(`    API requests (${total(r.convergeKube)}): ${line(r.convergeKube)}`)
  console.log(`    Dolt calls (${total(r.convergeDolt)}): ${line(r.convergeDolt)}`)
  console.log(`    failed API requests: ${line(r.convergeFailures) || "none"}`)
  console.log(
    `  steady state per simulated minute: ${r.steadyWritesPerMinute} API writes; reads ${fmt(total(r.steadyKube) / 60)}/s; ` +
      `wall ${fmt(r.steady.wallSeconds / steadyMinutes)} s, CPU ${fmt(r.steady.cpuSeconds / steadyMinutes)} s per simulated minute`
  )
  console.log(`    API requests (${total(r.steadyKube)}/min): ${line(r.steadyKube)}`)
  console.log(`    Dolt calls (${total(r.steadyDolt)}/min): ${line(r.steadyDolt)}`)
  console.log(
    `  failover of one DoltDB (primary isolated -> first write acknowledged by another server): ${r.failoverMillis === undefined ? "none within 120 s" : `${fmt(r.failoverMillis / 1000, 2)} s`}`
  )
}

const one = await run(1)
const oneRss = peakRss
print(one)
peakRss = 0
const many = await run(count)
print(many)
console.log(
  `  peak RSS ${fmt(peakRss / 2 ** 20, 0)} MiB (operator and simulated cluster in one process; 1 DoltDB: ${fmt(oneRss / 2 ** 20, 0)} MiB)`
)
