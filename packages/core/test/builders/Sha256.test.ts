import { createHash } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Builders } from "../../src/index.ts"

const nodeSha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex")

describe("sha256Hex", () => {
  it("matches the FIPS 180-4 test vectors", () => {
    assert.strictEqual(Builders.sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert.strictEqual(Builders.sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  })

  it("matches node:crypto at the padding boundaries", () => {
    for (const length of [55, 56, 63, 64, 65, 119, 120, 1000]) {
      const text = "x".repeat(length)
      assert.strictEqual(Builders.sha256Hex(text), nodeSha256(text), `length ${length}`)
    }
  })

  it.prop("matches node:crypto on any text, multi-byte characters included", [Schema.String], ([text]) => {
    assert.strictEqual(Builders.sha256Hex(text), nodeSha256(text))
  })
})
