/**
 * What the in-memory Dolt cluster (`DoltCluster.ts`) offers simulations and the model's `Dolt` layer: its options,
 * the servers it reports, and its client API (connections, client writes and reads, the write ledger, faults).
 */
import type { DoltError, DoltTls } from "@doltdb-op/core/services/Dolt"
import type { Endpoint } from "@doltdb-op/core/sim/SimWorld"
import type { Duration, Effect } from "effect"
import type { LedgerEntry } from "./clientWrites.ts"
import type { Connection, ModelServer } from "./ModelServer.ts"
import type { IdSource, Root } from "./state.ts"

export interface DoltClusterOptions {
  /** Seed of the model's randomness (replication jitter). */
  readonly seed?: number
  /** Base duration of one push (default 20 ms). */
  readonly replicationDelay?: Duration.Input
  /** How long one `dolt_backup sync` takes (default 1.5 s). */
  readonly backupSyncDuration?: Duration.Input
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
  /**
   * SIGTERM on a clustered primary whose standbys are behind: the server closes its listener at once (new
   * connections refused, open ones killed) but keeps running, replicating, until its standbys are caught up or the
   * kubelet's SIGKILL at the end of the grace period (seen with dolt 1.86.4 in e2e: 50 s after "Server closing
   * listener" while a standby lagged). Default false: SIGTERM stops the server at once.
   */
  readonly termWaitsForStandbys?: boolean
}

export interface ServerInfo {
  /** `<namespace>/<pod>` */
  readonly endpoint: Endpoint
  readonly namespace: string
  readonly pod: string
  readonly ip: string
  /** Increases on every start of the pod's server (a restart is a new instance). */
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
    op: string,
    /** The client's TLS settings (`DoltTarget.tls`); checked against the server's listener as mysql2 would. */
    tls?: DoltTls | undefined
  ) => Effect.Effect<Connection, DoltError>
  /** Fails the way the next statement on `conn` would if the connection is dead, killed or tainted. */
  readonly check: (conn: Connection, host: string, from: Endpoint, op: string) => Effect.Effect<ModelServer, DoltError>
  readonly close: (conn: Connection) => Effect.Effect<void>
  /** Tells the replication loop that something changed. */
  readonly wake: Effect.Effect<void>
  /** The object stores: URL -> the root last synced there (Dolt's backups copy whole roots). */
  readonly backupStore: Map<string, { readonly root: Root; readonly charset: string; readonly collation: string }>
  /** URL -> the store's error for every sync to it (a wrong bucket, bad credentials). */
  readonly backupFailures: Map<string, string>
  /** How long one sync takes (simulated time). */
  readonly backupSyncMillis: number

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
   * replication in or out, probes fail); `probeFailing` fails probes while SQL and replication go on;
   * `refusesCredentials` refuses every replication push as `Unauthenticated` (a standby that lacks the primary's key).
   */
  readonly setFault: (
    host: string,
    fault: { readonly hung?: boolean; readonly probeFailing?: boolean; readonly refusesCredentials?: boolean }
  ) => Effect.Effect<void, DoltError>
}
