/**
 * The failover property's schedules for one check seed, each run as `npm run soak` runs it, with one line per
 * schedule: a digest of what was simulated (the run's result, its timeline when `--timeline`, and every write the
 * API server committed, in order) and the CPU time it took. Two trees printing the same digests simulate the same
 * thing: check a speed-up of the simulator with it (the same `--runs` and `--seed`: the schedules drawn depend on
 * both). With `--phases`, also where the CPU time goes: totals per phase of a run (boot until Ready, workload
 * start, the schedule, recovery, the final failover, teardown) in CPU and simulated seconds. Prints figures; asserts
 * nothing.
 *
 *   node packages/operator/bench/scheduleDigest.ts [--runs 20] [--seed 777] [--timeline] [--phases]
 */
import { createHash } from "node:crypto"
import { InMemoryKube } from "@doltdb-op/k8s"
import { Arbitrary, Effect, References } from "effect"
import * as Schedule from "../src/simulate/Schedule.ts"
import { type Phase, runSchedule } from "../test/simulation/runSchedule.ts"

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback)
}
const runs = Number(arg("runs", "20"))
const seed = Number(arg("seed", "777"))
const timeline = process.argv.includes("--timeline")
const phases = process.argv.includes("--phases")
const digest = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 12)
const cpuMillis = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1000
}

/** Per phase: CPU millis and simulated millis, summed over the schedules. */
const byPhase = new Map<Phase | "teardown", { cpu: number; simulated: number }>()
const addPhase = (phase: Phase | "teardown", cpu: number, simulated: number) => {
  const sum = byPhase.get(phase) ?? { cpu: 0, simulated: 0 }
  byPhase.set(phase, { cpu: sum.cpu + cpu, simulated: sum.simulated + simulated })
}

let index = 0
const started = process.cpuUsage()
const wallStarted = performance.now()
await Effect.runPromise(
  Arbitrary.checkEffect(
    Schedule.arbitrary({ maxSteps: 12 }),
    (schedule) =>
      Effect.gen(function* () {
        const cpu = process.cpuUsage()
        let mark = { cpu, simulated: 0 }
        const onPhase = (phase: Phase, simulatedMillis: number) => {
          addPhase(phase, cpuMillis(mark.cpu), simulatedMillis - mark.simulated)
          mark = { cpu: process.cpuUsage(), simulated: simulatedMillis }
        }
        let writes = ""
        const result = yield* runSchedule(schedule, {
          timeline,
          ...(phases ? { onPhase } : {}),
          inspect: Effect.gen(function* () {
            const server = yield* InMemoryKube
            writes = `${digest(server.state.history)} rv=${server.state.resourceVersion}`
          })
        })
        if (phases) addPhase("teardown", cpuMillis(mark.cpu), 0)
        const violations = result.violations.map((v) => v.invariant).join(",") || "-"
        console.log(
          `${index++} simulated=${result.simulatedMillis}ms violations=${violations} result=${digest(result)} writes=${writes} cpu=${cpuMillis(cpu).toFixed(0)}ms`
        )
        return true
      }),
    { runs, seed, size: 30 }
  ).pipe(Effect.provideService(References.MinimumLogLevel, "None"))
)
const cpuSeconds = cpuMillis(started) / 1000
const wallSeconds = (performance.now() - wallStarted) / 1000
console.log(
  `${runs} schedules (check seed ${seed}${timeline ? ", with timelines" : ""}): ${cpuSeconds.toFixed(1)} CPU s = ${(runs / cpuSeconds).toFixed(2)} schedules per CPU second; ${wallSeconds.toFixed(1)} s wall = ${(runs / wallSeconds).toFixed(2)}/s`
)
if (phases) {
  const total = [...byPhase.values()].reduce((sum, p) => sum + p.cpu, 0)
  for (const [phase, p] of byPhase)
    console.log(
      `  ${phase.padEnd(14)} ${(p.cpu / 1000).toFixed(1).padStart(6)} CPU s (${((100 * p.cpu) / total).toFixed(0).padStart(2)}%)${phase === "teardown" ? "" : `, ${(p.simulated / 1000).toFixed(0)} simulated s`}`
    )
}
