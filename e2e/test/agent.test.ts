// Node agent behaviours the operator relies on beyond the smoke test: terminal phases of pods that finish,
// preStop hooks and grace periods on deletion, and PVC expansion.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { core, type Kube } from "../lib/kube.ts"
import { createNamespace, deleteNamespace, kube, record, waitFor } from "./helpers.ts"

const IMAGE = "dolthub/dolt:2.3.1"

describe("e2e node agent", () => {
  let k: Kube
  let ns: string
  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-agent")
  })
  afterAll(async () => {
    await deleteNamespace(k, ns)
    k.close()
  })

  const pod = (name: string, spec: object) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns },
    spec
  })
  const phase = (name: string, want: string) =>
    waitFor(`pod ${name} ${want}`, 60_000, async () => {
      const p = await k.get(core("pods", ns, name))
      return p.status?.phase === want ? p : undefined
    })

  it("reports Succeeded and Failed for pods whose containers finish", async () => {
    const job = (name: string, code: number) =>
      pod(name, {
        restartPolicy: "Never",
        containers: [{ name: "c", image: IMAGE, command: ["/bin/sh", "-c", `dolt version >/dev/null; exit ${code}`] }]
      })
    await k.create(core("pods", ns), job("ok", 0))
    await k.create(core("pods", ns), job("bad", 3))
    const ok = await phase("ok", "Succeeded")
    const bad = await phase("bad", "Failed")
    assert.strictEqual(ok.status.containerStatuses[0].state.terminated.exitCode, 0)
    assert.strictEqual(bad.status.containerStatuses[0].state.terminated.exitCode, 3)
    assert.strictEqual(bad.status.containerStatuses[0].restartCount, 0)
  })

  it("waits for a missing Secret in CreateContainerConfigError without counting restarts", async () => {
    await k.create(
      core("pods", ns),
      pod("needs-secret", {
        initContainers: [
          {
            name: "init",
            image: IMAGE,
            command: ["/bin/sh", "-c", 'test "$PASSWORD" = later'],
            env: [{ name: "PASSWORD", valueFrom: { secretKeyRef: { name: "late", key: "password" } } }]
          }
        ],
        containers: [{ name: "c", image: IMAGE, command: ["/bin/sh", "-c", "while :; do sleep 1; done"] }]
      })
    )
    const waiting = await waitFor("CreateContainerConfigError", 30_000, async () => {
      const p = await k.get(core("pods", ns, "needs-secret"))
      const s = p.status?.initContainerStatuses?.[0]
      return s?.state?.waiting?.reason === "CreateContainerConfigError" ? s : undefined
    })
    assert.strictEqual(waiting.restartCount, 0)
    await k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "late", namespace: ns },
      stringData: { password: "later" }
    })
    const running = await phase("needs-secret", "Running")
    assert.strictEqual(running.status.initContainerStatuses[0].state.terminated.exitCode, 0)
    assert.strictEqual(running.status.initContainerStatuses[0].restartCount, 0)
  })

  it("runs preStop and kills after the grace period on deletion; PVC data outlives the pod; PVCs expand", async () => {
    await k.create(core("persistentvolumeclaims", ns), {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: ns },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } }
    })
    await k.create(
      core("pods", ns),
      pod("stubborn", {
        terminationGracePeriodSeconds: 3,
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }],
        containers: [
          {
            name: "c",
            image: IMAGE,
            // Ignores SIGTERM, so only the grace period's SIGKILL ends it.
            command: ["/bin/sh", "-c", "trap '' TERM; echo started > /data/log; while :; do sleep 0.2; done"],
            volumeMounts: [{ name: "data", mountPath: "/data" }],
            lifecycle: { preStop: { exec: { command: ["/bin/sh", "-c", "echo prestop >> /data/log"] } } }
          }
        ]
      })
    )
    await phase("stubborn", "Running")
    const t0 = Date.now()
    await k.delete(core("pods", ns, "stubborn"))
    await waitFor("pod stubborn gone", 30_000, async () =>
      (await k.find(core("pods", ns, "stubborn"))) ? undefined : true
    )
    record("agent: delete with grace 3s of a pod ignoring SIGTERM -> gone", Date.now() - t0)
    const pvc = await k.get(core("persistentvolumeclaims", ns, "data"))
    const pv = await k.get(core("persistentvolumes", undefined, pvc.spec.volumeName))
    assert.strictEqual(readFileSync(join(pv.spec.csi.volumeAttributes.path, "log"), "utf8"), "started\nprestop\n")

    await k.mergePatch(core("persistentvolumeclaims", ns, "data"), {
      spec: { resources: { requests: { storage: "2Gi" } } }
    })
    const grown = await waitFor("PVC capacity 2Gi", 30_000, async () => {
      const c = await k.get(core("persistentvolumeclaims", ns, "data"))
      return c.status?.capacity?.storage === "2Gi" ? c : undefined
    })
    assert.strictEqual(grown.status.phase, "Bound")
  })
})
