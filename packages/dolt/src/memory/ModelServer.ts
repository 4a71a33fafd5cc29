/**
 * One modelled Dolt sql-server: role and epoch (dolt-cluster.md §2), the commit hooks that replicate each
 * database, the privileges and branch control to every standby remote, the status table (§3) and connections
 * (killed and tainted on role changes). Replication itself is stepped by `replication.ts`.
 */
import type { ClusterRole } from "@doltdb-op/core/services/Dolt"
import type { ContainerSpec, Endpoint } from "@doltdb-op/core/sim/SimWorld"
import type { ModelServerConfig, StandbyRemote } from "./config.ts"
import type { DataDir, GlobalConfig } from "./state.ts"

/** Pseudo-databases replicated besides the user databases (rows of `dolt_cluster_transition_to_standby`). */
export const MysqlStore = "mysql"
export const BranchControlStore = "dolt_branch_control"

export const BrokenConfigError =
  "error: more than one server was configured as primary in the same epoch. this server has stopped accepting writes. choose a primary in the cluster and call dolt_assume_cluster_role() on servers in the cluster to start replication at a higher epoch"

/** Hands a pushed value (a root, the privileges store, branch control) to the standby. */
export type Deliver = (to: ModelServer, now: number) => void

/** The replication state of one (database, standby remote) pair. */
export interface Hook {
  readonly remote: StandbyRemote
  readonly database: string
  /** Id of the value last pushed successfully since this server became primary. */
  pushedId: number | undefined
  /** `createdAt` of that root: the primary's `last_update`. */
  pushedCreatedAt: number | null
  lastSuccessAt: number | undefined
  inFlight:
    | {
        readonly id: number
        readonly createdAt: number
        readonly epoch: number
        readonly completeAt: number
        readonly deliver: Deliver
      }
    | undefined
  nextAttemptAt: number
  lastHeartbeatAt: number
  currentError: string | null
  /** Standby side: local time of the last accepted push or heartbeat for this database. */
  standbyLastUpdate: number | null
  /** `dolt_cluster_ack_writes_timeout_secs` circuit breaker: open after a timed-out wait until caught up. */
  breakerOpen: boolean
  /** While open, the first commit at or after this time waits for real (2.2.2's half-open probe). */
  breakerProbeAt: number
}

export interface Connection {
  readonly id: number
  readonly server: ModelServer
  killed: boolean
  tainted: boolean
}

export type RoleCheck =
  | { readonly _tag: "NoOp" }
  | { readonly _tag: "Change"; readonly changesRole: boolean }
  | { readonly _tag: "Invalid"; readonly message: string }
  | { readonly _tag: "EpochConflict"; readonly message: string }

export class ModelServer {
  readonly instance: number
  readonly spec: ContainerSpec
  readonly endpoint: Endpoint
  readonly config: ModelServerConfig
  readonly data: DataDir
  readonly global: GlobalConfig
  role: ClusterRole
  epoch: number
  running = true
  /** Faults: `hung` = alive but answers nothing (SQL times out, no replication, probes fail); `probeFailing` = probes
   * fail while SQL and replication go on (a slow probe, a kubelet problem). */
  hung = false
  /** SIGTERM received, listener closed, still replicating to standbys that are behind (`termWaitsForStandbys`). */
  closing = false
  probeFailing = false
  /**
   * Refuses every replication push as `Unauthenticated`: a real standby that has not learnt the pushing primary's
   * signing key (its key fetch stuck on a re-created peer's old address; core `StuckStandby.ts`). Never set by the
   * random schedules, only by a test's `setFault`; a restarted process starts without it.
   */
  refusesCredentials = false
  /** Set while a graceful primary -> standby transition waits for the standbys. */
  readOnlyOverride = false
  readonly hooks = new Map<string, Map<string, Hook>>()
  /**
   * DROP DATABASE replication still owed: remote name -> database -> next attempt and backoff (in memory only, like
   * Dolt's, which retries with exponential backoff from 1 ms to 1 min).
   */
  readonly pendingDrops = new Map<string, Map<string, { nextAt: number; backoffMillis: number }>>()
  readonly connections = new Set<Connection>()

