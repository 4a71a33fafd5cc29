/**
 * Dolt's graceful primary -> standby transition (controller.go gracefulTransitionToStandby), shared by the
 * procedures and by the modelled preStop hook.
 */
import { DoltEpochConflict, DoltNotCaughtUp, DoltSqlError, TransitionRow } from "@doltdb-op/core/services/Dolt"
import { Clock, Effect, Fiber } from "effect"
import { BranchControlStore, type Connection, type ModelServer, MysqlStore } from "./ModelServer.ts"

/** Dolt's hard-coded wait for standbys in a graceful transition. */
export const GracefulTransitionWaitMillis = 10_000
const PollMillis = 50

/**
 * gracefulTransitionToStandby: read-only, kill the other connections, wait up to 10 s for every hook to catch
 * up, then decide (all, or `minCaughtUp` standby hosts caught up on every database). On failure the server is a
 * read-write primary at its old epoch again and the other connections are killed once more.
 */
const transition = Effect.fnUntraced(function* (
  wake: Effect.Effect<void>,
  host: string,
  op: string,
  server: ModelServer,
  conn: Connection,
  epoch: number,
  minCaughtUp: number
) {
  if (server.readOnlyOverride) {
    return yield* new DoltNotCaughtUp({
      host,
      op,
      errno: 1105,
      message:
        "cluster/controller: failed to transition from primary to standby gracefully; did not gain exclusive access to commithooks."
    })
  }
  const before = { role: server.role, epoch: server.epoch }
  server.readOnlyOverride = true
  server.killConnections(conn)
  yield* wake
  const start = yield* Clock.currentTimeMillis
  const deadline = start + GracefulTransitionWaitMillis
  const allCaughtUp = () =>
    server.allHooks().every((h) => server.hookCaughtUp(h)) &&
    [...server.pendingDrops.values()].every((d) => d.size === 0)
  while (true) {
    const now = yield* Clock.currentTimeMillis
    if (!server.running) {
      return yield* new DoltSqlError({ host, op, code: "PROTOCOL_CONNECTION_LOST", message: "Connection lost" })
    }
    if (allCaughtUp() || now >= deadline) break
    yield* Effect.sleep(Math.min(PollMillis, deadline - now))
  }
  const hookRows = server.allHooks().filter((h) => h.database !== MysqlStore && h.database !== BranchControlStore)
  const storeRows = (name: string) => server.allHooks().filter((h) => h.database === name)
  const rows = [...hookRows, ...storeRows(MysqlStore), ...storeRows(BranchControlStore)].map(
    (h) =>
      new TransitionRow({
        caughtUp: server.hookCaughtUp(h),
        database: h.database,
        remote: h.remote.name,
        remoteUrl: server.remoteUrl(h.remote, h.database)
      })
  )
  for (const remote of server.remotes) {
    for (const database of server.pendingDrops.get(remote.name)?.keys() ?? []) {
      rows.push(
        new TransitionRow({
          caughtUp: false,
          database,
          remote: remote.name,
          remoteUrl: server.remoteUrl(remote, database)
        })
      )
    }
  }
  const restore = () => {
    server.readOnlyOverride = false
    server.killConnections(conn)
  }
  if (server.role !== before.role || server.epoch !== before.epoch) {
    restore()
    return yield* new DoltEpochConflict({
      host,
      op,
      errno: 1105,
      message: `error assuming role 'standby' at epoch ${epoch}: the role configuration changed while we were replicating to our standbys. Please try again`
    })
  }
  if (minCaughtUp === 0) {
    if (!rows.every((r) => r.caughtUp)) {
      restore()
      return yield* new DoltNotCaughtUp({
        host,
        op,
        errno: 1105,
        message:
          "cluster/controller: failed to transition from primary to standby gracefully; could not replicate databases to standby in a timely manner."
      })
    }
  } else {
    const databases = new Set(rows.map((r) => r.database))
    const perHost = new Map<string, number>()
    for (const r of rows) {
      const hostPort = URL.canParse(r.remoteUrl) ? new URL(r.remoteUrl).host : r.remoteUrl
      perHost.set(hostPort, (perHost.get(hostPort) ?? 0) + (r.caughtUp ? 1 : 0))
    }
    const caught = [...perHost.values()].filter((n) => n === databases.size).length
    if (caught < minCaughtUp) {
      restore()
      return yield* new DoltNotCaughtUp({
        host,
        op,
        errno: 1105,
        message: `cluster/controller: failed to transition from primary to standby gracefully; could not ensure ${minCaughtUp} replicas were caught up on all ${databases.size} databases. Only caught up ${caught} standbys fully.`
      })
    }
  }
  const now = yield* Clock.currentTimeMillis
  server.applyRole("standby", epoch, now, conn)
  return rows as ReadonlyArray<TransitionRow>
})

/**
 * The procedure runs on the server: a client that goes away (its call interrupted, e.g. the operator crashing)
 * does not stop it, so the server never stays read-only; it finishes (or restores itself) within the 10 s wait.
 */
export const gracefulTransitionToStandby = (
  wake: Effect.Effect<void>,
  host: string,
  op: string,
  server: ModelServer,
  conn: Connection,
  epoch: number,
  minCaughtUp: number
) =>
  Effect.flatMap(
    Effect.forkDetach(transition(wake, host, op, server, conn, epoch, minCaughtUp), { startImmediately: true }),
    Fiber.join
  )
