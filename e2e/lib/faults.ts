// Fault injection for e2e tests, on pods the node agent runs: cut a pod off the network, freeze it
// (SIGSTOP, like a hung node), or kill one of its containers. Acts only on namespaces and interfaces the
// harness created (derived from the pod's UID), so it never touches anything else on the host.
import { hostVethName, netnsName, sh } from "../agent/sandbox.ts"
import type { KubeObject } from "./kube.ts"

const uid = (pod: KubeObject) => {
  if (!pod.metadata.uid) throw new Error(`pod ${pod.metadata.name} has no uid`)
  return pod.metadata.uid
}

/** Takes the pod's link down: peers, the host and the operator can no longer reach it, nor it them. */
export const partition = (pod: KubeObject) => sh("ip", ["link", "set", hostVethName(uid(pod)), "down"])
export const heal = (pod: KubeObject) => sh("ip", ["link", "set", hostVethName(uid(pod)), "up"])

const signalAll = async (pod: KubeObject, signal: NodeJS.Signals) => {
  const pids = (await sh("ip", ["netns", "pids", netnsName(uid(pod))])).split("\n").filter(Boolean)
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
