/**
 * The simulated kubelet (and the bits of scheduler and node controller it needs): binds pods to simulated nodes,
 * starts their containers through `SimWorld.startContainer` with env and mounts resolved (`PodEnvironment.ts`),
 * assigns pod IPs, runs startup/readiness/liveness probes at the pod's periods and thresholds
 * (through Clock), restarts crashed or liveness-failed containers with CrashLoopBackOff, keeps PodReady /
 * ContainersReady / phase / restartCount in status, and on deletion runs preStop within the grace period, stops the
 * containers and finishes the deletion.
 *
 * Init containers run first, one at a time, each until it exits 0 (a failing one restarts with backoff).
 *
 * Nodes can die (`nodeLost`: processes killed), be partitioned (`nodePartitioned`: processes run on, unreachable
 * from outside the node, status frozen, the kubelet gone with the node), or be isolated (`nodeIsolated`: the same
 * network cut, but the kubelet lives on: it keeps probing and restarting containers, it just cannot reach the API
 * server, so status is frozen and deletions go unseen); either way the node controller marks their pods not ready
 * after its grace period and evicts them (a graceful delete that waits for the kubelet) after the eviction timeout.
 *
 * Not modelled: resources and resource eviction, image pulls,
 * probe handlers (every probe asks the process), subPath, projected/downwardAPI volumes (empty dirs), host ports,
 * pod-level restartPolicy other than Always.
 */
import { type KubeObject, type KubeShape, Pods } from "@doltdb-op/core/services/Kube"
import { formatTime } from "@doltdb-op/core/services/kube/Resource"
import { podEndpoint, type SimWorldShape } from "@doltdb-op/core/sim/SimWorld"
import { Clock, Effect, FiberMap, Result } from "effect"
import type { ApiServerState } from "../memory/ApiServerState.ts"
import type { PodSpecView } from "./PodEnvironment.ts"
import { containerRuntime, killContainer, type PodRuntime, podCondition } from "./PodRuntime.ts"
import { makePodStep } from "./PodStep.ts"

export interface KubeletOptions {
  readonly nodes: ReadonlyArray<string>
  /** How often each pod's loop looks at its containers (crash detection; probes run at their own periods). */
  readonly tick: number
  /** After this long, pods on a lost node are marked not ready (the node controller). */
  readonly nodeMonitorGracePeriodMillis: number
  /** After that, this long until the node controller evicts them (a graceful delete the dead kubelet never ends). */
  readonly podEvictionTimeoutMillis: number
}

