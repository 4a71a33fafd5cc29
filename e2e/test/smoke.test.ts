// Smoke test of the harness without the operator: a 1-replica Dolt StatefulSet on a PVC comes up, serves
// SQL on its pod IP, and keeps its data when its pod is deleted and recreated.
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { killContainer } from "../lib/faults.ts"
import { core, group, type Kube } from "../lib/kube.ts"
import { connect, createNamespace, deleteNamespace, kube, query, readyPod, record, waitFor } from "./helpers.ts"
import { doltCluster, PASSWORD, USER } from "./manifests.ts"

describe("e2e harness: single Dolt pod", () => {
  let k: Kube
  let ns: string
  const name = "smoke"

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-smoke")
  })
  afterAll(async () => {
    await deleteNamespace(k, ns)
    k.close()
  })

  it("CRDs from crds/ are served", async () => {
    const list = await k.get<{ items: Array<{ metadata: { name: string } }> }>(
      group("apiextensions.k8s.io/v1", "customresourcedefinitions")
    )
    const names = list.items.map((c) => c.metadata.name)
    for (const kind of ["doltdbs", "users", "grants", "databases", "backups", "backupschedules", "snapshots"]) {
      assert.include(names, `${kind}.k8s.dolthub.com`)
    }
  })

  it("runs a StatefulSet pod with a PVC, serves SQL, and keeps data across pod deletion", async () => {
    const m = doltCluster({ name, namespace: ns, replicas: 1, replication: false })
    const t0 = Date.now()
    await k.create(core("secrets", ns), m.secret)
    await k.create(core("configmaps", ns), m.configMap)
    await k.create(core("services", ns), m.headless)
    await k.create(group("apps/v1", "statefulsets", ns), m.statefulSet)
    const pod = await readyPod(k, ns, `${name}-0`, 120_000)
    record("smoke: StatefulSet created -> pod Ready", Date.now() - t0)

    const pvc = await k.get(core("persistentvolumeclaims", ns, `dolt-data-${name}-0`))
    assert.strictEqual(pvc.status.phase, "Bound")
    assert.match(pod.status.podIP, /^10\.244\./)

    const c = await connect(pod.status.podIP, USER, PASSWORD)
    await query(c, "CREATE DATABASE smoke")
    await query(c, "CREATE TABLE smoke.t (id INT PRIMARY KEY, v VARCHAR(32))")
    await query(c, "INSERT INTO smoke.t VALUES (?, ?)", [1, "kept"])
    assert.deepEqual(await query(c, "SELECT id, v FROM smoke.t"), [{ id: 1, v: "kept" }])
    await c.end()

    const t1 = Date.now()
    await k.delete(core("pods", ns, `${name}-0`))
    const again = await readyPod(k, ns, `${name}-0`, 120_000, pod.metadata.uid)
    record("smoke: pod deleted -> new pod Ready", Date.now() - t1)
    assert.notStrictEqual(again.metadata.uid, pod.metadata.uid)

    const c2 = await connect(again.status.podIP, USER, PASSWORD)
    assert.deepEqual(await query(c2, "SELECT id, v FROM smoke.t"), [{ id: 1, v: "kept" }])
    await c2.end()
  })

  it("reports restarts of a crashed container and keeps serving", async () => {
    const pod = await readyPod(k, ns, `${name}-0`, 60_000)
    killContainer(pod, "dolt")
    const restarted = await waitFor("restartCount 1 and Ready again", 60_000, async () => {
      const p = await k.get(core("pods", ns, `${name}-0`))
      const s = p.status.containerStatuses?.[0]
      return s?.restartCount === 1 && s.ready ? p : undefined
    })
    assert.strictEqual(restarted.metadata.uid, pod.metadata.uid)
    assert.strictEqual(restarted.status.containerStatuses[0].lastState.terminated.exitCode, 137)
    const c = await connect(restarted.status.podIP, USER, PASSWORD)
    assert.deepEqual(await query(c, "SELECT v FROM smoke.t WHERE id = 1"), [{ v: "kept" }])
    await c.end()
  })
})
