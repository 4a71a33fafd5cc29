// What a pod needs to use the API server as in a real cluster, checked with a plain pod: it reaches the API server
// at KUBERNETES_SERVICE_HOST/PORT with its projected service-account token, CA and namespace, and the token gets
// exactly its ServiceAccount's RBAC. Then the operator installed from the reference chart's values file, unchanged
// (it starts and leads), upgraded to 2 replicas with the reference's --zap-* flags, and its leader SIGKILLed a few
// times to measure the takeover with the default Lease. (The DoltDB scenarios against the in-cluster operator run
// in operator-scenarios.test.ts.)
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { logsDir } from "../lib/diagnose.ts"
import { type InClusterOperator, inClusterWanted, installOperator, RELEASE_NAMESPACE } from "../lib/incluster.ts"
import { core, group, type Kube, type KubeObject } from "../lib/kube.ts"
import { createNamespace, deleteNamespace, isReady, kube, record, waitFor } from "./helpers.ts"

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
      // -sS: a failed call prints curl's error after whoami= instead of nothing.
      'echo "whoami=$(curl -sS --cacert ' +
        `${sa}/ca.crt -H "Authorization: Bearer $(cat ${sa}/token)" -H 'Content-Type: application/json' -X POST ` +
        `-d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' "$api/apis/authentication.k8s.io/v1/selfsubjectreviews" 2>&1 | tr -d ' \\n')"`
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

describe("e2e: the operator installed from the reference chart's values file", () => {
  let k: Kube
  let operator: InClusterOperator | undefined
  const mode = inClusterWanted()
  const takeovers: Array<number> = []

  beforeAll(() => {
    k = kube()
  })
  afterAll(async () => {
    if (takeovers.length > 0)
      console.log(`[e2e] leader takeover after SIGKILL (s): ${takeovers.map((t) => t.toFixed(2)).join(", ")}`)
    await operator?.uninstall().catch(() => {})
    k?.close()
  })

  const operatorLog = (pod: KubeObject) => podLog(RELEASE_NAMESPACE, pod.metadata.name, "doltdb-operator")

  it("installs unchanged, then with 2 replicas and the reference's --zap-* flags: a crashed leader is replaced", async () => {
    assert.isTrue(mode.ok, `the in-cluster operator cannot run: ${mode.why}`)
    // The reference chart's values.yaml verbatim: 1 replica, --leader-elect, a ClusterRole, every namespace.
    operator = await installOperator(k, undefined, null, {
      valuesFiles: ["charts/test/values/reference-values.yaml"]
    })
    const [only] = await operator.pods()
    assert.strictEqual((await operator.pods()).length, 1)
    assert.deepInclude(only!.spec.containers[0].args, "--leader-elect")

    // The flags a reference Deployment passes to controller-runtime's zap: accepted, mapped or reported.
    const zapArgs = [
      "--leader-elect",
      "--zap-log-level=debug",
      "--zap-encoder=json",
      "--zap-stacktrace-level=error",
      "--zap-time-encoding=iso8601"
    ]
    await operator.upgrade(["replicas=2", `containerArgs={${zapArgs.join(",")}}`])
    const pods = await waitFor("2 Ready operator pods, one leading", 120_000, async () => {
      const ps = await operator!.pods()
      return ps.length === 2 && ps.every(isReady) && (await operator!.leader()) ? ps : undefined
    })
    for (const pod of pods) {
      assert.includeMembers(pod.spec.containers[0].args, zapArgs)
      assert.notInclude(pod.spec.containers[0].args.join(" "), "--log-level", "the chart leaves --log-level to zap")
    }
    const leader = (await operator.leader())!
    const log = await waitFor("the leader's log", 30_000, async () => operatorLog(leader) || undefined)
    assert.include(log, "--zap-stacktrace-level=error is ignored", log.slice(0, 2000))
    assert.include(log, "--zap-time-encoding=iso8601 is ignored")
    assert.match(log, /"logLevel":"debug"/u, "--zap-log-level=debug took effect")

    for (let run = 1; run <= 4; run++) {
      // Both replicas up (the replacement of the last killed pod Ready) before the next kill.
      await waitFor(`2 Ready operator pods before kill ${run}`, 120_000, async () => {
        const ps = await operator!.pods()
        return ps.length === 2 && ps.every(isReady) && (await operator!.leader()) ? ps : undefined
      })
      // A few seconds in, so the kill falls at a random point of the leader's 2 s renewal cycle.
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * 2000))
      const crashed: { readonly takeoverMs?: number | undefined } = await (operator as InClusterOperator).crash()
      const ms = crashed.takeoverMs
      if (ms === undefined) throw new Error("the Lease did not change hands")
      takeovers.push(ms / 1000)
      record(`incluster: leader operator pod SIGKILLed -> Lease taken over (run ${run})`, ms)
    }
    // The goal: a crashed leader is replaced within 15 s with the default Lease (10 s).
    assert.isAtMost(Math.max(...takeovers), 15, `takeovers (s): ${takeovers.join(", ")}`)
  })
})
