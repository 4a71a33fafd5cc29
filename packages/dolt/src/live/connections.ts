/**
 * mysql2 connections for the live Dolt layer: one small pool per target for statements that need no session
 * state, and fresh single-use connections for role changes (Dolt kills every other connection and taints the
 * caller's) and database-scoped work (opened with `database` set instead of `USE` on a shared connection).
 * Every call is bounded: `connectTimeout` for the handshake, mysql2's per-query `timeout`, and an outer Effect
 * timeout that also covers waiting for a pooled connection.
 */

import { checkServerIdentity, type PeerCertificate, type TLSSocket } from "node:tls"
import { type DoltError, type DoltTarget, DoltTimeout, DoltUnreachable } from "@doltdb-op/core/services/Dolt"
import { Duration, Effect, Redacted } from "effect"
import * as mysql from "mysql2/promise"
import { classifyError } from "./classifyError.ts"

export interface LiveOptions {
  /** TCP connect + handshake. */
  readonly connectTimeout: Duration.Input
  /** Ordinary statements. */
  readonly queryTimeout: Duration.Input
  /** Role changes: Dolt waits up to 10 s for standbys inside the call. */
  readonly roleChangeTimeout: Duration.Input
  /** `dolt_backup('sync' | 'restore')`. */
  readonly backupTimeout: Duration.Input
  /** Connections per target pool. */
  readonly poolSize: number
}

export const defaultLiveOptions: LiveOptions = {
  connectTimeout: "5 seconds",
  queryTimeout: "10 seconds",
  roleChangeTimeout: "30 seconds",
  backupTimeout: "1 hour",
  poolSize: 2
}

export type Rows = ReadonlyArray<Record<string, unknown>>

/**
 * The sql_mode every connection runs with (Dolt's default). mysql2 escapes string literals with backslashes, so a
 * server whose global sql_mode had NO_BACKSLASH_ESCAPES would read an escaped password as the end of the string:
 * the mode is pinned per session, not inherited from the server.
 */
export const SqlMode = "NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES"
export const pinSqlMode = `SET SESSION sql_mode = '${SqlMode}'`

/**
 * The server-name check of a TLS connection: mysql2 verifies the chain against `ssl.ca`, but checks the name only
 * when dialling a host name, and we dial pod IPs. So the certificate must carry `serverName` (the name every
 * certificate of the DoltDB carries), checked here on the socket before any statement runs.
 */
export const verifyServerName = (connection: unknown, serverName: string | undefined): Error | undefined => {
  if (serverName === undefined) return undefined
  const stream = (connection as { readonly stream?: Partial<TLSSocket> } | undefined)?.stream
  if (stream?.getPeerCertificate === undefined || stream.encrypted !== true)
    return Object.assign(
      new Error(`TLS to a Dolt server was expected (${serverName}), but the connection is plaintext`),
      {
        code: "DOLT_TLS_REQUIRED"
      }
    )
  const certificate = stream.getPeerCertificate(false) as PeerCertificate
  const error = checkServerIdentity(serverName, certificate)
  return error === undefined ? undefined : Object.assign(error, { code: "ERR_TLS_CERT_ALTNAME_INVALID" })
}

/** Opens a connection with the pinned sql_mode (closed again when setting it fails or the server is not trusted). */
export const openConnection = async (
  config: mysql.ConnectionOptions,
  serverName?: string | undefined
): Promise<mysql.Connection> => {
  const connection = await mysql.createConnection(config)
  try {
    const untrusted = verifyServerName((connection as unknown as { connection: unknown }).connection, serverName)
    if (untrusted !== undefined) throw untrusted
    await connection.query(pinSqlMode)
  } catch (e) {
    connection.destroy()
    throw e
  }
  return connection
}

/** A statement runner bound to one connection (or pool). */
export interface Session {
  readonly query: (
    op: string,
    sql: string,
    values?: ReadonlyArray<unknown>,
    timeout?: Duration.Input,
    /** Passwords in `sql`: kept out of error messages and causes. */
    secrets?: ReadonlyArray<string>
  ) => Effect.Effect<Rows, DoltError>
}

export const baseOptions = (target: DoltTarget, options: LiveOptions): mysql.ConnectionOptions => ({
  host: target.host,
  port: target.port,
  user: target.user,
  password: Redacted.value(target.password),
  connectTimeout: Duration.toMillis(Duration.fromInputUnsafe(options.connectTimeout)),
  // DATETIME as text, parsed as UTC by `parseDateTime`: independent of this process's time zone.
  dateStrings: true,
  charset: "utf8mb4",
  multipleStatements: false,
  supportBigNumbers: true,
  // TLS when the DoltDB has it on: the chain is verified against its CA (the name by `verifyServerName`).
  ...(target.tls === undefined
    ? {}
    : { ssl: { ca: target.tls.ca, rejectUnauthorized: true, verifyIdentity: false, minVersion: "TLSv1.2" } })
})

/** mysql2 returns `[resultSet..., ResultSetHeader]` for CALL and a plain row array for SELECT. */
export const firstResultSet = (result: unknown): Rows => {
  if (!Array.isArray(result)) return []
  if (result.length > 0 && Array.isArray(result[0])) return result[0] as Rows
  return result as Rows
}

/** `"2026-11-26 14:00:00.123"` (server time, UTC in our deployments) -> epoch millis. */
export const parseDateTime = (value: unknown): number | null => {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.getTime()
  const millis = Date.parse(`${String(value).replace(" ", "T")}Z`)
  return Number.isNaN(millis) ? null : millis
}

