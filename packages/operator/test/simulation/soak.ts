/**
 * `npm run soak -- --schedules N [--workers W] [--seed S] [--max-steps K]`: the failover property at scale. N random
 * fault schedules split over W worker processes (default: every core), each checking its share with seed S + i
 * (default S: random, printed). Prints the throughput and, for a violation, the shrunk schedule, the seed and a
 * `simulate` scenario file that replays it; exits 1 on a violation.
 */
import { fork } from "node:child_process"
import { randomInt } from "node:crypto"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { Effect, References } from "effect"
import { checkSchedules } from "./checkSchedules.ts"

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}

interface WorkerResult {
  readonly seed: number
  readonly runs: number
  readonly millis: number
  readonly failure: string | undefined
}

const work = async (runs: number, seed: number, maxSteps: number): Promise<WorkerResult> => {
  const started = Date.now()
  const report = await Effect.runPromise(
    checkSchedules({ runs, seed, maxSteps }).pipe(Effect.provideService(References.MinimumLogLevel, "None"))
  )
  return { seed, runs: report.runs, millis: Date.now() - started, failure: report.failure?.report }
}

if (process.argv.includes("--worker")) {
  const result = await work(Number(arg("runs")), Number(arg("seed")), Number(arg("max-steps") ?? 12))
  process.send?.(result)
  process.exit(0)
}

const schedules = Number(arg("schedules") ?? 1000)
const workers = Math.max(1, Math.min(Number(arg("workers") ?? availableParallelism()), schedules))
const seed = Number(arg("seed") ?? randomInt(1, 2 ** 31 - 1))
const maxSteps = Number(arg("max-steps") ?? 12)
console.log(`soak: ${schedules} schedules on ${workers} worker(s), seed ${seed} (worker i uses seed ${seed} + i)`)
const started = Date.now()
const self = fileURLToPath(import.meta.url)
const results = await Promise.all(
  Array.from({ length: workers }, (_, i) => {
    const runs = Math.floor(schedules / workers) + (i < schedules % workers ? 1 : 0)
    return new Promise<WorkerResult>((resolve, reject) => {
      const child = fork(self, [
        "--worker",
        "--runs",
        String(runs),
        "--seed",
        String(seed + i),
        "--max-steps",
        String(maxSteps)
      ])
      child.on("message", (m) => resolve(m as WorkerResult))
      child.on("exit", (code) => (code === 0 ? undefined : reject(new Error(`worker ${i} exited with ${code}`))))
    })
  })
)
const seconds = (Date.now() - started) / 1000
const total = results.reduce((n, r) => n + r.runs, 0)
const failures = results.filter((r) => r.failure !== undefined)
for (const r of results)
  console.log(
    `  seed ${r.seed}: ${r.runs} schedules in ${(r.millis / 1000).toFixed(1)}s${r.failure === undefined ? "" : " — VIOLATION"}`
  )
console.log(
  `soak: ${total} schedules, ${failures.length} violation(s), ${seconds.toFixed(1)}s wall, ${(total / seconds).toFixed(2)} schedules/s (${(total / seconds / workers).toFixed(2)} per worker)`
)
for (const f of failures) console.log(`\n=== seed ${f.seed}\n${f.failure}`)
process.exit(failures.length === 0 ? 0 : 1)
