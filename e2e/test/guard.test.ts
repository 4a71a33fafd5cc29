// The isolation guard (docs/guard.md) against the real control plane and real dolt: a 3-replica DoltDB with the
// guard enabled (the operator image runs this repository's `doltdb-operator guard`); the primary's node agent is
// frozen and the primary pod's link taken down (processes keep running: a partitioned node), while a client inside
// the pod's network namespace keeps writing to 127.0.0.1. The old primary must stop acknowledging writes within the
// threshold, a standby must take over, and after healing the old pod must come back as a
// standby without the writes only it had.
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { hostVethName, netnsName, sh } from "../agent/sandbox.ts"
import { core, group, type Kube, type KubeObject } from "../lib/kube.ts"
import { hostOperator, type OperatorUnderTest } from "../lib/operator.ts"
import { connect, createNamespace, deleteNamespace, kube, query, record, sleep, waitFor } from "./helpers.ts"

const work = process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")
const REPO = join(import.meta.dirname, "..", "..")
const API = "k8s.dolthub.com/v1alpha"
const admin = "e2e-admin"
const adminPassword = "e2e-Admin-Secret-1"
const thresholdSeconds = 5

const nodeIndex = (pod: KubeObject) => Number(/^e2e-node-(\d+)$/.exec(pod.spec?.nodeName ?? "")?.[1])
const agentPid = (i: number) => Number(readFileSync(join(work, "run", `node-agent-${i}.pid`), "utf8"))

/** A client in the pod's network namespace: one write every 200 ms to 127.0.0.1, a JSON line per outcome. */
const insideWriter = (pod: KubeObject) => {
  const script = `
    const mysql = await import(${JSON.stringify(join(REPO, "node_modules", "mysql2", "promise.js"))});
    for (let n = 1; ; n++) {
      const t = Date.now();
      try {
        const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: ${JSON.stringify(admin)}, password: ${JSON.stringify(adminPassword)}, database: "app", connectTimeout: 1000 });
        await c.query("REPLACE INTO inside (k, v) VALUES (?, ?)", [n, t]);
        const a = Date.now(); await c.end();
        console.log(JSON.stringify({ n, t, a, ok: true }));
      } catch (e) { console.log(JSON.stringify({ n, t, ok: false, error: String(e.message).slice(0, 80) })); }
      await new Promise((r) => setTimeout(r, 200));
    }`
  const node = join(REPO, "node_modules", "node", "bin", "node")
  const child = spawn(
    "ip",
    ["netns", "exec", netnsName(pod.metadata.uid!, nodeIndex(pod)), node, "--input-type=module", "-e", script],
    { stdio: ["ignore", "pipe", "inherit"] }
  )
  // t: when the write started; a: when it was acknowledged (the statement returned).
  const lines: Array<{ n: number; t: number; a?: number; ok: boolean; error?: string }> = []
  let buf = ""
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString()
    const parts = buf.split("\n")
    buf = parts.pop() ?? ""
    for (const l of parts) if (l.trim() !== "") lines.push(JSON.parse(l))
  })
  return { lines, stop: () => child.kill("SIGKILL") }
}

