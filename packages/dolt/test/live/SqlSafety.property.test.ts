/**
 * SQL safety: hostile names, hosts and passwords go through the statement builders and run on a real server.
 * Whatever passes validation must land exactly as given (mysql.user / mysql.db hold exactly that value, login with
 * that password works) and nothing else may change; whatever fails validation must be refused with an error that
 * names the field, before any SQL.
 */
import { Dolt, HostName, Password, UserName } from "@doltdb-op/core/services/Dolt"
import { assert, layer } from "@effect/vitest"
import { Arbitrary, Effect, Layer, Redacted, Schema } from "effect"
import * as DoltLive from "../../src/live/DoltLive.ts"
import { singleDoltServer } from "../contract/realDolt.ts"
import { AdminSql, adminSqlFor } from "./adminSql.ts"
import { ensureMariaDb, MariaDbLive } from "./mariadb.ts"

/** Pieces that break naive quoting, plus unicode (2-, 3- and 4-byte, bidi), plus plain text. */
const Atom = Schema.Literals([
  "'",
  '"',
  "`",
  "\\",
  "%",
  "_",
  "\0",
  "\n",
  "\r",
  "\t",
  "\x1a",
  ";",
  "--",
  "/*",
  "*/",
  " ",
  "@",
  ".",
  "é",
  "日本",
  "😀",
  "\u202e",
  "a",
  "Z",
  "0",
  "x'); DROP USER 'doltop'@'%'; --",
  "` ON *.* TO root; --"
])
const hostile = (maxAtoms: number) =>
  Arbitrary.array(Arbitrary.schema(Atom), { minLength: 1, maxLength: maxAtoms }).pipe(
    Arbitrary.map((atoms) => atoms.join(""))
  )
/** Around the 32-byte limit (Dolt's), with 1-, 2- and 3-byte characters. */
const nearLimit = Arbitrary.all([
  Arbitrary.schema(Schema.Int.check(Schema.isBetween({ minimum: 9, maximum: 36 }))),
  Arbitrary.schema(Schema.Literals(["a", "é", "日", "'", "`", "\\"]))
]).pipe(Arbitrary.map(([n, c]) => c.repeat(n)))

const PREFIX = "p"

// Accounts of DoltLive.mariadb.test.ts, which vitest may run at the same time in another worker.
const otherSuite = (user: string) => user.startsWith("doltop_live_")

const adminQuery = (sql: string, values?: ReadonlyArray<unknown>) =>
  Effect.gen(function* () {
    return yield* (yield* AdminSql).query(sql, values)
  })
const login = (user: string, password: string) =>
  Effect.gen(function* () {
    return yield* (yield* AdminSql).login(user, password)
  })
const targetOf = Effect.gen(function* () {
  return (yield* AdminSql).target
})

const allAccounts = adminQuery(
  "SELECT CONVERT(User USING utf8mb4) AS u, CONVERT(Host USING utf8mb4) AS h FROM mysql.user"
).pipe(
  Effect.map((rows) => rows.map((r) => ({ user: String(r.u), host: String(r.h) })).filter((a) => !otherSuite(a.user)))
)

/** The server's own accounts (root, doltop, mariadb.sys, Dolt's internal ones), taken before the first case. */
const baselines = new Map<string, ReadonlySet<string>>()
const baselineAccounts = Effect.gen(function* () {
  const t = yield* targetOf
  const key = `${t.host}:${t.port}`
  let baseline = baselines.get(key)
  if (baseline === undefined) {
    baseline = new Set((yield* allAccounts).map((a) => `${a.user}@${a.host}`))
    baselines.set(key, baseline)
  }
  return baseline
})

/** Accounts the test created and did not drop. */
const accountsNow = Effect.gen(function* () {
  const base = yield* baselineAccounts
  return (yield* allAccounts)
    .map((a) => `${a.user}@${a.host}`)
    .filter((a) => !base.has(a))
    .sort()
})

const databasesNow = adminQuery("SHOW DATABASES").pipe(Effect.map((rows) => rows.map((r) => String(r.Database)).sort()))

