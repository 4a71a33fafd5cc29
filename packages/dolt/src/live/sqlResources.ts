/**
 * The live `Dolt` calls on databases, branches, dolt_ignore, users, grants and backups. Session-free statements
 * use the target's pool; anything that needs a current database gets a fresh connection opened on it.
 */
import {
  type Account,
  type BackupInfo,
  type BranchInfo,
  BranchName,
  CharsetName,
  type DoltError,
  type DoltSqlError,
  type DoltTarget,
  ParameterText,
  validate,
  validateAccount,
  validateDatabaseName,
  validateGrant,
  validatePassword
} from "@doltdb-op/core/services/Dolt"
import { Duration, Effect, Redacted } from "effect"
import type { LiveOptions, Rows, Session } from "./connections.ts"
import * as Sql from "./statements.ts"

const IGNORE_COMMIT_MESSAGE = "doltdb-operator: dolt_ignore patterns"

const toNumber = (v: unknown): number => (typeof v === "number" ? v : Number(v))

export interface ResourceDeps {
  readonly options: LiveOptions
  readonly pooled: (target: DoltTarget, op: string) => Effect.Effect<Session, DoltError>
  readonly fresh: <A>(
    target: DoltTarget,
    op: string,
    database: string | undefined,
    use: (session: Session) => Effect.Effect<A, DoltError>
  ) => Effect.Effect<A, DoltError>
  readonly checkStatusZero: (host: string, op: string, rows: Rows) => Effect.Effect<void, DoltError>
}

