/**
 * Real `dolt sql-server`s for the contract suite: three servers on 127.0.0.1 (own data dir and DOLT_ROOT_PATH in a
 * temp dir each, free ports), full-mesh cluster config, root@% with a password. Everything is stopped and removed
 * when the scope closes. Only used when DOLTDB_E2E_DOLT_BIN points at a dolt binary.
 */
import { spawn } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { DoltError, DoltTarget } from "@doltdb-op/core/services/Dolt"
import { Effect, Redacted, type Scope } from "effect"
import * as mysql from "mysql2/promise"
import { stringify } from "yaml"
import { classifyError } from "../../src/live/classifyError.ts"
import { openSession } from "../../src/live/session.ts"
import type { ContractFixture } from "./suite.ts"

const PASSWORD = "contract-secret"

const freePort = () =>
  Effect.promise(
    () =>
      new Promise<number>((resolve, reject) => {
        const server = createServer()
        server.once("error", reject)
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          const port = typeof address === "object" && address !== null ? address.port : 0
          server.close(() => resolve(port))
        })
      })
  )

const run = (bin: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv) =>
  Effect.promise(
    () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(bin, [...args], { cwd, env, stdio: "ignore" })
        child.once("error", reject)
        child.once("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`${bin} ${args.join(" ")}: exit ${code}`))
        )
      })
  )

