/**
 * The live layer's TLS against a real `dolt sql-server` with `listener.tls_*` and `require_secure_transport`
 * (when DOLTDB_E2E_DOLT_BIN points at a dolt binary; certificates made with the openssl CLI). Pooled and fresh
 * connections verify the chain against the target's CA and the certificate's names against `serverName`; a
 * plaintext target, a foreign CA and a wrong name are refused. The dolt project runs it only with the binary.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Dolt, type DoltTarget } from "@doltdb-op/core/services/Dolt"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { defaultLiveOptions, makePools } from "../../src/live/connections.ts"
import * as DoltLive from "../../src/live/DoltLive.ts"

const bin = process.env.DOLTDB_E2E_DOLT_BIN
const PASSWORD = "tls-secret"

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** A CA and a server certificate for `db-internal.ns.svc` and its pods, as the operator issues them. */
const makeCertificates = (dir: string, prefix: string) => {
  const openssl = (...args: ReadonlyArray<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" })
  openssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${prefix}ca.key`,
    "-out",
    `${prefix}ca.crt`,
    "-days",
    "2",
    "-subj",
    `/CN=${prefix}ca`
  )
  openssl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${prefix}tls.key`,
    "-out",
    `${prefix}tls.csr`,
    "-subj",
    "/CN=db-internal.ns.svc"
  )
  writeFileSync(
    join(dir, `${prefix}ext`),
    "subjectAltName=DNS:db-internal.ns.svc,DNS:*.db-internal.ns.svc.cluster.local,DNS:localhost\nextendedKeyUsage=serverAuth\n"
  )
  openssl(
    "x509",
    "-req",
    "-in",
    `${prefix}tls.csr`,
    "-CA",
    `${prefix}ca.crt`,
    "-CAkey",
    `${prefix}ca.key`,
    "-CAcreateserial",
    "-out",
    `${prefix}tls.crt`,
    "-days",
    "2",
    "-extfile",
    `${prefix}ext`
  )
  return readFileSync(join(dir, `${prefix}ca.crt`), "utf8")
}

