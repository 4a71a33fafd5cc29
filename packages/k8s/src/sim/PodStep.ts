/**
 * One pass of a simulated pod's loop, as the kubelet's sync loop does it: init containers first, one at a time, each
 * until it exits 0; then every container started or restarted (with backoff), its startup, liveness and readiness
 * probes run at their periods, and the pod's status patched when it changed (never from an isolated node).
 */
import { type KubeObject, type KubeShape, Pods } from "@doltdb-op/core/services/Kube"
import { formatTime } from "@doltdb-op/core/services/kube/Resource"
import type { SimWorldShape } from "@doltdb-op/core/sim/SimWorld"
import { Clock, Effect, Result } from "effect"
import type { ApiServerState } from "../memory/ApiServerState.ts"
import { type Json, jsonEqual } from "../memory/FieldSet.ts"
import { makePodEnvironment } from "./PodEnvironment.ts"
import { type ContainerRuntime, killContainer, type PodRuntime, podStatus, probeState, runProbe } from "./PodRuntime.ts"

export interface PodStepDeps {
  readonly state: ApiServerState
  readonly kube: KubeShape
  readonly world: SimWorldShape
  readonly nodes: ReadonlyArray<string>
  /** The node's kubelet is cut off from the API server: what it sees stays local. */
  readonly isolated: (node: string) => boolean
}

export const makePodStep = (deps: PodStepDeps) => {
  const { resolve } = makePodEnvironment(deps.state)

  const startContainer = Effect.fnUntraced(function* (
    pod: KubeObject,
    rt: PodRuntime,
    c: ContainerRuntime,
    init = false
  ) {
    const now = yield* Clock.currentTimeMillis
    const spec = resolve(pod, rt, c.view, init)
    if (Result.isFailure(spec)) {
      rt.configError = spec.failure
      c.restartAt = now + 1000
      return
    }
    rt.configError = undefined
    c.process = yield* deps.world.startContainer(spec.success)
    c.startedAt = formatTime(now)
    // no readiness probe: ready once running (probes with no initial delay run in this same step)
    c.ready = c.view.readinessProbe === undefined
    c.started = c.view.startupProbe === undefined
    c.readiness = probeState(c.view.readinessProbe, now)
    c.liveness = probeState(c.view.livenessProbe, now)
    c.startup = probeState(c.view.startupProbe, now)
  })

  const step = Effect.fnUntraced(function* (rt: PodRuntime) {
    const got = deps.state.get(Pods, rt.namespace, rt.name)
    if (Result.isFailure(got) || got.success.metadata.uid !== rt.uid) return
    const pod = got.success
    const now = yield* Clock.currentTimeMillis
    // init containers first, one at a time, each until it exits 0
    while (rt.initIndex < rt.inits.length) {
      const c = rt.inits[rt.initIndex]!
      if (c.process === undefined && now >= c.restartAt) yield* startContainer(pod, rt, c, true)
      if (c.process === undefined) break
      const exit = yield* c.process.exitCode
      if (exit === undefined) break
      c.process = undefined
      if (exit !== 0) {
        yield* killContainer(c, "Error", exit)
        break
      }
      c.lastTerminated = { exitCode: 0, reason: "Completed", finishedAt: formatTime(now) }
      rt.initIndex++
    }
    if (rt.initIndex < rt.inits.length) return yield* publish(pod, rt)
    for (const c of rt.containers) {
      if (c.process === undefined && now >= c.restartAt) yield* startContainer(pod, rt, c)
      if (c.process === undefined) continue
      const exit = yield* c.process.exitCode
      if (exit !== undefined) {
        c.process = undefined
        yield* killContainer(c, "Error", exit)
        continue
      }
      if (c.startup !== undefined && !c.started) {
        const verdict = yield* runProbe(c.startup, "startup", c.process, now)
        if (verdict === true) c.started = true
        if (verdict === false) yield* killContainer(c, "StartupProbeFailed", 137)
        continue
      }
      if (c.liveness !== undefined) {
        const verdict = yield* runProbe(c.liveness, "liveness", c.process, now)
        if (verdict === false) {
          yield* killContainer(c, "LivenessProbeFailed", 137)
          continue
        }
      }
      if (c.readiness !== undefined) {
        const verdict = yield* runProbe(c.readiness, "readiness", c.process, now)
        if (verdict !== undefined) c.ready = verdict
      }
      if (c.ready && c.backoffSeconds > 0 && now - Date.parse(c.startedAt) > 600_000) c.backoffSeconds = 0
    }
    yield* publish(pod, rt)
  })

  const publish = Effect.fnUntraced(function* (pod: KubeObject, rt: PodRuntime) {
    const status = podStatus(pod, rt, deps.nodes, formatTime(yield* Clock.currentTimeMillis))
    // an isolated kubelet cannot reach the API server: what it sees stays local
    if (deps.isolated(rt.node)) return
    // the kubelet only reports changes: comparing with what the server holds is far cheaper than a no-op write
    const current = (pod.status ?? {}) as Record<string, unknown>
    if (Object.entries(status).every(([k, v]) => jsonEqual(current[k] as Json, v as Json))) return
    yield* deps.kube
      .patchStatus(Pods, rt.name, status, { namespace: rt.namespace, fieldManager: "kubelet" })
      .pipe(Effect.catchTag("NotFound", () => Effect.void))
  })

  return step
}
