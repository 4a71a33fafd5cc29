/**
 * The in-memory Dolt cluster: every modelled sql-server in one simulated world. It registers an image runtime for
 * `dolthub/dolt` in `SimWorld`, so the simulated kubelet boots a model server from the container spec (config from
 * the `/etc/doltdb` mount and `POD_NAME`; data dir and `$DOLT_ROOT_PATH` on the `/db` volume when mounted there),
 * steps replication in simulated time (Clock only; TestClock in tests), and offers a client API for simulations:
 * writes through a host with the outcome recorded in a ledger, reads, and the "no acknowledged write lost" check.
 */
import {
  DoltAccessDenied,
  DoltConnectionTainted,
  DoltSqlError,
  DoltTimeout,
  DoltUnreachable
} from "@doltdb-op/core/services/Dolt"
import { type ContainerSpec, type Process, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { Clock, Context, Duration, Effect, Layer, Queue } from "effect"
import { makeClient } from "./clientWrites.ts"
import { parseServerConfig } from "./config.ts"
import { bootstrapStep, finished, initAdmin, isServerCommand, mountFor, resolvePath } from "./containerSpec.ts"
import type { DoltClusterOptions, DoltClusterShape, ServerInfo } from "./DoltClusterShape.ts"
import { gracefulTransitionToStandby } from "./graceful.ts"
import { parseHost, templateHostPort } from "./hosts.ts"
import { type Connection, ModelServer } from "./ModelServer.ts"
import { seededRandom } from "./random.ts"
import { type Network, nextEventAt, step } from "./replication.ts"
import { accountKey, type DataDir, type GlobalConfig, type IdSource, newDataDir } from "./state.ts"
import { tlsRefusal } from "./tls.ts"

export const DoltImage = "dolthub/dolt"
/** How long a call to a hung server takes to fail (the live layer's default query timeout). */
export const HungTimeoutMillis = 10_000
export { ClientEndpoint, type LedgerEntry } from "./clientWrites.ts"

export class DoltCluster extends Context.Service<DoltCluster, DoltClusterShape>()(
  "@doltdb-op/dolt/memory/DoltCluster"
) {
  /** The model cluster in the world's `SimWorld`; its replication loop lives as long as the layer. */
  static readonly layer = (options: DoltClusterOptions = {}): Layer.Layer<DoltCluster, never, SimWorld> =>
    Layer.effect(DoltCluster, make(options))
}

const toMillis = (d: Duration.Input): number => Duration.toMillis(Duration.fromInputUnsafe(d))

export const make = Effect.fnUntraced(function* (options: DoltClusterOptions = {}) {
  const world = yield* SimWorld
  const random = seededRandom(options.seed ?? 1)
  let nextId = 1
  const ids: IdSource = { next: () => nextId++ }
  let nextInstance = 1
  let nextConnection = 1
  const byPod = new Map<string, ModelServer>()
  const byIp = new Map<string, ModelServer>()
  const baseDelay = toMillis(options.replicationDelay ?? "20 millis")
  const jitter = toMillis(options.replicationJitter ?? 0)
  const delayTo = new Map<string, number>()
  const backupStore: DoltClusterShape["backupStore"] = new Map()
  const backupFailures: DoltClusterShape["backupFailures"] = new Map()
  const wakeQueue = yield* Queue.sliding<void>(1)
  const wake = Effect.sync(() => {
    Queue.offerUnsafe(wakeQueue, undefined)
  })

  const lookup = (host: string, namespace: string): ModelServer | undefined => {
    const key = parseHost(host, namespace)
    return key._tag === "Ip" ? byIp.get(key.ip) : byPod.get(`${key.namespace}/${key.pod}`)
  }

  const serverAt = (host: string, namespace = "default"): Effect.Effect<ModelServer | undefined> =>
    Effect.gen(function* () {
      const direct = lookup(host, namespace)
      if (direct !== undefined || options.resolveHost === undefined) return direct
      const resolved = yield* options.resolveHost(host)
      return resolved === undefined ? undefined : lookup(resolved, namespace)
    })

  const network: Network = {
    resolveRemote: (from, remote) => {
      const hp = templateHostPort(remote.remoteUrlTemplate)
      if (hp === undefined) return undefined
      const target = lookup(hp.host, from.spec.namespace)
      if (target === undefined || !target.running || target.hung || target === from) return undefined
      return target.config.cluster?.remotesApiPort === hp.port ? target : undefined
    },
    reachable: (a, b) =>
      Effect.zipWith(world.canReach(a.endpoint, b.endpoint), world.canReach(b.endpoint, a.endpoint), (x, y) => x && y),
    delay: (_from, to) => (delayTo.get(to.endpoint) ?? baseDelay) + (jitter > 0 ? Math.floor(random() * jitter) : 0)
  }

  // Sorted once per change of the server set: the replication loop reads it on every event.
  let sortedServers: ReadonlyArray<ModelServer> | undefined
  const allServers = (): ReadonlyArray<ModelServer> =>
    (sortedServers ??= [...byPod.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1)))

  // The replication loop: run what is due, sleep until the next event or until woken.
  yield* Effect.gen(function* () {
    while (true) {
      const now = yield* Clock.currentTimeMillis
      yield* step(network, allServers(), now)
      const next = nextEventAt(allServers(), now)
      if (next <= now) continue
      const wait = Queue.take(wakeQueue)
      yield* Number.isFinite(next) ? Effect.timeoutOption(wait, next - now) : wait
    }
  }).pipe(Effect.forkScoped)

  const start = Effect.fnUntraced(function* (spec: ContainerSpec) {
    const now = yield* Clock.currentTimeMillis
    const cwd = spec.workingDir ?? "/"
    const volumeStore = function* (path: string, key: string) {
      const found = mountFor(spec.mounts, path)
      if (found === undefined || found.mount._tag !== "Volume") return undefined
      const volume = yield* world.volume(found.mount.volumeId)
      return { volume, key: `dolt:${key}:${found.rel}` }
    }
    // Data dir (databases, .doltcfg) and $DOLT_ROOT_PATH/.dolt: on the volume when mounted there, else lost on exit.
    const loadData = function* (dataDirPath: string) {
      const store = yield* volumeStore(dataDirPath, "datadir")
      if (store === undefined) return newDataDir(ids)
      const existing = store.volume.get(store.key) as DataDir | undefined
      if (existing !== undefined) return existing
      const fresh = newDataDir(ids)
      store.volume.set(store.key, fresh)
      return fresh
    }
    const rootPath = resolvePath(spec.env.DOLT_ROOT_PATH ?? spec.env.HOME ?? "/root", cwd)
    const globalStore = yield* volumeStore(rootPath, "global")
    const loadGlobal = (): GlobalConfig => {
      const fresh: GlobalConfig = { role: undefined, epoch: undefined, ackWritesTimeoutSecs: undefined }
      if (globalStore === undefined) return fresh
      const existing = globalStore.volume.get(globalStore.key) as GlobalConfig | undefined
      if (existing !== undefined) return existing
      globalStore.volume.set(globalStore.key, fresh)
      return fresh
    }

    if (spec.init === true || !isServerCommand(spec)) {
      // The init container: creates the admin user once (when privileges.db is absent), then exits 0.
      const data = yield* loadData(resolvePath(".", cwd))
      initAdmin(data, spec)
      const boot = bootstrapStep(spec, data, backupStore, ids, yield* Clock.currentTimeMillis)
      if (boot !== undefined) yield* Effect.logWarning(`dolt model: ${spec.namespace}/${spec.pod} init: ${boot}`)
      return finished(boot === undefined ? 0 : 1)
    }
    const files = mountFor(spec.mounts, "/etc/doltdb")
    const podName = spec.env.POD_NAME ?? spec.pod
    const text = files?.mount._tag === "Files" ? files.mount.files[`${podName}.yaml`] : undefined
    if (text === undefined) {
      yield* Effect.logWarning(`dolt model: no /etc/doltdb/${podName}.yaml for ${spec.namespace}/${spec.pod}`)
      return finished(1)
    }
    const parsed = parseServerConfig(text, spec.env)
    if (!parsed.ok) {
      yield* Effect.logWarning(`dolt model: ${spec.namespace}/${spec.pod} failed to start: ${parsed.error}`)
      return finished(1)
    }
    const data = yield* loadData(resolvePath(parsed.config.dataDir, cwd))
    initAdmin(data, spec)
    const server = new ModelServer({
      instance: nextInstance++,
      spec,
      endpoint: `${spec.namespace}/${spec.pod}`,
      config: parsed.config,
      data,
      global: loadGlobal()
    })
    const previous = byPod.get(server.endpoint)
    if (previous !== undefined) {
      previous.running = false
      if (byIp.get(previous.spec.podIP) === previous) byIp.delete(previous.spec.podIP)
    }
    byPod.set(server.endpoint, server)
    sortedServers = undefined
    byIp.set(spec.podIP, server)
    server.syncHooks(now)
    yield* wake
    const stop = Effect.sync(() => {
      server.running = false
      server.closing = false
      server.killConnections()
    }).pipe(Effect.andThen(wake))
    const caughtUp = () => server.allHooks().every((h) => server.hookCaughtUp(h))
    const term = Effect.suspend(() => {
      if (options.termWaitsForStandbys !== true || server.role !== "primary" || !server.clustered || caughtUp())
        return stop
      server.closing = true
      server.killConnections()
      return wake
    })
    const minCaughtUp = options.preStopDemote ?? 1
    const preStop = Effect.gen(function* () {
      if (minCaughtUp === false || !server.running || server.role !== "primary" || !server.clustered) return
      const conn: Connection = { id: nextConnection++, server, killed: false, tainted: false }
      server.connections.add(conn)
      yield* Effect.ignore(
        gracefulTransitionToStandby(wake, spec.podIP, "preStop", server, conn, server.epoch + 1, minCaughtUp)
      )
      server.connections.delete(conn)
    })
    const process: Process = {
      probe: () => Effect.sync(() => server.running && !server.closing && !server.hung && !server.probeFailing),
      preStop,
      stop: (signal) => (signal === "TERM" ? term : stop),
      exitCode: Effect.sync(() => (server.running ? undefined : 0)),
      runningAfterTerm: Effect.suspend(() => {
        if (!server.closing || !server.running) return Effect.succeed(false)
        if (!caughtUp()) return Effect.succeed(true)
        return Effect.as(stop, false)
      })
    }
    return process
  })

  yield* world.registerRuntime(DoltImage, { start })
  // Volume snapshots: roots and auth stores are immutable values (shared); the maps and fields a server mutates
  // in place are copied, so a restored volume does not alias the live one.
  yield* world.registerVolumeCloner("dolt:datadir:", (value) => {
    const d = value as DataDir
    return {
      ...d,
      databases: new Map([...d.databases].map(([k, db]) => [k, { ...db, backups: new Map(db.backups) }]))
    } satisfies DataDir
  })
  yield* world.registerVolumeCloner("dolt:global:", (value) => ({ ...(value as GlobalConfig) }))

  const unreachable = (host: string, op: string, code: string, message: string) =>
    new DoltUnreachable({ host, op, code, message })

  /** A hung server: the caller waits for its client-side timeout (10 s, the live layer's query timeout). */
  const hang = (host: string, op: string) =>
    Effect.sleep(HungTimeoutMillis).pipe(
      Effect.andThen(
        Effect.fail(
          new DoltTimeout({ host, op, code: "PROTOCOL_SEQUENCE_TIMEOUT", message: "Query inactivity timeout" })
        )
      )
    )

  const connect: DoltClusterShape["connect"] = Effect.fnUntraced(function* (host, port, user, password, from, op, tls) {
    const server = yield* serverAt(host)
    if (server === undefined) return yield* unreachable(host, op, "ENOTFOUND", `getaddrinfo ENOTFOUND ${host}`)
    const there = yield* world.canReach(from, server.endpoint)
    const back = yield* world.canReach(server.endpoint, from)
    if (!there || !back) return yield* unreachable(host, op, "ETIMEDOUT", "connect ETIMEDOUT")
    if (!server.running || server.closing || port !== server.config.listenerPort) {
      return yield* unreachable(host, op, "ECONNREFUSED", `connect ECONNREFUSED ${host}:${port}`)
    }
    if (server.hung) return yield* hang(host, op)
    const refused = tlsRefusal(server, tls)
    if (refused !== undefined) return yield* new DoltUnreachable({ host, op, ...refused })
    const account = server.data.auth.accounts.get(accountKey(user, "%"))
    if (account === undefined || account.password !== password) {
      return yield* new DoltAccessDenied({
        host,
        op,
        errno: 1045,
        code: "ER_ACCESS_DENIED_ERROR",
        message: `Access denied for user '${user}'@'%'`
      })
    }
    const conn: Connection = { id: nextConnection++, server, killed: false, tainted: false }
    server.connections.add(conn)
    return conn
  })

  const check: DoltClusterShape["check"] = Effect.fnUntraced(function* (conn, host, from, op) {
    const server = conn.server
    const there = yield* world.canReach(from, server.endpoint)
    const back = yield* world.canReach(server.endpoint, from)
    if (!there || !back) return yield* unreachable(host, op, "PROTOCOL_SEQUENCE_TIMEOUT", "Query inactivity timeout")
    if (conn.killed || !server.running) {
      return yield* unreachable(
        host,
        op,
        "PROTOCOL_CONNECTION_LOST",
        "Connection lost: The server closed the connection."
      )
    }
    if (conn.tainted) {
      return yield* new DoltConnectionTainted({
        host,
        op,
        errno: 1105,
        message: "this server transitioned cluster roles. this connection can no longer be used. please reconnect."
      })
    }
    return server
  })

  const close = (conn: Connection) =>
    Effect.sync(() => {
      conn.server.connections.delete(conn)
    })

  const client = makeClient({ world, serverAt, wake, ids, unreachable, hang, allServers })

  const setReplicationDelay: DoltClusterShape["setReplicationDelay"] = (host, delay) =>
    Effect.gen(function* () {
      if (host === undefined) {
        for (const s of byPod.values()) delayTo.set(s.endpoint, toMillis(delay))
        return
      }
      const s = yield* serverAt(host)
      if (s !== undefined) delayTo.set(s.endpoint, toMillis(delay))
    })

  const setAckWritesTimeout: DoltClusterShape["setAckWritesTimeout"] = (host, seconds) =>
    Effect.gen(function* () {
      const s = yield* serverAt(host)
      if (s === undefined)
        return yield* unreachable(host, "setAckWritesTimeout", "ENOTFOUND", `getaddrinfo ENOTFOUND ${host}`)
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > 60) {
        return yield* new DoltSqlError({
          host,
          op: "setAckWritesTimeout",
          errno: 1231,
          message: `Variable 'dolt_cluster_ack_writes_timeout_secs' can't be set to the value of '${seconds}'`
        })
      }
      // SET PERSIST sets the running value too.
      s.global.ackWritesTimeoutSecs = seconds
      s.ackWritesTimeoutOverride = undefined
    })

  const setFault: DoltClusterShape["setFault"] = (host, fault) =>
    Effect.gen(function* () {
      const s = yield* serverAt(host)
      if (s === undefined) return yield* unreachable(host, "setFault", "ENOTFOUND", `getaddrinfo ENOTFOUND ${host}`)
      if (fault.hung !== undefined) s.hung = fault.hung
      if (fault.probeFailing !== undefined) s.probeFailing = fault.probeFailing
      if (fault.refusesCredentials !== undefined) s.refusesCredentials = fault.refusesCredentials
      yield* wake
    })

  const servers = Effect.sync(() =>
    allServers().map(
      (s): ServerInfo => ({
        endpoint: s.endpoint,
        namespace: s.spec.namespace,
        pod: s.spec.pod,
        ip: s.spec.podIP,
        instance: s.instance,
        running: s.running,
        role: s.role,
        epoch: s.epoch
      })
    )
  )

  return DoltCluster.of({
    options: { version: options.version ?? "2.3.1" },
    ids,
    servers,
    serverAt: (host) => serverAt(host),
    connect,
    check,
    close,
    wake,
    backupStore,
    backupFailures,
    backupSyncMillis: toMillis(options.backupSyncDuration ?? "1500 millis"),
    ...client,
    setReplicationDelay,
    setAckWritesTimeout,
    setFault
  })
})
