/**
 * The `Dolt` calls on databases, branches, dolt_ignore, users, grants and backups, answered by a model server
 * (read-only errors on standbys as Dolt words them; users and grants change the replicated privileges store).
 */
import {
  type Account,
  BranchName,
  CharsetName,
  type DoltError,
  DoltReadOnly,
  DoltSqlError,
  type DoltTarget,
  DoltTimeout,
  DoltUnreachable,
  ParameterText,
  validate,
  validateAccount,
  validateDatabaseName,
  validateGrant,
  validatePassword
} from "@doltdb-op/core/services/Dolt"
import { Effect, Redacted } from "effect"
import type { DoltClusterShape } from "./DoltCluster.ts"
import type { Connection, ModelServer } from "./ModelServer.ts"
import {
  type AccountState,
  type AuthStore,
  accountKey,
  type DatabaseState,
  emptyRoot,
  type GrantEntry,
  rootHash
} from "./state.ts"

/** A statement run on a fresh connection to a model server. */
export type Op<A> = (server: ModelServer, conn: Connection, now: number) => Effect.Effect<A, DoltError>
export type Run = <A>(target: DoltTarget, op: string, f: Op<A>) => Effect.Effect<A, DoltError>

export const serverReadOnly = (host: string, op: string) =>
  new DoltReadOnly({ host, op, errno: 1105, message: "database server is set to read only mode" })

export const sqlError = (host: string, op: string, errno: number, message: string) =>
  new DoltSqlError({ host, op, errno, message })

const renderGrants = (name: string, host: string, account: AccountState): ReadonlyArray<string> => {
  const who = `\`${name}\`@\`${host}\``
  const lines: Array<string> = []
  const global = account.grants.get("*.*")
  if (global === undefined) lines.push(`GRANT USAGE ON *.* TO ${who}`)
  for (const [object, entry] of account.grants) {
    const privileges = entry.privileges.size === 0 ? "USAGE" : [...entry.privileges].sort().join(", ")
    lines.push(`GRANT ${privileges} ON ${object} TO ${who}${entry.grantOption ? " WITH GRANT OPTION" : ""}`)
  }
  return lines
}

