import { assert, describe, it } from "@effect/vitest"
import { parseGoDuration } from "../../src/api/GoDuration.ts"
import { afterRevoke, canonical, covers, holds, normalizePrivileges } from "../../src/sqlresources/Privileges.ts"

describe("normalizePrivileges", () => {
  const cases = [
    ["sorts, upper-cases and de-duplicates", ["insert", " select ", "SELECT"], false, ["INSERT", "SELECT"], false],
    ["ALL absorbs the rest", ["select", "all"], false, ["ALL PRIVILEGES"], false],
    ["GRANT OPTION moves to the flag", ["SELECT", "grant option"], false, ["SELECT"], true],
    ["USAGE is no privilege", ["USAGE"], true, [], true],
    ["multi-word privileges with odd spacing", ["lock   tables"], false, ["LOCK TABLES"], false]
  ] as const
  for (const [name, raw, option, privileges, grantOption] of cases) {
    it(name, () => assert.deepStrictEqual(normalizePrivileges(raw, option), { _tag: "Valid", privileges, grantOption }))
  }

  it("rejects every privilege outside the allow-list, naming them", () =>
    assert.deepStrictEqual(normalizePrivileges(["SELECT", "DROP TABLE x; --", "SUPER_ADMIN"], false), {
      _tag: "Invalid",
      rejected: ["DROP TABLE x; --", "SUPER_ADMIN"]
    }))
})

describe("privilege sets", () => {
  const basic = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "INDEX", "ALTER"]
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>, string, boolean]> = [
    ["listed", ["SELECT"], "SELECT", true],
    ["not listed", ["SELECT"], "INSERT", false],
    ["ALL PRIVILEGES holds everything", ["ALL PRIVILEGES"], "TRIGGER", true],
    ["an expanded ALL (Dolt, MySQL 8 *.*) holds ALL", [...basic, "TRIGGER"], "ALL PRIVILEGES", true],
    ["a partial list does not hold ALL", basic.slice(1), "ALL PRIVILEGES", false]
  ]
  for (const [name, held, privilege, expected] of cases) {
    it(`holds: ${name}`, () => assert.strictEqual(holds(held, privilege), expected))
  }

  it("covers: ALL asks for every privilege", () => {
    assert.isTrue(covers(["ALL PRIVILEGES"], "SELECT"))
    assert.isFalse(covers(["INSERT"], "SELECT"))
  })

  it("afterRevoke: REVOKE ALL empties the level, others remove what they name", () => {
    assert.deepStrictEqual(afterRevoke(["SELECT", "INSERT"], ["ALL PRIVILEGES"]), [])
    assert.deepStrictEqual(afterRevoke(["SELECT", "INSERT"], ["INSERT"]), ["SELECT"])
  })

  it("canonical: sorted, unique, ALL alone", () => {
    assert.deepStrictEqual(canonical(["UPDATE", "SELECT", "UPDATE"]), ["SELECT", "UPDATE"])
    assert.deepStrictEqual(canonical(["SELECT", "ALL PRIVILEGES"]), ["ALL PRIVILEGES"])
  })
})

describe("parseGoDuration", () => {
  const cases: ReadonlyArray<readonly [string, number | undefined]> = [
    ["30s", 30_000],
    ["1m30s", 90_000],
    ["1.5h", 5_400_000],
    ["500ms", 500],
    ["0", 0],
    ["2h45m10s", 9_910_000],
    ["+5s", 5_000],
    ["-5s", undefined],
    ["5", undefined],
    ["s", undefined],
    ["5 s", undefined],
    ["", undefined]
  ]
  for (const [text, expected] of cases)
    it(JSON.stringify(text), () => assert.strictEqual(parseGoDuration(text), expected))
})
