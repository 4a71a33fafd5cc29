import { assert, describe, it } from "@effect/vitest"
import { isStaticPrivilege } from "../../src/sqlresources/Privileges.ts"
import { type HeldGrant, parseGrantLine, parseShowGrants } from "../../src/sqlresources/ShowGrants.ts"

const held = (database: string, table: string, privileges: ReadonlyArray<string>, grantOption = false): HeldGrant => ({
  database,
  table,
  privileges,
  grantOption
})

describe("parseGrantLine", () => {
  const cases: ReadonlyArray<readonly [string, string, HeldGrant | undefined]> = [
    // MySQL 8
    ["mysql: usage", "GRANT USAGE ON *.* TO `bob`@`%`", held("*", "*", [])],
    [
      "mysql: db level with grant option",
      "GRANT SELECT, INSERT ON `app`.* TO `bob`@`%` WITH GRANT OPTION",
      held("app", "*", ["SELECT", "INSERT"], true)
    ],
    [
      "mysql: table level",
      "GRANT SELECT, UPDATE ON `app`.`orders` TO `bob`@`10.0.0.%`",
      held("app", "orders", ["SELECT", "UPDATE"])
    ],
    [
      "mysql: ALL PRIVILEGES on a db",
      "GRANT ALL PRIVILEGES ON `app`.* TO `bob`@`%`",
      held("app", "*", ["ALL PRIVILEGES"])
    ],
    [
      "mysql: column privileges are not table privileges",
      "GRANT SELECT (`id`, `name`), INSERT ON `app`.`t` TO `bob`@`%`",
      held("app", "t", ["INSERT"])
    ],
    [
      "mysql: multi-word privileges",
      "GRANT CREATE TEMPORARY TABLES, LOCK TABLES, SHOW VIEW ON `app`.* TO `bob`@`%`",
      held("app", "*", ["CREATE TEMPORARY TABLES", "LOCK TABLES", "SHOW VIEW"])
    ],
    [
      "mysql: dynamic privileges without spaces",
      "GRANT BACKUP_ADMIN,XA_RECOVER_ADMIN ON *.* TO `root`@`localhost` WITH GRANT OPTION",
      held("*", "*", ["BACKUP_ADMIN", "XA_RECOVER_ADMIN"], true)
    ],
    [
      "mysql: escaped wildcard in a db name",
      "GRANT SELECT ON `app\\_db`.* TO `bob`@`%`",
      held("app_db", "*", ["SELECT"])
    ],
    ["mysql: doubled backtick in a name", "GRANT SELECT ON `we``ird`.* TO `bob`@`%`", held("we`ird", "*", ["SELECT"])],
    ["mysql: role grant", "GRANT `reader`@`%`,`writer`@`%` TO `bob`@`%`", undefined],
    ["mysql: routine grant", "GRANT EXECUTE ON PROCEDURE `app`.`p` TO `bob`@`%`", undefined],
    ["mysql: TABLE keyword", "GRANT SELECT ON TABLE `app`.`t` TO `bob`@`%`", held("app", "t", ["SELECT"])],
    // MariaDB
    [
      "mariadb: IDENTIFIED BY PASSWORD (hash is not a grant option)",
      "GRANT USAGE ON *.* TO 'bob'@'%' IDENTIFIED BY PASSWORD '*A4B6157319038724E3560894F7F932C8886EBFCF'",
      held("*", "*", [])
    ],
    [
      "mariadb: password hash containing the words GRANT OPTION stays a string",
      "GRANT USAGE ON *.* TO `bob`@`%` IDENTIFIED VIA ed25519 USING 'GRANT OPTION'",
      held("*", "*", [])
    ],
    [
      "mariadb: backticked, all privileges, grant option",
      "GRANT ALL PRIVILEGES ON `app`.* TO `bob`@`%` WITH GRANT OPTION",
      held("app", "*", ["ALL PRIVILEGES"], true)
    ],
    [
      "mariadb: grant option with resource limits",
      "GRANT SELECT ON *.* TO `bob`@`%` WITH GRANT OPTION MAX_USER_CONNECTIONS 5",
      held("*", "*", ["SELECT"], true)
    ],
    [
      "mariadb: resource limits only",
      "GRANT USAGE ON *.* TO `bob`@`%` WITH MAX_QUERIES_PER_HOUR 10",
      held("*", "*", [])
    ],
    ["mariadb: proxy", "GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION", undefined],
    ["mariadb: role", "GRANT `app_role` TO `bob`@`%`", undefined],
    ["mariadb: unquoted role", "GRANT app_role TO 'bob'@'%'", undefined],
    // Dolt (go-mysql-server)
    [
      "dolt: expanded db-level list",
      "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER ON `app`.* TO `bob`@`%`",
      held("app", "*", ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "REFERENCES", "INDEX", "ALTER"])
    ],
    [
      "dolt: ALL shorthand",
      "GRANT ALL ON *.* TO `root`@`localhost` WITH GRANT OPTION",
      held("*", "*", ["ALL PRIVILEGES"], true)
    ],
    [
      "dolt: leading comma after a skipped grant option",
      "GRANT , SELECT ON `app`.`t` TO `bob`@`%`",
      held("app", "t", ["SELECT"])
    ],
    [
      "lower case and extra spaces",
      "grant  select ,  insert on app.* to bob@'%'",
      held("app", "*", ["SELECT", "INSERT"])
    ],
    ["not a grant", "REVOKE SELECT ON *.* FROM `bob`@`%`", undefined],
    ["empty", "", undefined]
  ]
  for (const [name, line, expected] of cases) {
    it(name, () => assert.deepStrictEqual(parseGrantLine(line), expected))
  }
})

describe("parseShowGrants", () => {
  it("folds lines per level, case-insensitively", () => {
    const levels = parseShowGrants(
      ["GRANT SELECT ON `App`.* TO `bob`@`%`", "GRANT INSERT, SELECT ON `app`.* TO `bob`@`%` WITH GRANT OPTION"],
      isStaticPrivilege
    )
    assert.deepStrictEqual([...levels.keys()], ["app.*"])
    assert.deepStrictEqual(levels.get("app.*"), held("App", "*", ["SELECT", "INSERT"], true))
  })

  it("a dynamic-only line's grant option does not count for the level's static privileges (MySQL 8)", () => {
    const levels = parseShowGrants(
      ["GRANT SELECT ON *.* TO `bob`@`%`", "GRANT BACKUP_ADMIN ON *.* TO `bob`@`%` WITH GRANT OPTION"],
      isStaticPrivilege
    )
    assert.deepStrictEqual(levels.get("*.*"), held("*", "*", ["SELECT", "BACKUP_ADMIN"], false))
  })

  it("USAGE WITH GRANT OPTION is a grant option on the level", () => {
    const levels = parseShowGrants(["GRANT USAGE ON `app`.* TO `bob`@`%` WITH GRANT OPTION"], isStaticPrivilege)
    assert.deepStrictEqual(levels.get("app.*"), held("app", "*", [], true))
  })
})