const grantObject = (database: string, table: string): string =>
  database === "*"
    ? "*.*"
    : `\`${database.replaceAll("`", "``")}\`.${table === "*" ? "*" : `\`${table.replaceAll("`", "``")}\``}`

export const makeSqlResources = (cluster: DoltClusterShape, run: Run) => {
  const setAuth = (server: ModelServer, accounts: ReadonlyMap<string, AccountState>) => {
    const auth: AuthStore = { id: cluster.ids.next(), accounts }
    server.data.auth = auth
  }

  const listDatabases = (t: DoltTarget) =>
    run(t, "listDatabases", (s) => Effect.succeed([...s.data.databases.keys()].sort() as ReadonlyArray<string>))

  const createDatabase = (
    t: DoltTarget,
    d: { readonly name: string; readonly charset?: string; readonly collation?: string }
  ) =>
    Effect.gen(function* () {
      const name = yield* validateDatabaseName(d.name)
      if (d.charset !== undefined && d.charset !== "") yield* validate("charset", CharsetName, d.charset)
      if (d.collation !== undefined && d.collation !== "") yield* validate("collation", CharsetName, d.collation)
      yield* run(t, "createDatabase", (s, _c, now) =>
        Effect.gen(function* () {
          if (s.readOnly) return yield* serverReadOnly(t.host, "createDatabase")
          if (s.data.databases.has(name)) return
          s.data.databases.set(name, {
            root: emptyRoot(cluster.ids, now),
            charset: d.charset || "utf8mb4",
            collation: d.collation || "utf8mb4_0900_bin",
            backups: new Map()
          })
          // A new database cancels a pending drop replication of the same name.
          for (const drops of s.pendingDrops.values()) drops.delete(name)
          s.syncHooks(now)
        })
      )
    })

  const dropDatabase = (t: DoltTarget, name: string) =>
    Effect.gen(function* () {
      const valid = yield* validateDatabaseName(name)
      yield* run(t, "dropDatabase", (s, _c, now) =>
        Effect.gen(function* () {
          if (s.readOnly) return yield* serverReadOnly(t.host, "dropDatabase")
          if (!s.data.databases.delete(valid)) return
          s.syncHooks(now)
          if (s.role === "primary") {
            for (const remote of s.remotes) {
              let drops = s.pendingDrops.get(remote.name)
              if (drops === undefined) {
                drops = new Map()
                s.pendingDrops.set(remote.name, drops)
              }
              drops.set(valid, { nextAt: now, backoffMillis: 1 })
            }
          }
        })
      )
    })

  const databaseOf = (
    s: ModelServer,
    host: string,
    op: string,
    name: string
  ): Effect.Effect<DatabaseState, DoltError> => {
    const db = s.data.databases.get(name)
    return db === undefined ? Effect.fail(sqlError(host, op, 1049, `database not found: ${name}`)) : Effect.succeed(db)
  }

  const listBranches = (t: DoltTarget, database: string) =>
    Effect.gen(function* () {
      const name = yield* validateDatabaseName(database)
      return yield* run(t, "listBranches", (s) =>
        databaseOf(s, t.host, "listBranches", name).pipe(
          Effect.map((db) => [...db.root.branches].map(([branch, hash]) => ({ name: branch, hash: String(hash) })))
        )
      )
    })

  const ensureBranches = (t: DoltTarget, database: string, branches: ReadonlyArray<string>, from = "main") =>
    Effect.gen(function* () {
      const name = yield* validateDatabaseName(database)
      yield* validate("source branch", BranchName, from)
      for (const b of branches) yield* validate("branch", BranchName, b)
      if (branches.length === 0) return [] as ReadonlyArray<string>
      return yield* run(t, "ensureBranches", (s, _c, now) =>
        Effect.gen(function* () {
          const db = yield* databaseOf(s, t.host, "ensureBranches", name)
          const missing = [...new Set(branches)].filter((b) => !db.root.branches.has(b))
          if (missing.length === 0) return [] as ReadonlyArray<string>
          if (s.readOnly)
            return yield* new DoltReadOnly({
              host: t.host,
              op: "ensureBranches",
              errno: 1105,
              message: `Database ${name} is read-only.`
            })
          const head = db.root.branches.get(from)
          if (head === undefined) return yield* sqlError(t.host, "ensureBranches", 1105, `branch not found: ${from}`)
          const next = new Map(db.root.branches)
          for (const b of missing) next.set(b, head)
          db.root = { ...db.root, id: cluster.ids.next(), createdAt: now, branches: next }
          return missing as ReadonlyArray<string>
        })
      )
    })

  const ensureIgnorePatterns = (t: DoltTarget, database: string, patterns: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const name = yield* validateDatabaseName(database)
      for (const p of patterns) yield* validate("dolt_ignore pattern", ParameterText, p)
      if (patterns.length === 0) return [] as ReadonlyArray<string>
      return yield* run(t, "ensureIgnorePatterns", (s, _c, now) =>
        Effect.gen(function* () {
          const db = yield* databaseOf(s, t.host, "ensureIgnorePatterns", name)
          const added = [...new Set(patterns)].filter((p) => !db.root.ignorePatterns.includes(p))
          if (added.length === 0 && !db.root.ignoreDirty) return [] as ReadonlyArray<string>
          if (s.readOnly) {
            return yield* new DoltReadOnly({
              host: t.host,
              op: "ensureIgnorePatterns",
              errno: 1105,
              message: `Database ${name} is read-only.`
            })
          }
          // Insert, then dolt_add + dolt_commit: the committed root carries the patterns and is clean.
          db.root = {
            ...db.root,
            id: cluster.ids.next(),
            createdAt: now,
            ignorePatterns: [...db.root.ignorePatterns, ...added],
            ignoreDirty: false
          }
          return added as ReadonlyArray<string>
        })
      )
    })

  // The root's patterns are the committed ones: the model's only writer (`ensureIgnorePatterns`) commits them.
  const ignorePatterns = (t: DoltTarget, database: string) =>
    Effect.gen(function* () {
      const name = yield* validateDatabaseName(database)
      return yield* run(t, "ignorePatterns", (s) =>
        databaseOf(s, t.host, "ignorePatterns", name).pipe(
          Effect.map((db) => db.root.ignorePatterns as ReadonlyArray<string>)
        )
      )
    })

  const databaseDefaults = (t: DoltTarget, database: string) =>
    Effect.gen(function* () {
      const name = yield* validateDatabaseName(database)
      return yield* run(t, "databaseDefaults", (s) => {
        const db = s.data.databases.get(name)
        return Effect.succeed(db === undefined ? undefined : { charset: db.charset, collation: db.collation })
      })
    })

  const userExists = (t: DoltTarget, account: Account) =>
    Effect.gen(function* () {
      const a = yield* validateAccount(account)
      return yield* run(t, "userExists", (s) => Effect.succeed(s.data.auth.accounts.has(accountKey(a.name, a.host))))
    })

  const createUser = (t: DoltTarget, account: Account, password: Redacted.Redacted<string>) =>
    Effect.gen(function* () {
      const a = yield* validateAccount(account)
      const pw = yield* validatePassword(Redacted.value(password))
      return yield* run(t, "createUser", (s) =>
        Effect.gen(function* () {
          const key = accountKey(a.name, a.host)
          if (s.data.auth.accounts.has(key)) return false
          if (s.readOnly) return yield* serverReadOnly(t.host, "createUser")
          setAuth(s, new Map(s.data.auth.accounts).set(key, { password: pw, grants: new Map() }))
          return true
        })
      )
    })

  const setPassword = (t: DoltTarget, account: Account, password: Redacted.Redacted<string>) =>
    Effect.gen(function* () {
      const a = yield* validateAccount(account)
      const pw = yield* validatePassword(Redacted.value(password))
      yield* run(t, "setPassword", (s) =>
        Effect.gen(function* () {
          if (s.readOnly) return yield* serverReadOnly(t.host, "setPassword")
          const key = accountKey(a.name, a.host)
          const existing = s.data.auth.accounts.get(key)
          if (existing === undefined) {
            return yield* sqlError(
              t.host,
              "setPassword",
              1396,
              `Operation ALTER USER failed for '${a.name}'@'${a.host}'`
            )
          }
          setAuth(s, new Map(s.data.auth.accounts).set(key, { ...existing, password: pw }))
        })
      )
    })

  const dropUser = (t: DoltTarget, account: Account) =>
    Effect.gen(function* () {
      const a = yield* validateAccount(account)
      yield* run(t, "dropUser", (s) =>
        Effect.gen(function* () {
          const key = accountKey(a.name, a.host)
          if (!s.data.auth.accounts.has(key)) return
          if (s.readOnly) return yield* serverReadOnly(t.host, "dropUser")
          const next = new Map(s.data.auth.accounts)
          next.delete(key)
          setAuth(s, next)
        })
      )
    })

  const changeGrant = (t: DoltTarget, spec: Parameters<typeof validateGrant>[0], op: "grant" | "revoke") =>
    Effect.gen(function* () {
      const g = yield* validateGrant(spec)
      yield* run(t, op, (s) =>
        Effect.gen(function* () {
          if (s.readOnly) return yield* serverReadOnly(t.host, op)
          const key = accountKey(g.account.name, g.account.host)
          const account = s.data.auth.accounts.get(key)
          if (account === undefined) {
            if (op === "revoke") return
            return yield* sqlError(t.host, op, 1133, "Can't find any matching row in the user table")
          }
          const object = grantObject(g.database, g.table)
          const current = account.grants.get(object) ?? { privileges: new Set(), grantOption: false }
          const privileges = new Set(current.privileges)
          for (const p of g.privileges) op === "grant" ? privileges.add(p) : privileges.delete(p)
          const entry: GrantEntry = {
            privileges,
            grantOption: op === "grant" ? current.grantOption || g.grantOption : current.grantOption && !g.grantOption
          }
          const grants = new Map(account.grants)
          if (entry.privileges.size === 0 && !entry.grantOption) grants.delete(object)
          else grants.set(object, entry)
          setAuth(s, new Map(s.data.auth.accounts).set(key, { ...account, grants }))
        })
      )
    })

  const showGrants = (t: DoltTarget, account: Account) =>
    Effect.gen(function* () {
      const a = yield* validateAccount(account)
      return yield* run(t, "showGrants", (s) => {
        const acc = s.data.auth.accounts.get(accountKey(a.name, a.host))
        return Effect.succeed(acc === undefined ? [] : renderGrants(a.name, a.host, acc))
      })
    })

  const backupsOf = (
    t: DoltTarget,
    op: string,
    database: string,
    f: (s: ModelServer, backups: Map<string, string>, now: number) => Effect.Effect<void, DoltError>
  ) =>
    Effect.gen(function* () {
      const name = yield* validateDatabaseName(database)
      yield* run(t, op, (s, _c, now) =>
        databaseOf(s, t.host, op, name).pipe(Effect.flatMap((db) => f(s, db.backups, now)))
      )
    })

  const listBackups = (t: DoltTarget, database: string) =>
    Effect.gen(function* () {
      const name = yield* validateDatabaseName(database)
      return yield* run(t, "listBackups", (s) =>
        databaseOf(s, t.host, "listBackups", name).pipe(
          Effect.map((db) => [...db.backups].map(([n, url]) => ({ name: n, url })))
        )
      )
    })

  const backupAdd = (t: DoltTarget, database: string, name: string, url: string) =>
    Effect.gen(function* () {
      const n = yield* validate("backup name", ParameterText, name)
      const u = yield* validate("backup url", ParameterText, url)
      yield* backupsOf(t, "backupAdd", database, (_s, backups) => Effect.sync(() => void backups.set(n, u)))
    })

  const databaseHash = (t: DoltTarget, database: string) =>
    Effect.gen(function* () {
      const name = yield* validateDatabaseName(database)
      return yield* run(t, "databaseHash", (s) =>
        databaseOf(s, t.host, "databaseHash", name).pipe(Effect.map((db) => rootHash(db.root)))
      )
    })

  /**
   * A sync copies the root the database had when it started and takes `backupSyncMillis` (simulated time), so
   * faults can land mid-sync: a server that stops or a connection that is killed meanwhile fails it (nothing is
   * stored), a bound shorter than the copy fails it with the driver's timeout.
   */
  const backupSync = (t: DoltTarget, database: string, name: string, timeoutMillis?: number) =>
    Effect.gen(function* () {
      const n = yield* validate("backup name", ParameterText, name)
      const dbName = yield* validateDatabaseName(database)
      yield* run(t, "backupSync", (s, conn) =>
        Effect.gen(function* () {
          const db = yield* databaseOf(s, t.host, "backupSync", dbName)
          const url = db.backups.get(n)
          if (url === undefined) return yield* sqlError(t.host, "backupSync", 1105, `backup '${n}' not found`)
          const failure = cluster.backupFailures.get(url)
          if (failure !== undefined) return yield* sqlError(t.host, "backupSync", 1105, failure)
          const snapshot = { root: db.root, charset: db.charset, collation: db.collation }
          const copy = cluster.backupSyncMillis
          if (timeoutMillis !== undefined && timeoutMillis < copy) {
            yield* Effect.sleep(timeoutMillis)
            return yield* new DoltTimeout({
              host: t.host,
              op: "backupSync",
              code: "PROTOCOL_SEQUENCE_TIMEOUT",
              message: "Query inactivity timeout"
            })
          }
          yield* Effect.sleep(copy)
          if (conn.killed || !s.running || !s.connections.has(conn))
            return yield* new DoltUnreachable({
              host: t.host,
              op: "backupSync",
              code: "PROTOCOL_CONNECTION_LOST",
              message: "Connection lost: The server closed the connection."
            })
          cluster.backupStore.set(url, snapshot)
        })
      )
    })

  const backupRemove = (t: DoltTarget, database: string, name: string) =>
    Effect.gen(function* () {
      const n = yield* validate("backup name", ParameterText, name)
      yield* backupsOf(t, "backupRemove", database, (_s, backups) => Effect.sync(() => void backups.delete(n)))
    })

  const backupRestore = (t: DoltTarget, url: string, database: string, force: boolean) =>
    Effect.gen(function* () {
      const name = yield* validateDatabaseName(database)
      const u = yield* validate("backup url", ParameterText, url)
      yield* run(t, "backupRestore", (s, _c, now) =>
        Effect.gen(function* () {
          const saved = cluster.backupStore.get(u)
          if (s.readOnly) return yield* serverReadOnly(t.host, "backupRestore")
          if (s.data.databases.has(name) && !force) {
            return yield* sqlError(t.host, "backupRestore", 1007, `can't create database ${name}; database exists`)
          }
          if (saved === undefined) {
            // dolt 1.86.4 creates the database before it reads the backup, and leaves it (empty) on failure.
            s.data.databases.set(name, {
              root: emptyRoot(cluster.ids, now),
              charset: "utf8mb4",
              collation: "utf8mb4_0900_bin",
              backups: new Map()
            })
            s.syncHooks(now)
            return yield* sqlError(t.host, "backupRestore", 1105, `backup not found at ${u}`)
          }
          s.data.databases.set(name, {
            root: { ...saved.root, id: cluster.ids.next(), createdAt: now },
            charset: saved.charset,
            collation: saved.collation,
            backups: new Map()
          })
          s.syncHooks(now)
        })
      )
    })

  return {
    listDatabases,
    createDatabase,
    dropDatabase,
    listBranches,
    ensureBranches,
    ensureIgnorePatterns,
    ignorePatterns,
    databaseDefaults,
    userExists,
    createUser,
    setPassword,
    dropUser,
    grant: (t: DoltTarget, spec: Parameters<typeof validateGrant>[0]) => changeGrant(t, spec, "grant"),
    revoke: (t: DoltTarget, spec: Parameters<typeof validateGrant>[0]) => changeGrant(t, spec, "revoke"),
    showGrants,
    databaseHash,
    listBackups,
    backupAdd,
    backupSync,
    backupRemove,
    backupRestore
  }
}
