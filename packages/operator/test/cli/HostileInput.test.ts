/**
 * Hostile input against the installed `doltdb-operator` binary, as a user or a script would run it (issue #13
 * §4): each ends with exit 2 and one line on stderr (no stack trace) instead of a crash, a hang or gigabytes of
 * memory; a signal during a render exits 130 with nothing on stdout. /dev/urandom, /dev/zero and the alias bomb
 * in `simulate` are covered in-process (ManifestInput.test.ts, Program.test.ts). Time and memory figures come from
 * `node packages/operator/bench/hostile-input.ts` (docs/security.md), not from assertions here.
 */
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { open } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { aliasBomb, heavyDocuments, manyDocuments } from "./HostileInputs.ts"

const bin = fileURLToPath(new URL("../../bin/doltdb-operator.js", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "doltdb-hostile-test-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Result {
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the binary; `fifo` is written once the command opened it, then `signal` is sent 200 ms later. */
const cli = (
  args: ReadonlyArray<string>,
  fifo?: { readonly path: string; readonly content: string; readonly signal: NodeJS.Signals }
) =>
  new Promise<Result>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    const killer = setTimeout(() => child.kill("SIGKILL"), 100_000)
    if (fifo !== undefined) {
      void open(fifo.path, "w").then(async (handle) => {
        await handle.writeFile(fifo.content)
        await handle.close()
        setTimeout(() => child.kill(fifo.signal), 200)
      })
    }
    child.on("exit", (status, signal) => {
      clearTimeout(killer)
      resolve({ status, signal, stdout, stderr })
    })
  })

const file = (name: string, content: string) => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

const oneLineError = (result: Result, expected: RegExp) => {
  assert.strictEqual(result.status, 2, result.stderr)
  assert.strictEqual(result.stdout, "")
  assert.match(result.stderr, /^error: [^\n]*\n$/u, "one line on stderr")
  assert.match(result.stderr, expected)
}

// One at a time: each start of the binary costs seconds of CPU on a loaded machine.
describe("doltdb-operator on hostile input", () => {
  it("render of a YAML alias bomb", { timeout: 120_000 }, async () => {
    oneLineError(await cli(["render", "-f", file("bomb.yaml", aliasBomb())]), /YAML aliases expand to too many nodes/u)
  })

  it("render of 36,000 DoltDB documents (5 MB)", { timeout: 120_000 }, async () => {
    oneLineError(await cli(["render", "-f", file("many.yaml", manyDocuments(36_000))]), /input larger than 4 MiB/u)
  })

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} during a render exits 130 with nothing on stdout`, { timeout: 120_000 }, async () => {
      const path = join(dir, `${signal}.fifo`)
      execFileSync("mkfifo", [path])
      const result = await cli(["render", "-f", path], { path, content: heavyDocuments(), signal })
      assert.strictEqual(result.signal, null, "exited, not killed by the signal")
      assert.strictEqual(result.status, 130, result.stderr)
      assert.strictEqual(result.stdout, "")
    })
  }
})
