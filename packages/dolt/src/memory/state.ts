/**
 * Data the Dolt model keeps per server. Replicated things are immutable values (a database root, the users and
 * grants store) so a push hands the standby the primary's value, replacing its own (Dolt replaces roots, it never
 * merges). What lives in the data dir (databases, privileges) and what lives in `$DOLT_ROOT_PATH/.dolt`
 * (persisted role/epoch/variables) are separate so either can be lost on restart when not on a volume.
 */

import type { ClusterRole, Privilege } from "@doltdb-op/core/services/Dolt"
import { HashMap, HashSet } from "effect"

/** A database's chunk-store root: data, branches and dolt_ignore, all replicated together. */
export interface Root {
  /** Unique across the whole model: equal ids = the same root. */
  readonly id: number
  /** When this root was made on its primary (status `last_update` on the primary). */
  readonly createdAt: number
  readonly data: HashMap.HashMap<string, string>
  /** Ids of every client write this root contains (its history), for the "no acknowledged write lost" check. */
  readonly writes: HashSet.HashSet<number>
  readonly branches: ReadonlyMap<string, number>
  /** `dolt_ignore` as committed at HEAD of `main` (the model only ever writes committed patterns). */
  readonly ignorePatterns: ReadonlyArray<string>
  /** Whether `dolt_ignore` has uncommitted changes (their rows are not modelled). */
  readonly ignoreDirty: boolean
}

export interface DatabaseState {
  root: Root
  readonly charset: string
  readonly collation: string
  /** `dolt_backup` definitions live in repo_state.json: per server, never replicated. */
  readonly backups: Map<string, string>
}

export interface GrantEntry {
  readonly privileges: ReadonlySet<Privilege>
  readonly grantOption: boolean
}

export interface AccountState {
  readonly password: string
  /** `db.table` (`*.*`, `` `db`.* ``) -> privileges. */
  readonly grants: ReadonlyMap<string, GrantEntry>
}

/** The `mysql` privilege store: replicated as a whole. */
export interface AuthStore {
  readonly id: number
  readonly accounts: ReadonlyMap<string, AccountState>
}

/** What lives in the data dir (`data_dir`, databases + `.doltcfg/privileges.db`). */
export interface DataDir {
  readonly databases: Map<string, DatabaseState>
  auth: AuthStore
  /** `dolt_branch_control` store id (replicated like the privileges, never changed by the model's API). */
  branchControl: number
  /** `privileges.db` exists (the init container creates the admin user only once). */
  privilegesInitialised: boolean
}

/** What lives in `$DOLT_ROOT_PATH/.dolt/config_global.json`. */
export interface GlobalConfig {
  role: ClusterRole | undefined
  epoch: number | undefined
  ackWritesTimeoutSecs: number | undefined
}

export const accountKey = (name: string, host: string): string => `${name}\u0000${host}`

export const splitAccountKey = (key: string): { readonly name: string; readonly host: string } => {
  const i = key.indexOf("\u0000")
  return { name: key.slice(0, i), host: key.slice(i + 1) }
}

/** Counter for root/store ids, shared by one model cluster. */
export interface IdSource {
  readonly next: () => number
}

export const emptyRoot = (ids: IdSource, now: number): Root => ({
  id: ids.next(),
  createdAt: now,
  data: HashMap.empty(),
  writes: HashSet.empty(),
  branches: new Map([["main", 0]]),
  ignorePatterns: [],
  ignoreDirty: false
})

export const newDataDir = (ids: IdSource): DataDir => ({
  databases: new Map(),
  auth: { id: ids.next(), accounts: new Map() },
  branchControl: ids.next(),
  privilegesInitialised: false
})

/** What `dolt_hashof_db()` answers for a root: equal roots, equal hashes (32 base-32 characters, as Dolt's). */
export const rootHash = (root: Root): string => root.id.toString(32).padStart(32, "0")
