// Object size limits against the real kube-apiserver (issue #13 §4): the limits the operator's ChildTooLarge check
// assumes are the API server's (a ConfigMap's data values at most 1 MiB: 1,048,576 bytes accepted, one more
// refused with 422), the real CRD validation accepts a DoltDB whose ConfigMap would be over it (32 replicas, 40 KB of metrics
// labels), and the operator reports that DoltDB (Ready False ChildTooLarge naming the ConfigMap, one Warning)
// instead of failing the apply on every pass. No Dolt pod is needed.
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { core, group, type Kube, KubeError, type KubeObject } from "../lib/kube.ts"
import { type RunningOperator, startOperator } from "../lib/operator.ts"
import { createNamespace, deleteNamespace, kube, sleep, waitFor } from "./helpers.ts"

const API = "k8s.dolthub.com/v1alpha"

describe("e2e: children over the API server's size limits", () => {
  let k: Kube
  let ns: string
  let operator: RunningOperator

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-sizes")
    operator = startOperator([`--watch-namespaces=${ns}`])
  })
  afterAll(async () => {
    await operator?.stop()
    if (ns) await deleteNamespace(k, ns)
    k?.close()
  })

  it("the API server takes a ConfigMap with 1 MiB of data and refuses one byte more (422)", async () => {
    const configMap = (name: string, bytes: number) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: ns },
      // The API server counts the values only (ValidateConfigMap), not the keys.
      data: { k: "x".repeat(bytes) }
    })
    await k.create(core("configmaps", ns), configMap("at-limit", 1024 * 1024))
    const refused = await k.create(core("configmaps", ns), configMap("over-limit", 1024 * 1024 + 1)).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(refused, KubeError)
    assert.strictEqual((refused as KubeError).code, 422, (refused as Error).message)
  })

  it("a valid DoltDB whose ConfigMap would be 1.3 MB: Ready False ChildTooLarge, no child, one Warning", async () => {
    await k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "big-credentials", namespace: ns },
      stringData: { "admin-user": "admin", "admin-password": "pw" }
    })
    await k.create(group(API, "doltdbs", ns), {
      apiVersion: API,
      kind: "DoltDB",
      metadata: { name: "big", namespace: ns },
      spec: {
        engineVersion: "1.86.4",
        replicas: 32,
        replication: { enabled: true },
        storage: { size: "1Gi" },
        server: { metrics: { enabled: true, labels: { team: "x".repeat(40_000) } } }
      }
    })
    const ready = await waitFor("DoltDB big Ready False ChildTooLarge", 60_000, async () => {
      const o = await k.get(group(API, "doltdbs", ns, "big"))
      const c = (o.status?.conditions ?? []).find((c: { type: string }) => c.type === "Ready")
      return c?.reason === "ChildTooLarge" ? (c as { message: string }) : undefined
    })
    assert.match(
      ready.message,
      /^ConfigMap big-config data is [\d,]+ bytes, over the API server's limit of 1,048,576 bytes/
    )
    await sleep(10_000)
    assert.isUndefined(await k.find(core("configmaps", ns, "big-config")))
    assert.isUndefined(await k.find(group("apps/v1", "statefulsets", ns, "big")))
    const events = await k.get<{ items: Array<KubeObject> }>(core("events", ns))
    const warnings = events.items.filter((e) => (e as { reason?: string }).reason === "ChildTooLarge")
    assert.strictEqual(warnings.length, 1, JSON.stringify(warnings.map((e) => (e as { count?: number }).count)))
  })
})
