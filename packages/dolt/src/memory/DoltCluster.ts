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
  type DoltError,
  DoltReadOnly,
  DoltSqlError,
  DoltTimeout,
  DoltUnreachable
} from "@doltdb-op/core/services/Dolt"
import { type ContainerSpec, type Endpoint, type Mount, type Process, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { Clock, Context, Duration, Effect, HashMap, HashSet, Layer, Queue } from "effect"
import { parseServerConfig } from "./config.ts"
import { gracefulTransitionToStandby } from "./graceful.ts"
import { parseHost, templateHostPort } from "./hosts.ts"
import { type Connection, ModelServer } from "./ModelServer.ts"
import { seededRandom } from "./random.ts"
import { type Network, nextEventAt, step } from "./replication.ts"
import { accountKey, type DataDir, type GlobalConfig, type IdSource, newDataDir, type Root } from "./state.ts"

export const DoltImage = "dolthub/dolt"
/** How long a call to a hung server takes to fail (the live layer's default query timeout). */
export const HungTimeoutMillis = 10_000
/** The endpoint client writes come from unless told otherwise. */
export const ClientEndpoint: Endpoint = "client"

export interface DoltClusterOptions {
  /** Seed of the model's randomness (replication jitter). */
  readonly seed?: number
  /** Base duration of one push (default 20 ms). */
  readonly replicationDelay?: Duration.Input
  /** Extra random push duration in [0, jitter) (default 0). */
  readonly replicationJitter?: Duration.Input
  /** What `dolt_version()` answers (default 2.3.1). */
  readonly version?: string
  /** Resolves names the model does not know (Service DNS names) to a pod IP or pod DNS name. */
  readonly resolveHost?: (host: string) => Effect.Effect<string | undefined>
  /**
   * What the container's preStop does, as our builders write it (`Probes.buildPreStop`): a primary runs
   * `dolt_cluster_transition_to_standby(epoch + 1, n)` (`n` = this, default 1) and the pod stops either way.
   * `false`: preStop does nothing (pods without the hook, replication disabled).
   */
  readonly preStopDemote?: number | false
}

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

export interface ServerInfo {
  readonly endpoint: Endpoint
  readonly namespace: string
  readonly pod: string
  readonly ip: string
  readonly instance: number
  readonly running: boolean
  readonly role: string
  readonly epoch: number
}

export interface DoltClusterShape {
  readonly options: Required<Pick<DoltClusterOptions, "version">>
  readonly ids: IdSource
  /** Every server started so far (latest instance per pod). */
  readonly servers: Effect.Effect<ReadonlyArray<ServerInfo>>
  /** The server a host name points at (running or not), if any. */
  readonly serverAt: (host: string) => Effect.Effect<ModelServer | undefined>
  /** Opens a SQL connection as the MySQL protocol would (network, port, credentials). */
  readonly connect: (
    host: string,
    port: number,
    user: string,
    password: string,
    from: Endpoint,
    op: string
  ) => Effect.Effect<Connection, DoltError>
  /** Fails the way the next statement on `conn` would if the connection is dead, killed or tainted. */
  readonly check: (conn: Connection, host: string, from: Endpoint, op: string) => Effect.Effect<ModelServer, DoltError>
  readonly close: (conn: Connection) => Effect.Effect<void>
  /** Tells the replication loop that something changed. */
  readonly wake: Effect.Effect<void>
  readonly backupStore: Map<string, { readonly root: Root; readonly charset: string; readonly collation: string }>

  /** A client write (`INSERT ... ON DUPLICATE KEY UPDATE` + COMMIT) through `host`; never fails, see the outcome. */
  readonly write: (
    host: string,
    database: string,
    key: string,
    value: string,
    options?: { readonly from?: Endpoint }
  ) => Effect.Effect<LedgerEntry>
  readonly read: (
    host: string,
    database: string,
    key: string,
    options?: { readonly from?: Endpoint }
  ) => Effect.Effect<string | undefined, DoltError>
  readonly ledger: Effect.Effect<ReadonlyArray<LedgerEntry>>
  /**
   * Acknowledged writes missing from the server at `host` (default: the running primary with the highest epoch;
   * fails with DoltUnreachable when there is none).
   */
  readonly lostAcknowledgedWrites: (host?: string) => Effect.Effect<ReadonlyArray<LedgerEntry>, DoltError>
  /** Push duration to the server at `host` (or every server when `undefined`). */
  readonly setReplicationDelay: (host: string | undefined, delay: Duration.Input) => Effect.Effect<void>
  /** `SET @@PERSIST.dolt_cluster_ack_writes_timeout_secs` on the server at `host`. */
  readonly setAckWritesTimeout: (host: string, seconds: number) => Effect.Effect<void, DoltError>
  /**
   * Faults on the server at `host` (until it restarts): `hung` answers nothing (calls time out after 10 s, no
   * replication in or out, probes fail); `probeFailing` fails probes while SQL and replication go on.
   */
  readonly setFault: (
    host: string,
    fault: { readonly hung?: boolean; readonly probeFailing?: boolean }
  ) => Effect.Effect<void, DoltError>
}

export class DoltCluster extends Context.Service<DoltCluster, DoltClusterShape>()(
  "@doltdb-op/dolt/memory/DoltCluster"
) {
  /** The model cluster in the world's `SimWorld`; its replication loop lives as long as the layer. */
  static readonly layer = (options: DoltClusterOptions = {}): Layer.Layer<DoltCluster, never, SimWorld> =>
    Layer.effect(DoltCluster, make(options))
}

const toMillis = (d: Duration.Input): number => Duration.toMillis(Duration.fromInputUnsafe(d))

/** The mount a path lives on (longest mount path that is a prefix), and the path inside it. */
const mountFor = (
  mounts: Readonly<Record<string, Mount>>,
  path: string
): { readonly mount: Mount; readonly rel: string } | undefined => {
  let best: { mount: Mount; rel: string; len: number } | undefined
  for (const [mountPath, mount] of Object.entries(mounts)) {
    const base = mountPath.replace(/\/+$/u, "")
    if (path === base || path.startsWith(`${base}/`)) {
      if (best === undefined || base.length > best.len)
        best = { mount, rel: path.slice(base.length) || "/", len: base.length }
    }
  }
  return best
}

const resolvePath = (path: string, cwd: string): string => {
  const joined = path.startsWith("/") ? path : `${cwd.replace(/\/+$/u, "")}/${path}`
  const parts: Array<string> = []
  for (const p of joined.split("/")) {
    if (p === "" || p === ".") continue
    if (p === "..") parts.pop()
    else parts.push(p)
  }
  return `/${parts.join("/")}`
}

const isServerCommand = (spec: ContainerSpec): boolean => [...spec.command, ...spec.args].includes("sql-server")

export const make = Effect.fnUntraced(function* (options: DoltClusterOptions = {}) {
  const world = yield* SimWorld
  const random = seededRandom(options.seed ?? 1)
  let nextId = 1
  const ids: IdSource = { next: () => nextId++ }
  let nextInstance = 1
  let nextConnection = 1
  const byPod = new Map<string, ModelServer>()
  const byIp = new Map<string, ModelServer>()
  const ledger: Array<LedgerEntry> = []
  let nextWrite = 1
  const baseDelay = toMillis(options.replicationDelay ?? "20 millis")
  const jitter = toMillis(options.replicationJitter ?? 0)
  const delayTo = new Map<string, number>()
  const backupStore: DoltClusterShape["backupStore"] = new Map()
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

  const allServers = () => [...byPod.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1))

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
      return finished(0)
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
    byIp.set(spec.podIP, server)
    server.syncHooks(now)
    yield* wake
    const stop = Effect.sync(() => {
      server.running = false
      server.killConnections()
    }).pipe(Effect.andThen(wake))
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
      probe: () => Effect.sync(() => server.running && !server.hung && !server.probeFailing),
      preStop,
      stop: () => stop,
      exitCode: Effect.sync(() => (server.running ? undefined : 0))
    }
    return process
  })

  yield* world.registerRuntime(DoltImage, { start })

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

  const connect: DoltClusterShape["connect"] = Effect.fnUntraced(function* (host, port, user, password, from, op) {
    const server = yield* serverAt(host)
    if (server === undefined) return yield* unreachable(host, op, "ENOTFOUND", `getaddrinfo ENOTFOUND ${host}`)
    const there = yield* world.canReach(from, server.endpoint)
    const back = yield* world.canReach(server.endpoint, from)
    if (!there || !back) return yield* unreachable(host, op, "ETIMEDOUT", "connect ETIMEDOUT")
    if (!server.running || port !== server.config.listenerPort) {
      return yield* unreachable(host, op, "ECONNREFUSED", `connect ECONNREFUSED ${host}:${port}`)
    }
    if (server.hung) return yield* hang(host, op)
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

  const record = (entry: LedgerEntry) =>
    Effect.sync(() => {
      ledger.push(entry)
      return entry
    })

  const write: DoltClusterShape["write"] = Effect.fnUntraced(function* (host, database, key, value, writeOptions) {
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
    const conn: Connection = { id: nextConnection++, server, killed: false, tainted: false }
    const reach = (yield* world.canReach(from, server.endpoint)) && (yield* world.canReach(server.endpoint, from))
    if (!reach) return yield* fail(server, unreachable(host, "write", "ETIMEDOUT", "connect ETIMEDOUT"))
    if (!server.running) return yield* fail(server, unreachable(host, "write", "ECONNREFUSED", "connect ECONNREFUSED"))
    if (server.hung) return yield* fail(server, yield* Effect.flip(hang(host, "write")))
    if (server.readOnly) {
      return yield* fail(
        server,
        new DoltReadOnly({ host, op: "write", errno: 1105, message: `Database ${database} is read-only.` })
      )
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

  const read: DoltClusterShape["read"] = Effect.fnUntraced(function* (host, database, key, readOptions) {
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

  const lostAcknowledgedWrites: DoltClusterShape["lostAcknowledgedWrites"] = Effect.fnUntraced(function* (host) {
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
      s.global.ackWritesTimeoutSecs = seconds
    })

  const setFault: DoltClusterShape["setFault"] = (host, fault) =>
    Effect.gen(function* () {
      const s = yield* serverAt(host)
      if (s === undefined) return yield* unreachable(host, "setFault", "ENOTFOUND", `getaddrinfo ENOTFOUND ${host}`)
      if (fault.hung !== undefined) s.hung = fault.hung
      if (fault.probeFailing !== undefined) s.probeFailing = fault.probeFailing
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
    write,
    read,
    ledger: Effect.sync(() => [...ledger]),
    lostAcknowledgedWrites,
    setReplicationDelay,
    setAckWritesTimeout,
    setFault
  })
})

/** What the init container does: the admin user from DOLT_USERNAME/DOLT_PASSWORD, once (no privileges.db yet). */
const initAdmin = (data: DataDir, spec: ContainerSpec): void => {
  if (data.privilegesInitialised) return
  const user = spec.env.DOLT_USERNAME
  const password = spec.env.DOLT_PASSWORD
  if (user === undefined || user === "" || password === undefined || password === "") return
  const accounts = new Map(data.auth.accounts)
  accounts.set(accountKey(user, "%"), {
    password,
    grants: new Map([["*.*", { privileges: new Set(["ALL PRIVILEGES"]), grantOption: true }]])
  })
  data.auth = { id: data.auth.id, accounts }
  data.privilegesInitialised = true
}

const finished = (code: number): Process => ({
  probe: () => Effect.succeed(false),
  preStop: Effect.void,
  stop: () => Effect.void,
  exitCode: Effect.succeed(code)
})
