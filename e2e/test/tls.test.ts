// spec.tls against real dolt: a 3-replica DoltDB whose SQL listener and replication (cluster remotesapi) use the
// operator-issued certificates. The operator's own connections verify the servers (the DoltDB only becomes Ready
// when it can read every server's role over TLS); peers verify each other (no replication error on any standby
// remote); a plaintext client and a client trusting another CA are refused; the primary fails over and the
// acknowledged rows survive, and the cluster settles (Ready again, no further failover: after the role change the
// operator's pooled TLS connections reconnect; issue #13). Turning TLS off while replicated is refused by the API
// server (CEL transition rule).
import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as mysql from "mysql2/promise"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { core, group, type Kube, KubeError, type KubeObject } from "../lib/kube.ts"
import { type RunningOperator, startOperator } from "../lib/operator.ts"
import { createNamespace, deleteNamespace, kube, query, readyPod, record, waitFor } from "./helpers.ts"

const work = process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")

describe("e2e: TLS for SQL and replication", () => {
  let k: Kube
  let ns: string
  let operator: RunningOperator
  const name = "tdb"
  const user = "e2e-tls"
  const password = "e2e-Tls-Secret-1"

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-tls")
    operator = startOperator([`--watch-namespaces=${ns}`])
  })
  afterAll(async () => {
    await operator?.stop()
    await deleteNamespace(k, ns)
    k.close()
  })

  const doltdb = () => k.get(group("k8s.dolthub.com/v1alpha", "doltdbs", ns, name))
  const ready = (d: KubeObject) =>
    (d.status?.conditions ?? []).some(
      (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"
    )
  const secretText = (s: KubeObject, key: string) => Buffer.from(s.data[key], "base64").toString("utf8")
  /** A TLS connection that verifies the server against `ca` (the chain; pod IPs carry no name). */
  const tlsConnect = (host: string, ca: string) =>
    mysql.createConnection({
      host,
      port: 3306,
      user,
      password,
      connectTimeout: 5000,
      ssl: { ca, rejectUnauthorized: true }
    })

  it("serves SQL and replicates over TLS, refuses plaintext and foreign CAs, fails over", async () => {
    const engineVersion = readFileSync(join(work, "run", "dolt-release"), "utf8").trim()
    await k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-credentials`, namespace: ns },
      stringData: { "admin-user": user, "admin-password": password }
    })
    const t0 = Date.now()
    await k.create(group("k8s.dolthub.com/v1alpha", "doltdbs", ns), {
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "DoltDB",
      metadata: { name, namespace: ns },
      spec: {
        engineVersion,
        replicas: 3,
        storage: { size: "1Gi" },
        replication: { enabled: true },
        tls: { enabled: true, requireSecureTransport: true }
      }
    })
    const up = await waitFor(`DoltDB ${name} Ready`, 240_000, async () => {
      const d = await doltdb()
      return ready(d) && d.status?.currentPrimary ? d : undefined
    })
    record("tls: DoltDB created -> Ready (3 replicas, TLS)", Date.now() - t0)

    // The certificates are in Secrets; the pods' config points at the mounted files and dials peers over https.
    const server = await k.get(core("secrets", ns, `${name}-tls`))
    const ca = secretText(server, "ca.crt")
    const configMap = await k.get(core("configmaps", ns, `${name}-config`))
    const config = configMap.data[`${name}-0.yaml`] as string
    assert.match(config, /tls_ca: "?\/etc\/doltdb-tls\/ca\.crt"?\n/)
    assert.match(config, /remote_url_template: "?https:\/\//)
    assert.include(config, "require_secure_transport: true")
    assert.notInclude(JSON.stringify(configMap.data), "BEGIN")

    const primaryPod = await readyPod(k, ns, up.status.currentPrimary, 30_000)
    const primary = await tlsConnect(primaryPod.status.podIP, ca)
    // Dolt reports no Ssl_cipher status: the client's socket says whether the session is encrypted.
    const socket = (
      primary as unknown as { connection: { stream: { encrypted?: boolean; getProtocol?: () => string } } }
    ).connection.stream
    assert.isTrue(socket.encrypted, "the session is not encrypted")
    assert.match(String(socket.getProtocol?.()), /^TLSv1\.[23]$/)
    await query(primary, "CREATE DATABASE app")
    await query(primary, "CREATE TABLE app.t (id INT PRIMARY KEY)")
    await query(primary, "INSERT INTO app.t VALUES (1)")

    // Replication over TLS with peer verification: every standby remote caught up, no error.
    const standbys = await waitFor("both standbys caught up over TLS", 60_000, async () => {
      const rows = await query(
        primary,
        "SELECT standby_remote, replication_lag_millis, current_error FROM dolt_cluster.dolt_cluster_status WHERE `database` = 'app'"
      )
      return rows.length === 2 && rows.every((r) => r.current_error === null && r.replication_lag_millis === 0)
        ? rows
        : undefined
    })
    assert.lengthOf(standbys, 2)
    await primary.end()

    // A plaintext client is refused by the server.
    const plaintext = await mysql
      .createConnection({ host: primaryPod.status.podIP, port: 3306, user, password, connectTimeout: 5000 })
      .then(
        async (c) => {
          try {
            await c.query("SELECT 1")
            return "accepted"
          } finally {
            c.destroy()
          }
        },
        (e: Error) => e.message
      )
    assert.match(plaintext, /insecure|SSL|TLS/i, `plaintext client: ${plaintext}`)
    // A client that trusts another CA (the e2e API server's) does not accept the server.
    const otherCa = readFileSync(join(work, "pki", "ca.crt"), "utf8")
    const foreign = await tlsConnect(primaryPod.status.podIP, otherCa).then(
      (c) => {
        c.destroy()
        return "accepted"
      },
      (e: Error) => e.message
    )
    assert.match(foreign, /self[- ]signed|unable to verify|certificate/i, `foreign CA: ${foreign}`)

    // Failover: the operator (over TLS) promotes a standby; the acknowledged row survives.
    const t1 = Date.now()
    await k.delete(core("pods", ns, primaryPod.metadata.name))
    const after = await waitFor("a write acknowledged on the new primary", 180_000, async () => {
      const d = await doltdb()
      const candidate = d.status?.currentPrimary
      if (!candidate || candidate === primaryPod.metadata.name) return undefined
      const pod = await k.get(core("pods", ns, candidate))
      if (!pod.status?.podIP) return undefined
      const w = await tlsConnect(pod.status.podIP, ca)
      try {
        await query(w, "INSERT INTO app.t VALUES (2)")
        return { name: candidate, rows: await query(w, "SELECT id FROM app.t ORDER BY id") }
      } finally {
        await w.end()
      }
    })
    record("tls: primary pod deleted -> first write on the new primary (TLS)", Date.now() - t1)
    assert.notStrictEqual(after.name, primaryPod.metadata.name)
    assert.deepEqual(after.rows, [{ id: 1 }, { id: 2 }])
    await readyPod(k, ns, primaryPod.metadata.name, 180_000, primaryPod.metadata.uid)
    await waitFor(`DoltDB ${name} Ready again`, 180_000, async () => (ready(await doltdb()) ? true : undefined))
    // One failover, not a chain of them: the new primary stayed the primary.
    const settled = await doltdb()
    assert.strictEqual(settled.status?.currentPrimary, after.name)

    // The transport of a replicated DoltDB cannot be switched in place: the real API server refuses it (CEL).
    const refused = await k
      .mergePatch(group("k8s.dolthub.com/v1alpha", "doltdbs", ns, name), {
        spec: { tls: { enabled: false, requireSecureTransport: false } }
      })
      .then(
        () => undefined,
        (e: unknown) => e
      )
    assert.instanceOf(refused, KubeError, "the API server accepted turning TLS off")
    assert.strictEqual(refused.code, 422, refused.message)
    assert.match(
      refused.message,
      /spec\.tls\.enabled: Forbidden: tls\.enabled cannot change while the DoltDB is replicated/
    )
  })
})
