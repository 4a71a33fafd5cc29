import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Api } from "../../src/index.ts"
import { admit } from "./ApiServer.ts"

const doltdb = (spec: Record<string, unknown>) => ({
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "DoltDB",
  metadata: { name: "db", namespace: "ns" },
  spec: { engineVersion: "2.3.1", replicas: 1, storage: { size: "1Gi" }, ...spec }
})

describe("spec.bootstrap.from.volumeSnapshot", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, unknown>, boolean]> = [
    ["alone", { bootstrap: { from: { volumeSnapshot: "s1" } } }, true],
    ["the reference's storage.volumeSnapshot alone", { storage: { size: "1Gi", volumeSnapshot: "s1" } }, true],
    [
      "both naming the same snapshot",
      { storage: { size: "1Gi", volumeSnapshot: "s1" }, bootstrap: { from: { volumeSnapshot: "s1" } } },
      true
    ],
    [
      "both naming different snapshots",
      { storage: { size: "1Gi", volumeSnapshot: "s1" }, bootstrap: { from: { volumeSnapshot: "s2" } } },
      false
    ],
    ["an empty name", { bootstrap: { from: { volumeSnapshot: "" } } }, false]
  ]
  for (const [name, spec, ok] of cases)
    it.effect(`${name}: the schema and the CRD ${ok ? "accept" : "reject"}`, () =>
      Effect.gen(function* () {
        const manifest = doltdb(spec)
        assert.strictEqual(admit(manifest).violations.length === 0, ok)
        assert.strictEqual(Exit.isSuccess(yield* Effect.exit(Api.decodeDoltDB(manifest))), ok)
      })
    )
  it("bootstrapSnapshot prefers bootstrap.from and ignores an empty storage.volumeSnapshot", () => {
    assert.strictEqual(Api.bootstrapSnapshot({ storage: { volumeSnapshot: "" } }), undefined)
    assert.strictEqual(Api.bootstrapSnapshot({ storage: { volumeSnapshot: "a" } }), "a")
    assert.strictEqual(Api.bootstrapSnapshot({ storage: {}, bootstrap: { from: { volumeSnapshot: "b" } } }), "b")
  })
})
