/**
 * The rendered config and scripts against a real `dolt sql-server` (when DOLTDB_E2E_DOLT_BIN points at a dolt
 * binary; the e2e harness builds one). Two pods run as local processes: each gets its rendered config with only
 * hosts and ports moved to free local ones (re-emitted through the same YAML writer), the init script creates the
 * admin user, and the probe and preStop commands run as the kubelet would run them. Without the binary no test is
 * registered and the output says so.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { parse } from "yaml"
import { Builders } from "../../src/index.ts"
import { decoded } from "./fixtures.ts"

const bin = process.env.DOLTDB_E2E_DOLT_BIN
const PASSWORD = ` s3'cr\\et: #x"`
const ManifestPort = 3306

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

type Block = Record<string, Builders.YamlValue>
interface RenderedConfig extends Block {
  listener: Block
  metrics: Block
  mcp_server: Block
  cluster: Block & { remotesapi: Block; standby_remotes: ReadonlyArray<{ readonly name: string }> }
}

interface Pod {
  readonly dir: string
  readonly sqlPort: number
  readonly remotesPort: number
  readonly metricsPort: number
  readonly mcpPort: number
  server?: ChildProcess
}

type Ports = Pick<Pod, "sqlPort" | "remotesPort" | "metricsPort" | "mcpPort">

/** The rendered config with only hosts and ports moved: every pod on 127.0.0.1, each on its own ports. */
const localize = (rendered: string, pod: Ports, peers: ReadonlyArray<Ports>): string => {
  const config = parse(rendered, { version: "1.1" }) as RenderedConfig
  return Builders.toYaml({
    ...config,
    listener: { ...config.listener, host: "127.0.0.1", port: pod.sqlPort },
    metrics: { ...config.metrics, host: "127.0.0.1", port: pod.metricsPort },
    mcp_server: { ...config.mcp_server, port: pod.mcpPort },
    cluster: {
      ...config.cluster,
      remotesapi: { ...config.cluster.remotesapi, port: pod.remotesPort },
      standby_remotes: config.cluster.standby_remotes.map((remote) => ({
        ...remote,
        remote_url_template: `http://127.0.0.1:${peers[Number(remote.name.split("-")[1])]!.remotesPort}/{database}`
      }))
    }
  })
}

describe("the real-dolt harness", () => {
  it("changes nothing in a rendered config but hosts and ports", () => {
    const doltdb = decoded({
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "DoltDB",
      metadata: { name: "db", namespace: "ns" },
      spec: {
        engineVersion: "1.86.4",
        replicas: 2,
        storage: {},
        replication: { enabled: true },
        server: { metrics: { enabled: true }, mcpServer: {} }
      }
    })
    const rendered = Builders.buildConfigData(doltdb)["db-0.yaml"]!
    const ports = [
      { sqlPort: 1, remotesPort: 2, metricsPort: 3, mcpPort: 4 },
      { sqlPort: 5, remotesPort: 6, metricsPort: 7, mcpPort: 8 }
    ]
    const moved = localize(rendered, ports[0]!, ports)
    const normalize = (text: string) =>
      text
        .replace(/"http:\/\/[^"]+\/\{database\}"/gu, "URL")
        .replace(/port: \d+/gu, "port: N")
        .replace(/host: "[^"]+"/gu, "host: H")
    assert.strictEqual(normalize(moved), normalize(rendered))
    assert.include(moved, '"http://127.0.0.1:6/{database}"')
    assert.include(moved, "password: |2-")
  })
})

