import { Dolt, type DoltTarget } from "@doltdb-op/core/services/Dolt"
import { assert, describe, it, layer } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Redacted } from "effect"
import { defaultLiveOptions, makePools, SqlMode, withFreshConnection } from "../../src/live/connections.ts"
import * as DoltLive from "../../src/live/DoltLive.ts"
import { adminQuery, adminTarget, connectAs, ensureMariaDb, MariaDbLive } from "./mariadb.ts"

const t = adminTarget
const pw = Redacted.make

const canLogin = (user: string, password: string) =>
  Effect.promise(() =>
    connectAs(user, password).then(
      (c) => {
        c.destroy()
        return true
      },
      () => false
    )
  )

layer(MariaDbLive)("Dolt live layer against MariaDB", (it) => {
  it.effect("serverVersion falls back to version() on a non-Dolt server", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const dolt = yield* Dolt
      const version = yield* dolt.serverVersion(t)
      assert.match(version, /MariaDB/u)
    })
  )

  it.effect("databases: create twice, charset and collation applied, drop twice", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const dolt = yield* Dolt
      const name = "doltop_live_db1"
      yield* dolt.dropDatabase(t, name)
      yield* dolt.createDatabase(t, { name, charset: "utf8mb4", collation: "utf8mb4_bin" })
      yield* dolt.createDatabase(t, { name, charset: "latin1", collation: "latin1_swedish_ci" })
      assert.include(yield* dolt.listDatabases(t), name)
      const rows = yield* adminQuery(
        "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        [name]
      )
      // Creation only: the second call changed nothing.
      assert.deepStrictEqual(rows, [{ cs: "utf8mb4", co: "utf8mb4_bin" }])
      yield* dolt.dropDatabase(t, name)
      yield* dolt.dropDatabase(t, name)
      assert.notInclude(yield* dolt.listDatabases(t), name)
      assert.notInclude(yield* dolt.listDatabases(t), "mysql")
    })
  )

  it.effect("databaseDefaults: from information_schema.SCHEMATA, undefined for a missing database", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const dolt = yield* Dolt
      const name = "doltop_live_defaults"
      yield* dolt.dropDatabase(t, name)
      yield* dolt.createDatabase(t, { name, charset: "latin1", collation: "latin1_swedish_ci" })
      assert.deepStrictEqual(yield* dolt.databaseDefaults(t, name), {
        charset: "latin1",
        collation: "latin1_swedish_ci"
      })
      yield* dolt.dropDatabase(t, name)
      assert.isUndefined(yield* dolt.databaseDefaults(t, name))
      const bad = yield* Effect.flip(dolt.databaseDefaults(t, "x' OR '1'='1"))
      assert.strictEqual(bad._tag, "DoltInvalidInput")
    })
  )

  it.effect("ignorePatterns: a Dolt-only read; on MariaDB it fails as SQL, a bad name before any SQL", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const dolt = yield* Dolt
      const name = "doltop_live_ignore"
      yield* dolt.createDatabase(t, { name })
      const e = yield* Effect.flip(dolt.ignorePatterns(t, name))
      assert.strictEqual(e._tag, "DoltSqlError")
      const bad = yield* Effect.flip(dolt.ignorePatterns(t, "x`.dolt_ignore; --"))
      assert.strictEqual(bad._tag, "DoltInvalidInput")
      yield* dolt.dropDatabase(t, name)
    })
  )

  it.effect("databases: a bad name is refused before any SQL, naming the field", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const dolt = yield* Dolt
      const before = yield* dolt.listDatabases(t)
      const e = yield* Effect.flip(dolt.createDatabase(t, { name: "x`; DROP DATABASE mysql; --" }))
      assert.strictEqual(e._tag, "DoltInvalidInput")
      assert.include(e.message, "database name")
      const long = yield* Effect.flip(dolt.createDatabase(t, { name: "a".repeat(81) }))
      assert.strictEqual(long._tag, "DoltInvalidInput")
      const cs = yield* Effect.flip(dolt.createDatabase(t, { name: "ok", charset: "utf8' x" }))
      assert.include(cs.message, "charset")
      assert.deepStrictEqual(yield* dolt.listDatabases(t), before)
    })
  )

  it.effect("users: create if missing, password change, drop twice", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const dolt = yield* Dolt
      const account = { name: "doltop_live_u1", host: "%" }
      yield* dolt.dropUser(t, account)
      assert.isFalse(yield* dolt.userExists(t, account))
      assert.isTrue(yield* dolt.createUser(t, account, pw("first-pw")))
      assert.isFalse(yield* dolt.createUser(t, account, pw("ignored-pw")))
      assert.isTrue(yield* dolt.userExists(t, account))
      assert.isTrue(yield* canLogin(account.name, "first-pw"))
      assert.isFalse(yield* canLogin(account.name, "ignored-pw"))
      yield* dolt.setPassword(t, account, pw("second-pw"))
      assert.isTrue(yield* canLogin(account.name, "second-pw"))
      assert.isFalse(yield* canLogin(account.name, "first-pw"))
      yield* dolt.dropUser(t, account)
      yield* dolt.dropUser(t, account)
      assert.isFalse(yield* dolt.userExists(t, account))
    })
  )

  it.effect("grants: grant twice, show, revoke, revoke what is absent, grant option", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const dolt = yield* Dolt
      const account = { name: "doltop_live_g1", host: "%" }
      yield* dolt.dropUser(t, account)
      yield* dolt.createUser(t, account, pw("pw"))
      const spec = {
        account,
        privileges: ["select", " Insert ", "ALL"],
        database: "doltop_live_gdb",
        table: "*",
        grantOption: false
      }
      yield* dolt.grant(t, spec)
      yield* dolt.grant(t, spec)
      const grants = yield* dolt.showGrants(t, account)
      assert.isTrue(grants.some((g) => g.includes("ALL PRIVILEGES ON `doltop_live_gdb`.*")))
      yield* dolt.revoke(t, spec)
      yield* dolt.revoke(t, spec)
      assert.isFalse((yield* dolt.showGrants(t, account)).some((g) => g.includes("doltop_live_gdb")))
      yield* dolt.grant(t, { ...spec, privileges: ["SELECT"], grantOption: true })
      assert.isTrue((yield* dolt.showGrants(t, account)).some((g) => g.includes("WITH GRANT OPTION")))
      yield* dolt.revoke(t, { ...spec, privileges: ["SELECT"], grantOption: true })
      assert.isFalse((yield* dolt.showGrants(t, account)).some((g) => g.includes("doltop_live_gdb")))
      yield* dolt.dropUser(t, account)
      assert.deepStrictEqual(yield* dolt.showGrants(t, account), [])
      // Revoking from an account that does not exist is not an error either.
      yield* dolt.revoke(t, spec)
    })
  )

  it.effect("grants: privileges come from an allow-list", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const dolt = yield* Dolt
      const account = { name: "nobody", host: "%" }
      const bad = yield* Effect.flip(
        dolt.grant(t, {
          account,
          privileges: ["SELECT ON *.* TO x; --"],
          database: "*",
          table: "*",
          grantOption: false
        })
      )
      assert.strictEqual(bad._tag, "DoltInvalidInput")
      assert.include(bad.message, "privilege")
      const empty = yield* Effect.flip(
        dolt.grant(t, { account, privileges: [], database: "*", table: "*", grantOption: false })
      )
      assert.include(empty.message, "privileges")
      const tableWithoutDb = yield* Effect.flip(
        dolt.grant(t, { account, privileges: ["SELECT"], database: "*", table: "t", grantOption: false })
      )
      assert.include(tableWithoutDb.message, "grant table")
    })
  )

  it.effect("errors: Dolt-only statements on MariaDB map to DoltSqlError with the errno", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const dolt = yield* Dolt
      const e = yield* Effect.flip(dolt.roleAndEpoch(t))
      assert.strictEqual(e._tag, "DoltSqlError")
      assert.strictEqual(e._tag === "DoltSqlError" ? e.errno : undefined, 1193)
    })
  )

  it.effect("errors: wrong password is DoltAccessDenied, a closed port is DoltUnreachable", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const dolt = yield* Dolt
      const denied = yield* Effect.flip(dolt.listDatabases({ ...t, password: pw("wrong") }))
      assert.strictEqual(denied._tag, "DoltAccessDenied")
      const closed: DoltTarget = { ...t, port: 1 }
      const unreachable = yield* Effect.flip(dolt.assumeRole(closed, "primary", 1))
      assert.strictEqual(unreachable._tag, "DoltUnreachable")
      assert.strictEqual(unreachable._tag === "DoltUnreachable" ? unreachable.host : "", t.host)
    })
  )
})

