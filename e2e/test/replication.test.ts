// Two Dolt pods in cluster mode (full-mesh standby_remotes over <pod>.<name>-internal.<ns>:50051):
// proves pod-to-pod traffic between network namespaces and the per-pod /etc/hosts peer records.
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import * as mysql from "mysql2/promise"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { heal, partition } from "../lib/faults.ts"
import { core, group, type Kube } from "../lib/kube.ts"
import { connect, createNamespace, deleteNamespace, kube, query, readyPod, record, waitFor } from "./helpers.ts"
import { doltCluster, PASSWORD, USER } from "./manifests.ts"

describe("e2e harness: Dolt cluster replication between pods", () => {
  let k: Kube
  let ns: string
  const name = "repl"

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-repl")
  })
  afterAll(async () => {
    await deleteNamespace(k, ns)
    k.close()
  })

  it("replicates a write on the primary to the standby", async () => {
    const m = doltCluster({ name, namespace: ns, replicas: 2, replication: true })
    const t0 = Date.now()
    await k.create(core("secrets", ns), m.secret)
    await k.create(core("configmaps", ns), m.configMap)
    await k.create(core("services", ns), m.headless)
    await k.create(group("apps/v1", "statefulsets", ns), m.statefulSet)
    const [p0, p1] = await Promise.all([readyPod(k, ns, `${name}-0`, 120_000), readyPod(k, ns, `${name}-1`, 120_000)])
    record("replication: StatefulSet created -> 2 pods Ready", Date.now() - t0)
    assert.notStrictEqual(p0.status.podIP, p1.status.podIP)

    const primary = await connect(p0.status.podIP, USER, PASSWORD)
    const standby = await connect(p1.status.podIP, USER, PASSWORD)
    const role = async (c: typeof primary) =>
      (await query(c, "SELECT @@global.dolt_cluster_role AS role, @@global.dolt_cluster_role_epoch AS epoch"))[0]
    const roles = [await role(primary), await role(standby)]
    assert.deepEqual(roles, [
      { role: "primary", epoch: 1 },
      { role: "standby", epoch: 1 }
    ])

    await query(primary, "CREATE DATABASE repl")
    await query(primary, "CREATE TABLE repl.t (id INT PRIMARY KEY, v VARCHAR(32))")
    const t1 = Date.now()
    await query(primary, "INSERT INTO repl.t VALUES (1, 'replicated')")
    const rows = await waitFor("the row on the standby", 30_000, async () => {
      const r = await query(standby, "SELECT id, v FROM repl.t")
      return r.length > 0 ? r : undefined
    })
    record("replication: insert on primary -> visible on standby", Date.now() - t1)
    assert.deepEqual(rows, [{ id: 1, v: "replicated" }])

    // The standby is read-only.
    const write = await query(standby, "INSERT INTO repl.t VALUES (2, 'nope')").then(
      () => "accepted",
      (e: Error) => e.message
    )
    assert.notStrictEqual(write, "accepted")

    // The primary sees its standby caught up, with no replication error.
    const status = await waitFor("caught-up cluster status", 30_000, async () => {
      const s = await query(
        primary,
        "SELECT `database`, standby_remote, current_error FROM dolt_cluster.dolt_cluster_status"
      )
      const repl = s.filter((r) => r.database === "repl")
      return repl.length === 1 && repl[0]!.current_error === null ? repl : undefined
    })
    assert.strictEqual(status[0]!.standby_remote, `${name}-1`)

    // A process on the host sees the same records through e2e/with-cluster-dns.sh (for an operator run there).
    const resolved = execFileSync(join(import.meta.dirname, "..", "with-cluster-dns.sh"), [
      "getent",
      "hosts",
      `${name}-1.${name}-internal.${ns}.svc.cluster.local`
    ]).toString()
    assert.strictEqual(resolved.split(/\s+/)[0], p1.status.podIP)
    // A ClusterIP Service's name resolves to its ready endpoints (no kube-proxy): here only pod 0.
    await k.create(core("services", ns), {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `${name}-first`, namespace: ns },
      spec: { selector: { "statefulset.kubernetes.io/pod-name": `${name}-0` }, ports: [{ port: 3306 }] }
    })
    const first = await waitFor(`${name}-first.${ns} resolving`, 30_000, async () => {
      const out = execFileSync(join(import.meta.dirname, "..", "with-cluster-dns.sh"), [
        "sh",
        "-c",
        `getent hosts ${name}-first.${ns}.svc.cluster.local || true`
      ]).toString()
      return out.trim() ? out : undefined
    })
    assert.strictEqual(first.trim().split("\n").length, 1)
    assert.strictEqual(first.split(/\s+/)[0], p0.status.podIP)
    await primary.end()
    await standby.end()
  })

  it("a partitioned standby misses writes and catches up once healed", async () => {
    const p0 = await readyPod(k, ns, `${name}-0`, 30_000)
    const p1 = await readyPod(k, ns, `${name}-1`, 30_000)
    const primary = await connect(p0.status.podIP, USER, PASSWORD)
    await partition(p1)
    try {
      await query(primary, "INSERT INTO repl.t VALUES (3, 'while cut off')")
      // A silent partition (packets dropped) leaves current_error NULL while the lag grows (dolt 1.86.4).
      const t0 = Date.now()
      await waitFor("replication lag above 2 s for the partitioned standby", 60_000, async () => {
        const s = await query(primary, "SELECT replication_lag_millis AS lag_ms FROM dolt_cluster.dolt_cluster_status")
        return Number(s[0]?.lag_ms) > 2000 ? s : undefined
      })
      record("replication: standby partitioned -> lag above 2 s on the primary", Date.now() - t0)
      // Nor can the host reach it.
      const reached = await mysql
        .createConnection({ host: p1.status.podIP, port: 3306, user: USER, password: PASSWORD, connectTimeout: 1000 })
        .then(
          (c) => c.end().then(() => true),
          () => false
        )
      assert.isFalse(reached)
    } finally {
      await heal(p1)
    }
    const t1 = Date.now()
    const standby = await connect(p1.status.podIP, USER, PASSWORD)
    const rows = await waitFor("the missed row on the standby", 60_000, async () => {
      const r = await query(standby, "SELECT v FROM repl.t WHERE id = 3")
      return r.length > 0 ? r : undefined
    })
    record("replication: healed -> missed row on the standby", Date.now() - t1)
    assert.deepEqual(rows, [{ v: "while cut off" }])
    await primary.end()
    await standby.end()
  })
})
