// Fault injection for e2e tests, on pods the node agents run: cut a pod off the network, freeze it
// (SIGSTOP, like a hung process), kill one of its containers, or take a whole node down and up again. Acts only on namespaces and interfaces the
// harness created (derived from the pod's UID), so it never touches anything else on the host.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { hostVethName, netnsName, sh } from "../agent/sandbox.ts"
import type { KubeObject } from "./kube.ts"
import { NETNS_PREFIX } from "./names.ts"

const uid = (pod: KubeObject) => {
  if (!pod.metadata.uid) throw new Error(`pod ${pod.metadata.name} has no uid`)
  return pod.metadata.uid
}
const node = (pod: KubeObject) => Number(nodeIndex(pod.spec?.nodeName ?? ""))

/** Takes the pod's link down: peers, the host and the operator can no longer reach it, nor it them. */
export const partition = (pod: KubeObject) => sh("ip", ["link", "set", hostVethName(uid(pod), node(pod)), "down"])
export const heal = (pod: KubeObject) => sh("ip", ["link", "set", hostVethName(uid(pod), node(pod)), "up"])

const signalAll = async (pod: KubeObject, signal: NodeJS.Signals) => {
  const pids = (await sh("ip", ["netns", "pids", netnsName(uid(pod), node(pod))])).split("\n").filter(Boolean)
  for (const pid of pids) process.kill(Number(pid), signal)
  return pids.length
}
/** Stops every process of the pod (containers, probes' children, the sandbox holder). */
export const freeze = (pod: KubeObject) => signalAll(pod, "SIGSTOP")
export const thaw = (pod: KubeObject) => signalAll(pod, "SIGCONT")

/** SIGKILLs a container's process group; the agent reports the exit and restarts it per restartPolicy. */
export const killContainer = (pod: KubeObject, container: string) => {
  const status = (pod.status?.containerStatuses ?? []).find((s: { name: string }) => s.name === container)
  const pid = Number(status?.containerID?.split("/").pop())
  if (!pid) throw new Error(`container ${container} of ${pod.metadata.name} is not running`)
  process.kill(-pid, "SIGKILL")
}

const work = () => process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")

/** The node's pod namespaces and their host veths (names as sandbox.ts makes them). */
const nodeSandboxes = async (index: string) => {
  const prefix = `${NETNS_PREFIX}${index}-`
  const list = (await sh("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0] ?? "")
  return list.filter((ns) => ns.startsWith(prefix)).map((ns) => ({ ns, veth: `ve${index}${ns.slice(prefix.length)}` }))
}

function nodeIndex(nodeName: string) {
  const m = /^e2e-node-(\d+)$/.exec(nodeName)
  if (!m) throw new Error(`not an e2e node: ${nodeName}`)
  return m[1]!
}

/**
 * Node loss: freezes the node's agent (no heartbeats, no status) and every process of its pods, and takes
 * their links down. The controller manager then marks the Node and its pods not ready, as for a dead node.
 */
export const nodeDown = async (node: string) => {
  const i = nodeIndex(node)
  process.kill(Number(readFileSync(join(work(), "run", `node-agent-${i}.pid`), "utf8")), "SIGSTOP")
  for (const { ns, veth } of await nodeSandboxes(i)) {
    await sh("ip", ["link", "set", veth, "down"])
    for (const pid of (await sh("ip", ["netns", "pids", ns])).split("\n").filter(Boolean)) {
      process.kill(Number(pid), "SIGSTOP")
    }
  }
}

/** Brings a node back from nodeDown: its pods resume where they were frozen. */
export const nodeUp = async (node: string) => {
  const i = nodeIndex(node)
  for (const { ns, veth } of await nodeSandboxes(i)) {
    for (const pid of (await sh("ip", ["netns", "pids", ns])).split("\n").filter(Boolean)) {
      process.kill(Number(pid), "SIGCONT")
    }
    await sh("ip", ["link", "set", veth, "up"])
  }
  process.kill(Number(readFileSync(join(work(), "run", `node-agent-${i}.pid`), "utf8")), "SIGCONT")
}
