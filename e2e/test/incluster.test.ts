// The pieces the operator needs to run as a pod (issue 14 §3), checked with plain objects rather than the chart:
// a pod reaches the API server at KUBERNETES_SERVICE_HOST/PORT with its projected service-account token, CA and
// namespace, and the token gets exactly its ServiceAccount's RBAC; the operator image runs the repository's
// operator in a Deployment with in-cluster configuration and leader election, serving a DoltDB; and with 2
// replicas, the time for the other replica to take over the Lease when the leader's pod is deleted (graceful:
// the leader releases its Lease) or killed (SIGKILL, then force-deleted: the Lease must expire). Times are recorded,
// never asserted.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { operatorImage } from "../agent/images.ts"
import { killPod } from "../lib/incluster.ts"
import { involved, logsDir } from "../lib/diagnose.ts"
import { core, group, type Kube, type KubeObject } from "../lib/kube.ts"
import { createNamespace, deleteNamespace, isReady, kube, record, sleep, waitFor } from "./helpers.ts"

const work = process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")
const API = "k8s.dolthub.com/v1alpha"
const LEASE = "k8s.dolthub.com"

const podLog = (ns: string, pod: string, container: string) => {
  const dir = readdirSync(join(logsDir(), "pods")).find((d) => d.startsWith(`${ns}_${pod}_`))
  return dir ? readFileSync(join(logsDir(), "pods", dir, `${container}.log`), "utf8") : ""
}

