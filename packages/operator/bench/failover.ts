/**
 * Failover and switchover times in the simulated cluster, under the operator's default probe settings and
 * failoverDelay (3 s), over several seeds. Prints figures; asserts nothing.
 *
 * - failover: the primary's node is lost -> the first write acknowledged through `db-primary` by another server.
 * - switchover: `spec.replication.primary.podIndex` edited -> the first write acknowledged by the new primary
 *   (writes with `dolt_cluster_ack_writes_timeout_secs=5`).
 *
 * The client writes every 100 ms, so times are accurate to 100 ms; the loss and the edit land at a different
 * point of the operator's 10 s polling cycle for each seed.
 *
 *   npm run bench                         (all operator benchmarks)
 *   node packages/operator/bench/failover.ts [seeds=10]
 */
import { Effect } from "effect"
import { decodeScenario, durationMillis } from "../src/simulate/Scenario.ts"
import type { ScenarioReport } from "../src/simulate/ScenarioReport.ts"
import { runScenario } from "../src/simulate/ScenarioRunner.ts"

const seeds = Number(process.argv[2] ?? 10)

const objects = [
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db-credentials" },
    stringData: { "admin-user": "root", "admin-password": "pw" }
  },
  {
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "DoltDB",
    metadata: { name: "db" },
    spec: { engineVersion: "2.3.1", replicas: 3, storage: { size: "1Gi" }, replication: { enabled: true } }
  },
  {
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "Database",
    metadata: { name: "app" },
    spec: { doltDBRef: { name: "db" }, name: "app" }
  }
]

/** Where in the operator's 10 s server-polling cycle the fault lands: spread over the whole cycle. */
const offset = (seed: number) => (seed * 3793) % 10_000

const failover = (seed: number) => ({
  name: `failover-${seed}`,
  duration: "70s",
  objects,
  events: [
    { at: "15s", writes: { every: "100ms", until: "68s" } },
    { at: `${25_000 + offset(seed)}ms`, nodeLost: "db-0" }
  ]
})

const switchover = (seed: number) => ({
  name: `switchover-${seed}`,
  duration: "55s",
  objects,
  events: [
    { at: "10s", writes: { every: "100ms", until: "53s", ackTimeoutSeconds: 5 } },
    {
      at: `${20_000 + offset(seed)}ms`,
      patch: { kind: "DoltDB", name: "db", spec: { replication: { primary: { podIndex: 1 } } } }
    }
  ]
})

/** Millis from `from` to the first write acknowledged by a server other than `db-0`, or undefined. */
const resumedAfter = (report: ScenarioReport, from: number) => {
  const first = report.writes.ackedBy.find((a) => a.at >= from && a.server !== "default/db-0")
  return first === undefined ? undefined : first.at - from
}

const quantile = (xs: ReadonlyArray<number>, q: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

const fmt = (ms: number | undefined) => (ms === undefined ? "n/a" : `${(ms / 1000).toFixed(2)} s`)

const measure = async (what: string, make: (seed: number) => object, eventIndex: number) => {
  const times: Array<number> = []
  let failed = 0
  let violations = 0
  let wall = 0
  for (let seed = 1; seed <= seeds; seed++) {
    const input = make(seed)
    const started = performance.now()
    const report = await Effect.runPromise(
      Effect.flatMap(decodeScenario(input), (scenario) => runScenario(scenario, { seed }))
    )
    wall += performance.now() - started
    const at = durationMillis((input as { events: ReadonlyArray<{ at: string }> }).events[eventIndex]!.at)
    const took = resumedAfter(report, at)
    violations += report.invariants.violations.length
    if (took === undefined) failed++
    else times.push(took)
    console.log(
      `  ${what} seed ${String(seed).padStart(2)}: ${fmt(took)}  (failed writes ${report.writes.failed}, final primary ${report.primaries.at(-1)?.primary})`
    )
  }
  console.log(
    `${what}: p50 ${fmt(quantile(times, 0.5))}, max ${fmt(Math.max(...times))} over ${times.length} seeds` +
      `${failed > 0 ? `, ${failed} without resumed writes` : ""}; invariant violations ${violations}; ` +
      `wall ${(wall / seeds).toFixed(0)} ms per run`
  )
}

console.log(
  `Simulated failover and switchover, ${seeds} seeds (default probes, failoverDelay 3 s, writes every 100 ms)`
)
await measure("failover (node of the primary lost -> first acknowledged write)", failover, 1)
await measure("switchover (podIndex 0 -> 1 -> first write acknowledged by db-1)", switchover, 1)
