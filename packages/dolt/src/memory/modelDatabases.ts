/**
 * The model's `Dolt` calls on databases, branches and dolt_ignore (read-only errors on standbys as Dolt words them;
 * a dropped database is replicated to the standbys as a pending drop).
 */
import {
  BranchName,
  CharsetName,
  type DoltTarget,
  ParameterText,
  validate,
  validateDatabaseName
} from "@doltdb-op/core/services/Dolt"
import { Effect } from "effect"
import type { DoltClusterShape } from "./DoltClusterShape.ts"
import { databaseOf, databaseReadOnly, type Run, serverReadOnly, sqlError } from "./modelSql.ts"
import { emptyRoot } from "./state.ts"

export const makeDatabaseOps = (cluster: DoltClusterShape, run: Run) => {
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
          if (s.readOnly) return yield* databaseReadOnly(t.host, "ensureBranches", name)
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
            return yield* databaseReadOnly(t.host, "ensureIgnorePatterns", name)
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

  return {
    listDatabases,
    createDatabase,
    dropDatabase,
    listBranches,
    ensureBranches,
    ensureIgnorePatterns,
    ignorePatterns,
    databaseDefaults
  }
}
