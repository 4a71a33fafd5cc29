/**
 * The schemas and the generated CRD must agree on every manifest, not only on the hand-written ones: mutate one
 * field of a valid manifest at random (replace it with a value of another type or range, or delete it) and
 * require both gates to accept, or both to reject.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { parse } from "yaml"
import { Api } from "../../src/index.ts"
import { type Json, mutate, pathsOf, replacements } from "../fixtures/api/cases.ts"
import { admit } from "./ApiServer.ts"

const fixture = (file: string): Json =>
  parse(readFileSync(join(import.meta.dirname, "..", "fixtures", "api", "valid", file), "utf8"))

const Index = Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 10_000 }))

describe("schema and CRD agree on mutated manifests", () => {
  for (const file of [
    "doltdb-full.yaml",
    "doltdb-sample.yaml",
    "backup-s3.yaml",
    "backupschedule.yaml",
    "grant.yaml",
    "database.yaml",
    "user.yaml",
    "snapshot.yaml"
  ]) {
    const manifest = fixture(file)
    const spec = (manifest as Record<string, Json>).spec
    const paths = pathsOf(spec, ["spec"])
    const info = Api.kindInfo(String((manifest as Record<string, Json>).kind))!
    it.effect.prop(
      file,
      [Index, Index],
      ([p, r]) =>
        Effect.gen(function* () {
          const path = paths[p % paths.length]!
          const mutated = mutate(manifest, path, replacements[r % replacements.length]!)
          const crdAccepts = admit(mutated).violations.length === 0
          const schemaAccepts = Exit.isSuccess(yield* Effect.exit(info.decode(mutated)))
          assert.strictEqual(
            schemaAccepts,
            crdAccepts,
            `${Api.formatPath(path)} = ${JSON.stringify(replacements[r % replacements.length])}: schema ${schemaAccepts ? "accepts" : "rejects"}, CRD ${crdAccepts ? "accepts" : "rejects"}`
          )
        }),
      { arbitrary: { runs: 100 } }
    )
  }
})
