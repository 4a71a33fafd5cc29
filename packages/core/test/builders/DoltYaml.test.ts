// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` here is Dolt's config placeholder syntax
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { parse } from "yaml"
import { Builders } from "../../src/index.ts"

const Scalar = Schema.Union([Schema.String, Schema.Int, Schema.Boolean])
const Leaf = Schema.Record(Schema.String, Scalar)
const Document = Schema.Record(
  Schema.String,
  Schema.Union([Scalar, Leaf, Schema.Array(Leaf), Schema.Record(Schema.String, Leaf)])
)

describe("toYaml", () => {
  it.prop(
    "parses back to the same value, as YAML 1.1 (Dolt's go-yaml v2) and 1.2",
    [Document],
    ([document]) => {
      const text = Builders.toYaml(document)
      assert.deepStrictEqual(parse(text, { version: "1.1" }), document)
      assert.deepStrictEqual(parse(text, { version: "1.2" }), document)
    },
    { arbitrary: { runs: 100, size: 5 } }
  )

  it("quotes strings YAML 1.1 would read as something else", () => {
    const text = Builders.toYaml({ a: "on", b: "no", c: "0.0.0.0", d: "12", e: "", f: "plain_value" })
    assert.strictEqual(text, 'a: "on"\nb: "no"\nc: "0.0.0.0"\nd: "12"\ne: ""\nf: plain_value\n')
  })

  it("writes a ${VAR} placeholder as a block scalar, so any expanded value except a newline survives", () => {
    const text = Builders.toYaml({ mcp_server: { password: "${DOLT_MCP_PASSWORD}", port: 7007 } })
    assert.strictEqual(text, "mcp_server:\n  password: |2-\n    ${DOLT_MCP_PASSWORD}\n  port: 7007\n")
    for (const value of [` s3'cr\\et: #x"`, "it's", 'say "hi"', "a: b", "- x", "{}", "&anchor", "*alias", "%"]) {
      // What Dolt does before parsing: paste the variable's value in place of the placeholder.
      const expanded = text.replace("${DOLT_MCP_PASSWORD}", value)
      assert.deepStrictEqual(
        parse(expanded, { version: "1.1" }),
        { mcp_server: { password: value, port: 7007 } },
        value
      )
    }
  })

  it("writes nested lists of maps in block style", () => {
    assert.strictEqual(
      Builders.toYaml({ cluster: { standby_remotes: [{ name: "a", url: "x" }], empty: [] } }),
      "cluster:\n  standby_remotes:\n    - name: a\n      url: x\n  empty: []\n"
    )
  })
})
