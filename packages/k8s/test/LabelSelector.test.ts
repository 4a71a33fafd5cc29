import { LabelSelector } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"

const parse = (s: string) => {
  const r = LabelSelector.parse(s)
  if (Result.isFailure(r)) throw new Error(r.failure)
  return r.success
}

describe("LabelSelector", () => {
  it("parses equality, set-based and existence terms", () => {
    assert.deepStrictEqual(
      parse("app.kubernetes.io/name=db, tier==x,role!=primary,env in (a, b),zone notin (c),ready,!legacy"),
      [
        { key: "app.kubernetes.io/name", operator: "In", values: ["db"] },
        { key: "tier", operator: "In", values: ["x"] },
        { key: "role", operator: "NotIn", values: ["primary"] },
        { key: "env", operator: "In", values: ["a", "b"] },
        { key: "zone", operator: "NotIn", values: ["c"] },
        { key: "ready", operator: "Exists", values: [] },
        { key: "legacy", operator: "DoesNotExist", values: [] }
      ]
    )
    assert.deepStrictEqual(parse(""), [])
  })

  it("matches like the API server", () => {
    const labels = { app: "db", role: "standby" }
    assert.isTrue(LabelSelector.matches(parse("app=db,role!=primary"), labels))
    assert.isTrue(LabelSelector.matches(parse("role notin (primary),!legacy"), labels))
    assert.isFalse(LabelSelector.matches(parse("role in (primary)"), labels))
    assert.isTrue(LabelSelector.matches(parse("zone!=a"), labels))
    assert.isFalse(LabelSelector.matches(parse("zone"), labels))
    assert.isTrue(LabelSelector.matches(parse(""), undefined))
  })

  it("round-trips through the wire format and the structured form", () => {
    const structured = LabelSelector.fromLabelSelector({
      matchLabels: { app: "db" },
      matchExpressions: [
        { key: "role", operator: "In", values: ["primary", "standby"] },
        { key: "x", operator: "DoesNotExist" }
      ]
    })
    assert.isTrue(Result.isSuccess(structured))
    if (Result.isSuccess(structured)) {
      const wire = LabelSelector.format(structured.success)
      assert.strictEqual(wire, "app=db,role in (primary,standby),!x")
      assert.deepStrictEqual(parse(wire), structured.success)
    }
  })

  it("rejects bad input and names the term", () => {
    for (const bad of ["a in (b", "=x", "a=b c", "bad key!=1", `a=${"v".repeat(64)}`]) {
      const r = LabelSelector.parse(bad)
      assert.isTrue(Result.isFailure(r), bad)
    }
    const r = LabelSelector.fromLabelSelector({ matchExpressions: [{ key: "a", operator: "Exist" }] })
    assert.isTrue(Result.isFailure(r) && r.failure.includes('"Exist"'))
  })

  it("field selectors compare dotted paths", () => {
    const sel = LabelSelector.parseFieldSelector("metadata.name=db-0,status.phase!=Failed")
    assert.isTrue(Result.isSuccess(sel))
    if (Result.isSuccess(sel)) {
      assert.isTrue(
        LabelSelector.fieldsMatch(sel.success, { metadata: { name: "db-0" }, status: { phase: "Running" } })
      )
      assert.isFalse(LabelSelector.fieldsMatch(sel.success, { metadata: { name: "db-1" } }))
    }
  })
})