export const makeKubelet = (state: ApiServerState, kube: KubeShape, world: SimWorldShape, options: KubeletOptions) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const fibers = yield* FiberMap.make<string>()
    const pods = new Map<string, PodRuntime>()
    // nodes that are down: dead (processes killed) or partitioned (processes run on, unreachable); the epoch tells
    // a node controller timer whether the node came back (and maybe went down again) in between
    const downNodes = new Map<string, { readonly kind: "lost" | "partitioned" | "isolated"; readonly epoch: number }>()
    let nodeEpoch = 0
    let nextNode = 0
    let nextIP = 0
    let busy = 0

    const step = makePodStep({
      state,
      kube,
      world,
      nodes: options.nodes,
      isolated: (node) => downNodes.get(node)?.kind === "isolated"
    })

    const tracked = <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.sync(() => {
        busy++
      }).pipe(
        Effect.andThen(effect),
        Effect.ensuring(
          Effect.sync(() => {
            busy--
          })
        )
      )

    // the system client has no injected faults; anything else is logged and retried on the next tick
    const safeStep = (rt: PodRuntime) =>
      step(rt).pipe(Effect.catch((error) => Effect.logDebug(`kubelet: ${rt.namespace}/${rt.name}`, error)))

    /** Runs `effect` as the pod's fiber; counted busy until it starts, so `settle` cannot miss it. */
    const runAs = <A, E>(uid: string, effect: Effect.Effect<A, E>) =>
      Effect.sync(() => {
        busy++
      }).pipe(
        Effect.andThen(
          FiberMap.run(
            fibers,
            uid,
            Effect.sync(() => {
              busy--
            }).pipe(Effect.andThen(effect))
          )
        )
      )

    const runPod = (rt: PodRuntime) =>
      Effect.gen(function* () {
        yield* tracked(safeStep(rt))
        while (true) {
          yield* Effect.sleep(options.tick)
          yield* tracked(safeStep(rt))
        }
      })

    /** A pod's first sight: bind it to a node, give it an IP, start its loop. */
    const admit = Effect.fnUntraced(function* (pod: KubeObject) {
      const spec = pod.spec as PodSpecView
      let node = spec.nodeName
      if (node === undefined || node === "") {
        const candidates = options.nodes.filter((n) => !downNodes.has(n))
        if (candidates.length === 0) return
        node = candidates[nextNode++ % candidates.length]!
        yield* kube.mergePatch(
          Pods,
          pod.metadata.name,
          { spec: { nodeName: node } },
          {
            namespace: pod.metadata.namespace!,
            fieldManager: "default-scheduler"
          }
        )
      }
      if (downNodes.has(node)) return
      const n = ++nextIP
      const now = yield* Clock.currentTimeMillis
      const rt: PodRuntime = {
        namespace: pod.metadata.namespace!,
        name: pod.metadata.name,
        uid: pod.metadata.uid!,
        node,
        podIP: `10.244.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`,
        startTime: formatTime(now),
        inits: (spec.initContainers ?? []).map(containerRuntime),
        initIndex: 0,
        containers: spec.containers.map(containerRuntime),
        forcedUnready: false,
        configError: undefined,
        terminating: false
      }
      pods.set(rt.uid, rt)
      yield* runAs(rt.uid, runPod(rt))
    })

    /** Some container process still shuts down after TERM (it may take until the grace period ends). */
    const stillRunning = (rt: PodRuntime) =>
      Effect.forEach([...rt.inits, ...rt.containers], (c) => c.process?.runningAfterTerm ?? Effect.succeed(false)).pipe(
        Effect.map((running) => running.some(Boolean))
      )

    /**
     * Graceful termination: preStop within the grace period, TERM, wait for the processes to exit until the grace
     * period ends, KILL what is left, then the final delete.
     */
    const terminate = (rt: PodRuntime, graceSeconds: number) => {
      /** SIGKILL what still runs, then the final delete. */
      const finish = Effect.gen(function* () {
        for (const c of [...rt.inits, ...rt.containers]) {
          if (c.process !== undefined && (yield* c.process.runningAfterTerm ?? Effect.succeed(false)))
            yield* c.process.stop("KILL")
          c.process = undefined
        }
        pods.delete(rt.uid)
        yield* kube
          .delete(Pods, rt.name, {
            namespace: rt.namespace,
            gracePeriodSeconds: 0,
            preconditions: { uid: rt.uid }
          })
          .pipe(Effect.catchTags({ NotFound: () => Effect.void, Conflict: () => Effect.void }))
      })
      return Effect.gen(function* () {
        const deadline = (yield* Clock.currentTimeMillis) + graceSeconds * 1000
        // waiting out preStop (and a slow exit after TERM) is not work in progress: `settle` must not spin on it
        yield* Effect.forEach(rt.containers, (c) => (c.process === undefined ? Effect.void : c.process.preStop), {
          concurrency: "unbounded",
          discard: true
        }).pipe(Effect.timeoutOption(graceSeconds * 1000))
        // TERM and, when every process ended at once (the usual case), the final delete: one unit of work
        const lingering = yield* tracked(
          Effect.gen(function* () {
            for (const c of [...rt.inits, ...rt.containers]) if (c.process !== undefined) yield* c.process.stop("TERM")
            if (yield* stillRunning(rt)) return true
            yield* finish
            return false
          })
        )
        if (!lingering) return
        while ((yield* stillRunning(rt)) && (yield* Clock.currentTimeMillis) < deadline) yield* Effect.sleep(100)
        yield* tracked(finish)
      })
    }

    const killAll = (rt: PodRuntime) =>
      Effect.forEach(
        [...rt.inits, ...rt.containers],
        (c) => (c.process === undefined ? Effect.void : c.process.stop("KILL")),
        { discard: true }
      ).pipe(
        Effect.andThen(
          Effect.sync(() => {
            for (const c of [...rt.inits, ...rt.containers]) c.process = undefined
          })
        )
      )

    /** Called for every Pod/PVC change the API server commits. */
    const onChange = Effect.fnUntraced(function* (type: "ADDED" | "MODIFIED" | "DELETED", object: KubeObject) {
      if (object.kind === "PersistentVolumeClaim") {
        // reclaim policy Delete: the volume goes with its claim
        if (type === "DELETED") yield* world.deleteVolume(object.metadata.uid!)
        return
      }
      const uid = object.metadata.uid!
      const rt = pods.get(uid)
      if (type === "DELETED") {
        if (rt !== undefined) {
          pods.delete(uid)
          yield* FiberMap.remove(fibers, uid)
          // SimWorld knows one process per pod name: a force-deleted pod's process cannot outlive its object
          // (see the README's limits), so it stops here even on a partitioned node, and its name is reachable again
          yield* killAll(rt)
          if (downNodes.has(rt.node) && downNodes.get(rt.node)?.kind !== "lost") yield* unisolate(rt)
        }
        return
      }
      if (object.metadata.deletionTimestamp !== undefined) {
        if (rt === undefined || rt.terminating || downNodes.has(rt.node)) return
        rt.terminating = true
        const grace = object.metadata.deletionGracePeriodSeconds ?? 30
        // replaces (interrupts) the pod's loop
        yield* runAs(uid, terminate(rt, grace).pipe(Effect.andThen(Effect.never)))
        return
      }
      if (rt === undefined) yield* tracked(admit(object))
    })

    const endpointOf = (rt: PodRuntime) => podEndpoint(rt.namespace, rt.name)
    const unisolate = (rt: PodRuntime) => world.heal(endpointOf(rt), endpointOf(rt))

    /** The node controller: pods not ready after the grace period, evicted after the timeout, unless the node is back. */
    const watchNode = (node: string, epoch: number) =>
      Effect.gen(function* () {
        const stillDown = () => downNodes.get(node)?.epoch === epoch
        const onNode = () => {
          const listed = state.list(Pods, undefined, undefined, `spec.nodeName=${node}`)
          return Result.isSuccess(listed) ? listed.success.items : []
        }
        yield* Effect.sleep(options.nodeMonitorGracePeriodMillis)
        if (!stillDown()) return
        const now = formatTime(yield* Clock.currentTimeMillis)
        for (const pod of onNode()) {
          yield* kube
            .patchStatus(
              Pods,
              pod.metadata.name,
              {
                conditions: [
                  { ...podCondition(pod, "Ready", false, now), reason: "NodeLost" },
                  podCondition(pod, "ContainersReady", false, now)
                ]
              },
              { namespace: pod.metadata.namespace!, fieldManager: "node-controller" }
            )
            .pipe(Effect.ignore)
        }
        yield* Effect.sleep(options.podEvictionTimeoutMillis)
        if (!stillDown()) return
        for (const pod of onNode()) {
          if (pod.metadata.deletionTimestamp !== undefined) continue
          yield* kube.delete(Pods, pod.metadata.name, { namespace: pod.metadata.namespace! }).pipe(Effect.ignore)
        }
      }).pipe(Effect.forkIn(scope))

    const nodeDown = Effect.fnUntraced(function* (node: string, kind: "lost" | "partitioned" | "isolated") {
      if (downNodes.has(node)) return
      const epoch = ++nodeEpoch
      downNodes.set(node, { kind, epoch })
      const onNode = [...pods.values()].filter((p) => p.node === node)
      for (const rt of onNode) {
        // an isolated node's kubelet keeps running its pods (probes, restarts)
        if (kind !== "isolated") yield* FiberMap.remove(fibers, rt.uid)
        if (kind === "lost") yield* killAll(rt)
      }
      if (kind !== "lost") {
        // pods on the node still reach each other, nobody else (the operator included) reaches them
        const local = onNode.map(endpointOf)
        for (const rt of onNode) yield* world.isolate(endpointOf(rt), local)
      }
      yield* watchNode(node, epoch)
    })

    const nodeRestored = Effect.fnUntraced(function* (node: string) {
      const down = downNodes.get(node)
      if (down === undefined) return
      downNodes.delete(node)
      for (const rt of [...pods.values()].filter((p) => p.node === node)) {
        if (down.kind !== "lost") yield* unisolate(rt)
        const got = state.get(Pods, rt.namespace, rt.name)
        if (Result.isFailure(got) || got.success.metadata.uid !== rt.uid) {
          pods.delete(rt.uid)
          yield* killAll(rt)
          continue
        }
        if (got.success.metadata.deletionTimestamp !== undefined) {
          rt.terminating = true
          const grace = down.kind === "lost" ? 0 : (got.success.metadata.deletionGracePeriodSeconds ?? 30)
          yield* runAs(rt.uid, terminate(rt, grace).pipe(Effect.andThen(Effect.never)))
          continue
        }
        if (down.kind === "lost") {
          // the pod sandbox is recreated: init containers run again, every container restarts
          rt.initIndex = 0
          for (const c of rt.inits) c.restartAt = 0
          for (const c of rt.containers) {
            c.restartCount++
            c.restartAt = 0
          }
        }
        yield* runAs(rt.uid, runPod(rt))
      }
    })

    const runtimeOf = (namespace: string, name: string) =>
      [...pods.values()].find((p) => p.namespace === namespace && p.name === name)

    return {
      onChange,
      nodeLost: (node: string) => nodeDown(node, "lost"),
      nodePartitioned: (node: string) => nodeDown(node, "partitioned"),
      nodeIsolated: (node: string) => nodeDown(node, "isolated"),
      nodeRestored,
      runtimeOf,
      crash: Effect.fnUntraced(function* (namespace: string, pod: string, container?: string) {
        const rt = runtimeOf(namespace, pod)
        if (rt === undefined) return false
        for (const c of rt.containers) {
          if (container !== undefined && c.view.name !== container) continue
          if (c.process !== undefined) yield* killContainer(c, "Error", 1)
        }
        yield* tracked(safeStep(rt))
        return true
      }),
      setUnready: Effect.fnUntraced(function* (namespace: string, pod: string, unready: boolean) {
        const rt = runtimeOf(namespace, pod)
        if (rt === undefined) return false
        rt.forcedUnready = unready
        yield* tracked(safeStep(rt))
        return true
      }),
      idle: () => busy === 0
    }
  })