export const makeSqlResources = ({ options, pooled, fresh, checkStatusZero }: ResourceDeps) => {
  const listDatabases = Effect.fn("Dolt.listDatabases")(function* (target: DoltTarget) {
    const session = yield* pooled(target, "listDatabases")
    const rows = yield* session.query("listDatabases", Sql.showDatabases)
    return rows
      .map((r) => String(Object.values(r)[0]))
      .filter((name) => !Sql.systemDatabases.has(name.toLowerCase())) as ReadonlyArray<string>
  })

  const createDatabase = Effect.fn("Dolt.createDatabase")(function* (
    target: DoltTarget,
    database: { readonly name: string; readonly charset?: string; readonly collation?: string }
  ) {
    const name = yield* validateDatabaseName(database.name)
    const charset =
      database.charset === undefined || database.charset === ""
        ? undefined
        : yield* validate("charset", CharsetName, database.charset)
    const collation =
      database.collation === undefined || database.collation === ""
        ? undefined
        : yield* validate("collation", CharsetName, database.collation)
    const session = yield* pooled(target, "createDatabase")
    yield* session.query("createDatabase", Sql.createDatabase(name, charset, collation))
  })

  const dropDatabase = Effect.fn("Dolt.dropDatabase")(function* (target: DoltTarget, name: string) {
    const valid = yield* validateDatabaseName(name)
    const session = yield* pooled(target, "dropDatabase")
    yield* session.query("dropDatabase", Sql.dropDatabase(valid))
  })

  const listBranches = Effect.fn("Dolt.listBranches")(function* (target: DoltTarget, database: string) {
    const db = yield* validateDatabaseName(database)
    const rows = yield* fresh(target, "listBranches", db, (s) => s.query("listBranches", Sql.listBranches))
    return rows.map((r) => ({ name: String(r.name), hash: String(r.hash) })) as ReadonlyArray<BranchInfo>
  })

  const ensureBranches = Effect.fn("Dolt.ensureBranches")(function* (
    target: DoltTarget,
    database: string,
    branches: ReadonlyArray<string>,
    from = "main"
  ) {
    const db = yield* validateDatabaseName(database)
    const source = yield* validate("source branch", BranchName, from)
    for (const b of branches) yield* validate("branch", BranchName, b)
    if (branches.length === 0) return [] as ReadonlyArray<string>
    return yield* fresh(target, "ensureBranches", db, (s) =>
      Effect.gen(function* () {
        const existing = new Set((yield* s.query("ensureBranches", Sql.listBranches)).map((r) => String(r.name)))
        const created: Array<string> = []
        for (const b of branches) {
          if (existing.has(b) || created.includes(b)) continue
          const rows = yield* s.query("ensureBranches", Sql.createBranch, [b, source])
          yield* checkStatusZero(target.host, "ensureBranches", rows)
          created.push(b)
        }
        return created as ReadonlyArray<string>
      })
    )
  })

  const ensureIgnorePatterns = Effect.fn("Dolt.ensureIgnorePatterns")(function* (
    target: DoltTarget,
    database: string,
    patterns: ReadonlyArray<string>
  ) {
    const db = yield* validateDatabaseName(database)
    for (const p of patterns) yield* validate("dolt_ignore pattern", ParameterText, p)
    if (patterns.length === 0) return [] as ReadonlyArray<string>
    return yield* fresh(target, "ensureIgnorePatterns", db, (s) =>
      Effect.gen(function* () {
        const op = "ensureIgnorePatterns"
        const existing = new Set((yield* s.query(op, Sql.listIgnorePatterns)).map((r) => String(r.pattern)))
        const added: Array<string> = []
        for (const p of patterns) {
          if (existing.has(p) || added.includes(p)) continue
          yield* s.query(op, Sql.insertIgnorePattern, [p])
          added.push(p)
        }
        // Commit when we added rows or an earlier attempt left dolt_ignore uncommitted (reference flaw §13.33).
        const pending = toNumber((yield* s.query(op, Sql.ignoreUncommitted))[0]?.n ?? 0)
        if (pending > 0) {
          yield* s.query(op, Sql.addIgnoreTable)
          yield* s.query(op, Sql.commit, [IGNORE_COMMIT_MESSAGE])
        }
        return added as ReadonlyArray<string>
      })
    )
  })

  const ignorePatterns = Effect.fn("Dolt.ignorePatterns")(function* (target: DoltTarget, database: string) {
    const db = yield* validateDatabaseName(database)
    const session = yield* pooled(target, "ignorePatterns")
    const rows = yield* session.query("ignorePatterns", Sql.committedIgnorePatterns(db))
    return rows.map((r) => String(r.pattern)) as ReadonlyArray<string>
  })

  const databaseDefaults = Effect.fn("Dolt.databaseDefaults")(function* (target: DoltTarget, database: string) {
    const db = yield* validateDatabaseName(database)
    const session = yield* pooled(target, "databaseDefaults")
    const row = (yield* session.query("databaseDefaults", Sql.databaseDefaults, [db]))[0]
    return row === undefined ? undefined : { charset: String(row.charset), collation: String(row.collation) }
  })

  const userExists = Effect.fn("Dolt.userExists")(function* (target: DoltTarget, account: Account) {
    const a = yield* validateAccount(account)
    const session = yield* pooled(target, "userExists")
    const rows = yield* session.query("userExists", Sql.userExists.sql, [a.name, a.host])
    return toNumber(rows[0]?.n ?? 0) > 0
  })

  const createUser = Effect.fn("Dolt.createUser")(function* (
    target: DoltTarget,
    account: Account,
    password: Redacted.Redacted<string>
  ) {
    const a = yield* validateAccount(account)
    const pw = yield* validatePassword(Redacted.value(password))
    if (yield* userExists(target, a)) return false
    const session = yield* pooled(target, "createUser")
    yield* session.query("createUser", Sql.createUser(a, pw), undefined, undefined, [pw])
    return true
  })

  const setPassword = Effect.fn("Dolt.setPassword")(function* (
    target: DoltTarget,
    account: Account,
    password: Redacted.Redacted<string>
  ) {
    const a = yield* validateAccount(account)
    const pw = yield* validatePassword(Redacted.value(password))
    const session = yield* pooled(target, "setPassword")
    yield* session.query("setPassword", Sql.setPassword(a, pw), undefined, undefined, [pw])
  })

  const dropUser = Effect.fn("Dolt.dropUser")(function* (target: DoltTarget, account: Account) {
    const a = yield* validateAccount(account)
    const session = yield* pooled(target, "dropUser")
    yield* session.query("dropUser", Sql.dropUser(a))
  })

  const grant = Effect.fn("Dolt.grant")(function* (target: DoltTarget, spec: Parameters<typeof validateGrant>[0]) {
    const g = yield* validateGrant(spec)
    const session = yield* pooled(target, "grant")
    yield* session.query("grant", Sql.grant(g))
  })

  // ER_NONEXISTING_GRANT (1141), ER_NONEXISTING_TABLE_GRANT (1147); Dolt says the same with errno 1105.
  const revokeAbsent = new Set([1141, 1147])
  const noSuchGrant = (e: DoltSqlError) =>
    (e.errno !== undefined && revokeAbsent.has(e.errno)) || e.message.startsWith("There is no such grant defined")
  const revoke = Effect.fn("Dolt.revoke")(function* (target: DoltTarget, spec: Parameters<typeof validateGrant>[0]) {
    const g = yield* validateGrant(spec)
    const session = yield* pooled(target, "revoke")
    yield* session
      .query("revoke", Sql.revoke(g))
      .pipe(Effect.catchTag("DoltSqlError", (e) => (noSuchGrant(e) ? Effect.void : Effect.fail(e))))
  })

  // "no such grant" is also "no such account" for SHOW GRANTS.
  const showGrants = Effect.fn("Dolt.showGrants")(function* (target: DoltTarget, account: Account) {
    const a = yield* validateAccount(account)
    const session = yield* pooled(target, "showGrants")
    const rows = yield* session
      .query("showGrants", Sql.showGrants(a))
      .pipe(Effect.catchTag("DoltSqlError", (e) => (noSuchGrant(e) ? Effect.succeed([] as Rows) : Effect.fail(e))))
    return rows.map((r) => String(Object.values(r)[0])) as ReadonlyArray<string>
  })

  const listBackups = Effect.fn("Dolt.listBackups")(function* (target: DoltTarget, database: string) {
    const db = yield* validateDatabaseName(database)
    const rows = yield* fresh(target, "listBackups", db, (s) => s.query("listBackups", Sql.listBackups))
    return rows.map((r) => ({ name: String(r.name), url: String(r.url) })) as ReadonlyArray<BackupInfo>
  })

  const backupAdd = Effect.fn("Dolt.backupAdd")(function* (
    target: DoltTarget,
    database: string,
    name: string,
    url: string
  ) {
    const db = yield* validateDatabaseName(database)
    const n = yield* validate("backup name", ParameterText, name)
    const u = yield* validate("backup url", ParameterText, url)
    yield* fresh(target, "backupAdd", db, (s) =>
      Effect.gen(function* () {
        const existing = (yield* s.query("backupAdd", Sql.listBackups)).find((r) => String(r.name) === n)
        if (existing !== undefined && String(existing.url) === u) return
        // Same name, other URL: replace it (backup definitions are per server and not replicated).
        if (existing !== undefined) yield* s.query("backupAdd", Sql.backupRemove, [n])
        yield* checkStatusZero(target.host, "backupAdd", yield* s.query("backupAdd", Sql.backupAdd, [n, u]))
      })
    )
  })

  const databaseHash = Effect.fn("Dolt.databaseHash")(function* (target: DoltTarget, database: string) {
    const db = yield* validateDatabaseName(database)
    const rows = yield* fresh(target, "databaseHash", db, (s) => s.query("databaseHash", Sql.databaseHash))
    return String(rows[0]?.h ?? "")
  })

  const backupSync = Effect.fn("Dolt.backupSync")(function* (
    target: DoltTarget,
    database: string,
    name: string,
    timeoutMillis?: number
  ) {
    const db = yield* validateDatabaseName(database)
    const n = yield* validate("backup name", ParameterText, name)
    yield* fresh(target, "backupSync", db, (s) =>
      s
        .query(
          "backupSync",
          Sql.backupSync,
          [n],
          timeoutMillis === undefined ? options.backupTimeout : Duration.millis(timeoutMillis)
        )
        .pipe(Effect.flatMap((rows) => checkStatusZero(target.host, "backupSync", rows)))
    )
  })

  const backupRemove = Effect.fn("Dolt.backupRemove")(function* (target: DoltTarget, database: string, name: string) {
    const db = yield* validateDatabaseName(database)
    const n = yield* validate("backup name", ParameterText, name)
    yield* fresh(target, "backupRemove", db, (s) =>
      Effect.gen(function* () {
        const existing = (yield* s.query("backupRemove", Sql.listBackups)).some((r) => String(r.name) === n)
        if (existing)
          yield* checkStatusZero(target.host, "backupRemove", yield* s.query("backupRemove", Sql.backupRemove, [n]))
      })
    )
  })

  const backupRestore = Effect.fn("Dolt.backupRestore")(function* (
    target: DoltTarget,
    url: string,
    database: string,
    force: boolean
  ) {
    const db = yield* validateDatabaseName(database)
    const u = yield* validate("backup url", ParameterText, url)
    yield* fresh(target, "backupRestore", undefined, (s) =>
      s
        .query("backupRestore", force ? Sql.backupRestoreForce : Sql.backupRestore, [u, db], options.backupTimeout)
        .pipe(Effect.flatMap((rows) => checkStatusZero(target.host, "backupRestore", rows)))
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
    grant,
    revoke,
    showGrants,
    databaseHash,
    listBackups,
    backupAdd,
    backupSync,
    backupRemove,
    backupRestore
  }
}
