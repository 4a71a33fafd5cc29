// `kubectl doltdb` against the real control plane and real dolt servers: the plugin's executable
// (packages/operator/bin/kubectl-doltdb.js, what kubectl runs for `kubectl doltdb ...` when it is on PATH) with the
// harness's kubeconfig, on a 3-replica DoltDB reconciled by the operator: status (text and -o json, checked against
// the DoltDB's status and what each server says of itself), switchover --to N (followed until done), backup to the
// primary's volume (followed to Completed), logs (every pod's, through the API server's pods/log and the node
// agent's kubelet log endpoint), restart (a rolling restart followed until every pod was replaced), and a missing
// DoltDB (one line on stderr, exit 1).
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { promisify } from "node:util"
import * as mysql from "mysql2/promise"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { core, group, type Kube, type KubeObject } from "../lib/kube.ts"
import { hostOperator, type OperatorUnderTest } from "../lib/operator.ts"
import { createNamespace, deleteNamespace, isReady, kube, query, record, waitFor } from "./helpers.ts"

const work = process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")
const repo = join(import.meta.dirname, "..", "..")
const plugin = join(repo, "packages", "operator", "bin", "kubectl-doltdb.js")
const API = "k8s.dolthub.com/v1alpha"
const admin = "e2e-admin"
const adminPassword = "e2e-Admin-Secret-1"
const name = "plug"

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `kubectl-doltdb <args>` as kubectl would (same argv after the plugin name, same environment). */
const kubectlDoltdb = async (args: ReadonlyArray<string>, timeoutMs = 300_000): Promise<Run> => {
  const t0 = Date.now()
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [plugin, ...args], {
      env: { ...process.env, KUBECONFIG: join(work, "kubeconfig") },
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024
    })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" }
  } finally {
    record(`plugin: kubectl doltdb ${args[0]}`, Date.now() - t0)
  }
}

const ok = (r: Run, what: string) =>
  assert.strictEqual(r.code, 0, `${what} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`)

const roleOf = async (ip: string) => {
  const c = await mysql.createConnection({ host: ip, port: 3306, user: admin, password: adminPassword })
  try {
    const [row] = await query(c, "SELECT @@GLOBAL.dolt_cluster_role AS role, @@GLOBAL.dolt_cluster_role_epoch AS epoch")
    return { role: String(row?.role), epoch: Number(row?.epoch) }
  } finally {
    c.destroy()
  }
}

