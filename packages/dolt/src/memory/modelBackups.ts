/**
 * The model's `Dolt` calls on backups (`dolt_backup`): remotes per database, syncs that take simulated time and fail
 * as the cluster's `backupFailures` say, and restores from the cluster's backup store.
 */
import {
  type DoltError,
  type DoltTarget,
  DoltTimeout,
  DoltUnreachable,
  ParameterText,
  validate,
  validateDatabaseName
} from "@doltdb-op/core/services/Dolt"
import { Effect } from "effect"
import type { DoltClusterShape } from "./DoltClusterShape.ts"
import type { ModelServer } from "./ModelServer.ts"
import { databaseOf, type Run, serverReadOnly, sqlError } from "./modelSql.ts"
import { emptyRoot, rootHash } from "./state.ts"

export const makeBackupOps = (cluster: DoltClusterShape, run: Run) => {
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
    databaseHash,
    listBackups,
    backupAdd,
    backupSync,
    backupRemove,
    backupRestore
  }
}
