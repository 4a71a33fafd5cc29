/**
 * `npm run soak -- --schedules N [--workers W] [--seed S] [--max-steps K]`: the failover property at scale. N random
 * fault schedules split over W worker processes (default: every core), worker i checks batches of 25 with seeds
 * S + i, S + i + W, ... (default S: random, printed), each reported as it ends. Prints the throughput (wall, and per CPU
 * second of the workers, which a loaded machine does not skew) and, for a violation, the shrunk schedule, the seed and a
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
  /** CPU time the batch took in its worker: comparable between runs on a shared, loaded machine. */
  readonly cpuMillis: number
  readonly failure: string | undefined
}

const work = async (runs: number, seed: number, maxSteps: number): Promise<WorkerResult> => {
  const started = Date.now()
  const cpu = process.cpuUsage()
  const report = await Effect.runPromise(
    checkSchedules({ runs, seed, maxSteps }).pipe(Effect.provideService(References.MinimumLogLevel, "None"))
  )
  const used = process.cpuUsage(cpu)
  return {
    seed,
    runs: report.runs,
    millis: Date.now() - started,
    cpuMillis: (used.user + used.system) / 1000,
    failure: report.failure?.report
  }
}

/** A worker checks its share in batches (seeds S + i, S + i + W, ...), each reported as it ends. */
const Batch = 25

if (process.argv.includes("--worker")) {
  const runs = Number(arg("runs"))
  const stride = Number(arg("stride"))
  let seed = Number(arg("seed"))
  for (let done = 0; done < runs; seed += stride) {
    const n = Math.min(Batch, runs - done)
    const result = await work(n, seed, Number(arg("max-steps") ?? 12))
    await new Promise<void>((resolve) => process.send?.({ _tag: "batch", ...result }, () => resolve()))
    if (result.failure !== undefined) break
    done += n
  }
  process.exit(0)
}

const schedules = Number(arg("schedules") ?? 1000)
const workers = Math.max(1, Math.min(Number(arg("workers") ?? availableParallelism()), schedules))
const seed = Number(arg("seed") ?? randomInt(1, 2 ** 31 - 1))
const maxSteps = Number(arg("max-steps") ?? 12)
console.log(
  `soak: ${schedules} schedules on ${workers} worker(s), seed ${seed} (worker i: seeds ${seed} + i, + ${workers}, ...)`
)
const started = Date.now()
const self = fileURLToPath(import.meta.url)
const results: Array<WorkerResult> = []
let checked = 0
let cpuMillis = 0
await Promise.all(
  Array.from({ length: workers }, (_, i) => {
    const runs = Math.floor(schedules / workers) + (i < schedules % workers ? 1 : 0)
    const args = ["--worker", "--runs", String(runs), "--seed", String(seed + i), "--stride", String(workers)]
    return new Promise<void>((resolve, reject) => {
      const child = fork(self, [...args, "--max-steps", String(maxSteps)])
      child.on("message", (m) => {
        const message = m as { readonly _tag: string } & WorkerResult
        if (message._tag !== "batch") return
        results.push(message)
        checked += message.runs
        cpuMillis += message.cpuMillis
        const elapsed = (Date.now() - started) / 1000
        const verdict = message.failure === undefined ? "0 violations" : "VIOLATION"
        console.log(
          `  [${elapsed.toFixed(0)}s] seed ${message.seed}: ${message.runs} schedules, ${verdict}; ${checked} checked, ${(checked / elapsed).toFixed(2)}/s, ${((checked * 1000) / cpuMillis).toFixed(2)}/CPU-s`
        )
      })
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker ${i} exited with ${code}`))))
    })
  })
)
const seconds = (Date.now() - started) / 1000
const total = results.reduce((n, r) => n + r.runs, 0)
const failures = results.filter((r) => r.failure !== undefined)
const cpuSeconds = results.reduce((n, r) => n + r.cpuMillis, 0) / 1000
console.log(
  `soak: ${total} schedules, ${failures.length} violation(s), ${seconds.toFixed(1)}s wall, ${(total / seconds).toFixed(2)} schedules/s (${(total / seconds / workers).toFixed(2)} per worker); ${(total / cpuSeconds).toFixed(2)} schedules per CPU second in the workers`
)
for (const f of failures) console.log(`\n=== seed ${f.seed}\n${f.failure}`)
process.exit(failures.length === 0 ? 0 : 1)
