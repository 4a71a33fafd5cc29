// The operator as the platform team installs it: both charts with `helm install --wait` (admin credentials are
// Helm's only), the operator Deployment (2 replicas, leader election on a Lease) running the repository's operator
// through the agent's image mapping, with in-cluster configuration and the chart's RBAC limited to the test's
// namespace. crash() force-deletes the leader's pod and measures the other replica's takeover of the Lease.
// Plain async Node (test infrastructure).

import { diagnose, findingsOf, involved } from "./diagnose.ts"
import { killContainer } from "./faults.ts"
import { chartsPresent, helm, helmBin } from "./helm.ts"
import { core, group, type Kube, type KubeObject } from "./kube.ts"
import type { OperatorUnderTest } from "./operator.ts"

export const RELEASE_NAMESPACE = "doltdb-system"
export const RELEASE = "doltdb-operator"
export const CRDS_RELEASE = "doltdb-operator-crds"
const LEASE = "k8s.dolthub.com"

/** In-cluster unless E2E_OPERATOR=host, or helm/the charts are missing (said on the console, and in results). */
export const inClusterWanted = () => {
  if (process.env.E2E_OPERATOR === "host") return { ok: false, why: "E2E_OPERATOR=host" }
  if (!chartsPresent()) return { ok: false, why: "charts/ is missing" }
  if (!helmBin()) return { ok: false, why: "helm is not built (npm run e2e:build)" }
  return { ok: true, why: "" }
}

/** SIGKILL of every container of the pod (a crashed process: no shutdown, no Lease release). */
export const killPod = (pod: KubeObject) => {
  for (const c of pod.spec.containers) killContainer(pod, c.name)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const isReady = (p: KubeObject) =>
  (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True")

export interface InClusterOperator extends OperatorUnderTest {
  /** `helm upgrade --reuse-values --set <set> --wait`. */
  upgrade(set: ReadonlyArray<string>): Promise<void>
  /** `helm uninstall` of the operator, then of the CRDs chart. */
  uninstall(): Promise<void>
  leader(): Promise<KubeObject | undefined>
  pods(): Promise<Array<KubeObject>>
}

export interface InstallOptions {
  /** `-f` values files (relative to the repository), before the `--set`s. */
  readonly valuesFiles?: ReadonlyArray<string>
  /** More `--set` values. */
  readonly set?: ReadonlyArray<string>
}

/**
 * Both charts, the operator with `replicas` and (when `watchNamespace` is given) watching only that namespace,
 * plus `options`; waits until one Ready replica holds the Lease.
 */
export const installOperator = async (
  k: Kube,
  watchNamespace: string | undefined,
  /** null: the values files' own `replicas`. */
  replicas: number | null = 2,
  options: InstallOptions = {}
): Promise<InClusterOperator> => {
  involved.operatorNamespaces.add(RELEASE_NAMESPACE)
  const ns = ["--namespace", RELEASE_NAMESPACE]
  // The cluster already serves the CRDs (cluster.sh applies crds/, the same files the chart carries): adopt them.
  await helm([
    "install",
    CRDS_RELEASE,
    "charts/doltdb-operator-crds",
    ...ns,
    "--create-namespace",
    "--take-ownership",
    "--force-conflicts",
    "--wait",
    "--timeout",
    "2m"
  ])
  await helm([
    "install",
    RELEASE,
    "charts/doltdb-operator",
    ...ns,
    ...(options.valuesFiles ?? []).flatMap((f) => ["-f", f]),
    ...(replicas === null ? [] : ["--set", `replicas=${replicas}`]),
    ...(watchNamespace === undefined ? [] : ["--set", `watchNamespaces={${watchNamespace}}`]),
    ...(options.set ?? []).flatMap((v) => ["--set", v]),
    // E2E_HELM_SET adds values, e.g. logLevel=debug to see the leader election's attempts.
    ...(process.env.E2E_HELM_SET ?? "")
      .split(",")
      .filter(Boolean)
      .flatMap((v) => ["--set", v]),
    "--wait",
    "--timeout",
    "3m"
  ])
  const lease = () => k.find(group("coordination.k8s.io/v1", "leases", RELEASE_NAMESPACE, LEASE))
  const pods = async () =>
    (
      await k.get<{ items: Array<KubeObject> }>(
        `${core("pods", RELEASE_NAMESPACE)}?labelSelector=app.kubernetes.io%2Finstance%3D${RELEASE}`
      )
    ).items.filter((p) => !p.metadata.deletionTimestamp)
  const holderOf = (l: KubeObject | undefined, ps: Array<KubeObject>) =>
    ps.find((p) => l?.spec?.holderIdentity?.startsWith(`${p.metadata.name}_`))
  const leader = async () => holderOf(await lease(), await pods())
  let installed = true
  const self: InClusterOperator = {
    where: `in-cluster: helm chart ${RELEASE} (${replicas ?? "values file's"} replicas) in ${RELEASE_NAMESPACE}`,
    leader,
    pods,
    crash: async () => {
      const l = await leader()
      if (!l) throw new Error("no operator pod holds the Lease")
      const identity = (await lease())?.spec?.holderIdentity
      const t0 = Date.now()
      // SIGKILL first (a crash: the Lease is not released), then the pod goes (the Deployment replaces it).
      killPod(l)
      await k.delete(core("pods", RELEASE_NAMESPACE, l.metadata.name), {
        apiVersion: "v1",
        kind: "DeleteOptions",
        gracePeriodSeconds: 0
      })
      for (;;) {
        const holder = (await lease())?.spec?.holderIdentity
        if (holder && holder !== identity) return { takeoverMs: Date.now() - t0 }
        if (Date.now() - t0 > 120_000)
          throw new Error(`no other operator took the Lease over within 120 s of killing ${l.metadata.name}`)
        await sleep(100)
      }
    },
    upgrade: async (set) => {
      await helm([
        "upgrade",
        RELEASE,
        "charts/doltdb-operator",
        ...ns,
        "--reuse-values",
        ...set.flatMap((s) => ["--set", s]),
        "--wait",
        "--timeout",
        "3m"
      ])
    },
    uninstall: async () => {
      installed = false
      await helm(["uninstall", RELEASE, ...ns, "--wait", "--timeout", "2m"])
      await helm(["uninstall", CRDS_RELEASE, ...ns, "--wait", "--timeout", "2m"])
    },
    stop: async () => {
      if (installed) await helm(["uninstall", RELEASE, ...ns, "--wait", "--timeout", "2m"]).catch(() => {})
      installed = false
    }
  }
  // Ready pods are not enough: wait until one of them leads.
  const t0 = Date.now()
  while (!(await leader()) || !(await pods()).every(isReady)) {
    if (Date.now() - t0 > 60_000) {
      const ps = await pods()
      const holder = (await lease())?.spec?.holderIdentity ?? "none"
      const state = `${ps.map((p) => `${p.metadata.name} ready=${isReady(p)}`).join(", ") || "no pods"}; holder ${holder}`
      const report = await diagnose(k, "installOperator", "no operator pod leads", {
        namespaces: [],
        operatorNamespaces: [RELEASE_NAMESPACE]
      })
      throw new Error(
        [
          `no Ready operator pod holds the Lease ${RELEASE_NAMESPACE}/${LEASE} 60 s after helm install (${state})`,
          ...findingsOf(report),
          report.split("\n").at(-1)
        ].join("\n")
      )
    }
    await sleep(200)
  }
  return self
}