describe("e2e: kubectl doltdb against the real cluster", () => {
  let k: Kube
  let ns: string
  let operator: OperatorUnderTest

  const doltdb = () => k.get(group(API, "doltdbs", ns, name))
  const pods = async () =>
    (
      await k.get<{ items: Array<KubeObject> }>(`${core("pods", ns)}?labelSelector=app.kubernetes.io%2Fname%3D${name}`)
    ).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
  const settled = () =>
    waitFor(`DoltDB ${name} Ready with 3 Ready pods`, 240_000, async () => {
      const d = await doltdb()
      const ready = (d.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"
      )
      const ps = await pods()
      return ready && !d.status?.primaryTransition && ps.length === 3 && ps.every(isReady) ? d : undefined
    })

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-plugin")
    operator = hostOperator([`--watch-namespaces=${ns}`])
    await k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-credentials`, namespace: ns },
      stringData: { "admin-user": admin, "admin-password": adminPassword }
    })
    await k.create(group(API, "doltdbs", ns), {
      apiVersion: API,
      kind: "DoltDB",
      metadata: { name, namespace: ns },
      spec: {
        engineVersion: readFileSync(join(work, "run", "dolt-release"), "utf8").trim(),
        replicas: 3,
        storage: { size: "1Gi" },
        replication: { enabled: true }
      }
    })
    await settled()
  })
  afterAll(async () => {
    await operator?.stop()
    if (ns) await deleteNamespace(k, ns)
    k?.close()
  })

  it("status: the primary, the epoch and each pod's role as the servers report them (text and -o json)", async () => {
    const d = await settled()
    const text = await kubectlDoltdb(["status", name, "-n", ns])
    ok(text, "status")
    for (const p of ["plug-0", "plug-1", "plug-2"]) assert.include(text.stdout, p)
    assert.include(text.stdout, d.status.currentPrimary)
    assert.notInclude(text.stdout, "\u001b[", "no colour without a terminal")

    const json = await kubectlDoltdb(["status", name, "-n", ns, "-o", "json"])
    ok(json, "status -o json")
    const report = JSON.parse(json.stdout)
    assert.strictEqual(report.primary.pod, d.status.currentPrimary)
    assert.strictEqual(report.epoch, d.status.replicationEpoch)
    assert.strictEqual(report.pods.length, 3)
    for (const pod of report.pods as Array<{ name: string; server: { reachable: boolean; role?: string } }>) {
      const live = await roleOf((await pods()).find((p) => p.metadata.name === pod.name)!.status.podIP)
      assert.isTrue(pod.server.reachable, `${pod.name} reachable`)
      assert.strictEqual(pod.server.role, live.role, `${pod.name}'s role as its server reports it`)
    }
    assert.strictEqual(
      report.pods.filter((p: { server: { role?: string } }) => p.server.role === "primary").length,
      1,
      "one primary"
    )
  })

  it("switchover --to N: followed until the new primary serves", async () => {
    const before = await settled()
    const to = ((before.status.currentPrimaryPodIndex as number) + 1) % 3
    const r = await kubectlDoltdb(["switchover", name, "-n", ns, "--to", String(to), "--timeout", "3m"])
    ok(r, "switchover")
    const after = await doltdb()
    assert.strictEqual(after.status.currentPrimary, `${name}-${to}`, r.stdout)
    assert.isAbove(after.status.replicationEpoch, before.status.replicationEpoch)
    const target = (await pods()).find((p) => p.metadata.name === `${name}-${to}`)!
    assert.strictEqual((await roleOf(target.status.podIP)).role, "primary")
  })

  it("backup: a Backup to the primary's volume, followed to Completed", async () => {
    const d = await settled()
    const primary = (await pods()).find((p) => p.metadata.name === d.status.currentPrimary)!
    const c = await mysql.createConnection({
      host: primary.status.podIP,
      port: 3306,
      user: admin,
      password: adminPassword
    })
    try {
      await query(c, "CREATE DATABASE IF NOT EXISTS plugdb")
      await query(c, "CREATE TABLE IF NOT EXISTS plugdb.t (id INT PRIMARY KEY)")
      await query(c, "INSERT INTO plugdb.t VALUES (1)")
    } finally {
      c.destroy()
    }
    const r = await kubectlDoltdb([
      "backup",
      name,
      "-n",
      ns,
      "--backup-name",
      "plug-manual",
      "--local-path",
      "/db/backups",
      "--timeout",
      "4m"
    ])
    ok(r, "backup")
    assert.include(r.stdout, "Completed")
    const b = await k.get(group(API, "backups", ns, "plug-manual"))
    assert.strictEqual(b.status?.phase, "Completed", JSON.stringify(b.status))
  })

  it("logs: every pod's dolt log, each line prefixed with its pod", async () => {
    const r = await kubectlDoltdb(["logs", name, "-n", ns, "--tail", "5"])
    ok(r, "logs")
    for (const p of ["plug-0", "plug-1", "plug-2"]) {
      const lines = r.stdout.split("\n").filter((l) => l.startsWith(`[${p}] `))
      assert.isAtLeast(lines.length, 1, `${p}: no log lines in\n${r.stdout}`)
      assert.isAtMost(lines.length, 5, `${p}: --tail 5`)
      assert.notInclude(lines.join("\n"), "(no logs:", r.stdout)
    }
  })

  it("restart: a rolling restart followed until every pod was replaced", { timeout: 900_000 }, async () => {
    const before = new Map((await pods()).map((p) => [p.metadata.name, p.metadata.uid]))
    const r = await kubectlDoltdb(["restart", name, "-n", ns, "--timeout", "12m"], 800_000)
    ok(r, "restart")
    const after = await pods()
    for (const p of after) assert.notStrictEqual(p.metadata.uid, before.get(p.metadata.name), `${p.metadata.name}`)
    await settled()
  })

  it("a DoltDB that does not exist: one line on stderr, exit 1", async () => {
    const r = await kubectlDoltdb(["status", "nope", "-n", ns])
    assert.strictEqual(r.code, 1, r.stdout)
    assert.match(r.stderr.trim(), new RegExp(`^error: .*${ns}/nope.*not found`, "i"))
    assert.notInclude(r.stderr, "    at ", "no stack trace")
  })
})
