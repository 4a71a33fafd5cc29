import { validateGrant } from "@doltdb-op/core/services/Dolt"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Sql from "../../src/live/statements.ts"

describe("statement builders", () => {
  it("quotes identifiers with doubled backticks and never splits on dots", () => {
    assert.strictEqual(Sql.quoteId("we`ird.name"), "`we``ird.name`")
  })

  it("escapes account parts as string literals", () => {
    assert.strictEqual(Sql.account({ name: "o'neil", host: "%" }), "'o\\'neil'@'%'")
  })

  it.effect("GRANT keeps ALL PRIVILEGES alone and renders the grant option", () =>
    Effect.gen(function* () {
      const g = yield* validateGrant({
        account: { name: "u", host: "%" },
        privileges: ["select", "all", "GRANT OPTION"],
        database: "d`b",
        table: "*",
        grantOption: false
      })
      assert.strictEqual(Sql.grant(g), "GRANT ALL PRIVILEGES ON `d``b`.* TO 'u'@'%' WITH GRANT OPTION")
      assert.strictEqual(Sql.revoke(g), "REVOKE ALL PRIVILEGES, GRANT OPTION ON `d``b`.* FROM 'u'@'%'")
    })
  )
})
