/**
 * The CLI's input bounds (cli/ManifestInput.ts) in-process: size, encoding, document count, alias expansion.
 * Each case is an input that crashed or exhausted `render`/`simulate` before (issue #13 §4).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { MaxDocuments, MaxInputBytes, parseDocuments, readBounded } from "../../src/cli/ManifestInput.ts"
import { renderManifests } from "../../src/cli/RenderDocuments.ts"

const dir = mkdtempSync(join(tmpdir(), "doltdb-input-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

const doltdb = (name: string) =>
  `apiVersion: k8s.dolthub.com/v1alpha\nkind: DoltDB\nmetadata:\n  name: ${name}\nspec:\n  engineVersion: "1.83.6"\n  replicas: 1\n  storage:\n    size: 1Gi\n`

/** 10 levels of 10 aliases: 10^10 nodes once expanded, from under 1 KB. */
const aliasBomb = () => {
  const lines = ["extra:", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
  for (let i = 1; i <= 10; i++)
    lines.push(
      `  a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(", ")}]`
    )
  return `${doltdb("mydb")}${lines.join("\n")}\n`
}

const failure = <A, E extends { readonly message: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (error) => {
    assert.strictEqual((error as { _tag?: string })._tag, "RenderInputError")
    assert.notInclude(error.message, "\n", "one line")
    return error.message
  })

describe("readBounded", () => {
  it.effect("stops reading endless devices at the limit", () =>
    Effect.gen(function* () {
      for (const device of ["/dev/zero", "/dev/urandom"]) {
        assert.strictEqual(
          yield* failure(readBounded(device)),
          `${device}: input larger than 4 MiB (the limit; the API server takes at most 3 MiB per object): not read further`
        )
      }
    }).pipe(Effect.provide(NodeServices.layer))
  )

  it.effect("refuses a file one byte over the limit (a 50 MB annotation), reads one at the limit", () =>
    Effect.gen(function* () {
      const over = file("over.yaml", `${doltdb("a")}  big: "${"a".repeat(MaxInputBytes)}"\n`)
      assert.include(yield* failure(readBounded(over)), "input larger than 4 MiB")
      const exact = file("exact.yaml", "#".repeat(MaxInputBytes))
      assert.strictEqual((yield* readBounded(exact)).text.length, MaxInputBytes)
    }).pipe(Effect.provide(NodeServices.layer))
  )

  it.effect("refuses bytes that are not UTF-8, and NUL bytes", () =>
    Effect.gen(function* () {
      const binary = file("binary.yaml", new Uint8Array([0x6b, 0x3a, 0x20, 0xff, 0xfe, 0x80]))
      assert.strictEqual(
        yield* failure(readBounded(binary)),
        `${binary}: not UTF-8 text (a YAML or JSON manifest is expected)`
      )
      const nul = file("nul.yaml", "kind: DoltDB\u0000\n")
      assert.include(yield* failure(readBounded(nul)), "contains NUL bytes")
    }).pipe(Effect.provide(NodeServices.layer))
  )

  it.effect("names a missing file", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        yield* failure(readBounded("/nonexistent.yaml")),
        "cannot read /nonexistent.yaml: ENOENT: no such file or directory, open '/nonexistent.yaml'"
      )
    }).pipe(Effect.provide(NodeServices.layer))
  )
})

describe("parseDocuments", () => {
  it.effect("an alias bomb is refused by name, not a ReferenceError", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        yield* failure(parseDocuments("bomb.yaml", aliasBomb())),
        "bomb.yaml (document 1): YAML aliases expand to too many nodes (more than 100 per alias): refused as a resource exhaustion attack"
      )
      assert.include(yield* failure(renderManifests("bomb.yaml", aliasBomb(), "yaml")), "YAML aliases expand")
    })
  )

  it.effect("stops at the first document over the limit (36,000 documents)", () =>
    Effect.gen(function* () {
      const many = Array.from({ length: 36_000 }, (_, i) => doltdb(`db${i}`)).join("---\n")
      assert.strictEqual(
        yield* failure(parseDocuments("many.yaml", many)),
        `many.yaml: more than ${MaxDocuments} YAML documents (the limit): split the file`
      )
      const atLimit = Array.from({ length: MaxDocuments }, (_, i) => doltdb(`db${i}`)).join("---\n")
      assert.strictEqual((yield* parseDocuments("ok.yaml", atLimit)).length, MaxDocuments)
    })
  )

  it.effect("a syntax error names the document, line and column on one line", () =>
    Effect.gen(function* () {
      const message = yield* failure(parseDocuments("bad.yaml", `${doltdb("a")}---\nspec: [unclosed\n`))
      assert.match(message, /^bad\.yaml \(document 2\): not valid YAML at line \d+, column \d+: /u)
    })
  )

  it.effect("a single document is named by its source only; aliases within the limit still work", () =>
    Effect.gen(function* () {
      const [only] = yield* parseDocuments("one.yaml", "a: &x [1, 2]\nb: *x\n")
      assert.deepStrictEqual(only, { where: "one.yaml", value: { a: [1, 2], b: [1, 2] } })
    })
  )
})
