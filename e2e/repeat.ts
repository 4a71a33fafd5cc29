// Runs the whole e2e suite N times in a row and says, per run, pass or fail, which tests failed (with the first
// lines of their failure: the diagnosis findings) and how long each file took; then a summary with per-file
// times over all runs. Each run holds the machine's e2e lock (one cluster per machine) only while it runs, brings
// the cluster up and down itself, and keeps its output and, when it failed, its logs under
// e2e/.work/repeat/<start>/run-<i>/.
// Usage: npm run e2e:repeat -- <N> [vitest file filters...]   Env: E2E_LOCK (default /tmp/e2e-cluster.lock).
import { spawn } from "node:child_process"
import { cpSync, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { basename, join, relative } from "node:path"

const here = import.meta.dirname
const repo = join(here, "..")
const work = process.env.E2E_WORK ?? join(here, ".work")
const lock = process.env.E2E_LOCK ?? "/tmp/e2e-cluster.lock"
const [countArg, ...filters] = process.argv.slice(2)
const runs = Number(countArg ?? 10)
if (!Number.isInteger(runs) || runs < 1) {
  console.error("usage: npm run e2e:repeat -- <N> [vitest file filters...]")
  process.exit(2)
}
const out = join(work, "repeat", new Date().toISOString().replace(/[:.]/g, "-"))
mkdirSync(out, { recursive: true })
const bin = (name: string) => join(repo, "node_modules", ".bin", name)

interface JsonReport {
  numTotalTests: number
  numFailedTests: number
  numPassedTests: number
  testResults: Array<{
    name: string
    startTime: number
    endTime: number
    status: string
    message?: string
    assertionResults: Array<{ fullName: string; status: string; failureMessages?: Array<string> }>
  }>
}

interface RunResult {
  run: number
  passed: boolean
  seconds: number
  tests: string
  failures: Array<{ test: string; message: Array<string> }>
  files: Record<string, number>
}

/** Runs argv with stdout+stderr into `log` (and the terminal when E2E_REPEAT_VERBOSE=1); resolves the exit code. */
const run = (argv: Array<string>, log: string) =>
  new Promise<number>((resolve) => {
    const file = createWriteStream(log, { flags: "a" })
    const child = spawn(argv[0]!, argv.slice(1), { cwd: repo, stdio: ["ignore", "pipe", "pipe"], env: process.env })
    for (const s of [child.stdout, child.stderr]) {
      s.pipe(file, { end: false })
      if (process.env.E2E_REPEAT_VERBOSE === "1") s.pipe(process.stderr, { end: false })
    }
    child.on("exit", (code, signal) => {
      file.end()
      resolve(code ?? (signal ? 128 : 1))
    })
  })

const tsc = await run([bin("tsc"), "-p", "e2e"], join(out, "tsc.log"))
if (tsc !== 0) {
  console.error(`tsc -p e2e failed: ${readFileSync(join(out, "tsc.log"), "utf8")}`)
  process.exit(1)
}
console.log(
  `e2e:repeat: ${runs} runs${filters.length ? ` of ${filters.join(" ")}` : ""}; output in ${relative(repo, out)}/`
)

// The same files as `npm run e2e`: its vitest arguments (config, exclusions), read from package.json.
const e2eScript = (JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { scripts: Record<string, string> })
  .scripts.e2e
const suiteArgs = (e2eScript?.match(/vitest run (.*)$/)?.[1] ?? "--config e2e/vitest.config.ts").split(/\s+/)

const results: Array<RunResult> = []
for (let i = 1; i <= runs; i++) {
  const dir = join(out, `run-${i}`)
  mkdirSync(dir, { recursive: true })
  const report = join(dir, "report.json")
  const t0 = Date.now()
  // The lock is held for this run only (others interleave between runs); the cluster is always down before release.
  const vitest = [bin("vitest"), "run", ...suiteArgs, "--reporter=default", "--reporter=json"]
  const code = await run(
    [
      "flock",
      lock,
      "/bin/sh",
      "-c",
      '"$@"; rc=$?; e2e/cluster.sh down; exit $rc',
      "sh",
      ...vitest,
      `--outputFile.json=${report}`,
      ...filters
    ],
    join(dir, "output.log")
  )
  const seconds = (Date.now() - t0) / 1000
  const r: RunResult = { run: i, passed: false, seconds, tests: "no report", failures: [], files: {} }
  if (existsSync(report)) {
    const j = JSON.parse(readFileSync(report, "utf8")) as JsonReport
    r.tests = `${j.numPassedTests}/${j.numTotalTests}`
    for (const f of j.testResults) {
      r.files[basename(f.name)] = (f.endTime - f.startTime) / 1000
      if (f.status === "failed" && f.assertionResults.every((a) => a.status !== "failed"))
        r.failures.push({ test: `${basename(f.name)} (file)`, message: (f.message ?? "").split("\n").slice(0, 8) })
      for (const a of f.assertionResults.filter((a) => a.status === "failed")) {
        r.failures.push({
          test: `${basename(f.name)} > ${a.fullName}`,
          message: (a.failureMessages?.[0] ?? "").split("\n").slice(0, 12)
        })
      }
    }
    r.passed = code === 0 && j.numFailedTests === 0 && r.failures.length === 0
  }
  if (!r.passed) {
    // The next `up` wipes pod logs: keep this run's.
    try {
      cpSync(join(work, "logs"), join(dir, "logs"), { recursive: true })
    } catch {}
    if (r.failures.length === 0)
      r.failures.push({ test: `(exit ${code})`, message: [`see ${relative(repo, join(dir, "output.log"))}`] })
  }
  results.push(r)
  const files = Object.entries(r.files)
    .map(([f, s]) => `${f.replace(/\.test\.ts$/, "")} ${s.toFixed(0)}s`)
    .join(", ")
  console.log(`run ${i}/${runs}: ${r.passed ? "PASS" : "FAIL"} ${r.tests} in ${seconds.toFixed(0)} s (${files})`)
  for (const f of r.failures) console.log(`  failed: ${f.test}\n${f.message.map((l) => `    ${l}`).join("\n")}`)
  writeFileSync(join(out, "summary.json"), `${JSON.stringify(results, null, 2)}\n`)
}

// Summary: pass count, longest streak of passes, per-file min/median/max.
let streak = 0
let best = 0
for (const r of results) {
  streak = r.passed ? streak + 1 : 0
  best = Math.max(best, streak)
}
const passed = results.filter((r) => r.passed).length
console.log(`\ne2e:repeat: ${passed}/${runs} runs passed (longest run of consecutive passes: ${best})`)
const byFile = new Map<string, Array<number>>()
for (const r of results) for (const [f, s] of Object.entries(r.files)) byFile.set(f, [...(byFile.get(f) ?? []), s])
const stat = (xs: Array<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return `min ${s[0]!.toFixed(1)}  median ${s[Math.floor(s.length / 2)]!.toFixed(1)}  max ${s.at(-1)!.toFixed(1)}`
}
for (const [f, xs] of [...byFile].sort()) console.log(`  ${f.padEnd(32)} ${stat(xs)} s`)
console.log(`  ${"whole run (incl. cluster up/down)".padEnd(32)} ${stat(results.map((r) => r.seconds))} s`)
for (const r of results.filter((r) => !r.passed))
  console.log(`  run ${r.run} failed: ${r.failures.map((f) => f.test).join("; ")}`)
process.exit(passed === runs ? 0 : 1)
