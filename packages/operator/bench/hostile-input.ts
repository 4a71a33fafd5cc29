/**
 * Hostile input against the `doltdb-operator` CLI: each case runs the real binary under `/usr/bin/time -v` and
 * prints its exit code, wall time, peak RSS and the first line of stderr. Figures, not assertions (the tests in
 * test/cli/HostileInput.test.ts assert the behaviour).
 *
 *   node packages/operator/bench/hostile-input.ts [--timeout 60] [case ...]
 *
 * Cases: startup (`--version`: the cost of starting the CLI, which every other case includes), bomb (YAML alias
 * bomb), urandom (/dev/urandom), zero (/dev/zero), annotation (a 50 MB annotation), documents (5 MB of ~35k DoltDB
 * documents), documents-3mb (20,000 documents, 3.6 MB: under the size limit, over the document limit), heavy (the largest input under the limits: 200 DoltDBs of 32 replicas), sigint / sigterm (the
 * signal 1 s after the heavy input was written to the render's FIFO: during the render), simulate-bomb (the alias
 * bomb as a scenario). A case still running at the timeout is killed (SIGKILL) and reported as such.
 */
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { open } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { aliasBomb, doltdbManifest, heavyDocuments, manyDocuments } from "../test/cli/HostileInputs.ts"

const bin = fileURLToPath(new URL("../bin/doltdb-operator.js", import.meta.url))
const args = process.argv.slice(2)
const timeoutIndex = args.indexOf("--timeout")
const timeoutSeconds = timeoutIndex >= 0 ? Number(args.splice(timeoutIndex, 2)[1]) : 60
const dir = mkdtempSync(join(tmpdir(), "doltdb-hostile-"))

const write = (name: string, text: string) => {
  const file = join(dir, name)
  writeFileSync(file, text)
  return file
}

interface Case {
  readonly argv: ReadonlyArray<string>
  /** Written to the FIFO the command reads (`argv` names it) once the command has opened it. */
  readonly fifo?: string
  readonly signal?: NodeJS.Signals
}

const fifo = (name: string) => {
  const path = join(dir, name)
  execFileSync("mkfifo", [path])
  return path
}

const cases: Record<string, () => Case> = {
  startup: () => ({ argv: ["--version"] }),
  bomb: () => ({ argv: ["render", "-f", write("bomb.yaml", aliasBomb())] }),
  urandom: () => ({ argv: ["render", "-f", "/dev/urandom"] }),
  zero: () => ({ argv: ["render", "-f", "/dev/zero"] }),
  annotation: () => ({
    argv: [
      "render",
      "-f",
      write("annotation.yaml", doltdbManifest("mydb", { annotation: "a".repeat(50 * 1024 * 1024) }))
    ]
  }),
  documents: () => ({ argv: ["render", "-f", write("documents.yaml", manyDocuments(36_000))] }),
  "documents-3mb": () => ({ argv: ["render", "-f", write("documents-3mb.yaml", manyDocuments(20_000))] }),
  heavy: () => ({ argv: ["render", "-f", write("heavy.yaml", heavyDocuments())] }),
  sigint: () => ({ argv: ["render", "-f", fifo("sigint.fifo")], fifo: heavyDocuments(), signal: "SIGINT" }),
  sigterm: () => ({ argv: ["render", "-f", fifo("sigterm.fifo")], fifo: heavyDocuments(), signal: "SIGTERM" }),
  "simulate-bomb": () => ({ argv: ["simulate", "-f", write("bomb.yaml", aliasBomb())] })
}

const run = (name: string, c: Case) =>
  new Promise<void>((resolve) => {
    const timeFile = join(dir, `${name}.time`)
    const started = process.hrtime.bigint()
    const child = spawn("/usr/bin/time", ["-v", "-o", timeFile, process.execPath, bin, ...c.argv], {
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString("utf8")
    })
    // Signal the node process itself (the child of time), as a terminal or the kubelet would, 1 s after the
    // input was written (the FIFO opens for writing only once the command opened it: it has started).
    let signalTimer: NodeJS.Timeout | undefined
    const fifoPath = c.argv[c.argv.length - 1]
    if (c.fifo !== undefined && fifoPath !== undefined) {
      void open(fifoPath, "w").then(async (handle) => {
        await handle.writeFile(c.fifo ?? "")
        await handle.close()
        if (c.signal !== undefined)
          signalTimer = setTimeout(() => {
            if (child.pid !== undefined) spawn("pkill", [`-${c.signal?.slice(3)}`, "-P", String(child.pid)])
          }, 1000)
      })
    }
    let killed = false
    const killTimer = setTimeout(() => {
      killed = true
      if (child.pid !== undefined) spawn("pkill", ["-KILL", "-P", String(child.pid)])
    }, timeoutSeconds * 1000)
    child.on("exit", () => {
      clearTimeout(killTimer)
      if (signalTimer !== undefined) clearTimeout(signalTimer)
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      let time = ""
      try {
        time = readFileSync(timeFile, "utf8")
      } catch {}
      const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/u.exec(time)?.[1] ?? Number.NaN)
      const exit = /Exit status: (\d+)/u.exec(time)?.[1] ?? /signal (\d+)/u.exec(time)?.[0] ?? "?"
      const lines = stderr.split("\n").filter((line) => line.trim() !== "")
      console.log(
        [
          name.padEnd(14),
          `exit ${killed ? `killed at ${timeoutSeconds}s` : exit}`.padEnd(24),
          `${seconds.toFixed(2)} s`.padStart(9),
          `${(rssKb / 1024).toFixed(0)} MB`.padStart(9),
          `stderr ${lines.length} line(s): ${(lines[0] ?? "").slice(0, 140)}`
        ].join("  ")
      )
      resolve()
    })
  })

const selected = args.length > 0 ? args : Object.keys(cases)
console.log(`node ${process.version}, timeout ${timeoutSeconds}s`)
for (const name of selected) {
  const make = cases[name]
  if (make === undefined) throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(", ")}`)
  await run(name, make())
}
rmSync(dir, { recursive: true, force: true })
