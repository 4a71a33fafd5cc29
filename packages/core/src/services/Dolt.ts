/**
 * The `Dolt` service: what the operator asks of one Dolt sql-server (addressed per pod or per Service host).
 * Layers: `@doltdb-op/dolt/live/DoltLive` (mysql2) and `@doltdb-op/dolt/memory/DoltModelLayer` (in-memory cluster).
 *
 * Every call carries its own target; the live layer opens a fresh connection for role changes (Dolt kills other
 * connections and taints the caller's), pools only statements that need no session state, and bounds every call
 * with a timeout. Errors are the tagged errors of `./dolt/errors.ts`.
 */
import { Context, type Effect, type Redacted } from "effect"
import type { DoltError } from "./dolt/errors.ts"
import type { Account, GrantSpec } from "./dolt/names.ts"
import type {
  AssumableRole,
  BackupInfo,
  BranchInfo,
  ClusterStatusRow,
  RoleAndEpoch,
  TransitionRow
} from "./dolt/rows.ts"

export * from "./dolt/errors.ts"
export * from "./dolt/names.ts"
export * from "./dolt/rows.ts"

/** Where a Dolt server listens and the admin credentials from the `<name>-credentials` Secret. */
/**
 * TLS to a server: the PEM roots its certificate must chain to, and a DNS name the certificate must carry (we dial
 * pod IPs, so the name is checked instead of the address). Never a fallback to plaintext.
 */
export interface DoltTls {
  readonly ca: string
  readonly serverName: string
}

export interface DoltTarget {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: Redacted.Redacted<string>
  /** Absent: plaintext. */
  readonly tls?: DoltTls | undefined
}

export interface CreateDatabase {
  readonly name: string
  readonly charset?: string
  readonly collation?: string
}

/** A database's defaults as `information_schema.SCHEMATA` reports them. */
export interface DatabaseDefaults {
  readonly charset: string
  readonly collation: string
}

export interface DoltShape {
  /** `@@global.dolt_cluster_role`, `@@global.dolt_cluster_role_epoch`. */
  readonly roleAndEpoch: (target: DoltTarget) => Effect.Effect<RoleAndEpoch, DoltError>
  /** `dolt_cluster.dolt_cluster_status`. */
  readonly clusterStatus: (target: DoltTarget) => Effect.Effect<ReadonlyArray<ClusterStatusRow>, DoltError>
  /** `CALL dolt_assume_cluster_role(role, epoch)` on a fresh connection. */
  readonly assumeRole: (target: DoltTarget, role: AssumableRole, epoch: number) => Effect.Effect<void, DoltError>
  /**
   * `CALL dolt_cluster_transition_to_standby(epoch, minCaughtUp)` on a fresh connection. Rows include the
   * `mysql` and `dolt_branch_control` pseudo-databases; see `standbysCaughtUp` to pick a promotion target.
   * `minCaughtUpStandbys` 0 means every standby; -1 means none (read-only at once, standby after Dolt's 10 s wait
   * whatever the standbys did: how the isolation guard stops writes on a primary that reaches no standby).
   */
  readonly transitionToStandby: (
    target: DoltTarget,
    epoch: number,
    minCaughtUpStandbys: number
  ) => Effect.Effect<ReadonlyArray<TransitionRow>, DoltError>
  /**
   * `SET GLOBAL dolt_cluster_ack_writes_timeout_secs = seconds`: for this server process only (not persisted: a
   * restart brings back the configured or persisted value). Dolt reads it when a commit starts waiting.
   */
  readonly setAckWritesTimeout: (target: DoltTarget, seconds: number) => Effect.Effect<void, DoltError>
  /** `SELECT dolt_version()` (`version()` on a non-Dolt server). */
  readonly serverVersion: (target: DoltTarget) => Effect.Effect<string, DoltError>

  /** User databases (no `information_schema`, `mysql`, `dolt_cluster`, ...). */
  readonly listDatabases: (target: DoltTarget) => Effect.Effect<ReadonlyArray<string>, DoltError>
  /** `CREATE DATABASE IF NOT EXISTS` with optional charset/collation (creation only). */
  readonly createDatabase: (target: DoltTarget, database: CreateDatabase) => Effect.Effect<void, DoltError>
  /** `DROP DATABASE IF EXISTS`. */
  readonly dropDatabase: (target: DoltTarget, name: string) => Effect.Effect<void, DoltError>

