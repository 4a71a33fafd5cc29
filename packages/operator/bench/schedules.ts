/**
 * Throughput of the failover property test: random fault schedules per second, each in a fresh simulated cluster
 * (boot, the schedule's faults, recovery, invariants checked every step). Prints figures; asserts nothing.
 *
 * Uses the property test's own schedules and runner (`Schedule.arbitrary`, `test/simulation/checkSchedules.ts`)
 * when they are present; otherwise falls back to random `simulate` scenarios (a kill, a partition and a heal at
 * random times under client writes) through `runScenario`.
 *
 *   node packages/operator/bench/schedules.ts [runs=20]
 */
import { existsSync } from "node:fs"
import { Effect, Random, References } from "effect"
import { decodeScenario } from "../src/simulate/Scenario.ts"
import { runScenario } from "../src/simulate/ScenarioRunner.ts"

const runs = Number(process.argv[2] ?? 20)
const propertyRunner = new URL("../test/simulation/checkSchedules.ts", import.meta.url)

const viaPropertyTest = async () => {
  const { checkSchedules } = (await import(
    propertyRunner.href
  )) as typeof import("../test/simulation/checkSchedules.ts")
  const started = performance.now()
  const report = await Effect.runPromise(
    checkSchedules({ runs, seed: 42, maxSteps: 12 }).pipe(Effect.provideService(References.MinimumLogLevel, "None"))
  )
  const seconds = (performance.now() - started) / 1000
  console.log(
    `property-test schedules (Schedule.arbitrary, up to 12 steps): ${report.runs} in ${seconds.toFixed(1)} s = ` +
      `${(report.runs / seconds).toFixed(2)} schedules/s${report.failure === undefined ? "" : " (a schedule failed; see the property test)"}`
  )
}

const objects = [
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db-credentials" },
    stringData: { "admin-user": "r", "admin-password": "p" }
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

const randomScenario = Effect.gen(function* () {
  const at = (lo: number, hi: number) => Effect.map(Random.nextIntBetween(lo, hi), (s) => `${s}s`)
  const pod = Effect.map(Random.nextIntBetween(0, 2), (i) => `db-${i}`)
  return {
    name: "random",
    duration: "90s",
    objects,
    events: [
      { at: "10s", writes: { every: "250ms", until: "85s", ackTimeoutSeconds: 5 } },
      { at: yield* at(15, 30), kill: yield* pod },
      { at: yield* at(30, 45), partition: { pod: yield* pod, from: "all" } },
      { at: "60s", healAll: {} }
    ]
  }
})

const viaScenarios = async () => {
  const started = performance.now()
  let violations = 0
  for (let seed = 1; seed <= runs; seed++) {
    const report = await Effect.runPromise(
      randomScenario.pipe(
        Effect.flatMap(decodeScenario),
        Effect.flatMap((s) => runScenario(s, { seed })),
        Random.withSeed(seed)
      )
    )
    violations += report.invariants.violations.length
  }
  const seconds = (performance.now() - started) / 1000
  console.log(
    `random simulate scenarios (90 s simulated each): ${runs} in ${seconds.toFixed(1)} s = ${(runs / seconds).toFixed(2)} scenarios/s; invariant violations ${violations}`
  )
}

if (existsSync(propertyRunner)) await viaPropertyTest()
else console.log("(test/simulation/checkSchedules.ts not found: property-test schedules not measured)")
await viaScenarios()