const bounded = <A>(
  target: DoltTarget,
  op: string,
  timeout: Duration.Input,
  effect: Effect.Effect<A, DoltError>
): Effect.Effect<A, DoltError> =>
  effect.pipe(
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () =>
        Effect.fail(
          new DoltTimeout({
            host: target.host,
            op,
            message: `${op} timed out after ${Duration.format(Duration.fromInputUnsafe(timeout))}`
          })
        )
    })
  )

export const runQuery = (
  target: DoltTarget,
  queryable: mysql.Pool | mysql.Connection,
  op: string,
  sql: string,
  values: ReadonlyArray<unknown> | undefined,
  timeout: Duration.Input,
  secrets: ReadonlyArray<string> | undefined
): Effect.Effect<Rows, DoltError> =>
  bounded(
    target,
    op,
    // The outer bound leaves mysql2's own timeout (which also destroys the connection) the first word.
    Duration.sum(Duration.fromInputUnsafe(timeout), Duration.fromInputUnsafe("1 second")),
    Effect.tryPromise({
      try: () =>
        queryable.query(
          { sql, timeout: Duration.toMillis(Duration.fromInputUnsafe(timeout)) },
          values === undefined ? [] : [...values]
        ),
      catch: (cause) => classifyError(target.host, op, cause, secrets)
    }).pipe(Effect.map(([rows]) => firstResultSet(rows)))
  )

/** Opens a single-use connection, runs `use`, and always closes it (it may be tainted afterwards). */
export const withFreshConnection = <A>(
  target: DoltTarget,
  options: LiveOptions,
  op: string,
  database: string | undefined,
  use: (session: Session) => Effect.Effect<A, DoltError>
): Effect.Effect<A, DoltError> =>
  Effect.acquireUseRelease(
    bounded(
      target,
      op,
      Duration.sum(Duration.fromInputUnsafe(options.connectTimeout), Duration.fromInputUnsafe("1 second")),
      Effect.tryPromise({
        try: () =>
          openConnection(
            database === undefined ? baseOptions(target, options) : { ...baseOptions(target, options), database },
            target.tls?.serverName
          ),
        catch: (cause) => classifyError(target.host, op, cause)
      })
    ),
    (connection) =>
      use({
        query: (op, sql, values, timeout, secrets) =>
          runQuery(target, connection, op, sql, values, timeout ?? options.queryTimeout, secrets)
      }),
    // No COM_QUIT round trip: a tainted or killed connection has nothing to say, and a hung server must not block us.
    (connection) => Effect.sync(() => connection.destroy())
  )

/** Pools per target (host:port:user); a changed password replaces the pool. Closed with the layer. */
export const makePools = (options: LiveOptions) => {
  const pools = new Map<string, { readonly secret: string; readonly pool: mysql.Pool }>()
  const poolFor = (target: DoltTarget): mysql.Pool => {
    const key = `${target.user}@${target.host}:${target.port}`
    // A changed password, or changed TLS settings (a new CA), replaces the pool.
    const secret = JSON.stringify([
      Redacted.value(target.password),
      target.tls?.ca ?? null,
      target.tls?.serverName ?? null
    ])
    const existing = pools.get(key)
    if (existing !== undefined && existing.secret === secret) return existing.pool
    if (existing !== undefined) void existing.pool.end().catch(() => undefined)
    const pool = mysql.createPool({
      ...baseOptions(target, options),
      connectionLimit: options.poolSize,
      maxIdle: options.poolSize,
      idleTimeout: 60_000,
      enableKeepAlive: true
    })
    // The first command on every new pooled connection; mysql2 runs a connection's commands in order.
    pool.on("connection", (connection) => {
      const core = connection as unknown as { query: (sql: string, cb: (e: unknown) => void) => void }
      // An unverified server gets no statement: the connection is destroyed and the caller's query fails.
      if (verifyServerName(connection, target.tls?.serverName) !== undefined) {
        connection.destroy()
        return
      }
      core.query(pinSqlMode, (e) => {
        if (e !== null && e !== undefined) connection.destroy()
      })
    })
    pools.set(key, { secret, pool })
    return pool
  }
  /** Runs one statement on a pooled connection; one retry when the pool handed out a connection Dolt had killed. */
  const pooled = (target: DoltTarget): Session => ({
    query: (op, sql, values, timeout, secrets) =>
      Effect.suspend(() =>
        runQuery(target, poolFor(target), op, sql, values, timeout ?? options.queryTimeout, secrets)
      ).pipe(
        Effect.retry({
          times: 1,
          while: (e) =>
            e._tag === "DoltConnectionTainted" ||
            (e._tag === "DoltUnreachable" && e.code === "PROTOCOL_CONNECTION_LOST")
        })
      )
  })
  const closeAll = Effect.promise(() =>
    Promise.allSettled([...pools.values()].map(({ pool }) => pool.end())).then(() => pools.clear())
  )
  return { pooled, closeAll }
}

/** A target the operator cannot even describe (empty host, bad port) fails like an unreachable server. */
export const checkTarget = (target: DoltTarget, op: string): Effect.Effect<void, DoltUnreachable> =>
  target.host === "" || !Number.isInteger(target.port) || target.port <= 0 || target.port > 65535
    ? Effect.fail(
        new DoltUnreachable({ host: target.host, op, message: `invalid address ${target.host}:${target.port}` })
      )
    : Effect.void
