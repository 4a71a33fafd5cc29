/**
 * `doltdb-operator simulate` on bad input: exit code 2, the bad field named on stderr, nothing on stdout; a
 * violated invariant: exit code 1.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Exit } from "effect"
import { exitCode, isUsageError } from "../../src/cli/Cli.ts"
import { SimulationFailed } from "../../src/cli/SimulateCommand.ts"

const root = fileURLToPath(new URL("../../../../", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "doltdb-simulate-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const simulateFile = (text: string) => {
  const file = join(dir, `scenario-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, text)
  return spawnSync("npx", ["--no-install", "doltdb-operator", "simulate", "-f", file], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000
  })
}

const scenario = (events: string) => `name: bad
duration: 30s
objects:
  - { apiVersion: v1, kind: Secret, metadata: { name: db-credentials }, stringData: { admin-user: root, admin-password: pw } }
  - apiVersion: k8s.dolthub.com/v1alpha
    kind: DoltDB
    metadata: { name: db }
    spec: { engineVersion: "2.3.1", replicas: 3, storage: { size: 1Gi }, replication: { enabled: true } }
events:
${events}
`

describe("npx doltdb-operator simulate, bad input", () => {
  it("a bad event time: exit 2, events[3].at named on stderr, empty stdout", { timeout: 60_000 }, () => {
    const result = simulateFile(
      scenario(`  - { at: 1s, kill: db-1 }
  - { at: 2s, heal: db-1 }
  - { at: 3s, operatorRestart: {} }
  - { at: soon, kill: db-0 }`)
    )
    assert.strictEqual(result.status, 2, result.stderr)
    assert.strictEqual(result.stdout, "")
    assert.match(result.stderr, /events\[3\]\.at: Expected a duration/u)
  })

  it("a missing file: exit 2, the file named, empty stdout", { timeout: 60_000 }, () => {
    const result = spawnSync(
      "npx",
      ["--no-install", "doltdb-operator", "simulate", "-f", join(dir, "does-not-exist.yaml")],
      { cwd: root, encoding: "utf8", timeout: 60_000 }
    )
    assert.strictEqual(result.status, 2, result.stderr)
    assert.strictEqual(result.stdout, "")
    assert.include(result.stderr, "does-not-exist.yaml")
  })
})

describe("simulate's exit codes", () => {
  it("an invariant violation is exit code 1, not a usage error, and prints only its message", () => {
    const error = new SimulationFailed({ message: "2 invariant violation(s) in scenario x" })
    assert.strictEqual(exitCode(Exit.fail(error)), 1)
    assert.isFalse(isUsageError(error))
    assert.strictEqual(error.stack, "simulate: 2 invariant violation(s) in scenario x")
  })
})