const waitForSql = (port: number) =>
  Effect.promise(async () => {
    for (let i = 0; i < 150; i++) {
      try {
        const c = await mysql.createConnection({ host: "127.0.0.1", port, user: "root", password: PASSWORD })
        c.destroy()
        return
      } catch {
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    throw new Error(`dolt sql-server on 127.0.0.1:${port} did not answer within 30 s`)
  })

/** Temp dir, global config and environment of one server (DOLT_ROOT_PATH in its own dir, root@% with a password). */
const serverDir = (bin: string, label: string) =>
  Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(
      Effect.promise(() => mkdtemp(join(tmpdir(), `doltdb-${label}-`))),
      (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
    )
    const env = { ...process.env, DOLT_ROOT_PATH: dir, DOLT_ROOT_HOST: "%", DOLT_ROOT_PASSWORD: PASSWORD }
    yield* run(bin, ["config", "--global", "--add", "user.name", "contract"], dir, env)
    yield* run(bin, ["config", "--global", "--add", "user.email", "contract@example.com"], dir, env)
    return { dir, env }
  })

const startServer = (bin: string, dir: string, env: NodeJS.ProcessEnv, config: object) =>
  Effect.gen(function* () {
    yield* Effect.promise(() => writeFile(join(dir, "config.yaml"), stringify(config)))
    return yield* Effect.acquireRelease(
      Effect.sync(() => spawn(bin, ["sql-server", "--config", "config.yaml"], { cwd: dir, env, stdio: "ignore" })),
      (c) => Effect.sync(() => c.kill("SIGKILL"))
    )
  })

/** A single-use mysql2 connection (optionally to `database`), closed after `use`. */
const withConnection = <A>(
  target: DoltTarget,
  database: string | undefined,
  use: (c: mysql.Connection) => Effect.Effect<A, DoltError>
): Effect.Effect<A, DoltError> =>
  Effect.acquireUseRelease(
    Effect.tryPromise({
      try: () =>
        mysql.createConnection({
          host: target.host,
          port: target.port,
          user: target.user,
          password: Redacted.value(target.password),
          ...(database === undefined ? {} : { database })
        }),
      catch: (cause) => classifyError(target.host, "connect", cause)
    }),
    use,
    (c) => Effect.sync(() => c.destroy())
  )

const sql = (target: DoltTarget, c: mysql.Connection, statement: string, values: ReadonlyArray<unknown> = []) =>
  Effect.tryPromise({
    try: () => c.query(statement, [...values]),
    catch: (cause) => classifyError(target.host, "sql", cause)
  }).pipe(Effect.map(([rows]) => (Array.isArray(rows) ? (rows as ReadonlyArray<Record<string, unknown>>) : [])))

/** One plain (non-cluster) `dolt sql-server` on a free 127.0.0.1 port, for the SQL-safety property. */
export const singleDoltServer = (bin: string): Effect.Effect<DoltTarget, never, Scope.Scope> =>
  Effect.gen(function* () {
    const port = yield* freePort()
    const { dir, env } = yield* serverDir(bin, "sqlsafety")
    yield* startServer(bin, dir, env, { log_level: "warning", listener: { host: "127.0.0.1", port } })
    yield* waitForSql(port)
    const target: DoltTarget = { host: "127.0.0.1", port, user: "root", password: Redacted.make(PASSWORD) }
    return target
  }).pipe(Effect.orDie)

export const realDoltFixture = (bin: string, replicas = 3): Effect.Effect<ContractFixture, never, Scope.Scope> =>
  Effect.gen(function* () {
    const ports = yield* Effect.forEach(Array.from({ length: replicas }), () =>
      Effect.all({ sql: freePort(), remotes: freePort() })
    )
    const servers = yield* Effect.forEach(ports, (port, i) =>
      Effect.gen(function* () {
        const { dir, env } = yield* serverDir(bin, `contract-${i}`)
        const config = {
          log_level: "warning",
          listener: { host: "127.0.0.1", port: port.sql },
          cluster: {
            standby_remotes: ports.flatMap((p, j) =>
              j === i ? [] : [{ name: `dolt-${j}`, remote_url_template: `http://127.0.0.1:${p.remotes}/{database}` }]
            ),
            bootstrap_role: i === 0 ? "primary" : "standby",
            bootstrap_epoch: 1,
            remotesapi: { port: port.remotes }
          }
        }
        const child = yield* startServer(bin, dir, env, config)
        return { child, port, dir }
      })
    )
    yield* Effect.forEach(servers, (s) => waitForSql(s.port.sql), { discard: true })
    const targets: ReadonlyArray<DoltTarget> = servers.map((s) => ({
      host: "127.0.0.1",
      port: s.port.sql,
      user: "root",
      password: Redacted.make(PASSWORD)
    }))
    const fixture: ContractFixture = {
      targets,
      session: (i) => openSession(targets[i]!),
      stop: (i) => Effect.sync(() => void servers[i]!.child.kill("SIGKILL")),
      wait: (ms) => Effect.sleep(ms),
      during: (effect) => effect,
      write: (i, database, key, value) =>
        withConnection(targets[i]!, database, (c) =>
          Effect.gen(function* () {
            yield* sql(targets[i]!, c, "CREATE TABLE IF NOT EXISTS kv (k VARCHAR(64) PRIMARY KEY, v TEXT)")
            yield* sql(targets[i]!, c, "REPLACE INTO kv (k, v) VALUES (?, ?)", [key, value])
            const warnings = yield* sql(targets[i]!, c, "SHOW WARNINGS")
            const w = warnings.find((r) => Number(r.Code) === 3024)
            return { warning: w === undefined ? undefined : String(w.Message) }
          })
        ),
      read: (i, database, key) =>
        withConnection(targets[i]!, database, (c) =>
          sql(targets[i]!, c, "SELECT v FROM kv WHERE k = ?", [key]).pipe(
            Effect.map((rows) => (rows[0] === undefined ? undefined : String(rows[0].v)))
          )
        ),
      setAckWritesTimeout: (i, seconds) =>
        withConnection(targets[i]!, undefined, (c) =>
          sql(targets[i]!, c, "SET @@PERSIST.dolt_cluster_ack_writes_timeout_secs = ?", [seconds]).pipe(Effect.asVoid)
        ),
      scratchUrl: (name) => `file://${join(servers[0]!.dir, name)}`
    }
    return fixture
  }).pipe(Effect.orDie)