  readonly listBranches: (target: DoltTarget, database: string) => Effect.Effect<ReadonlyArray<BranchInfo>, DoltError>
  /** Creates the missing branches from `from` (default `main`); returns the names created. */
  readonly ensureBranches: (
    target: DoltTarget,
    database: string,
    branches: ReadonlyArray<string>,
    from?: string
  ) => Effect.Effect<ReadonlyArray<string>, DoltError>
  /**
   * Inserts the missing `dolt_ignore` patterns and commits `dolt_ignore` (reference flaw: never committed).
   * Returns the patterns added; commits only when something changed or was left uncommitted.
   */
  readonly ensureIgnorePatterns: (
    target: DoltTarget,
    database: string,
    patterns: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<string>, DoltError>
  /**
   * The `dolt_ignore` patterns as committed at HEAD of the database's default branch (`AS OF 'HEAD'` on a
   * session-less connection): rows inserted but never committed do not count, as they do not reach new branches.
   */
  readonly ignorePatterns: (target: DoltTarget, database: string) => Effect.Effect<ReadonlyArray<string>, DoltError>
  /** Default charset and collation from `information_schema.SCHEMATA`; `undefined` when the database does not exist. */
  readonly databaseDefaults: (
    target: DoltTarget,
    database: string
  ) => Effect.Effect<DatabaseDefaults | undefined, DoltError>

  readonly userExists: (target: DoltTarget, account: Account) => Effect.Effect<boolean, DoltError>
  /** `CREATE USER IF NOT EXISTS ... IDENTIFIED BY ...`; returns whether it was created. */
  readonly createUser: (
    target: DoltTarget,
    account: Account,
    password: Redacted.Redacted<string>
  ) => Effect.Effect<boolean, DoltError>
  readonly setPassword: (
    target: DoltTarget,
    account: Account,
    password: Redacted.Redacted<string>
  ) => Effect.Effect<void, DoltError>
  /** `DROP USER IF EXISTS`. */
  readonly dropUser: (target: DoltTarget, account: Account) => Effect.Effect<void, DoltError>

  readonly grant: (target: DoltTarget, grant: GrantSpec) => Effect.Effect<void, DoltError>
  /** Revokes; privileges that are not held are not an error. */
  readonly revoke: (target: DoltTarget, grant: GrantSpec) => Effect.Effect<void, DoltError>
  /** `SHOW GRANTS FOR`; `[]` when the account does not exist. */
  readonly showGrants: (target: DoltTarget, account: Account) => Effect.Effect<ReadonlyArray<string>, DoltError>

  /** `SELECT dolt_hashof_db()`: a hash of the whole database (every branch and working set) as this server has it. */
  readonly databaseHash: (target: DoltTarget, database: string) => Effect.Effect<string, DoltError>
  readonly listBackups: (target: DoltTarget, database: string) => Effect.Effect<ReadonlyArray<BackupInfo>, DoltError>
  /** `dolt_backup('add', name, url)`; an existing backup with the same URL is fine. */
  readonly backupAdd: (
    target: DoltTarget,
    database: string,
    name: string,
    url: string
  ) => Effect.Effect<void, DoltError>
  /**
   * `dolt_backup('sync', name)`, bounded by `timeoutMillis` (default: the layer's backup timeout); a sync that runs
   * longer fails with `DoltTimeout` and its connection is closed.
   */
  readonly backupSync: (
    target: DoltTarget,
    database: string,
    name: string,
    timeoutMillis?: number
  ) => Effect.Effect<void, DoltError>
  readonly backupRemove: (target: DoltTarget, database: string, name: string) => Effect.Effect<void, DoltError>
  /** `dolt_backup('restore', url, newDatabase[, '--force'])`. */
  readonly backupRestore: (
    target: DoltTarget,
    url: string,
    database: string,
    force: boolean
  ) => Effect.Effect<void, DoltError>
}

export class Dolt extends Context.Service<Dolt, DoltShape>()("@doltdb-op/core/services/Dolt") {}
