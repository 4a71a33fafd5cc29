/**
 * SQL text for every statement the live layer sends. Identifiers are quoted with mysql2's `escapeId(name, true)`
 * (backticks doubled; `true` = never split on dots), string values are escaped by mysql2's `escape`/`format` or sent
 * as parameters. Inputs are validated first (`@doltdb-op/core/services/Dolt` names.ts); these builders assume valid
 * input and are pure so the SQL-safety property test can run them against a real server.
 *
 * mysql2 escapes with backslashes, so the server must not run with `NO_BACKSLASH_ESCAPES` (Dolt and MariaDB do not
 * by default).
 */
import type { Account, ValidGrant } from "@doltdb-op/core/services/Dolt"
import * as mysql from "mysql2"

export const quoteId = (name: string): string => mysql.escapeId(name, true)

export const account = (a: Account): string => `${mysql.escape(a.name)}@${mysql.escape(a.host)}`

export const createDatabase = (name: string, charset?: string, collation?: string): string =>
  `CREATE DATABASE IF NOT EXISTS ${quoteId(name)}` +
  (charset === undefined || charset === "" ? "" : ` CHARACTER SET ${mysql.escape(charset)}`) +
  (collation === undefined || collation === "" ? "" : ` COLLATE ${mysql.escape(collation)}`)

export const dropDatabase = (name: string): string => `DROP DATABASE IF EXISTS ${quoteId(name)}`

export const createUser = (a: Account, password: string): string =>
  `CREATE USER IF NOT EXISTS ${account(a)} IDENTIFIED BY ${mysql.escape(password)}`

export const setPassword = (a: Account, password: string): string =>
  `ALTER USER ${account(a)} IDENTIFIED BY ${mysql.escape(password)}`

export const dropUser = (a: Account): string => `DROP USER IF EXISTS ${account(a)}`

export const userExists = { sql: "SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?" } as const

const grantObject = (g: ValidGrant): string =>
  g.database === "*" ? "*.*" : `${quoteId(g.database)}.${g.table === "*" ? "*" : quoteId(g.table)}`

export const grant = (g: ValidGrant): string => {
  const privileges = g.privileges.length === 0 ? "USAGE" : g.privileges.join(", ")
  return `GRANT ${privileges} ON ${grantObject(g)} TO ${account(g.account)}${g.grantOption ? " WITH GRANT OPTION" : ""}`
}

export const revoke = (g: ValidGrant): string => {
  const privileges = g.grantOption ? [...g.privileges, "GRANT OPTION"] : g.privileges
  return `REVOKE ${privileges.join(", ")} ON ${grantObject(g)} FROM ${account(g.account)}`
}

export const showGrants = (a: Account): string => `SHOW GRANTS FOR ${account(a)}`

export const roleAndEpoch =
  "SELECT @@global.dolt_cluster_role AS role, @@global.dolt_cluster_role_epoch AS epoch, " +
  "@@global.dolt_cluster_ack_writes_timeout_secs AS ack"

export const setAckWritesTimeout = "SET GLOBAL dolt_cluster_ack_writes_timeout_secs = ?"

export const clusterStatus =
  "SELECT `database`, standby_remote, role, epoch, replication_lag_millis, last_update, current_error " +
  "FROM dolt_cluster.dolt_cluster_status"

export const assumeRole = "CALL dolt_assume_cluster_role(?, ?)"
export const transitionToStandby = "CALL dolt_cluster_transition_to_standby(?, ?)"
/**
 * Persists the (unchanged) users and grants: Dolt re-sends them to every standby at once, resetting the back-off of
 * that replication (see `resendReplicatedSettings` in DoltLive.ts).
 */
export const flushPrivileges = "FLUSH PRIVILEGES"
/** Saves the (unchanged) branch permissions: the same for `dolt_branch_control`'s replication. */
export const touchBranchControl = (database: string): string =>
  `DELETE FROM ${quoteId(database)}.dolt_branch_control WHERE 1 = 0`
export const doltVersion = "SELECT dolt_version() AS version"
export const serverVersion = "SELECT version() AS version"
export const showDatabases = "SHOW DATABASES"

/** Databases that are the server's, not the user's. */
export const systemDatabases: ReadonlySet<string> = new Set([
  "information_schema",
  "mysql",
  "performance_schema",
  "sys",
  "dolt_cluster"
])

/** Session-less: the database is named, so no `USE` and no current database are needed. */
export const databaseDefaults =
  "SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation " +
  "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?"

/**
 * Session-less: on a connection with no current database, `HEAD` of a named database is its default branch's
 * HEAD, so working-set rows (inserted, never committed) are not read.
 */
export const committedIgnorePatterns = (database: string): string =>
  `SELECT pattern FROM ${quoteId(database)}.dolt_ignore AS OF 'HEAD'`

// Database-scoped statements: run on a dedicated connection opened with `database` set (never `USE` on a pool).
export const listBranches = "SELECT name, hash FROM dolt_branches"
export const createBranch = "CALL dolt_branch(?, ?)"
export const listIgnorePatterns = "SELECT pattern FROM dolt_ignore"
export const insertIgnorePattern = "INSERT INTO dolt_ignore (pattern, ignored) VALUES (?, true)"
export const ignoreUncommitted = "SELECT COUNT(*) AS n FROM dolt_status WHERE table_name = 'dolt_ignore'"
export const addIgnoreTable = "CALL dolt_add('dolt_ignore')"
export const commit = "CALL dolt_commit('-m', ?)"
export const listBackups = "SELECT name, url FROM dolt_backups"
export const databaseHash = "SELECT dolt_hashof_db() AS h"
export const backupAdd = "CALL dolt_backup('add', ?, ?)"
export const backupSync = "CALL dolt_backup('sync', ?)"
export const backupRemove = "CALL dolt_backup('remove', ?)"
export const backupRestore = "CALL dolt_backup('restore', ?, ?)"
export const backupRestoreForce = "CALL dolt_backup('restore', ?, ?, '--force')"
