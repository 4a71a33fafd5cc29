/**
 * Dolt's replication, stepped in simulated time (dolt-cluster.md §2.4-§2.6, §4): each primary pushes the newest
 * value of every database, the privileges and branch control to every standby remote (async, configurable delay,
 * retry every second on error, only the latest root), sends heartbeats while caught up, replicates DROP DATABASE,
 * and both ends apply the epoch rules of the cluster interceptors on every RPC.
 */
import { Effect } from "effect"
import type { StandbyRemote } from "./config.ts"
import { BranchControlStore, type Deliver, type Hook, type ModelServer, MysqlStore } from "./ModelServer.ts"
import type { DatabaseState } from "./state.ts"

export interface Network {
  /** The running server a remote URL points at (`undefined`: no such host, wrong port, or down). */
  readonly resolveRemote: (from: ModelServer, remote: StandbyRemote) => ModelServer | undefined
  /** Both directions: a push needs the request and the answer to get through. */
  readonly reachable: (a: ModelServer, b: ModelServer) => Effect.Effect<boolean>
  /** Push duration from `from` to `to`, in millis. */
  readonly delay: (from: ModelServer, to: ModelServer) => number
}

export const RetryMillis = 1_000
export const HeartbeatMillis = 1_000
/** DROP DATABASE replication retries: exponential from 1 ms, capped at 1 min (controller.go replicateDropDatabase). */
export const DropBackoffMaxMillis = 60_000

export type Received = { readonly accepted: true } | { readonly accepted: false; readonly error: string }

/**
 * The epoch rules both interceptors apply to one replication RPC from primary `p` to `r` (§2.4). Returns whether
 * `r` accepts it; may demote `p` or `r`. The standby-accepts-a-lower-epoch gap is modelled as Dolt has it: a
 * standby at a higher epoch still accepts a stale primary's push, and the stale primary does not demote.
 */
export const exchangeEpochs = (p: ModelServer, r: ModelServer, now: number): Received => {
  // The receiving server's auth interceptor runs before any epoch rule.
  if (r.refusesCredentials)
    return {
      accepted: false,
      error:
        "could not replicate to standby: error fetching destDB: could not access dolt url: rpc error: code = Unauthenticated desc = unauthenticated"
    }
  const e = p.epoch
  if (r.role === "primary") {
    if (r.epoch < e) {
      r.applyRole("standby", e, now)
      return { accepted: true }
    }
    if (r.epoch === e) {
      r.applyRole("detected_broken_config", r.epoch, now)
      p.applyRole("detected_broken_config", p.epoch, now)
      return { accepted: false, error: "failed to commit chunks on destDB: two primaries at the same epoch" }
    }
    p.applyRole("standby", r.epoch, now)
    return {
      accepted: false,
      error: "failed to commit chunks on destDB: this server is a primary and is not currently accepting replication"
    }
  }
  if (r.role === "detected_broken_config") {
    if (r.epoch < e) {
      r.applyRole("standby", e, now)
      return { accepted: true }
    }
    p.applyRole("detected_broken_config", p.epoch, now)
    return { accepted: false, error: "failed to commit chunks on destDB: the standby is in detected_broken_config" }
  }
  if (r.epoch < e) {
    r.epoch = e
    r.global.epoch = e
  }
  return { accepted: true }
}

const touchStandby = (r: ModelServer, database: string, now: number): void => {
  for (const byDb of r.hooks.values()) {
    const h = byDb.get(database)
    if (h !== undefined) h.standbyLastUpdate = now
  }
}

/** What a push of `database` hands to the standby, captured at the start of the push (only the latest root). */
const deliveryFor = (p: ModelServer, database: string): Deliver => {
  if (database === MysqlStore) {
    const auth = p.data.auth
    return (to) => {
      to.data.auth = auth
      to.data.privilegesInitialised = true
    }
  }
  if (database === BranchControlStore) {
    const bc = p.data.branchControl
    return (to) => {
      to.data.branchControl = bc
    }
  }
  const db = p.data.databases.get(database) as DatabaseState
  const root = db.root
  return (to, now) => {
    const existing = to.data.databases.get(database)
    if (existing === undefined) {
      // CreateUnknownDatabases: the standby creates the database on first push.
      to.data.databases.set(database, { root, charset: db.charset, collation: db.collation, backups: new Map() })
      to.syncHooks(now)
    } else {
      existing.root = root
    }
    touchStandby(to, database, now)
  }
}