if (bin === undefined || bin === "") {
  console.log("Rendered config vs real dolt: NOT RUN — DOLTDB_E2E_DOLT_BIN is not set")
} else {
  describe(`rendered config and scripts against real dolt (${bin})`, () => {
    const root = mkdtempSync(join(tmpdir(), "doltdb-render-real-"))
    const binDir = join(root, "bin")
    const etcDir = join(root, "etc")
    const version = /(\d+\.\d+\.\d+)/u.exec(spawnSync(bin, ["version"], { encoding: "utf8" }).stdout)?.[1] ?? "unknown"
    const doltdb = decoded({
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "DoltDB",
      metadata: { name: "db", namespace: "ns" },
      spec: {
        engineVersion: version,
        replicas: 2,
        storage: {},
        replication: { enabled: true, primary: { podIndex: 1 } },
        server: {
          logLevel: "info",
          behavior: { autoGCBehavior: { enabled: true } },
          metrics: { enabled: true, labels: { cost: "$5" } },
          mcpServer: { user: "mcp", database: "app" }
        }
      }
    })
    const container = Builders.buildDoltContainer(doltdb)
    const pods: Array<Pod> = []

    const baseEnv = (pod: Pod, ordinal: number): NodeJS.ProcessEnv => ({
      PATH: `${binDir}:/usr/bin:/bin`,
      HOME: pod.dir,
      DOLT_ROOT_PATH: pod.dir,
      POD_NAME: `db-${ordinal}`,
      DOLT_USERNAME: "admin",
      DOLT_PASSWORD: PASSWORD,
      DOLT_ROOT_PASSWORD: PASSWORD,
      DOLT_ROOT_HOST: "localhost",
      DOLT_MCP_USER: "mcp",
      DOLT_MCP_PASSWORD: PASSWORD
    })
    const onPod = (script: string, pod: Pod) => script.replaceAll(`--port ${ManifestPort}`, `--port ${pod.sqlPort}`)
    const sh = (script: string, pod: Pod, ordinal: number, env: NodeJS.ProcessEnv = {}) =>
      spawnSync("/bin/sh", ["-c", script], {
        cwd: pod.dir,
        env: { ...baseEnv(pod, ordinal), ...env },
        encoding: "utf8"
      })
    const sql = (pod: Pod, ordinal: number, query: string) =>
      sh(
        `export DOLT_CLI_PASSWORD="$DOLT_PASSWORD"; dolt --host 127.0.0.1 --port ${pod.sqlPort} --no-tls -u admin sql -r csv -q "${query}" 2>/dev/null | tail -n 1`,
        pod,
        ordinal
      ).stdout.trim()
    const role = (ordinal: number) =>
      sql(pods[ordinal]!, ordinal, "select @@global.dolt_cluster_role, @@global.dolt_cluster_role_epoch")

    beforeAll(async () => {
      mkdirSync(binDir)
      mkdirSync(etcDir)
      symlinkSync(bin, join(binDir, "dolt"))
      for (let ordinal = 0; ordinal < 2; ordinal++) {
        const dir = join(root, `db-${ordinal}`)
        mkdirSync(dir)
        pods.push({
          dir,
          sqlPort: await freePort(),
          remotesPort: await freePort(),
          metricsPort: await freePort(),
          mcpPort: await freePort()
        })
      }
      const data = Builders.buildConfigData(doltdb)
      pods.forEach((pod, ordinal) => {
        writeFileSync(join(etcDir, `db-${ordinal}.yaml`), localize(data[`db-${ordinal}.yaml`]!, pod, pods))
      })
      const init = Builders.buildInitContainer(doltdb).command[2]!.replaceAll("/etc/doltdb", etcDir)
      pods.forEach((pod, ordinal) => {
        const result = sh(init, pod, ordinal)
        assert.strictEqual(result.status, 0, result.stderr)
        pod.server = spawn(bin, ["sql-server", "--config", "config.yaml"], {
          cwd: pod.dir,
          env: baseEnv(pod, ordinal),
          stdio: "ignore"
        })
      })
      const probe = container.readinessProbe!.exec!.command![2]!
      for (const [ordinal, pod] of pods.entries()) {
        for (let attempt = 0; sh(onPod(probe, pod), pod, ordinal).status !== 0; attempt++) {
          if (attempt > 150) throw new Error(`db-${ordinal} never passed its readiness probe`)
          await sleep(200)
        }
      }
    }, 60_000)

    afterAll(async () => {
      for (const pod of pods) pod.server?.kill("SIGTERM")
      await sleep(500)
      rmSync(root, { recursive: true, force: true })
    })

    it("the probe passes with the password from the environment and fails with a wrong one", () => {
      const probe = container.readinessProbe!.exec!.command![2]!
      assert.strictEqual(sh(onPod(probe, pods[0]!), pods[0]!, 0).status, 0)
      assert.notStrictEqual(sh(onPod(probe, pods[0]!), pods[0]!, 0, { DOLT_PASSWORD: "wrong" }).status, 0)
    })

    it("bootstraps podIndex 1 as the primary and replicates to the other pod", async () => {
      assert.strictEqual(role(1), "primary,1")
      assert.strictEqual(role(0), "standby,1")
      sql(pods[1]!, 1, "create database app; use app; create table t (id int primary key); insert into t values (42)")
      let seen = ""
      for (let attempt = 0; attempt < 50 && seen !== "42"; attempt++) {
        await sleep(200)
        seen = sql(pods[0]!, 0, "select id from app.t")
      }
      assert.strictEqual(seen, "42")
    }, 30_000)

    it("preStop leaves a standby alone and demotes the primary at epoch + 1", () => {
      const preStop = container.lifecycle!.preStop.exec.command[2]!
      assert.strictEqual(sh(onPod(preStop, pods[0]!), pods[0]!, 0).status, 0)
      assert.strictEqual(role(0), "standby,1")
      assert.strictEqual(sh(onPod(preStop, pods[1]!), pods[1]!, 1).status, 0)
      assert.strictEqual(role(1), "standby,2")
    }, 60_000)
  })
}
