import { assert, describe, it } from "@effect/vitest"
import { Api } from "../src/index.ts"

describe("API group", () => {
  it("is the reference operator's group and version", () => {
    assert.strictEqual(Api.ApiVersion, "k8s.dolthub.com/v1alpha")
  })
})