const stepHook = Effect.fnUntraced(function* (net: Network, p: ModelServer, h: Hook, now: number) {
  const target = net.resolveRemote(p, h.remote)
  const flight = h.inFlight
  if (flight !== undefined && now >= flight.completeAt) {
    h.inFlight = undefined
    if (p.role !== "primary" || p.epoch !== flight.epoch) return
    if (target === undefined || !(yield* net.reachable(p, target))) {
      h.currentError = `failed to commit chunks on destDB: rpc error: code = Unavailable desc = ${h.remote.name} unreachable`
      h.nextAttemptAt = now + RetryMillis
      return
    }
    const received = exchangeEpochs(p, target, now)
    if (!received.accepted) {
      h.currentError = received.error
      h.nextAttemptAt = now + RetryMillis
      return
    }
    flight.deliver(target, flight.completeAt)
    h.pushedId = flight.id
    h.pushedCreatedAt = flight.createdAt
    h.lastSuccessAt = flight.completeAt
    h.lastHeartbeatAt = flight.completeAt
    h.currentError = null
    if (p.hookCaughtUp(h)) h.breakerOpen = false
  }
  if (p.role !== "primary" || h.inFlight !== undefined) return
  const current = p.currentId(h.database)
  if (current === undefined) return
  if (h.pushedId !== current) {
    if (now < h.nextAttemptAt) return
    if (target === undefined || !(yield* net.reachable(p, target))) {
      h.currentError = `could not replicate to standby: error fetching destDB: rpc error: code = Unavailable desc = ${h.remote.name} unreachable`
      h.nextAttemptAt = now + RetryMillis
      return
    }
    const db = p.data.databases.get(h.database)
    h.inFlight = {
      id: current,
      createdAt: db === undefined ? now : db.root.createdAt,
      epoch: p.epoch,
      completeAt: now + net.delay(p, target),
      deliver: deliveryFor(p, h.database)
    }
    return
  }
  // Caught up: heartbeat (user databases only) roughly every second; it carries the epoch headers too.
  if (h.database === MysqlStore || h.database === BranchControlStore) return
  if (now < h.lastHeartbeatAt + HeartbeatMillis) return
  h.lastHeartbeatAt = now
  if (target !== undefined && (yield* net.reachable(p, target))) {
    const received = exchangeEpochs(p, target, now)
    if (received.accepted) touchStandby(target, h.database, now)
  }
})

const stepDrops = Effect.fnUntraced(function* (net: Network, p: ModelServer, now: number) {
  for (const remote of p.remotes) {
    const drops = p.pendingDrops.get(remote.name)
    if (drops === undefined) continue
    for (const [database, retry] of [...drops]) {
      if (p.role !== "primary") return
      if (now < retry.nextAt) continue
      const target = net.resolveRemote(p, remote)
      if (target === undefined || !(yield* net.reachable(p, target))) {
        const backoffMillis = Math.min(retry.backoffMillis * 2, DropBackoffMaxMillis)
        drops.set(database, { nextAt: now + retry.backoffMillis, backoffMillis })
        continue
      }
      const received = exchangeEpochs(p, target, now)
      // A primary answers FailedPrecondition: Dolt gives up on that drop.
      if (received.accepted && target.data.databases.delete(database)) target.syncHooks(now)
      drops.delete(database)
    }
  }
})

/**
 * When hook `h` of primary `p` next has something to do (`stepHook` does nothing before): a push landing, a push
 * (or retry) due, or a heartbeat due. `Infinity`: nothing until something changes.
 */
const hookNextAt = (p: ModelServer, h: Hook, now: number): number => {
  if (h.inFlight !== undefined) return h.inFlight.completeAt
  if (h.pushedId !== p.currentId(h.database)) return Math.max(now, h.nextAttemptAt)
  if (h.database !== MysqlStore && h.database !== BranchControlStore)
    return Math.max(now, h.lastHeartbeatAt + HeartbeatMillis)
  return Number.POSITIVE_INFINITY
}

/**
 * Runs every replication event due at `now` on every running primary. Hooks with nothing due are skipped before
 * entering their step: the loop runs once per event (a heartbeat per hook and second), so with hundreds of
 * clusters stepping every hook each time made the simulation quadratic (packages/operator/bench/scale.ts).
 */
export const step = Effect.fnUntraced(function* (net: Network, servers: Iterable<ModelServer>, now: number) {
  for (const p of servers) {
    if (!p.running || p.hung || p.role !== "primary" || !p.clustered) continue
    p.syncHooks(now)
    for (const h of p.allHooks()) {
      if (p.role !== "primary") break
      if (hookNextAt(p, h, now) > now) continue
      yield* stepHook(net, p, h, now)
    }
    if (p.pendingDrops.size > 0) yield* stepDrops(net, p, now)
  }
})

/** When the next replication event is due (`Infinity`: nothing to do until something changes). */
export const nextEventAt = (servers: Iterable<ModelServer>, now: number): number => {
  let next = Number.POSITIVE_INFINITY
  for (const p of servers) {
    if (!p.running || p.hung || p.role !== "primary" || !p.clustered) continue
    for (const h of p.allHooks()) next = Math.min(next, hookNextAt(p, h, now))
    for (const drops of p.pendingDrops.values()) {
      for (const retry of drops.values()) next = Math.min(next, Math.max(now, retry.nextAt))
    }
  }
  return next
}
