// The operator (packages/operator, run as a host process) against the e2e cluster: a replicated DoltDB
// comes up, takes writes on its primary, and moves the primary when the primary's pod is deleted.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { core, group, type Kube, type KubeObject } from "../lib/kube.ts"
import { type RunningOperator, startOperator } from "../lib/operator.ts"
import { connect, createNamespace, deleteNamespace, kube, query, readyPod, record, waitFor } from "./helpers.ts"

const work = process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")

describe("e2e: operator", () => {
  let k: Kube
  let ns: string
  let operator: RunningOperator
  const name = "ddb"
  const user = "e2e-op"
  const password = "e2e-Op-Secret-1"

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-operator")
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

  it("brings up a 2-replica DoltDB and fails over when the primary pod is deleted", async () => {
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
      spec: { engineVersion, replicas: 2, storage: { size: "1Gi" }, replication: { enabled: true } }
    })
    const up = await waitFor(`DoltDB ${name} Ready`, 180_000, async () => {
      const d = await doltdb()
      return ready(d) && d.status?.currentPrimary ? d : undefined
    })
    record("operator: DoltDB created -> Ready", Date.now() - t0)
    const primaryPod = await readyPod(k, ns, up.status.currentPrimary, 30_000)
    const c = await connect(primaryPod.status.podIP, user, password)
    await query(c, "CREATE DATABASE app")
    await query(c, "CREATE TABLE app.t (id INT PRIMARY KEY)")
    await query(c, "INSERT INTO app.t VALUES (1)")
    await c.end()

    const t1 = Date.now()
    await k.delete(core("pods", ns, primaryPod.metadata.name))
    // Failover as a client sees it: the first write acknowledged by whichever pod the status names primary.
    const newPrimary = await waitFor("a write acknowledged on the new primary", 120_000, async () => {
      const d = await doltdb()
      const candidate = d.status?.currentPrimary
      if (!candidate || candidate === primaryPod.metadata.name) return undefined
      const pod = await k.get(core("pods", ns, candidate))
      if (!pod.status?.podIP) return undefined
      const w = await connect(pod.status.podIP, user, password)
      try {
        await query(w, "INSERT INTO app.t VALUES (2)")
        return { name: candidate, rows: await query(w, "SELECT id FROM app.t ORDER BY id") }
      } finally {
        await w.end()
      }
    })
    record("operator: primary pod deleted -> first write on the new primary", Date.now() - t1)
    assert.notStrictEqual(newPrimary.name, primaryPod.metadata.name)
    // The write acknowledged before the failover survived it.
    assert.deepEqual(newPrimary.rows, [{ id: 1 }, { id: 2 }])
    // The deleted pod comes back and the DoltDB is Ready again.
    await readyPod(k, ns, primaryPod.metadata.name, 120_000, primaryPod.metadata.uid)
    await waitFor(`DoltDB ${name} Ready again`, 120_000, async () => (ready(await doltdb()) ? true : undefined))
  })
})