  constructor(init: {
    readonly instance: number
    readonly spec: ContainerSpec
    readonly endpoint: Endpoint
    readonly config: ModelServerConfig
    readonly data: DataDir
    readonly global: GlobalConfig
  }) {
    this.instance = init.instance
    this.spec = init.spec
    this.endpoint = init.endpoint
    this.config = init.config
    this.data = init.data
    this.global = init.global
    // applyBootstrapClusterConfig: persisted values win; bootstrap values are written when absent.
    const cluster = init.config.cluster
    if (this.global.role === undefined) this.global.role = cluster?.bootstrapRole ?? "primary"
    if (this.global.epoch === undefined) this.global.epoch = cluster?.bootstrapEpoch ?? 0
    this.role = this.global.role
    this.epoch = this.global.epoch
  }

  get remotes(): ReadonlyArray<StandbyRemote> {
    return this.config.cluster?.standbyRemotes ?? []
  }

  get clustered(): boolean {
    return this.config.cluster !== undefined
  }

  /** `@@read_only`: 1 whenever not primary (Dolt >= 1.76.5), and during a graceful transition. */
  get readOnly(): boolean {
    return this.role !== "primary" || this.readOnlyOverride
  }

  /** `SET GLOBAL dolt_cluster_ack_writes_timeout_secs`: this process only, gone at a restart. */
  ackWritesTimeoutOverride: number | undefined = undefined

  ackWritesTimeoutSecs(): number {
    return this.ackWritesTimeoutOverride ?? this.global.ackWritesTimeoutSecs ?? this.config.ackWritesTimeoutSecs ?? 0
  }

  /** The value id a hook for `database` must have pushed to be caught up. */
  currentId(database: string): number | undefined {
    if (database === MysqlStore) return this.data.auth.id
    if (database === BranchControlStore) return this.data.branchControl
    return this.data.databases.get(database)?.root.id
  }

  remoteUrl(remote: StandbyRemote, database: string): string {
    if (database === MysqlStore || database === BranchControlStore) {
      // Users/grants and branch control go to the server, not to a database: the template's origin.
      const url = remote.remoteUrlTemplate.replace("{database}", "")
      return URL.canParse(url) ? new URL(url).origin : url
    }
    return remote.remoteUrlTemplate.replaceAll("{database}", database)
  }

  /** Creates hooks for new databases, drops hooks of dropped ones. */
  syncHooks(now: number): void {
    if (!this.clustered) return
    if (this.hooksInSync()) return
    const names = [...this.data.databases.keys(), MysqlStore, BranchControlStore]
    for (const remote of this.remotes) {
      let byDb = this.hooks.get(remote.name)
      if (byDb === undefined) {
        byDb = new Map()
        this.hooks.set(remote.name, byDb)
      }
      for (const name of names) {
        if (!byDb.has(name)) byDb.set(name, freshHook(remote, name, now))
      }
      for (const name of [...byDb.keys()]) if (!names.includes(name)) byDb.delete(name)
    }
  }

  /** Every remote has exactly a hook per database (and users/grants, branch control): nothing to sync. */
  private hooksInSync(): boolean {
    const count = this.data.databases.size + 2
    for (const remote of this.remotes) {
      const byDb = this.hooks.get(remote.name)
      if (byDb === undefined || byDb.size !== count || !byDb.has(MysqlStore) || !byDb.has(BranchControlStore))
        return false
      for (const name of this.data.databases.keys()) if (!byDb.has(name)) return false
    }
    return true
  }

  allHooks(): ReadonlyArray<Hook> {
    const out: Array<Hook> = []
    for (const byDb of this.hooks.values()) for (const h of byDb.values()) out.push(h)
    return out
  }

