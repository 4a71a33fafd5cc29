// The e2e node agent: stands in for the kubelet of one Node (E2E_NODE_INDEX) and, on node 1, for
// kube-scheduler and a hostPath volume provisioner. Registers the Node (and keeps its Lease fresh), binds pending pods to it, runs them as local
// processes in their own network + mount namespaces (PodRuntime), provisions PVCs of the e2e StorageClass
// as host directories, and keeps every pod's /etc/hosts in line with peers' addresses and readiness.
// On SIGTERM/SIGINT it stops all pods and removes every namespace and interface it made.
// Plain async Node (test infrastructure). Env: KUBECONFIG, E2E_WORK, E2E_DOLT_BIN (+ names.ts).
import { mkdirSync, unlinkSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { core, group, Kube, KubeError, type KubeObject, type WatchEvent } from "../lib/kube.ts"
import { BRIDGE_ADDRESS, KUBERNETES_VERSION, NODE_INDEX, NODE_NAME } from "../lib/names.ts"
import { KUBELET_LOG_PORT_BASE, serveLogs } from "./logs.ts"
import { type AgentContext, PodRuntime } from "./pod.ts"
import { onClaim, onVolume } from "./provisioner.ts"
import { ensureBridge, removeStaleSandboxes } from "./sandbox.ts"
import { schedulePending } from "./scheduler.ts"
import { onContent } from "./snapshotter.ts"

const workDir = process.env.E2E_WORK ?? ""
const doltBin = process.env.E2E_DOLT_BIN ?? ""
if (!workDir || !doltBin || !process.env.KUBECONFIG)
  throw new Error("KUBECONFIG, E2E_WORK and E2E_DOLT_BIN are required")
const kube = new Kube(process.env.KUBECONFIG)
const abort = new AbortController()
const runtimes = new Map<string, PodRuntime>()
const services = new Map<string, KubeObject>()
/** Every pod in the cluster (all nodes), for the /etc/hosts records. */
const allPods = new Map<string, KubeObject>()
const isReady = (p: KubeObject) =>
  (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True")
const ips = new Map<string, string>()
const log = (msg: string) => console.error(`[agent ${new Date().toISOString()}] ${msg}`)

// Round-robin over the node's range, so an address is not handed out again right after its pod went away
// (peers' and the host's ARP caches, DNS records of terminating pods).
let nextIp = 2
const allocateIp = (uid: string) => {
  const used = new Set(ips.values())
  for (let n = 0; n < 253; n++) {
    const i = ((nextIp - 2 + n) % 253) + 2
    const ip = `10.244.${NODE_INDEX}.${i}`
    if (!used.has(ip)) {
      ips.set(uid, ip)
      nextIp = i + 1
      return ip
    }
  }
  throw new Error("no free pod address")
}

// --- /etc/hosts: the DNS records CoreDNS would serve for headless services and pod hostnames ----------
/** The hosts file of pod `self`, or (no `self`) the host-side view for clients outside the pods. */
const hostsContent = (self?: PodRuntime): string => {
  const lines = [
    "# Kubernetes-managed hosts file (e2e node agent).",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback"
  ]
  const selfNs = self?.pod.metadata.namespace
  const fqdn = (h: string, sub: string, ns: string) => [
    `${h}.${sub}.${ns}.svc.cluster.local`,
    `${h}.${sub}.${ns}.svc`,
    `${h}.${sub}.${ns}`,
    ...(ns === selfNs ? [`${h}.${sub}`] : [])
  ]
  if (self?.ip) {
    const h = self.pod.spec.hostname ?? self.pod.metadata.name
    const sub = self.pod.spec.subdomain
    lines.push(`${self.ip}\t${sub ? `${fqdn(h, sub, selfNs!).join(" ")} ` : ""}${h}`)
  }
  const bySvc = new Map<string, Array<string>>()
  // Peers on every node, from the pods' reported status (what EndpointSlices and CoreDNS go by).
  for (const p of allPods.values()) {
    const ip: string | undefined = p.status?.podIP
    if (p.metadata.uid === self?.uid || !ip || ["Succeeded", "Failed"].includes(p.status?.phase)) continue
    const ns = p.metadata.namespace!
    const sub = p.spec.subdomain
    // A headless Service named like the subdomain publishes the pod when it is ready (and not terminating),
    // or always with publishNotReadyAddresses, as in Kubernetes DNS.
    const svc = sub && services.get(`${ns}/${sub}`)
    const ready = isReady(p) && !p.metadata.deletionTimestamp
    if (!svc || (!ready && !svc.spec.publishNotReadyAddresses)) continue
    lines.push(`${ip}\t${fqdn(p.spec.hostname ?? p.metadata.name, sub, ns).join(" ")}`)
    bySvc.set(`${ns}/${sub}`, [...(bySvc.get(`${ns}/${sub}`) ?? []), ip])
  }
  // ClusterIP Services: no kube-proxy here, so their names resolve straight to their ready endpoints'
  // addresses (from the EndpointSlices the controller manager keeps), one line per endpoint.
  for (const [key, addrs] of readyEndpoints) {
    const svc = services.get(key)
    if (!svc || svc.spec.clusterIP === "None" || svc.spec.type === "ExternalName") continue
    bySvc.set(key, [...addrs])
  }
  for (const [key, addrs] of bySvc) {
    const [ns, name] = key.split("/") as [string, string]
    const names = [
      `${name}.${ns}.svc.cluster.local`,
      `${name}.${ns}.svc`,
      `${name}.${ns}`,
      ...(ns === selfNs ? [name] : [])
    ]
    for (const a of addrs) lines.push(`${a}\t${names.join(" ")}`)
  }
  return `${lines.join("\n")}\n`
}

let hostsTimer: NodeJS.Timeout | undefined
const hostsChanged = () => {
  clearTimeout(hostsTimer)
  hostsTimer = setTimeout(() => {
    // Rewritten in place: each pod's /etc/hosts is a bind mount of this very inode.
    for (const rt of runtimes.values()) if (rt.sb && !rt.terminating) writeFileSync(rt.hostsFile, hostsContent(rt))
    // The same records for clients on the host (e.g. an operator run outside the cluster): e2e/.work/hosts.
    if (NODE_INDEX === 1) writeFileSync(join(workDir, "hosts"), hostsContent())
  }, 20)
}

const ctx: AgentContext = {
  kube,
  nodeName: NODE_NAME,
  hostIP: BRIDGE_ADDRESS,
  workDir,
  doltBin,
  imageID: `e2e://dolt@${process.env.E2E_DOLT_RELEASE ?? "unknown"}`,
  allocateIp,
  releaseIp: (uid) => ips.delete(uid),
  hostsChanged,
  hostsContent
}

// --- Node registration and heartbeat --------------------------------------------------------------------
const nodeStatus = () => {
  const t = new Date().toISOString().replace(/\.\d+Z$/, "Z")
  const cond = (type: string, status: string, reason: string) => ({
    type,
    status,
    reason,
    lastHeartbeatTime: t,
    lastTransitionTime: t,
    message: reason
  })
  return {
    capacity: { cpu: "64", memory: "256Gi", pods: "110", "ephemeral-storage": "100Gi" },
    allocatable: { cpu: "64", memory: "256Gi", pods: "110", "ephemeral-storage": "100Gi" },
    conditions: [
      cond("Ready", "True", "KubeletReady"),
      cond("MemoryPressure", "False", "KubeletHasSufficientMemory"),
      cond("DiskPressure", "False", "KubeletHasNoDiskPressure"),
      cond("PIDPressure", "False", "KubeletHasSufficientPID")
    ],
    addresses: [
      { type: "InternalIP", address: BRIDGE_ADDRESS },
      { type: "Hostname", address: NODE_NAME }
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_LOG_PORT_BASE + NODE_INDEX } },
    nodeInfo: {
      machineID: "e2e",
      systemUUID: "e2e",
      bootID: `e2e-${process.pid}`,
      kernelVersion: "",
      osImage: hostname(),
      containerRuntimeVersion: "e2e://local-process",
      kubeletVersion: KUBERNETES_VERSION,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: "amd64"
    }
  }
}

const registerNode = async () => {
  const labels = { "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" }
  const existing = await kube.find(core("nodes", undefined, NODE_NAME))
  if (!existing)
    await kube.create(core("nodes"), { apiVersion: "v1", kind: "Node", metadata: { name: NODE_NAME, labels } })
  await kube.mergePatch(`${core("nodes", undefined, NODE_NAME)}/status`, { status: nodeStatus() })
}

const heartbeat = async () => {
  const path = group("coordination.k8s.io/v1", "leases", "kube-node-lease", NODE_NAME)
  const renewTime = new Date().toISOString().replace("Z", "000Z")
  const lease = {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: NODE_NAME, namespace: "kube-node-lease" },
    spec: { holderIdentity: NODE_NAME, leaseDurationSeconds: 40, renewTime }
  }
  await kube.apply(path, lease, "e2e-node-agent")
  await kube.mergePatch(`${core("nodes", undefined, NODE_NAME)}/status`, {
    status: { conditions: nodeStatus().conditions }
  })
}

