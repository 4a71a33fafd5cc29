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
  /**
   * `roleAndEpoch`, the operator's liveness read of every pod: a server that does not answer it within this counts
   * as unreachable. Shorter than `queryTimeout` because a frozen or cut-off host keeps an established pooled
   * connection silent until the query times out (no RST): that timeout is the failure detection time.
   */
  readonly probeTimeout: Duration.Input
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
  probeTimeout: "3 seconds",
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
 * What the server-name check found on a new connection. mysql2 verifies the chain against `ssl.ca`, but checks the
 * name only when dialling a host name, and we dial pod IPs. So the certificate must carry `serverName` (the name
 * every certificate of the DoltDB carries), checked here on the socket before any statement runs.
 *
 * `Resumed`: mysql2 (since 3.24) resumes TLS sessions across the connections that share an `ssl` object, i.e. a
 * pool's. A resumed session presents no certificate (Node reports an empty one), so there is nothing to check: it
 * is only as good as the full handshake that issued it, which the pool judges (`makePools`).
 */
export type ServerCheck =
  | { readonly _tag: "Verified" }
  | { readonly _tag: "Resumed" }
  | { readonly _tag: "Refused"; readonly error: Error }

const refused = (message: string, code: string): ServerCheck => ({
  _tag: "Refused",
  error: Object.assign(new Error(message), { code })
})

export const checkServer = (connection: unknown, serverName: string | undefined): ServerCheck => {
  if (serverName === undefined) return { _tag: "Verified" }
  const stream = (connection as { readonly stream?: Partial<TLSSocket> } | undefined)?.stream
  if (stream?.getPeerCertificate === undefined || stream.encrypted !== true)
    return refused(
      `TLS to a Dolt server was expected (${serverName}), but the connection is plaintext`,
      "DOLT_TLS_REQUIRED"
    )
  if (stream.isSessionReused?.() === true) return { _tag: "Resumed" }
  const certificate = stream.getPeerCertificate(false) as PeerCertificate
  const error = checkServerIdentity(serverName, certificate)
  return error === undefined
    ? { _tag: "Verified" }
    : { _tag: "Refused", error: Object.assign(error, { code: "ERR_TLS_CERT_ALTNAME_INVALID" }) }
}

/**
 * The check for a connection of its own (fresh connections and sessions each get a new `ssl` object, so mysql2
 * never resumes them): only a verified certificate is accepted; a resumed session would fail closed.
 */
export const verifyServerName = (connection: unknown, serverName: string | undefined): Error | undefined => {
  const check = checkServer(connection, serverName)
  if (check._tag === "Verified") return undefined
  if (check._tag === "Refused") return check.error
  return Object.assign(
    new Error(`a TLS session to a Dolt server (${serverName}) was resumed: its certificate was not presented`),
    { code: "ERR_TLS_CERT_ALTNAME_INVALID" }
  )
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

/**
 * A pooled statement failed because its connection was gone (closed by the server, which Dolt does to every
 * connection on a role change, or destroyed by the pool's server check): worth one attempt on a fresh connection.
 * Not a server that is not there (refused, timed out, unreachable): that would only double the wait.
 */
export const connectionDropped = (e: DoltError): boolean =>
  e._tag === "DoltConnectionTainted" ||
  (e._tag === "DoltUnreachable" &&
    (e.code === undefined
      ? e.errno === undefined
      : e.code === "PROTOCOL_CONNECTION_LOST" ||
        e.code === "ECONNRESET" ||
        e.code === "EPIPE" ||
        e.code === "ERR_STREAM_DESTROYED"))

interface PoolEntry {
  readonly secret: string
  readonly pool: mysql.Pool
  /** A full TLS handshake of this pool passed the server check: the sessions it resumes come from a checked one. */
  verified: boolean
}

/** Pools per target (host:port:user); a changed password replaces the pool. Closed with the layer. */
export const makePools = (options: LiveOptions) => {
  const pools = new Map<string, PoolEntry>()
  /**
   * A pool whose connection failed the server check is dropped with the TLS sessions it cached (they live on its
   * `ssl` object): the next statement starts a new pool, whose first connection makes a full, checked handshake.
   */
  const retire = (key: string, entry: PoolEntry) => {
    if (pools.get(key) === entry) pools.delete(key)
    void entry.pool.end().catch(() => undefined)
  }
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
    if (existing !== undefined) retire(key, existing)
    const pool = mysql.createPool({
      ...baseOptions(target, options),
      connectionLimit: options.poolSize,
      maxIdle: options.poolSize,
      idleTimeout: 60_000,
      enableKeepAlive: true
    })
    const entry: PoolEntry = { secret, pool, verified: false }
    // The first command on every new pooled connection; mysql2 runs a connection's commands in order.
    pool.on("connection", (connection) => {
      const core = connection as unknown as { query: (sql: string, cb: (e: unknown) => void) => void }
      const check = checkServer(connection, target.tls?.serverName)
      if (check._tag === "Verified") entry.verified = true
      // An unverified server gets no statement: the connection is destroyed (the caller's statement then runs on
      // a fresh connection, whose check reports why). A session resumed before any handshake of this pool was
      // checked (one raced ahead, or the checked one never got this far) is not trusted either.
      else if (check._tag === "Refused" || !entry.verified) {
        connection.destroy()
        retire(key, entry)
        return
      }
      core.query(pinSqlMode, (e) => {
        if (e !== null && e !== undefined) connection.destroy()
      })
    })
    pools.set(key, entry)
    return pool
  }
  /**
   * Runs one statement on a pooled connection. When that connection was gone (the pool handed out one Dolt had
   * closed, e.g. on a role change), once more on a fresh connection: a second pooled one may be closed too, and one
   * lost connection must not make a server look unavailable.
   */
  const pooled = (target: DoltTarget): Session => ({
    query: (op, sql, values, timeout, secrets) =>
      Effect.suspend(() =>
        runQuery(target, poolFor(target), op, sql, values, timeout ?? options.queryTimeout, secrets)
      ).pipe(
        Effect.catchIf(connectionDropped, () =>
          withFreshConnection(target, options, op, undefined, (s) => s.query(op, sql, values, timeout, secrets))
        )
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