describe("e2e harness: in-cluster API access and the operator image", () => {
  let k: Kube
  let ns: string

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-incluster")
    involved.operatorNamespaces.add(ns)
  })
  afterAll(async () => {
    await k
      ?.delete(group("rbac.authorization.k8s.io/v1", "clusterrolebindings", undefined, `${ns}-operator`))
      .catch(() => {})
    if (ns) await deleteNamespace(k, ns)
    k?.close()
  })

  const rbac = async (sa: string, rules: Array<unknown>, clusterRole?: string) => {
    await k.create(core("serviceaccounts", ns), { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa } })
    if (rules.length > 0)
      await k.create(group("rbac.authorization.k8s.io/v1", "roles", ns), {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: sa },
        rules
      })
    const subjects = [{ kind: "ServiceAccount", name: sa, namespace: ns }]
    if (clusterRole)
      await k.create(group("rbac.authorization.k8s.io/v1", "clusterrolebindings"), {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: `${ns}-${sa}` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
        subjects
      })
    else
      await k.create(group("rbac.authorization.k8s.io/v1", "rolebindings", ns), {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: sa },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: sa },
        subjects
      })
  }

  it("a pod calls the API server with its service-account token; RBAC allows pods and refuses secrets", async () => {
    await rbac("lister", [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }])
    const sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    const script = [
      `ns=$(cat ${sa}/namespace)`,
      'api="https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"',
      `call() { curl -s -o /dev/null -w '%{http_code}' --cacert ${sa}/ca.crt -H "Authorization: Bearer $(cat ${sa}/token)" "$api$1"; }`,
      'echo "namespace=$ns host=$KUBERNETES_SERVICE_HOST port=$KUBERNETES_SERVICE_PORT"',
      'echo "pods=$(call /api/v1/namespaces/$ns/pods)"',
      'echo "secrets=$(call /api/v1/namespaces/$ns/secrets)"',
      'echo "whoami=$(curl -s --cacert ' +
        `${sa}/ca.crt -H "Authorization: Bearer $(cat ${sa}/token)" -H 'Content-Type: application/json' -X POST ` +
        `-d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' "$api/apis/authentication.k8s.io/v1/selfsubjectreviews" | tr -d ' \\n')"`
    ].join("\n")
    await k.create(core("pods", ns), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "api-client" },
      spec: {
        serviceAccountName: "lister",
        restartPolicy: "Never",
        containers: [{ name: "client", image: "dolthub/dolt:e2e", command: ["/bin/sh", "-c", script] }]
      }
    })
    const pod = await waitFor("pod api-client finished", 60_000, async () => {
      const p = await k.get(core("pods", ns, "api-client"))
      return ["Succeeded", "Failed"].includes(p.status?.phase) ? p : undefined
    })
    const out = podLog(ns, "api-client", "client")
    assert.strictEqual(pod.status.phase, "Succeeded", out)
    assert.include(out, `namespace=${ns} host=10.244.0.1`)
    assert.include(out, "pods=200", out)
    assert.include(out, "secrets=403", out)
    assert.include(out, `system:serviceaccount:${ns}:lister`, out)
  })

  const operatorDeployment = (replicas: number) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "operator" },
    spec: {
      replicas,
      selector: { matchLabels: { app: "operator" } },
      template: {
        metadata: { labels: { app: "operator" } },
        spec: {
          serviceAccountName: "operator",
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: "manager",
              image: operatorImage("e2e"),
              args: ["--leader-elect", `--watch-namespaces=${ns}`, "--log-format=text", "--metrics-bind-address=0"],
              ports: [{ name: "health", containerPort: 8081 }],
              readinessProbe: { httpGet: { path: "/readyz", port: 8081 }, periodSeconds: 1 },
              livenessProbe: { httpGet: { path: "/healthz", port: 8081 }, periodSeconds: 10, initialDelaySeconds: 15 }
            }
          ]
        }
      }
    }
  })

  const lease = () => k.find(group("coordination.k8s.io/v1", "leases", ns, LEASE))
  const operatorPods = async () =>
    (await k.get<{ items: Array<KubeObject> }>(`${core("pods", ns)}?labelSelector=app%3Doperator`)).items

  it("the operator image runs the repository's operator in a Deployment (in-cluster config) and serves a DoltDB", async () => {
    // The harness check is the in-cluster path, not the operator's permissions (the chart's RBAC is tested with the chart).
    await rbac("operator", [], "cluster-admin")
    const t0 = Date.now()
    await k.create(group("apps/v1", "deployments", ns), operatorDeployment(2))
    await waitFor("a Ready operator pod holding the Lease", 120_000, async () => {
      const l = await lease()
      const pods = await operatorPods()
      const holder = pods.find((p) => l?.spec?.holderIdentity?.startsWith(`${p.metadata.name}_`))
      return holder && isReady(holder) ? holder : undefined
    })
    record("in-cluster: operator Deployment created -> leader elected", Date.now() - t0)
    await k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "solo-credentials" },
      stringData: { "admin-user": "e2e-admin", "admin-password": "e2e-Admin-Secret-1" }
    })
    const engineVersion = readFileSync(join(work, "run", "dolt-release"), "utf8").trim()
    const t1 = Date.now()
    await k.create(group(API, "doltdbs", ns), {
      apiVersion: API,
      kind: "DoltDB",
      metadata: { name: "solo" },
      spec: { engineVersion, replicas: 1, storage: { size: "1Gi" } }
    })
    await waitFor("DoltDB solo Ready", 180_000, async () => {
      const d = await k.get(group(API, "doltdbs", ns, "solo"))
      return (d.status?.conditions ?? []).some((c: KubeObject) => c.type === "Ready" && c.status === "True")
        ? d
        : undefined
    })
    record("in-cluster: 1-replica DoltDB created -> Ready (operator in a pod)", Date.now() - t1)
  })

  for (const how of ["deleted", "killed"] as const) {
    it(`the other replica takes the Lease over when the leader's pod is ${how}`, async () => {
      const before = await waitFor("a leader and a Ready standby", 120_000, async () => {
        const l = await lease()
        const pods = (await operatorPods()).filter((p) => !p.metadata.deletionTimestamp)
        const leader = pods.find((p) => l?.spec?.holderIdentity?.startsWith(`${p.metadata.name}_`))
        return leader && pods.length === 2 && pods.every(isReady) ? { leader, lease: l! } : undefined
      })
      // A renewal just happened: the kill lands at a random point of the renew period, as a real crash would.
      await sleep(Math.random() * 2000)
      const t0 = Date.now()
      // Deleted: SIGTERM, the leader releases its Lease. Killed: SIGKILL (no release), then force-deleted.
      if (how === "killed") killPod(before.leader)
      await k.delete(core("pods", ns, before.leader.metadata.name), {
        apiVersion: "v1",
        kind: "DeleteOptions",
        ...(how === "killed" && { gracePeriodSeconds: 0 })
      })
      const after = await waitFor("another operator holding the Lease", 90_000, async () => {
        const l = await lease()
        const holder = l?.spec?.holderIdentity as string | undefined
        return holder && holder !== before.lease.spec.holderIdentity ? l : undefined
      })
      const seconds = (Date.now() - t0) / 1000
      record(`in-cluster: leader pod ${how} -> Lease taken over`, Date.now() - t0)
      console.log(
        `[takeover] ${how}: ${seconds.toFixed(2)} s (lease ${after?.spec?.leaseDurationSeconds} s, transitions ${after?.spec?.leaseTransitions})`
      )
      assert.notStrictEqual(after?.spec?.holderIdentity, before.lease.spec.holderIdentity)
    })
  }
})
