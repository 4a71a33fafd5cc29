import { assert, describe, it } from "@effect/vitest"
import { Api } from "../../src/index.ts"

describe("quantities", () => {
  it("parses binary, decimal and exponent suffixes", () => {
    assert.strictEqual(Api.quantityValue("1Ki"), 1024)
    assert.strictEqual(Api.quantityValue("10Gi"), 10 * 2 ** 30)
    assert.strictEqual(Api.quantityValue("500m"), 0.5)
    assert.strictEqual(Api.quantityValue("2k"), 2000)
    assert.strictEqual(Api.quantityValue("1e3"), 1000)
    assert.strictEqual(Api.quantityValue(".5"), 0.5)
    assert.strictEqual(Api.quantityValue(42), 42)
  })

  it("rejects what is not a quantity", () => {
    assert.isUndefined(Api.quantityValue("10GB"))
    assert.isUndefined(Api.quantityValue("lots"))
    assert.isUndefined(Api.quantityValue(""))
  })

  it("compares across units", () => {
    assert.strictEqual(Api.compareQuantities("1Gi", "1024Mi"), 0)
    assert.strictEqual(Api.compareQuantities("1G", "1Gi"), -1)
    assert.strictEqual(Api.compareQuantities("100Gi", "10Gi"), 1)
    assert.strictEqual(Api.compareQuantities(10 * 2 ** 30, "10Gi"), 0)
  })
})

describe("field paths", () => {
  it("render like kubectl", () => {
    assert.strictEqual(Api.formatPath(["spec", "tolerations", 0, "key"]), "spec.tolerations[0].key")
    assert.strictEqual(
      Api.formatPath(["spec", "podAnnotations", "example.com/x"]),
      'spec.podAnnotations["example.com/x"]'
    )
    assert.strictEqual(Api.formatPath([]), "")
  })
})

describe("DoltDB references", () => {
  it("default to the referring object's namespace", () => {
    assert.deepStrictEqual(Api.resolveDoltDBRef({ name: "dolt" }, "apps"), { name: "dolt", namespace: "apps" })
    assert.deepStrictEqual(Api.resolveDoltDBRef({ name: "dolt", namespace: "" }, "apps"), {
      name: "dolt",
      namespace: "apps"
    })
    assert.deepStrictEqual(Api.resolveDoltDBRef({ name: "dolt", namespace: "db" }, "apps"), {
      name: "dolt",
      namespace: "db"
    })
  })
})