// The project excludes this file unless DOLTDB_E2E_DOLT_BIN is set (vitest.config.ts); run by hand without it, fail.
if (bin === undefined || bin === "") {
  throw new Error("TlsRealDolt.test.ts needs DOLTDB_E2E_DOLT_BIN (a dolt binary): e2e/contracts.sh sets it")
} else {
  describe("live layer TLS against real dolt", () => {
    let dir: string
    let server: ChildProcess | undefined
    let port: number
    let ca: string
    let foreignCa: string

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "doltdb-tls-"))
      ca = makeCertificates(dir, "")
      foreignCa = makeCertificates(dir, "other-")
      port = await freePort()
      const env = { ...process.env, DOLT_ROOT_PATH: dir, DOLT_ROOT_HOST: "%", DOLT_ROOT_PASSWORD: PASSWORD }
      execFileSync(bin, ["config", "--global", "--add", "user.name", "tls"], { cwd: dir, env })
      execFileSync(bin, ["config", "--global", "--add", "user.email", "tls@example.com"], { cwd: dir, env })
      writeFileSync(
        join(dir, "config.yaml"),
        [
          "log_level: info",
          "listener:",
          "  host: 127.0.0.1",
          `  port: ${port}`,
          `  tls_key: ${join(dir, "tls.key")}`,
          `  tls_cert: ${join(dir, "tls.crt")}`,
          "  require_secure_transport: true",
          ""
        ].join("\n")
      )
      server = spawn(bin, ["sql-server", "--config", "config.yaml"], { cwd: dir, env, stdio: "ignore" })
      // Up when a TLS connection answers (bounded: 30 s).
      let last = ""
      for (let i = 0; i < 150; i++) {
        const up = await run((d) => d.serverVersion(target("default")))
        if (up._tag === "Success") return
        last = up.failure.message
        await new Promise((r) => setTimeout(r, 200))
      }
      throw new Error(`dolt sql-server with TLS on 127.0.0.1:${port} did not answer within 30 s: ${last}`)
    }, 60_000)
    afterAll(() => {
      server?.kill("SIGKILL")
      rmSync(dir, { recursive: true, force: true })
    })

    const target = (tls?: DoltTarget["tls"] | "default"): DoltTarget => ({
      host: "127.0.0.1",
      port,
      user: "root",
      password: Redacted.make(PASSWORD),
      ...(tls === undefined ? {} : { tls: tls === "default" ? { ca, serverName: "db-internal.ns.svc" } : tls })
    })
    const run = <A, E>(f: (dolt: typeof Dolt.Service) => Effect.Effect<A, E>) =>
      Effect.runPromise(Effect.flatMap(Dolt, f).pipe(Effect.provide(DoltLive.layer()), Effect.result))

    it("verifies the server on pooled and fresh connections", async () => {
      const version = await run((d) => d.serverVersion(target("default")))
      assert.strictEqual(version._tag, "Success")
      // Database-scoped work runs on fresh connections.
      assert.strictEqual((await run((d) => d.createDatabase(target("default"), { name: "tlsdb" })))._tag, "Success")
      const branches = await run((d) => d.listBranches(target("default"), "tlsdb"))
      assert.isTrue(
        branches._tag === "Success" && branches.success.some((b) => b.name === "main"),
        JSON.stringify(branches)
      )
    })

    // mysql2 (since 3.24) resumes TLS sessions across a pool's connections, and a resumed session presents no
    // certificate: the name check refused every pooled connection after the first. Dolt closes every connection on a
    // role change, so the pool reconnected and the new primary looked unavailable for good (issue #13: the TLS e2e
    // failover that went on to fail over three more times).
    it("keeps accepting the pooled connections it opens after the first (resumed TLS sessions)", async () => {
      const t = target("default")
      const result = await Effect.runPromise(
        Effect.gen(function* () {
          const dolt = yield* Dolt
          yield* dolt.serverVersion(t)
          // Two statements at once: the pool opens its second connection, offering the first one's session.
          return yield* Effect.all([dolt.serverVersion(t), dolt.listDatabases(t), dolt.serverVersion(t)], {
            concurrency: "unbounded"
          })
        }).pipe(Effect.provide(DoltLive.layer()), Effect.result)
      )
      assert.strictEqual(result._tag, "Success", JSON.stringify(result))
    })

    it("keeps resumed pooled connections in the pool (no fresh connection per statement)", async () => {
      const pools = makePools(defaultLiveOptions)
      const session = pools.pooled(target("default"))
      const ids = Effect.all(
        [1, 2].map(() => session.query("id", "SELECT CONNECTION_ID() AS id, SLEEP(0.2) AS s")),
        { concurrency: "unbounded" }
      ).pipe(Effect.map((results) => results.map((rows) => Number(rows[0]?.id)).sort((a, b) => a - b)))
      try {
        // One connection first: its handshake leaves a session in the pool's cache for the second to resume.
        await Effect.runPromise(session.query("one", "SELECT 1"))
        const first = await Effect.runPromise(ids)
        const second = await Effect.runPromise(ids)
        // Both rounds ran on the same two pooled connections, the second of which resumed the first one's session.
        assert.deepEqual(second, first)
        assert.lengthOf(new Set(first), 2)
      } finally {
        await Effect.runPromise(pools.closeAll)
      }
    })

    it("refuses a plaintext target, a foreign CA and a certificate without the expected name", async () => {
      for (const [what, t] of [
        ["plaintext", target()],
        ["foreign CA", target({ ca: foreignCa, serverName: "db-internal.ns.svc" })],
        ["wrong name", target({ ca, serverName: "other-internal.ns.svc" })]
      ] as const) {
        for (const op of [
          (d: typeof Dolt.Service) => Effect.asVoid(d.serverVersion(t)),
          (d: typeof Dolt.Service) => Effect.asVoid(d.listBranches(t, "tlsdb"))
        ]) {
          const r = await run(op)
          assert.isTrue(r._tag === "Failure" && r.failure._tag === "DoltUnreachable", `${what}: ${JSON.stringify(r)}`)
        }
      }
    })
  })
}