/** Registers the SQL-safety properties against the server `serverLayer` provides. */
const sqlSafetySuite = (
  label: string,
  serverLayer: Layer.Layer<Dolt | AdminSql, unknown>,
  ensureServer: Effect.Effect<void> = Effect.void
) =>
  layer(serverLayer, { timeout: "60 seconds" })(`SQL safety against ${label}`, (it) => {
    it.effect.prop(
      "hostile user names, hosts and passwords never leave their literals",
      [hostile(6), hostile(4), hostile(8)],
      ([rawName, rawHost, password]) =>
        Effect.gen(function* () {
          yield* ensureServer
          const dolt = yield* Dolt
          const t = yield* targetOf
          // Keep generated accounts apart from the server's own (a generated "root"@"localhost" must not clash).
          const name = `${PREFIX}${rawName}`
          const host = rawHost
          yield* baselineAccounts
          const databasesBefore = yield* databasesNow
          assert.deepStrictEqual(yield* accountsNow, [], "left-over accounts from an earlier case")
          const valid = Schema.is(UserName)(name) && Schema.is(HostName)(host) && Schema.is(Password)(password)
          const account = { name, host }
          const anyHost = { name, host: "%" }
          const created = yield* Effect.exit(dolt.createUser(t, account, Redacted.make(password)))
          if (!valid) {
            assert.isTrue(created._tag === "Failure", "invalid input was accepted")
            const e = yield* Effect.flip(dolt.createUser(t, account, Redacted.make(password)))
            assert.strictEqual(e._tag, "DoltInvalidInput")
            assert.match(e.message, /user name|user host|password/u)
            // The message names the field and value but never the password.
            if (password.length > 3 && !name.includes(password) && !host.includes(password)) {
              assert.notInclude(e.message, password)
            }
            assert.deepStrictEqual(yield* accountsNow, [])
            return
          }
          assert.strictEqual(created._tag, "Success", `createUser failed: ${String(created)}`)
          yield* dolt.createUser(t, anyHost, Redacted.make(password))
          // Hosts are case-insensitive; the service stores them lower-cased.
          const expected = [...new Set([`${name}@${host.toLowerCase()}`, `${name}@%`])].sort()
          assert.deepStrictEqual(yield* accountsNow, expected)
          assert.strictEqual(yield* login(name, password), "ok")
          // A second hostile password replaces the first.
          const second = `${password}'\\"\``
          yield* dolt.setPassword(t, anyHost, Redacted.make(second))
          if (host !== "%") yield* dolt.setPassword(t, account, Redacted.make(second))
          assert.strictEqual(yield* login(name, second), "ok")
          // A database-level grant on a hostile database name lands as exactly that name.
          const grantDb = `g${rawHost}`.slice(0, 60)
          yield* dolt.grant(t, { account, privileges: ["SELECT"], database: grantDb, table: "*", grantOption: false })
          const dbRows = yield* adminQuery(
            "SELECT CONVERT(Db USING utf8mb4) AS d FROM mysql.db WHERE User = ? AND Host = ?",
            [name, host.toLowerCase()]
          )
          assert.deepStrictEqual(
            dbRows.map((r) => String(r.d)),
            [grantDb]
          )
          yield* dolt.revoke(t, { account, privileges: ["SELECT"], database: grantDb, table: "*", grantOption: false })
          yield* dolt.dropUser(t, account)
          yield* dolt.dropUser(t, anyHost)
          assert.deepStrictEqual(yield* accountsNow, [])
          assert.deepStrictEqual(yield* databasesNow, databasesBefore)
        }).pipe(
          // Never leave an account behind for the next case, whatever failed.
          Effect.ensuring(
            Effect.gen(function* () {
              const base = yield* baselineAccounts
              for (const a of yield* allAccounts) {
                if (!base.has(`${a.user}@${a.host}`)) yield* adminQuery("DROP USER IF EXISTS ?@?", [a.user, a.host])
              }
            }).pipe(Effect.ignore)
          )
        ),
      { timeout: 120_000, arbitrary: { runs: 100 } }
    )

    it.effect.prop(
      "names at the 32-byte limit: accepted up to 32 bytes of UTF-8, refused above",
      [nearLimit],
      ([name]) =>
        Effect.gen(function* () {
          yield* ensureServer
          const dolt = yield* Dolt
          const t = yield* targetOf
          const account = { name, host: "%" }
          const exit = yield* Effect.exit(dolt.createUser(t, account, Redacted.make("pw")))
          if (!Schema.is(UserName)(name)) {
            // Too long (> 32 bytes) or wrapped in single quotes.
            assert.strictEqual(exit._tag, "Failure")
            const e = yield* Effect.flip(dolt.createUser(t, account, Redacted.make("pw")))
            assert.include(e.message, "user name")
            return
          }
          assert.strictEqual(exit._tag, "Success", String(exit))
          assert.deepStrictEqual(yield* accountsNow, [`${name}@%`])
          assert.strictEqual(yield* login(name, "pw"), "ok")
          yield* dolt.dropUser(t, account)
          assert.deepStrictEqual(yield* accountsNow, [])
        }).pipe(Effect.ensuring(adminQuery("DROP USER IF EXISTS ?@'%'", [name]).pipe(Effect.ignore))),
      { timeout: 60_000, arbitrary: { runs: 20 } }
    )
  })

sqlSafetySuite("MariaDB (DOLTDB_TEST_MYSQL_URL)", MariaDbLive, ensureMariaDb)

const doltBin = process.env.DOLTDB_E2E_DOLT_BIN
if (doltBin === undefined || doltBin === "") {
  console.log("SQL-safety property vs real dolt: NOT RUN — DOLTDB_E2E_DOLT_BIN is not set")
} else {
  sqlSafetySuite(
    `real dolt (${doltBin})`,
    Layer.effect(AdminSql, Effect.map(singleDoltServer(doltBin), adminSqlFor)).pipe(
      Layer.provideMerge(DoltLive.layer({ queryTimeout: "20 seconds" }))
    )
  )
}