describe("isolation guard", () => {
  let k: Kube
  let ns: string
  let operator: OperatorUnderTest | undefined
  let engineVersion: string
  const name = "guarded"

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-guard")
    engineVersion = readFileSync(join(work, "run", "dolt-release"), "utf8").trim()
    operator = hostOperator([`--watch-namespaces=${ns}`])
  })
  afterAll(async () => {
    await operator?.stop()
    if (ns) await deleteNamespace(k, ns)
    k?.close()
  })

  const doltdb = () => k.get(group(API, "doltdbs", ns, name))
  const pod = (n: string) => k.get<KubeObject>(core("pods", ns, n))
  const role = async (ip: string) => {
    const c = await connect(ip, admin, adminPassword)
    try {
      const [row] = await query(c, "SELECT @@GLOBAL.dolt_cluster_role AS r, @@GLOBAL.dolt_cluster_role_epoch AS e")
      return `${String(row?.r)}@${Number(row?.e)}`
    } finally {
      c.destroy()
    }
  }

  it("a partitioned primary stops acknowledging writes within the threshold; a standby takes over; it rejoins as a standby", async () => {
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
        engineVersion,
        replicas: 3,
        storage: { size: "1Gi" },
        replication: { enabled: true, guard: { enabled: true, threshold: `${thresholdSeconds}s` } }
      }
    })
    const primaryName = await waitFor("DoltDB Ready with a primary and running guards", 300_000, async () => {
      const d = await doltdb()
      const ready = (d.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"
      )
      if (!ready || d.status?.currentPrimary === undefined) return undefined
      const pods = await Promise.all([0, 1, 2].map((i) => pod(`${name}-${i}`)))
      const guarded = pods.every((p) =>
        (p.status?.containerStatuses ?? []).some(
          (s: { name: string; state?: { running?: unknown } }) => s.name === "guard" && s.state?.running
        )
      )
      return guarded ? (d.status.currentPrimary as string) : undefined
    })
    const primary = await pod(primaryName)
    // The guard has made its first decision (Node loads it in a few seconds after the container starts).
    const guardLog = join(work, "logs", "pods", `${ns}_${primaryName}_${primary.metadata.uid}`, "guard.log")
    await waitFor("the primary's guard serving", 60_000, async () =>
      existsSync(guardLog) && readFileSync(guardLog, "utf8").includes('"serve: ') ? true : undefined
    )
    const c = await connect(primary.status.podIP, admin, adminPassword)
    await query(c, "CREATE DATABASE IF NOT EXISTS app")
    await query(c, "CREATE TABLE app.inside (k INT PRIMARY KEY, v BIGINT)")
    c.destroy()
    // The standbys hold the table and the operator has recorded them caught up (a failover needs that evidence).
    const standbys = [0, 1, 2].map((i) => `${name}-${i}`).filter((n) => n !== primaryName)
    await waitFor("the standbys hold app.inside and are recorded caught up", 60_000, async () => {
      for (const n of standbys) {
        const ip = (await pod(n)).status?.podIP
        const conn = await connect(ip, admin, adminPassword).catch(() => undefined)
        if (conn === undefined) return undefined
        try {
          const [row] = await query(
            conn,
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'app' AND table_name = 'inside'"
          )
          if (Number(row?.n) !== 1) return undefined
        } finally {
          conn.destroy()
        }
      }
      const ev = (await doltdb()).status?.replicationEvidence as
        | { databases: Array<string>; standbys: Array<{ pod: string; caughtUp: boolean }> }
        | undefined
      const caughtUp = (n: string) => ev?.standbys.some((e) => e.pod === n && e.caughtUp) === true
      return ev?.databases.includes("app") === true && standbys.every(caughtUp) ? true : undefined
    })

    // Partition the primary: its node agent frozen (no status, deletions unseen), its link down; processes run on.
    const i = nodeIndex(primary)
    const writer = insideWriter(primary)
    await waitFor("the inside client writes", 20_000, async () => (writer.lines.some((l) => l.ok) ? true : undefined))
    const cutAt = Date.now()
    process.kill(agentPid(i), "SIGSTOP")
    const veth = hostVethName(primary.metadata.uid!, i)
    await sh("ip", ["link", "set", veth, "down"])
    try {
      const newPrimary = await waitFor("a standby promoted", 120_000, async () => {
        const d = await doltdb()
        const cur = d.status?.currentPrimary as string | undefined
        return cur !== undefined && cur !== primaryName && d.status?.primaryTransition === undefined ? cur : undefined
      })
      const promotedAt = Date.now()
      await sleep(3_000)
      const acked = writer.lines.filter((l) => l.ok && (l.a ?? l.t) >= cutAt)
      const lastAck = acked.length === 0 ? 0 : Math.max(...acked.map((l) => l.a ?? l.t)) - cutAt
      record("guardLastAckAfterCutMillis", lastAck)
      record("guardPromotionAfterCutMillis", promotedAt - cutAt)
      console.log(
        `[e2e] guard: last write acknowledged by the isolated ${primaryName} ${lastAck} ms after the cut (threshold ${thresholdSeconds}s); ${newPrimary} promoted ${promotedAt - cutAt} ms after the cut; later errors: ${[...new Set(writer.lines.filter((l) => !l.ok && l.t >= cutAt).map((l) => l.error))].join(" | ")}`
      )
      assert.isBelow(
        lastAck,
        thresholdSeconds * 1_000,
        "the isolated primary stopped acknowledging within the threshold"
      )
      assert.isTrue(
        writer.lines.some((l) => !l.ok && l.t > cutAt + lastAck),
        "later writes were refused, not just unanswered"
      )
      assert.isBelow(lastAck, promotedAt - cutAt, "no acknowledgement by the old primary after the promotion")
    } finally {
      writer.stop()
      await sh("ip", ["link", "set", veth, "up"]).catch(() => undefined)
      process.kill(agentPid(i), "SIGCONT")
    }

    // Healed: the old pod (recreated, or the same one) is a standby of the new primary, without the inside writes.
    await waitFor(`${primaryName} back as a standby`, 180_000, async () => {
      const p = await pod(primaryName).catch(() => undefined)
      if (!p?.status?.podIP) return undefined
      const r = await role(p.status.podIP).catch(() => "")
      return r.startsWith("standby@") ? r : undefined
    })
    const d = await doltdb()
    const top = await pod(d.status.currentPrimary)
    const old = await pod(primaryName)
    const count = async (ip: string) => {
      const conn = await connect(ip, admin, adminPassword)
      try {
        const [row] = await query(conn, "SELECT COUNT(*) AS n FROM app.inside")
        return Number(row?.n)
      } finally {
        conn.destroy()
      }
    }
    await waitFor("the old primary holds the new primary's data", 60_000, async () =>
      (await count(top.status.podIP)) === (await count(old.status.podIP)) ? true : undefined
    )
  }, 900_000)
})