  /** Dolt: a hook of a non-primary counts as caught up; a primary's when it pushed the current value. */
  hookCaughtUp(h: Hook): boolean {
    return this.role !== "primary" || h.pushedId === this.currentId(h.database)
  }

  /** `setRoleAndEpoch`'s checks (controller.go). */
  checkRoleChange(role: string, epoch: number, graceful: boolean): RoleCheck {
    if (epoch === this.epoch && role === this.role) return { _tag: "NoOp" }
    if (role !== "primary" && role !== "standby" && role !== "detected_broken_config") {
      return { _tag: "Invalid", message: `error assuming role '${role}'; valid roles are 'primary' and 'standby'` }
    }
    if (epoch < this.epoch) {
      return {
        _tag: "EpochConflict",
        message: `error assuming role '${role}' at epoch ${epoch}; already at epoch ${this.epoch}`
      }
    }
    if (epoch === this.epoch && !(!graceful && (role === "standby" || role === "detected_broken_config"))) {
      return {
        _tag: "EpochConflict",
        message: `error assuming role '${role}' at epoch ${epoch}; already at epoch ${this.epoch} with different role, '${this.role}'`
      }
    }
    return { _tag: "Change", changesRole: role !== this.role }
  }

  /** Kills every connection but `except` (Dolt kills queries and connections on role changes). */
  killConnections(except?: Connection): void {
    for (const c of this.connections) {
      if (c === except) continue
      c.killed = true
      this.connections.delete(c)
    }
  }

  /** Applies a role/epoch (already checked), persists it, resets hooks on a role change. */
  applyRole(role: ClusterRole, epoch: number, now: number, caller?: Connection): void {
    const changed = role !== this.role
    if (changed) this.killConnections(caller)
    this.role = role
    this.epoch = epoch
    this.readOnlyOverride = false
    this.global.role = role
    this.global.epoch = epoch
    if (changed) {
      for (const h of this.allHooks()) resetHook(h, now)
      if (caller !== undefined) caller.tainted = true
    }
  }

  /** `dolt_cluster.dolt_cluster_status` rows (user databases only). */
  statusRows(now: number) {
    const rows: Array<{
      database: string
      standbyRemote: string
      role: ClusterRole
      epoch: number
      replicationLagMillis: number | null
      lastUpdateMillis: number | null
      currentError: string | null
    }> = []
    for (const remote of this.remotes) {
      const byDb = this.hooks.get(remote.name)
      for (const database of [...this.data.databases.keys()].sort()) {
        const h = byDb?.get(database)
        if (h === undefined) continue
        const primary = this.role === "primary"
        const lag = !primary || h.lastSuccessAt === undefined ? null : this.hookCaughtUp(h) ? 0 : now - h.lastSuccessAt
        rows.push({
          database,
          standbyRemote: remote.name,
          role: this.role,
          epoch: this.epoch,
          replicationLagMillis: lag,
          lastUpdateMillis: primary ? h.pushedCreatedAt : h.standbyLastUpdate,
          currentError: this.role === "detected_broken_config" ? BrokenConfigError : primary ? h.currentError : null
        })
      }
    }
    return rows
  }
}

const freshHook = (remote: StandbyRemote, database: string, now: number): Hook => ({
  remote,
  database,
  pushedId: undefined,
  pushedCreatedAt: null,
  lastSuccessAt: undefined,
  inFlight: undefined,
  nextAttemptAt: now,
  lastHeartbeatAt: now,
  currentError: null,
  standbyLastUpdate: null,
  breakerOpen: false,
  breakerProbeAt: 0
})

const resetHook = (h: Hook, now: number): void => {
  h.pushedId = undefined
  h.pushedCreatedAt = null
  h.lastSuccessAt = undefined
  h.inFlight = undefined
  h.nextAttemptAt = now
  h.lastHeartbeatAt = now
  h.currentError = null
  h.standbyLastUpdate = null
  h.breakerOpen = false
}