// --- Scheduler (node 1's agent only): a pass on pending-pod events and every 2 s -------------------------
let scheduling: Promise<void> | undefined
let again = false
const kickScheduler = () => {
  if (scheduling) {
    again = true
    return
  }
  scheduling = schedulePending(kube, log)
    .catch((err) => log(`scheduler: ${err.message}`))
    .finally(() => {
      scheduling = undefined
      if (again) {
        again = false
        kickScheduler()
      }
    })
}

// --- Kubelet ---------------------------------------------------------------------------------------------
const finalDelete = async (pod: KubeObject) => {
  await kube
    .delete(core("pods", pod.metadata.namespace, pod.metadata.name), {
      apiVersion: "v1",
      kind: "DeleteOptions",
      gracePeriodSeconds: 0,
      preconditions: { uid: pod.metadata.uid }
    })
    .catch((err) => {
      if (!(err instanceof KubeError && (err.code === 404 || err.code === 409)))
        log(`delete ${pod.metadata.name}: ${err.message}`)
    })
}

const onPod = async (e: WatchEvent) => {
  const pod = e.object
  const uid = pod.metadata.uid!
  let rt = runtimes.get(uid)
  if (e.type === "DELETED") {
    // Force-deleted (or finished): stop right away.
    if (rt) void rt.terminate(0).then(() => runtimes.delete(uid))
    return
  }
  if (rt) rt.observe(pod)
  if (pod.metadata.deletionTimestamp) {
    if (!rt) return void finalDelete(pod)
    if (!rt.deleteRequested) {
      rt.deleteRequested = true
      // terminate() is idempotent: a pod that already finished (a Job's) goes straight to the final delete.
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30
      log(`${rt.key}: deleting with grace ${grace}s`)
      void rt.terminate(grace).then(async () => {
        await finalDelete(pod)
        runtimes.delete(uid)
      })
    }
    return
  }
  if (!rt && !["Succeeded", "Failed"].includes(pod.status?.phase)) {
    rt = new PodRuntime(ctx, pod)
    runtimes.set(uid, rt)
    log(`${rt.key}: starting`)
    rt.run().catch((err) => log(`${rt!.key}: ${err.stack ?? err}`))
  }
}

