/**
 * Runs the installed binary the way a user does (`npx doltdb-operator render ...` from the repository root).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { parseAllDocuments } from "yaml"

const root = fileURLToPath(new URL("../../../../", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "doltdb-render-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const render = (manifest: string, ...flags: Array<string>) => {
  const file = join(dir, `doltdb-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, manifest)
  return spawnSync("npx", ["--no-install", "doltdb-operator", "render", "-f", file, ...flags], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000
  })
}

const renderStdin = (manifest: string) =>
  spawnSync("npx", ["--no-install", "doltdb-operator", "render", "-f", "-"], {
    cwd: root,
    input: manifest,
    encoding: "utf8",
    timeout: 60_000
  })

const manifest = (replicas: string) => `apiVersion: k8s.dolthub.com/v1alpha
kind: DoltDB
metadata:
  name: mydb
spec:
  engineVersion: "1.83.6"
  replicas: ${replicas}
  storage:
    size: 10Gi
  replication:
    enabled: true
`

describe("npx doltdb-operator render", () => {
  it("prints every child object as valid multi-document YAML", { timeout: 60_000 }, () => {
    const result = render(manifest("2"))
    assert.strictEqual(result.status, 0, result.stderr)
    const documents = parseAllDocuments(result.stdout)
    assert.isTrue(Array.isArray(documents))
    const parsed = documents as Array<{ errors: ReadonlyArray<unknown>; toJS: () => { kind: string } }>
    assert.isTrue(parsed.every((d) => d.errors.length === 0))
    assert.deepStrictEqual(
      parsed.map((d) => d.toJS().kind),
      [
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Service",
        "Service",
        "Service",
        "StatefulSet",
        "PodDisruptionBudget"
      ]
    )
    assert.include(result.stderr, "metadata.namespace=default")
  })

  it("rejects bad input (here on stdin) with exit code 2, the field on stderr and nothing on stdout", {
    timeout: 60_000
  }, () => {
    const result = renderStdin(manifest("two"))
    assert.strictEqual(result.status, 2)
    assert.strictEqual(result.stdout, "")
    assert.include(result.stderr, "spec.replicas")
  })

  it("rejects an unknown output format the same way", { timeout: 60_000 }, () => {
    const result = render(manifest("2"), "-o", "xml")
    assert.strictEqual(result.status, 2)
    assert.strictEqual(result.stdout, "")
    assert.include(result.stderr, "output")
  })
})
