/**
 * The simulated controller-manager and kubelet on top of `InMemoryKube`: the StatefulSet and EndpointSlice
 * controllers and the kubelet, fed by the in-memory API server's change stream, plus the hooks a simulation drives
 * (crash a container, make a pod unready, delete a pod with a grace period, lose and restore a node) and `settle`,
 * which lets every controller catch up before a test looks.
 *
 * It is test infrastructure: small, deterministic under TestClock, and honest about what it leaves out (see each
 * controller's header).
 */
import { Pods } from "@doltdb-op/core/services/Kube"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { Context, Duration, Effect, Layer, Queue } from "effect"
import type { StoreEvent } from "../memory/ApiServerState.ts"
import { InMemoryKube } from "../memory/InMemoryKube.ts"
import { makeEndpointSliceController } from "./EndpointSliceController.ts"
import { makeKubelet } from "./Kubelet.ts"
import { makeSnapshotController } from "./SnapshotController.ts"
import { makeStatefulSetController } from "./StatefulSetController.ts"
import { makeVolumeExpander } from "./VolumeExpander.ts"
import { startWorker } from "./Worker.ts"

export interface SimClusterOptions {
  /** Node names pods are spread over (round robin). Default `sim-node-0..2`. */
  readonly nodes?: ReadonlyArray<string>
  /** The kubelet's look at each pod (crash detection). Default 1 second. */
  readonly kubeletTick?: Duration.Input
  /** How long a lost node's pods stay Ready (node-monitor-grace-period). Default 40 seconds. */
  readonly nodeMonitorGracePeriod?: Duration.Input
  /** Then how long until they are evicted (the not-ready/unreachable tolerations). Default 300 seconds. */
  readonly podEvictionTimeout?: Duration.Input
}

export interface SimClusterShape {
  readonly nodes: ReadonlyArray<string>
  /** Kill a container's process (all containers when `container` is absent); it restarts with backoff. */
  readonly crashContainer: (namespace: string, pod: string, container?: string) => Effect.Effect<boolean>
  /** Force the pod's readiness to fail (`true`) or give it back to its probes (`false`). */
  readonly setPodUnready: (namespace: string, pod: string, unready: boolean) => Effect.Effect<boolean>
  /** `kubectl delete pod --grace-period=<s>`; 0 removes it at once (force). */
  readonly deletePod: (namespace: string, pod: string, gracePeriodSeconds?: number) => Effect.Effect<void>
  /** The node dies: its pods' processes are killed, nothing updates them, the node controller marks them not ready. */
  readonly nodeLost: (node: string) => Effect.Effect<void>
  /**
   * The node is cut off: its pods' processes keep running and reach each other, but nobody else reaches them (the
   * operator included) and their status freezes until the node controller marks them not ready.
   */
  readonly nodePartitioned: (node: string) => Effect.Effect<void>
  /**
   * The node is isolated: like `nodePartitioned` (nobody outside the node reaches its pods, the API server
   * included), but its kubelet lives on: it keeps probing its pods and restarting their containers, without being
   * able to report status or to see deletions until the node reconnects.
   */
  readonly nodeIsolated: (node: string) => Effect.Effect<void>
  /** A lost node reboots (containers restart) or a partitioned one reconnects (containers keep running). */
  readonly nodeRestored: (node: string) => Effect.Effect<void>
  /** The node a pod runs on. */
  readonly nodeOf: (namespace: string, pod: string) => string | undefined
  /** Yield until every controller has processed what is pending (does not advance the clock). */
  readonly settle: Effect.Effect<void>
}

