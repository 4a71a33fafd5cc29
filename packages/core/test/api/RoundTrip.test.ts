/**
 * Round-trip laws over generated objects: encoding a decoded DoltDB and decoding it again gives it back, and
 * the encoded form passes the generated CRD (so whatever the operator writes, the API server accepts).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Api } from "../../src/index.ts"
import { admit } from "./ApiServer.ts"

const kinds = ["DoltDB", "Database", "User", "Grant", "Snapshot", "Backup", "BackupSchedule"] as const

describe("round trip", () => {
  for (const kind of kinds) {
    const info = Api.kindInfo(kind)!
    it.effect.prop(
      `${kind}: decode(encode(a)) == a, and encode(a) passes the CRD`,
      [info.schema],
      ([value]) =>
        Effect.gen(function* () {
          const encoded = yield* info.encode(value)
          assert.deepStrictEqual(yield* info.decode(encoded), value)
          assert.deepStrictEqual(
            admit(encoded).violations,
            [],
            JSON.stringify({ encoded, v: admit(encoded).violations }).slice(0, 1500)
          )
        }),
      // Generating DoltDBs takes seconds on a loaded 2-core machine: a timeout here is not a counterexample.
      { arbitrary: { runs: 30 }, timeout: 60_000 }
    )
  }
})
