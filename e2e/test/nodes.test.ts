// Several nodes: pods spread with required anti-affinity, and node loss (frozen agent and pods, links down)
// seen by the controller manager as a NotReady node with NotReady pods, then recovery.
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { nodeDown, nodeUp } from "../lib/faults.ts"
import { core, group, type Kube } from "../lib/kube.ts"
import {
  connect,
  createNamespace,
  deleteNamespace,
  isReady,
  kube,
  query,
  readyPod,
  record,
  waitFor
} from "./helpers.ts"
import { doltCluster, PASSWORD, USER } from "./manifests.ts"

describe("e2e harness: nodes", () => {
  let k: Kube
  let ns: string
  const name = "spread"

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-nodes")
  })
  afterAll(async () => {
    await deleteNamespace(k, ns)
    k.close()
  })

  it("spreads anti-affine pods over nodes; a lost node turns NotReady with its pods, and comes back", async () => {
    const nodes = (await k.get<{ items: Array<{ metadata: { name: string } }> }>(core("nodes"))).items
    assert.isAtLeast(nodes.length, 2, "run with E2E_NODES >= 2")
    const m = doltCluster({ name, namespace: ns, replicas: 2, replication: true })
    const labels = { "app.kubernetes.io/name": name }
    m.statefulSet.spec.template.spec = {
      ...m.statefulSet.spec.template.spec,
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: labels } }
          ]
        }
      }
    } as typeof m.statefulSet.spec.template.spec
    await k.create(core("secrets", ns), m.secret)
    await k.create(core("configmaps", ns), m.configMap)
    await k.create(core("services", ns), m.headless)
    await k.create(group("apps/v1", "statefulsets", ns), m.statefulSet)
    const [p0, p1] = await Promise.all([readyPod(k, ns, `${name}-0`, 120_000), readyPod(k, ns, `${name}-1`, 120_000)])
    assert.notStrictEqual(p0.spec.nodeName, p1.spec.nodeName)

    // Replication works across nodes.
    const primary = await connect(p0.status.podIP, USER, PASSWORD)
    await query(primary, "CREATE DATABASE spread")
    await query(primary, "CREATE TABLE spread.t (id INT PRIMARY KEY)")
    await query(primary, "INSERT INTO spread.t VALUES (1)")
    const standby = await connect(p1.status.podIP, USER, PASSWORD)
    await waitFor("row on the standby", 30_000, async () =>
      (await query(standby, "SELECT id FROM spread.t")).length === 1 ? true : undefined
    )
    await standby.end()

    const lost = p1.spec.nodeName as string
    const t0 = Date.now()
    await nodeDown(lost)
    try {
      await waitFor(`node ${lost} not Ready`, 120_000, async () => {
        const n = await k.get(core("nodes", undefined, lost))
        const ready = n.status.conditions.find((c: { type: string }) => c.type === "Ready")
        return ready?.status !== "True" ? n : undefined
      })
      record(`nodes: node frozen -> Node not Ready`, Date.now() - t0)
      await waitFor(`pod ${name}-1 not Ready`, 60_000, async () =>
        isReady(await k.get(core("pods", ns, `${name}-1`))) ? undefined : true
      )
      record(`nodes: node frozen -> its pod not Ready`, Date.now() - t0)
      // The pod on the other node is untouched.
      assert.isTrue(isReady(await k.get(core("pods", ns, `${name}-0`))))
    } finally {
      await nodeUp(lost)
    }
    const t1 = Date.now()
    await readyPod(k, ns, `${name}-1`, 120_000)
    record(`nodes: node back -> its pod Ready`, Date.now() - t1)
    await primary.end()
  })
})