export class SimCluster extends Context.Service<SimCluster, SimClusterShape>()("@doltdb-op/k8s/SimCluster") {
  /** Needs `InMemoryKube` and `SimWorld`; the controllers run for the layer's lifetime. */
  static readonly layer = (options: SimClusterOptions = {}): Layer.Layer<SimCluster, never, InMemoryKube | SimWorld> =>
    Layer.effect(
      SimCluster,
      Effect.gen(function* () {
        const server = yield* InMemoryKube
        const world = yield* SimWorld
        const nodes = options.nodes ?? ["sim-node-0", "sim-node-1", "sim-node-2"]
        const { state, system } = server
        const sts = makeStatefulSetController(state, system)
        const eps = makeEndpointSliceController(state, system)
        const expander = makeVolumeExpander(state, system)
        const snapshots = makeSnapshotController(state, system, world)
        const kubelet = yield* makeKubelet(state, system, world, {
          nodes,
          tick: Duration.toMillis(Duration.fromInputUnsafe(options.kubeletTick ?? "1 second")),
          nodeMonitorGracePeriodMillis: Duration.toMillis(
            Duration.fromInputUnsafe(options.nodeMonitorGracePeriod ?? "40 seconds")
          ),
          podEvictionTimeoutMillis: Duration.toMillis(
            Duration.fromInputUnsafe(options.podEvictionTimeout ?? "300 seconds")
          )
        })
        const stsWorker = yield* startWorker("statefulset-controller", sts.reconcile)
        const epsWorker = yield* startWorker("endpointslice-controller", eps.reconcile)
        const expanderWorker = yield* startWorker("volume-expander", expander.reconcile)
        const snapshotWorker = yield* startWorker("snapshot-controller", snapshots.reconcile)

        // the API server's change stream, in commit order, to the controllers
        const changes = yield* Queue.unbounded<StoreEvent>()
        let inFlight = 0
        const listener = (event: StoreEvent) => {
          snapshots.onCommit(event)
          const kind = event.object.kind
          if (
            kind !== "StatefulSet" &&
            kind !== "Pod" &&
            kind !== "Service" &&
            kind !== "PersistentVolumeClaim" &&
            kind !== "VolumeSnapshot"
          )
            return
          inFlight++
          Queue.offerUnsafe(changes, event)
        }
        yield* Effect.acquireRelease(
          Effect.sync(() => state.listeners.add(listener)),
          () => Effect.sync(() => state.listeners.delete(listener))
        )
        yield* Effect.forever(
          Effect.gen(function* () {
            const event = yield* Queue.take(changes)
            for (const key of sts.keysFor(event.object)) stsWorker.enqueue(key)
            for (const key of eps.keysFor(event.object)) epsWorker.enqueue(key)
            for (const key of expander.keysFor(event.object)) expanderWorker.enqueue(key)
            for (const key of snapshots.keysFor(event.object)) snapshotWorker.enqueue(key)
            if (event.object.kind === "Pod" || event.object.kind === "PersistentVolumeClaim") {
              yield* kubelet
                .onChange(event.type, event.object)
                .pipe(Effect.catch((error) => Effect.logDebug("kubelet: change failed", error)))
            }
            inFlight--
          })
        ).pipe(Effect.forkScoped)

        const idle = () =>
          inFlight === 0 &&
          stsWorker.idle() &&
          epsWorker.idle() &&
          expanderWorker.idle() &&
          snapshotWorker.idle() &&
          kubelet.idle()
        const settle = Effect.gen(function* () {
          // a bounded number of scheduler turns: controllers converge in a few; a livelock shows as a test failure
          // idle must hold for a few turns in a row: a fiber forked in the last turn gets to start
          let quiet = 0
          for (let i = 0; i < 10_000 && quiet < 5; i++) {
            yield* Effect.yieldNow
            quiet = idle() ? quiet + 1 : 0
          }
        })

        return SimCluster.of({
          nodes,
          crashContainer: kubelet.crash,
          setPodUnready: kubelet.setUnready,
          deletePod: (namespace, pod, gracePeriodSeconds) =>
            system
              .delete(Pods, pod, {
                namespace,
                ...(gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds })
              })
              .pipe(
                Effect.catchTag("NotFound", () => Effect.void),
                Effect.orDie
              ),
          nodeLost: kubelet.nodeLost,
          nodePartitioned: kubelet.nodePartitioned,
          nodeIsolated: kubelet.nodeIsolated,
          nodeRestored: kubelet.nodeRestored,
          nodeOf: (namespace, pod) => kubelet.runtimeOf(namespace, pod)?.node,
          settle
        })
      })
    )
}
