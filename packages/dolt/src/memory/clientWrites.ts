/**
 * The model's client API for simulations: writes through a host (outcome and `dolt_cluster_ack_writes_timeout_secs`
 * wait as a client sees them, recorded in a ledger), reads, and the "no acknowledged write lost" check.
 */
import { type DoltError, DoltSqlError, type DoltUnreachable } from "@doltdb-op/core/services/Dolt"
import type { Endpoint, SimWorldShape } from "@doltdb-op/core/sim/SimWorld"
import { Clock, Effect, HashMap, HashSet } from "effect"
import type { Connection, ModelServer } from "./ModelServer.ts"
import { databaseReadOnly } from "./modelSql.ts"
import type { IdSource, Root } from "./state.ts"

/** The endpoint client writes come from unless told otherwise. */
export const ClientEndpoint: Endpoint = "client"

export interface LedgerEntry {
  readonly id: number
  /** The host the client addressed. */
  readonly host: string
  /** `<namespace>/<pod>` of the server that took the write, when one did. */
  readonly server: string | undefined
  readonly database: string
  readonly key: string
  readonly value: string
  readonly epoch: number | undefined
  readonly startedAt: number
  readonly finishedAt: number
  /** `acked`: the client saw success (possibly with warning 3024). `failed`: it saw an error (the write may exist). */
  readonly outcome: "acked" | "failed"
  readonly warning?: string
  readonly error?: string
}

export interface ClientDeps {
  readonly world: SimWorldShape
  readonly serverAt: (host: string) => Effect.Effect<ModelServer | undefined>
  readonly wake: Effect.Effect<void>
  readonly ids: IdSource
  readonly unreachable: (host: string, op: string, code: string, message: string) => DoltUnreachable
  readonly hang: (host: string, op: string) => Effect.Effect<never, DoltError>
  readonly allServers: () => ReadonlyArray<ModelServer>
}

