// What a pod needs to use the API server as in a real cluster, checked with a plain pod: it reaches the API server
// at KUBERNETES_SERVICE_HOST/PORT with its projected service-account token, CA and namespace, and the token gets
// exactly its ServiceAccount's RBAC. (The operator image, in-cluster config and leader takeover run in
// operator-scenarios.test.ts, where the charts install the operator.)
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { logsDir } from "../lib/diagnose.ts"
import { core, group, type Kube } from "../lib/kube.ts"
import { createNamespace, deleteNamespace, kube, waitFor } from "./helpers.ts"

const podLog = (ns: string, pod: string, container: string) => {
  const dir = readdirSync(join(logsDir(), "pods")).find((d) => d.startsWith(`${ns}_${pod}_`))
  return dir ? readFileSync(join(logsDir(), "pods", dir, `${container}.log`), "utf8") : ""
}

describe("e2e harness: in-cluster API access", () => {
  let k: Kube
  let ns: string

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-incluster")
  })
  afterAll(async () => {
    if (ns) await deleteNamespace(k, ns)
    k?.close()
  })

  const rbac = async (sa: string, rules: Array<unknown>) => {
    const rbacApi = "rbac.authorization.k8s.io/v1"
    await k.create(core("serviceaccounts", ns), { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa } })
    await k.create(group(rbacApi, "roles", ns), { apiVersion: rbacApi, kind: "Role", metadata: { name: sa }, rules })
    await k.create(group(rbacApi, "rolebindings", ns), {
      apiVersion: rbacApi,
      kind: "RoleBinding",
      metadata: { name: sa },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: sa },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }]
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
})
