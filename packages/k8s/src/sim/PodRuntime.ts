/**
 * What the simulated kubelet keeps per pod and container (processes, restarts with CrashLoopBackOff, probe
 * counters), the steps on one container that need nothing else from the kubelet (a kill, a due probe), and the pod
 * status it reports from them.
 */
import type { KubeObject } from "@doltdb-op/core/services/Kube"
import { formatTime } from "@doltdb-op/core/services/kube/Resource"
import type { ProbeKind, Process } from "@doltdb-op/core/sim/SimWorld"
import { Clock, Effect } from "effect"
import type { ContainerView, Probe } from "./PodEnvironment.ts"

export interface ProbeState {
  readonly probe: Probe
  nextAt: number
  successes: number
  failures: number
}

export interface ContainerRuntime {
  readonly view: ContainerView
  process: Process | undefined
  restartCount: number
  ready: boolean
  started: boolean
  startedAt: string
  /** CrashLoopBackOff: when the next start may happen. */
  restartAt: number
  backoffSeconds: number
  lastTerminated: { readonly exitCode: number; readonly reason: string; readonly finishedAt: string } | undefined
  readiness: ProbeState | undefined
  liveness: ProbeState | undefined
  startup: ProbeState | undefined
}

export interface PodRuntime {
  readonly namespace: string
  readonly name: string
  readonly uid: string
  readonly node: string
  readonly podIP: string
  startTime: string
  /** Init containers, run one after the other; `initIndex` is the next to run (= length once initialized). */
  inits: Array<ContainerRuntime>
  initIndex: number
  containers: Array<ContainerRuntime>
  /** Hook: readiness forced to fail (the simulation makes the pod unready). */
  forcedUnready: boolean
  configError: string | undefined
  terminating: boolean
}

export const containerRuntime = (view: ContainerView): ContainerRuntime => ({
  view,
  process: undefined,
  restartCount: 0,
  ready: false,
  started: false,
  startedAt: "",
  restartAt: 0,
  backoffSeconds: 0,
  lastTerminated: undefined,
  readiness: undefined,
  liveness: undefined,
  startup: undefined
})

export const probeState = (probe: Probe | undefined, now: number): ProbeState | undefined =>
  probe === undefined
    ? undefined
    : { probe, nextAt: now + (probe.initialDelaySeconds ?? 0) * 1000, successes: 0, failures: 0 }

/** Stops the container's process as the kubelet does on a crash or a failed probe: recorded, restarted after its back-off. */
export const killContainer = Effect.fnUntraced(function* (c: ContainerRuntime, reason: string, exitCode: number) {
  const now = yield* Clock.currentTimeMillis
  if (c.process !== undefined) yield* c.process.stop("KILL")
  c.process = undefined
  c.ready = false
  c.lastTerminated = { exitCode, reason, finishedAt: formatTime(now) }
  c.restartCount++
  c.restartAt = now + c.backoffSeconds * 1000
  c.backoffSeconds = Math.min(c.backoffSeconds === 0 ? 10 : c.backoffSeconds * 2, 300)
})

/** Runs a probe if it is due; returns whether the probe's verdict changed to failing past its threshold. */
export const runProbe = Effect.fnUntraced(function* (p: ProbeState, kind: ProbeKind, process: Process, now: number) {
  if (now < p.nextAt) return undefined
  p.nextAt = now + (p.probe.periodSeconds ?? 10) * 1000
  const ok = yield* process.probe(kind)
  if (ok) {
    p.successes++
    p.failures = 0
  } else {
    p.failures++
    p.successes = 0
  }
  if (p.failures >= (p.probe.failureThreshold ?? 3)) return false
  if (p.successes >= (kind === "readiness" ? (p.probe.successThreshold ?? 1) : 1)) return true
  return undefined
})

/** A pod condition, keeping its transition time while its status is unchanged. */
export const podCondition = (pod: KubeObject, type: string, ok: boolean, now: string) => {
  const old = (
    (pod.status as { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> })?.conditions ??
    []
  ).find((c) => c.type === type)
  const status = ok ? "True" : "False"
  return { type, status, lastTransitionTime: old?.status === status ? old.lastTransitionTime : now }
}

/** The pod status the kubelet reports for `rt` (conditions keep their transition time while unchanged). */
export const podStatus = (pod: KubeObject, rt: PodRuntime, nodes: ReadonlyArray<string>, now: string) => {
  const initialized = rt.initIndex >= rt.inits.length
  const containersReady = !rt.forcedUnready && rt.containers.every((c) => c.process !== undefined && c.ready)
  return {
    phase: rt.containers.some((c) => c.process !== undefined) ? "Running" : "Pending",
    hostIP: `192.168.0.${nodes.indexOf(rt.node) + 1}`,
    podIP: rt.podIP,
    podIPs: [{ ip: rt.podIP }],
    startTime: rt.startTime,
    conditions: [
      podCondition(pod, "PodScheduled", true, now),
      podCondition(pod, "Initialized", initialized, now),
      podCondition(pod, "ContainersReady", containersReady, now),
      podCondition(pod, "Ready", containersReady, now)
    ],
    initContainerStatuses: rt.inits.map((c, i) => ({
      name: c.view.name,
      image: c.view.image,
      ready: i < rt.initIndex,
      restartCount: c.restartCount,
      state:
        i < rt.initIndex
          ? { terminated: c.lastTerminated }
          : c.process !== undefined
            ? { running: { startedAt: c.startedAt } }
            : {
                waiting: {
                  reason: i === rt.initIndex && c.restartCount > 0 ? "CrashLoopBackOff" : "PodInitializing"
                }
              }
    })),
    containerStatuses: rt.containers.map((c) => ({
      name: c.view.name,
      image: c.view.image,
      ready: c.process !== undefined && c.ready,
      started: c.process !== undefined && c.started,
      restartCount: c.restartCount,
      state:
        c.process !== undefined
          ? { running: { startedAt: c.startedAt } }
          : {
              waiting: {
                reason:
                  rt.configError !== undefined
                    ? "CreateContainerConfigError"
                    : initialized
                      ? "CrashLoopBackOff"
                      : "PodInitializing",
                ...(rt.configError === undefined ? {} : { message: rt.configError })
              }
            },
      ...(c.lastTerminated === undefined ? {} : { lastState: { terminated: c.lastTerminated } })
    }))
  }
}
