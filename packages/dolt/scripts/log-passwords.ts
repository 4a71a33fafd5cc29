/**
 * What Dolt's log shows of the passwords the operator sends: starts a real `dolt sql-server` at each log level,
 * runs `CREATE USER ... IDENTIFIED BY` and `ALTER USER ... IDENTIFIED BY` through mysql2 (as the live layer does),
 * and prints how many log lines contain the password. docs/security.md quotes its output.
 *
 *   node packages/dolt/scripts/log-passwords.ts [path/to/dolt]   (default: the e2e build in ~/.cache)
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { homedir, tmpdir } from "node:os"
import { join } from "node:path"
import * as mysql from "mysql2/promise"

const cache = join(homedir(), ".cache", "doltdb-operator-e2e")
const dolt =
  process.argv[2] ??
  join(cache, readdirSync(cache).find((d) => d.startsWith("dolt-v") && !d.endsWith(".tmp")) ?? "missing", "dolt")
const secret = "Sup3rSecretPw"

const check = async (level: string, port: number) => {
  const dir = mkdtempSync(join(tmpdir(), "dolt-log-"))
  const env = { ...process.env, DOLT_ROOT_PATH: dir, DOLT_ROOT_PASSWORD: "rootpw", DOLT_ROOT_HOST: "%" }
  for (const args of [
    ["config", "--global", "--add", "user.name", "t"],
    ["config", "--global", "--add", "user.email", "t@t"]
  ])
    spawnSync(dolt, args, { env, cwd: dir })
  mkdirSync(join(dir, "data"))
  writeFileSync(join(dir, "config.yaml"), `log_level: ${level}\nlistener:\n  host: 127.0.0.1\n  port: ${port}\n`)
  const log = join(dir, "server.log")
  writeFileSync(log, "")
  const server = spawn("sh", ["-c", `exec "${dolt}" sql-server --config config.yaml >> server.log 2>&1`], {
    env,
    cwd: dir
  })
  try {
    let c: mysql.Connection | undefined
    for (let i = 0; i < 100 && c === undefined; i++) {
      c = await mysql
        .createConnection({ host: "127.0.0.1", port, user: "root", password: "rootpw" })
        .catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)))
    }
    if (c === undefined) throw new Error(`dolt sql-server did not start: ${readFileSync(log, "utf8")}`)
    await c.query("CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?", ["app", "%", `${secret}-create`])
    await c.query("ALTER USER ?@? IDENTIFIED BY ?", ["app", "%", `${secret}-alter`])
    await c.end()
    await new Promise((r) => setTimeout(r, 300))
  } finally {
    server.kill("SIGTERM")
    await new Promise((r) => server.on("exit", r))
  }
  const lines = readFileSync(log, "utf8").split("\n")
  console.log(
    `log_level ${level}: ${lines.filter((l) => l.includes(secret)).length} of ${lines.length} log lines contain the password`
  )
  rmSync(dir, { recursive: true, force: true })
}

let port = 13500
for (const level of ["info", "debug", "trace"]) await check(level, port++)