/** Ready endpoint addresses per Service (ns/name), merged over its EndpointSlices. */
const readyEndpoints = new Map<string, Set<string>>()
const slices = new Map<string, KubeObject>()
const onSlice = (e: WatchEvent) => {
  const slice = e.object
  const key = `${slice.metadata.namespace}/${slice.metadata.name}`
  if (e.type === "DELETED") slices.delete(key)
  else slices.set(key, slice)
  readyEndpoints.clear()
  for (const sl of slices.values()) {
    const svc = `${sl.metadata.namespace}/${sl.metadata.labels?.["kubernetes.io/service-name"]}`
    for (const ep of (sl.endpoints ?? []) as Array<{ addresses: Array<string>; conditions?: { ready?: boolean } }>) {
      if (ep.conditions?.ready === false) continue
      const set = readyEndpoints.get(svc) ?? new Set<string>()
      for (const a of ep.addresses) set.add(a)
      readyEndpoints.set(svc, set)
    }
  }
  hostsChanged()
}

const onService = (e: WatchEvent) => {
  const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`
  if (e.type === "DELETED") services.delete(key)
  else services.set(key, e.object)
  hostsChanged()
}

// --- Lifecycle -------------------------------------------------------------------------------------------
const readyFile = join(workDir, "run", `node-agent-${NODE_INDEX}.ready`)
const guard = (what: string, f: (e: WatchEvent) => unknown) => async (e: WatchEvent) => {
  try {
    await f(e)
  } catch (err) {
    log(`${what}: ${(err as Error).stack ?? err}`)
  }
}

const shutdown = async (signal: string) => {
  log(`${signal}: stopping ${runtimes.size} pods`)
  abort.abort()
  try {
    unlinkSync(readyFile)
  } catch {}
  // The control plane is going away too: a short grace, no API calls needed.
  await Promise.all([...runtimes.values()].map((rt) => rt.terminate(Number(process.env.E2E_SHUTDOWN_GRACE ?? 5))))
  await removeStaleSandboxes()
  kube.close()
  log("stopped")
  process.exit(0)
}
process.on("SIGTERM", () => void shutdown("SIGTERM"))
process.on("SIGINT", () => void shutdown("SIGINT"))

await ensureBridge()
await removeStaleSandboxes()
const logServer = serveLogs(workDir, BRIDGE_ADDRESS, KUBELET_LOG_PORT_BASE + NODE_INDEX, {
  logDir: (ns, name) => {
    const mine = [...runtimes.values()].filter(
      (rt) => rt.pod.metadata.namespace === ns && rt.pod.metadata.name === name
    )
    return (mine.find((rt) => !rt.terminating) ?? mine[0])?.logDir
  }
})
abort.signal.addEventListener("abort", () => logServer.close())
await registerNode()
await heartbeat()
const beat = setInterval(() => heartbeat().catch((err) => log(`heartbeat: ${err.message}`)), 10_000)
abort.signal.addEventListener("abort", () => clearInterval(beat))
void kube.watch(core("services"), guard("services", onService), abort.signal)
void kube.watch(group("discovery.k8s.io/v1", "endpointslices"), guard("endpointslices", onSlice), abort.signal)
const onAnyPod = (e: WatchEvent) => {
  if (e.type === "DELETED") allPods.delete(e.object.metadata.uid!)
  else allPods.set(e.object.metadata.uid!, e.object)
  hostsChanged()
}
void kube.watch(core("pods"), guard("pods", onAnyPod), abort.signal)
if (NODE_INDEX === 1) {
  void kube.watch(
    core("persistentvolumeclaims"),
    guard("pvc", (e) => onClaim(kube, workDir, e)),
    abort.signal
  )
  void kube.watch(
    core("persistentvolumes"),
    guard("pv", (e) => onVolume(kube, e)),
    abort.signal
  )
  // The VolumeSnapshot API exists only when cluster.sh installed the snapshot CRDs.
  if (await kube.find(group("snapshot.storage.k8s.io/v1", "volumesnapshotcontents")))
    void kube.watch(
      group("snapshot.storage.k8s.io/v1", "volumesnapshotcontents"),
      guard("snapshotter", (e) => onContent(kube, workDir, e)),
      abort.signal
    )
  void kube.watch(core("pods"), async () => kickScheduler(), abort.signal, "fieldSelector=spec.nodeName%3D")
  const resched = setInterval(kickScheduler, 2000)
  abort.signal.addEventListener("abort", () => clearInterval(resched))
}
void kube.watch(core("pods"), guard("kubelet", onPod), abort.signal, `fieldSelector=spec.nodeName%3D${NODE_NAME}`)
mkdirSync(join(workDir, "run"), { recursive: true })
if (NODE_INDEX === 1) writeFileSync(join(workDir, "hosts"), hostsContent())
writeFileSync(readyFile, `${process.pid}\n`)
log(`node ${NODE_NAME} ready`)
