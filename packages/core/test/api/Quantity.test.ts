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

  // Found by the round-trip property (replay 5302026786501701): a float underflows 6e-446 to zero, so the
  // admission mirror refused a storage size the API server accepts (resource.ParseQuantity rounds it up to 1n).
  it("round a non-zero value up to a nano-unit, like the API server", () => {
    assert.strictEqual(Api.compareQuantities("+6e-446", "0"), 1)
    assert.strictEqual(Api.compareQuantities("-6e-446", "0"), -1)
    assert.strictEqual(Api.compareQuantities("6e-446", "1n"), 0)
    assert.strictEqual(Api.compareQuantities("1.5n", "2n"), 0)
    assert.strictEqual(Api.compareQuantities("3n", "0.000000003"), 0)
    assert.strictEqual(Api.compareQuantities("0e5", "0"), 0)
    assert.strictEqual(Api.quantityValue("6e-446"), 1e-9)
  })

  it("compare exactly where floats cannot", () => {
    assert.strictEqual(Api.compareQuantities("9007199254740993", "9007199254740992"), 1)
    assert.strictEqual(Api.compareQuantities("1e400", "2e400"), -1)
    assert.strictEqual(Api.compareQuantities("1Ei", "1152921504606846976"), 0)
  })

  it("stay bounded on hostile exponents", () => {
    const started = performance.now()
    assert.strictEqual(Api.compareQuantities("1e999999999999", "2e999999999999"), 0)
    assert.strictEqual(Api.compareQuantities("1e-999999999999", "0"), 1)
    assert.isBelow(performance.now() - started, 1000)
    assert.isUndefined(Api.quantityValue("1e.5"))
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
