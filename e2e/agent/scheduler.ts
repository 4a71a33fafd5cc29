// The kube-scheduler stand-in (run by the agent of node 1 only): binds each pending pod to a Ready,
// untainted node whose labels match its nodeSelector and that holds no pod its required podAntiAffinity
// (hostname topology) excludes; among those, the node with the fewest pods carrying the same labels, then
// the fewest pods (a rough topology spread). Everything else about scheduling is ignored.
// Plain async Node (test infrastructure).
import { core, type Kube, KubeError, type KubeObject } from "../lib/kube.ts"

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes wire objects
type Any = any

const matches = (selector: Any, labels: Record<string, string>): boolean => {
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (labels[k] !== v) return false
  for (const e of (selector?.matchExpressions ?? []) as Array<Any>) {
    const has = e.key in labels
    const ok =
      e.operator === "In"
        ? has && e.values.includes(labels[e.key])
        : e.operator === "NotIn"
          ? !has || !e.values.includes(labels[e.key])
          : e.operator === "Exists"
            ? has
            : !has
    if (!ok) return false
  }
  return true
}

const schedulable = (node: KubeObject) =>
  !node.spec?.unschedulable &&
  (node.status?.conditions ?? []).some((c: Any) => c.type === "Ready" && c.status === "True") &&
  !(node.spec?.taints ?? []).some((t: Any) => t.effect === "NoSchedule" || t.effect === "NoExecute")

const sameLabels = (a: KubeObject, b: KubeObject) => {
  const la = a.metadata.labels ?? {}
  const lb = b.metadata.labels ?? {}
  const keys = Object.keys(la).filter(
    (k) =>
      k !== "controller-revision-hash" &&
      k !== "statefulset.kubernetes.io/pod-name" &&
      k !== "apps.kubernetes.io/pod-index"
  )
  return keys.length > 0 && keys.every((k) => la[k] === lb[k])
}

/** Node for the pod, or undefined when none fits (it stays pending; the next pass retries). */
export const pickNode = (pod: KubeObject, nodes: Array<KubeObject>, pods: Array<KubeObject>): string | undefined => {
  const active = pods.filter((p) => p.spec.nodeName && !["Succeeded", "Failed"].includes(p.status?.phase))
  const antiTerms = (pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ??
    []) as Array<Any>
  const candidates = nodes.filter((n) => {
    if (!schedulable(n)) return false
    const labels = n.metadata.labels ?? {}
    if (Object.entries(pod.spec.nodeSelector ?? {}).some(([k, v]) => labels[k] !== v)) return false
    return antiTerms.every((term) => {
      if (term.topologyKey !== "kubernetes.io/hostname") return true
      const namespaces: Array<string> = term.namespaces ?? [pod.metadata.namespace]
      return !active.some(
        (p) =>
          p.spec.nodeName === n.metadata.name &&
          namespaces.includes(p.metadata.namespace!) &&
          matches(term.labelSelector, p.metadata.labels ?? {})
      )
    })
  })
  const load = (n: KubeObject) => {
    const on = active.filter((p) => p.spec.nodeName === n.metadata.name)
    return [on.filter((p) => sameLabels(pod, p)).length, on.length] as const
  }
  candidates.sort((a, b) => {
    const [sa, ta] = load(a)
    const [sb, tb] = load(b)
    return sa - sb || ta - tb || a.metadata.name.localeCompare(b.metadata.name)
  })
  return candidates[0]?.metadata.name
}

/** One scheduling pass over all pending pods. */
export const schedulePending = async (kube: Kube, log: (m: string) => void) => {
  const pending = (await kube.get<{ items: Array<KubeObject> }>(`${core("pods")}?fieldSelector=spec.nodeName%3D`)).items
  const waiting = pending.filter(
    (p) => !p.metadata.deletionTimestamp && (p.spec.schedulerName ?? "default-scheduler") === "default-scheduler"
  )
  if (waiting.length === 0) return
  const nodes = (await kube.get<{ items: Array<KubeObject> }>(core("nodes"))).items
  const pods = (await kube.get<{ items: Array<KubeObject> }>(core("pods"))).items
  for (const pod of waiting) {
    const node = pickNode(pod, nodes, pods)
    if (!node) continue
    try {
      await kube.create(`${core("pods", pod.metadata.namespace, pod.metadata.name)}/binding`, {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name: pod.metadata.name, uid: pod.metadata.uid },
        target: { apiVersion: "v1", kind: "Node", name: node }
      })
      pods.push({ ...pod, spec: { ...pod.spec, nodeName: node } })
    } catch (err) {
      if (!(err instanceof KubeError && (err.code === 409 || err.code === 404))) {
        log(`bind ${pod.metadata.name}: ${(err as Error).message}`)
      }
    }
  }
}
