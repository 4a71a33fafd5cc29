/**
 * The MariaDB the adapter tests run against: `scripts/mariadb.sh start`, which the project's global setup runs
 * (test/live/globalSetup.ts) unless DOLTDB_TEST_MYSQL_URL is set. The URL comes from
 * DOLTDB_TEST_MYSQL_URL, defaulting to what the script prints. No server = every test here FAILS with a message
 * saying how to start one; nothing is skipped.
 */
import type { DoltTarget } from "@doltdb-op/core/services/Dolt"
import { Effect, Layer, Redacted } from "effect"
import * as mysql from "mysql2/promise"
import * as DoltLive from "../../src/live/DoltLive.ts"
import { targetFromUrl } from "../../src/live/targetFromUrl.ts"
import { AdminSql, adminSqlFor } from "./adminSql.ts"

export const testUrl = process.env.DOLTDB_TEST_MYSQL_URL ?? "mysql://doltop:doltop-test-only@127.0.0.1:3307"

export const adminTarget: DoltTarget = Effect.runSync(targetFromUrl(testUrl))

export const connectAs = (user: string, password: string, database?: string) =>
  mysql.createConnection({
    host: adminTarget.host,
    port: adminTarget.port,
    user,
    password,
    charset: "utf8mb4",
    connectTimeout: 5_000,
    ...(database === undefined ? {} : { database })
  })

/** Runs one parameterised statement as the admin user (verification only). */
export const adminQuery = (sql: string, values: ReadonlyArray<unknown> = []) =>
  Effect.acquireUseRelease(
    Effect.tryPromise(() => connectAs(adminTarget.user, Redacted.value(adminTarget.password))),
    (c) =>
      Effect.tryPromise(() => c.query(sql, [...values])).pipe(
        Effect.map(([rows]) => rows as ReadonlyArray<Record<string, unknown>>)
      ),
    (c) => Effect.sync(() => c.destroy())
  ).pipe(Effect.orDie)

class MariaDbUnavailable extends Error {}

/**
 * Dies with a message saying how to start the server when it does not answer. Every test runs it first, so a
 * missing server fails each test (none is skipped or passes).
 */
export const ensureMariaDb: Effect.Effect<void> = Effect.tryPromise({
  try: async () => {
    const c = await connectAs(adminTarget.user, Redacted.value(adminTarget.password))
    c.destroy()
  },
  catch: (cause) =>
    new MariaDbUnavailable(
      `MariaDB test server not reachable at ${adminTarget.host}:${adminTarget.port} (DOLTDB_TEST_MYSQL_URL): ` +
        `${String(cause)}. Start it with: scripts/mariadb.sh start`
    )
}).pipe(Effect.orDie)

/** The live Dolt layer and admin access for the MariaDB server (builds without connecting). */
export const MariaDbLive = Layer.merge(
  DoltLive.layer({ queryTimeout: "20 seconds" }),
  Layer.succeed(AdminSql, adminSqlFor(adminTarget))
)