export const makeClient = ({ world, serverAt, wake, ids, unreachable, hang, allServers }: ClientDeps) => {
  const ledger: Array<LedgerEntry> = []
  let nextWrite = 1
  let nextConnection = -1

  const record = (entry: LedgerEntry) =>
    Effect.sync(() => {
      ledger.push(entry)
      return entry
    })

  const write = Effect.fnUntraced(function* (
    host: string,
    database: string,
    key: string,
    value: string,
    writeOptions?: { readonly from?: Endpoint }
  ) {
    const from = writeOptions?.from ?? ClientEndpoint
    const startedAt = yield* Clock.currentTimeMillis
    const id = nextWrite++
    const base = { id, host, database, key, value, startedAt }
    const fail = (server: ModelServer | undefined, e: DoltError) =>
      Effect.flatMap(Clock.currentTimeMillis, (finishedAt) =>
        record({
          ...base,
          server: server?.endpoint,
          epoch: server?.epoch,
          finishedAt,
          outcome: "failed",
          error: `${e._tag}: ${e.message}`
        })
      )
    const server = yield* serverAt(host)
    if (server === undefined)
      return yield* fail(undefined, unreachable(host, "write", "ENOTFOUND", `getaddrinfo ENOTFOUND ${host}`))
    const conn: Connection = { id: nextConnection--, server, killed: false, tainted: false }
    const reach = (yield* world.canReach(from, server.endpoint)) && (yield* world.canReach(server.endpoint, from))
    if (!reach) return yield* fail(server, unreachable(host, "write", "ETIMEDOUT", "connect ETIMEDOUT"))
    if (!server.running) return yield* fail(server, unreachable(host, "write", "ECONNREFUSED", "connect ECONNREFUSED"))
    if (server.hung) return yield* fail(server, yield* Effect.flip(hang(host, "write")))
    if (server.readOnly) {
      return yield* fail(server, databaseReadOnly(host, "write", database))
    }
    const db = server.data.databases.get(database)
    if (db === undefined) {
      return yield* fail(
        server,
        new DoltSqlError({ host, op: "write", errno: 1049, message: `database not found: ${database}` })
      )
    }
    const root: Root = {
      ...db.root,
      id: ids.next(),
      createdAt: startedAt,
      data: HashMap.set(db.root.data, key, value),
      writes: HashSet.add(db.root.writes, id)
    }
    db.root = root
    const epoch = server.epoch
    yield* wake
    // dolt_cluster_ack_writes_timeout_secs: wait for every standby (or the timeout; the commit succeeds anyway).
    const timeoutSecs = server.ackWritesTimeoutSecs()
    let warning: string | undefined
    const hooks = [...server.hooks.values()].flatMap((byDb) => {
      const h = byDb.get(database)
      return h === undefined ? [] : [h]
    })
    if (timeoutSecs > 0 && hooks.length > 0) {
      server.connections.add(conn)
      const deadline = startedAt + timeoutSecs * 1000
      const replicated = (h: (typeof hooks)[number]) => h.pushedId !== undefined && h.pushedId >= root.id
      // An open breaker fast-fails the wait, except for one half-open probe per timeout interval (2.2.2).
      const waitFor = hooks.filter((h) => !h.breakerOpen || startedAt >= h.breakerProbeAt)
      for (const h of waitFor) if (h.breakerOpen) h.breakerProbeAt = deadline
      while (true) {
        const now = yield* Clock.currentTimeMillis
        if (conn.killed || !server.running) {
          server.connections.delete(conn)
          return yield* fail(
            server,
            unreachable(host, "write", "PROTOCOL_CONNECTION_LOST", "Connection lost: The server closed the connection.")
          )
        }
        if (waitFor.every(replicated) || now >= deadline) break
        yield* Effect.sleep(Math.min(50, deadline - now))
      }
      server.connections.delete(conn)
      const missing = hooks.filter((h) => !replicated(h))
      for (const h of waitFor) {
        if (replicated(h)) h.breakerOpen = false
        else if (!h.breakerOpen) {
          h.breakerOpen = true
          h.breakerProbeAt = (yield* Clock.currentTimeMillis) + timeoutSecs * 1000
        }
      }
      for (const h of missing) if (!waitFor.includes(h)) h.breakerOpen = true
      if (missing.length > 0)
        warning = `3024: Timed out replication of commit to ${missing.length} out of ${hooks.length} replicas.`
    }
    const finishedAt = yield* Clock.currentTimeMillis
    return yield* record({
      ...base,
      server: server.endpoint,
      epoch,
      finishedAt,
      outcome: "acked",
      ...(warning === undefined ? {} : { warning })
    })
  })

  const read = Effect.fnUntraced(function* (
    host: string,
    database: string,
    key: string,
    readOptions?: { readonly from?: Endpoint }
  ) {
    const from = readOptions?.from ?? ClientEndpoint
    const server = yield* serverAt(host)
    if (server === undefined) return yield* unreachable(host, "read", "ENOTFOUND", `getaddrinfo ENOTFOUND ${host}`)
    const reach = (yield* world.canReach(from, server.endpoint)) && (yield* world.canReach(server.endpoint, from))
    if (!reach) return yield* unreachable(host, "read", "ETIMEDOUT", "connect ETIMEDOUT")
    if (!server.running) return yield* unreachable(host, "read", "ECONNREFUSED", "connect ECONNREFUSED")
    const db = server.data.databases.get(database)
    if (db === undefined) {
      return yield* new DoltSqlError({ host, op: "read", errno: 1049, message: `database not found: ${database}` })
    }
    const v = HashMap.get(db.root.data, key)
    return v._tag === "Some" ? v.value : undefined
  })

  const lostAcknowledgedWrites = Effect.fnUntraced(function* (host?: string) {
    let server: ModelServer | undefined
    if (host !== undefined) server = yield* serverAt(host)
    else {
      for (const s of allServers()) {
        if (s.running && s.role === "primary" && (server === undefined || s.epoch > server.epoch)) server = s
      }
    }
    if (server === undefined) {
      return yield* unreachable(
        host ?? "<primary>",
        "lostAcknowledgedWrites",
        "ENOTFOUND",
        "no such server (or no primary)"
      )
    }
    const s = server
    return ledger.filter((e) => {
      if (e.outcome !== "acked") return false
      const db = s.data.databases.get(e.database)
      return db === undefined || !HashSet.has(db.root.writes, e.id)
    })
  })

  return { write, read, ledger: Effect.sync(() => [...ledger] as ReadonlyArray<LedgerEntry>), lostAcknowledgedWrites }
}
