/**
 * Backup and restore with real dolt (not part of CI; prints figures, asserts nothing). Two sql-servers in cluster
 * mode on loopback (primary + standby), a database of SIZE_MB on disk, then:
 * - backup from the standby to file:// and (when moto is installed by e2e/build.sh) to S3 on moto: seconds, MB/s;
 * - restore of each with `dolt backup restore` into an empty directory: seconds, MB/s;
 * - single-row write latency on the primary (p50/p99), idle and while the standby runs a backup to a new URL.
 *
 *   npm exec -- node packages/dolt/bench/backup.ts [SIZE_MB=512]
 * The dolt binary: DOLTDB_E2E_DOLT_BIN, else the e2e cache's. Scratch under /tmp, removed at the end.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import * as mysql from "mysql2/promise"

const sizeMb = Number(process.argv[2] ?? 512)
const cache = join(homedir(), ".cache", "doltdb-operator-e2e")
const dolt =
  process.env.DOLTDB_E2E_DOLT_BIN ??
  join(cache, readdirSync(cache).find((d) => d.startsWith("dolt-") && !d.endsWith(".tmp")) ?? "dolt", "dolt")
const motoDir = readdirSync(cache).find((d) => d.startsWith("moto-"))
const motoBin = motoDir === undefined ? undefined : join(cache, motoDir, "bin")
const root = `/tmp/doltdb-bench-backup-${process.pid}`
const children: Array<ChildProcess> = []
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const du = (path: string): number => {
  const s = statSync(path)
  if (!s.isDirectory()) return s.size
  return readdirSync(path).reduce((n, f) => n + du(join(path, f)), 0)
}

const server = (name: string, port: number, remotesPort: number, peerPort: number, role: "primary" | "standby") => {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  const env = { ...process.env, DOLT_ROOT_PATH: dir, HOME: dir }
  execFileSync(dolt, ["config", "--global", "--add", "user.name", "bench"], { env, cwd: dir })
  execFileSync(dolt, ["config", "--global", "--add", "user.email", "bench@example.com"], { env, cwd: dir })
  writeFileSync(
    join(dir, "config.yaml"),
    [
      "log_level: warning",
      "listener:",
      "  host: 127.0.0.1",
      `  port: ${port}`,
      "cluster:",
      "  standby_remotes:",
      "    - name: peer",
      `      remote_url_template: http://127.0.0.1:${peerPort}/{database}`,
      `  bootstrap_role: ${role}`,
      "  bootstrap_epoch: 1",
      "  remotesapi:",
      `    port: ${remotesPort}`,
      ""
    ].join("\n")
  )
  const child = spawn(dolt, ["sql-server", "--config", "config.yaml"], {
    cwd: dir,
    env: {
      ...env,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: "http://127.0.0.1:45513"
    },
    stdio: "ignore"
  })
  children.push(child)
  return { dir, port }
}

const connect = async (port: number, database?: string) => {
  for (let i = 0; ; i++) {
    try {
      return await mysql.createConnection({ host: "127.0.0.1", port, user: "root", ...(database && { database }) })
    } catch (e) {
      if (i > 100) throw e
      await sleep(200)
    }
  }
}

const timed = async (f: () => Promise<unknown>) => {
  const t0 = performance.now()
  await f()
  return (performance.now() - t0) / 1000
}

const latencies = async (c: mysql.Connection, n: number, from: number) => {
  const out: Array<number> = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await c.query("INSERT INTO w (id, v) VALUES (?, 'x')", [from + i])
    out.push(performance.now() - t0)
  }
  out.sort((a, b) => a - b)
  return { p50: out[Math.floor(n * 0.5)]!, p99: out[Math.floor(n * 0.99)]!, n }
}

const main = async () => {
  if (!existsSync(dolt)) throw new Error(`no dolt binary at ${dolt}: run e2e/build.sh dolt`)
  rmSync(root, { recursive: true, force: true })
  const primary = server("primary", 43511, 45511, 45512, "primary")
  const standby = server("standby", 43512, 45512, 45511, "standby")
  let moto: string | undefined
  if (motoBin !== undefined && existsSync(join(motoBin, "moto_server"))) {
    children.push(spawn(join(motoBin, "moto_server"), ["-H", "127.0.0.1", "-p", "45513"], { stdio: "ignore" }))
    moto = "http://127.0.0.1:45513"
    for (let i = 0; i < 120; i++) {
      if (
        await fetch(`${moto}/`).then(
          () => true,
          () => false
        )
      )
        break
      await sleep(500)
    }
    execFileSync(
      join(motoBin, "python"),
      [
        "-c",
        `import boto3\ne="${moto}"\nboto3.client("s3", endpoint_url=e).create_bucket(Bucket="bench")\n` +
          `boto3.client("dynamodb", endpoint_url=e).create_table(TableName="bench", KeySchema=[{"AttributeName":"db","KeyType":"HASH"}], AttributeDefinitions=[{"AttributeName":"db","AttributeType":"S"}], BillingMode="PAY_PER_REQUEST")`
      ],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_DEFAULT_REGION: "us-east-1"
        }
      }
    )
  }
  const p = await connect(primary.port)
  await p.query("CREATE DATABASE bench")
  await p.query("USE bench")
  await p.query("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(2048))")
  await p.query("CREATE TABLE w (id BIGINT PRIMARY KEY, v VARCHAR(16))")
  // ~1 KB of random hex per row; committed in batches until the database is SIZE_MB on disk.
  const row = `CONCAT(${Array.from({ length: 32 }, () => "MD5(RAND())").join(", ")})`
  let next = 0
  const t0 = performance.now()
  while (du(join(primary.dir, "bench")) < sizeMb * 1024 * 1024) {
    await p.query(
      `INSERT INTO t (id, v) WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < 9999) SELECT ${next} + n, ${row} FROM s`
    )
    await p.query("CALL dolt_commit('-Am', 'batch')")
    next += 10_000
  }
  const bytes = du(join(primary.dir, "bench"))
  console.log(
    `data: ${next} rows, ${(bytes / 1e6).toFixed(0)} MB on disk in ${((performance.now() - t0) / 1000).toFixed(0)} s`
  )
  const s = await connect(standby.port, "bench")
  for (;;) {
    const [rows] = await s.query("SELECT COUNT(*) AS n FROM t")
    if (Number((rows as Array<{ n: number }>)[0]?.n) === next) break
    await sleep(1000)
  }
  const mb = bytes / 1e6
  const targets: Array<[string, string]> = [["file", `file://${join(root, "store", "bench")}`]]
  if (moto !== undefined) targets.push(["s3 (moto)", "aws://[bench:bench]/bench/bench"])
  for (const [name, url] of targets) {
    // The standby's server reaches moto through the same environment (AWS_ENDPOINT_URL set below for restore).
    const seconds = await timed(() => s.query("CALL dolt_backup('sync-url', ?)", [url]))
    console.log(`backup ${name} from the standby: ${seconds.toFixed(1)} s, ${(mb / seconds).toFixed(1)} MB/s`)
    const dir = join(root, `restore-${name.replace(/\W/g, "")}`)
    mkdirSync(dir, { recursive: true })
    const env = {
      ...process.env,
      DOLT_ROOT_PATH: primary.dir,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
      ...(moto && { AWS_ENDPOINT_URL: moto })
    }
    const restore = await timed(async () => execFileSync(dolt, ["backup", "restore", url, "bench"], { cwd: dir, env }))
    console.log(`restore ${name}: ${restore.toFixed(1)} s, ${(mb / restore).toFixed(1)} MB/s`)
  }
  const idle = await latencies(p, 300, 0)
  const during = { value: undefined as undefined | Awaited<ReturnType<typeof latencies>> }
  const backup = s.query("CALL dolt_backup('sync-url', ?)", [`file://${join(root, "store", "bench-2")}`])
  during.value = await latencies(p, 300, 1000)
  await backup
  console.log(
    `primary write latency (autocommit INSERT): idle p50 ${idle.p50.toFixed(1)} ms p99 ${idle.p99.toFixed(1)} ms; ` +
      `during a standby backup p50 ${during.value.p50.toFixed(1)} ms p99 ${during.value.p99.toFixed(1)} ms`
  )
  p.destroy()
  s.destroy()
}

main()
  .catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
  .finally(() => {
    for (const c of children) c.kill("SIGKILL")
    rmSync(root, { recursive: true, force: true })
  })