describe("live connections", () => {
  it.live("a statement past its timeout fails with DoltTimeout (and mysql2 drops that connection)", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const options = { ...defaultLiveOptions, queryTimeout: Duration.millis(200) }
      const e = yield* Effect.flip(
        withFreshConnection(t, options, "sleep", undefined, (s) => s.query("sleep", "SELECT SLEEP(3)"))
      )
      assert.strictEqual(e._tag, "DoltTimeout")
    })
  )

  it.effect("layerConfig reads timeouts from config and rejects bad values naming the key", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      const bad = yield* Effect.flip(
        Layer.build(DoltLive.layerConfig).pipe(
          Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ DOLT_QUERY_TIMEOUT: "soon" })))
        )
      )
      assert.include(String(bad), "DOLT_QUERY_TIMEOUT")
      const dolt = yield* Effect.gen(function* () {
        return yield* Dolt
      }).pipe(
        Effect.provide(DoltLive.layerConfig),
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ DOLT_QUERY_TIMEOUT: "5 seconds" })))
      )
      assert.match(yield* dolt.serverVersion(t), /MariaDB/u)
    })
  )
})

describe("sql_mode is pinned per connection", () => {
  it.effect("pooled and fresh connections run with the pinned mode, whatever the server's default", () =>
    Effect.gen(function* () {
      yield* ensureMariaDb
      // As a set: servers list the flags in their own order.
      const mode = (rows: ReadonlyArray<Record<string, unknown>>) => String(rows[0]?.m).split(",").sort().join(",")
      const pinned = SqlMode.split(",").sort().join(",")
      const pools = makePools(defaultLiveOptions)
      const pooled = yield* pools.pooled(t).query("mode", "SELECT @@SESSION.sql_mode AS m")
      const fresh = yield* withFreshConnection(t, defaultLiveOptions, "mode", undefined, (s) =>
        s.query("mode", "SELECT @@SESSION.sql_mode AS m")
      )
      yield* pools.closeAll
      // MariaDB's default differs (STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,...): this is our pin.
      assert.strictEqual(mode(pooled), pinned)
      assert.strictEqual(mode(fresh), pinned)
      assert.notInclude(SqlMode, "NO_BACKSLASH_ESCAPES")
    })
  )
})
