/**
 * The operator running inside a simulated Kubernetes cluster with simulated Dolt servers: the in-memory API
 * server, the simulated StatefulSet/EndpointSlice controllers and kubelet, the in-memory Dolt cluster, all in one
 * `SimWorld`, and the real operator program (the same controller definitions `run` uses) on top.
 *
 * Used by the in-memory end-to-end tests, the property-based failover simulation and `doltdb-operator simulate`.
 * Time is `Clock` throughout, so under `TestClock` a run is deterministic for its seed.
 *
 * The operator's traffic goes through counting proxies of `Kube` and `Dolt`, so tests can assert how many writes
 * and how much DDL a reconcile of a converged cluster costs (it should be none).
 */
import { type DoltDBPlanner, Replication, SqlResources } from "@doltdb-op/core"
import { Dolt, type DoltShape } from "@doltdb-op/core/services/Dolt"
import { EndpointSlices, Kube, type KubeObject, type KubeShape } from "@doltdb-op/core/services/Kube"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { DoltModel } from "@doltdb-op/dolt"
import { InMemoryKube, SimCluster } from "@doltdb-op/k8s"
import { type Duration, Effect, Fiber, Layer, type Scope } from "effect"
import { TestClock } from "effect/testing"
import { controllers, FieldManager, type OperatorOptions } from "../Operator.ts"
import { AccessRecorder, guardKube } from "../rbac/AccessGuard.ts"
import { OperatorPermissions } from "../rbac/Permissions.ts"
import { Health } from "../runtime/Health.ts"
import { LeaderElection } from "../runtime/LeaderElection.ts"
import * as Manager from "../runtime/Manager.ts"
import * as SimGuard from "./SimGuard.ts"

/** Calls the operator made, by method. */
export class CallCounter {
  readonly counts = new Map<string, number>()
  add(method: string) {
    this.counts.set(method, (this.counts.get(method) ?? 0) + 1)
  }
  total(methods: ReadonlyArray<string>): number {
    return methods.reduce((sum, m) => sum + (this.counts.get(m) ?? 0), 0)
  }
  snapshot(): ReadonlyMap<string, number> {
    return new Map(this.counts)
  }
}

export const KubeWrites = ["create", "replace", "apply", "mergePatch", "patchStatus", "delete", "emitEvent"] as const
/** Dolt calls that change a server (DDL, DCL, role changes, backups). */
export const DoltWrites = [
  "assumeRole",
  "setAckWritesTimeout",
  "transitionToStandby",
  "createDatabase",
  "dropDatabase",
  "ensureBranches",
  "ensureIgnorePatterns",
  "createUser",
  "setPassword",
  "dropUser",
  "grant",
  "revoke",
  "backupAdd",
  "backupSync",
  "backupRemove",
  "backupRestore"
] as const

const counting = <S extends object>(service: S, counter: CallCounter): S =>
  new Proxy(service, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== "function" || typeof property !== "string") return value
      return (...args: Array<unknown>) => {
        counter.add(property)
        return (value as (...a: Array<unknown>) => unknown).apply(target, args)
      }
    }
  })

export const defaultReplicationDefaults: DoltDBPlanner.ReplicationDefaults = {
  failoverDelayMillis: Replication.defaultPolicy.failoverDelayMillis,
  allowUnsafeFailover: false,
  caughtUpSlackMillis: Replication.defaultPolicy.caughtUpSlackMillis,
  maxSwitchoverLagMillis: Replication.defaultPolicy.maxSwitchoverLagMillis,
  transitionTimeoutMillis: Replication.defaultPolicy.transitionTimeoutMillis
}

export const defaultOperatorOptions: OperatorOptions = {
  namespaces: [],
  doltdbWorkers: 4,
  workers: 2,
  fieldManager: FieldManager,
  instance: "simulated-operator",
  clusterDomain: "cluster.local",
  replicationDefaults: defaultReplicationDefaults,
  sqlPlanner: SqlResources.defaultPlannerOptions
}

export interface SimulationOptions {
  readonly seed?: number
  readonly operator?: Partial<OperatorOptions>
  /** Base duration of one replication push in the Dolt model. */
  readonly replicationDelay?: Duration.Input
  /** Extra random push duration in [0, jitter), drawn from the seed. */
  readonly replicationJitter?: Duration.Input
  /** The Dolt model's `termWaitsForStandbys`: a primary whose standbys lag outlives SIGTERM (default false). */
  readonly termWaitsForStandbys?: boolean
  /** The Dolt model's `preStopDemote` (default 1: the preStop hands over when one standby is caught up). */
  readonly preStopDemote?: number | false
  /**
   * The isolation guard sidecars: `run` (default) runs the real guard loop in each; `inert` starts them but never
   * lets them act (the mutation check: the operator still trusts them).
   */
  readonly guard?: "run" | "inert"
}

/** Resolve a Service DNS name (`<svc>.<ns>[.svc...]`) to a ready endpoint's address, as cluster DNS + kube-proxy would. */
const serviceResolver =
  (kube: () => KubeShape) =>
  (host: string): Effect.Effect<string | undefined> =>
    Effect.gen(function* () {
      const [service, namespace] = host.split(".")
      if (service === undefined || namespace === undefined) return undefined
      const slices = yield* kube()
        .list(EndpointSlices, { namespace, labelSelector: `kubernetes.io/service-name=${service}` })
        .pipe(Effect.catch(() => Effect.succeed({ items: [] as ReadonlyArray<KubeObject>, resourceVersion: "" })))
      for (const slice of slices.items) {
        const endpoints = (slice.endpoints ?? []) as ReadonlyArray<{
          addresses: ReadonlyArray<string>
          conditions?: { ready?: boolean }
        }>
        const ready = endpoints.find((e) => e.conditions?.ready !== false)
        if (ready?.addresses[0] !== undefined) return ready.addresses[0]
      }
      return undefined
    })

/** The simulated cluster without the operator: world, API server, controllers, kubelet, Dolt model. */
export const clusterLayer = (options: SimulationOptions = {}) => {
  let system: KubeShape | undefined
  const dolt = DoltModel.layer({
    seed: options.seed ?? 0,
    ...(options.replicationDelay === undefined ? {} : { replicationDelay: options.replicationDelay }),
    ...(options.replicationJitter === undefined ? {} : { replicationJitter: options.replicationJitter }),
    ...(options.termWaitsForStandbys === undefined ? {} : { termWaitsForStandbys: options.termWaitsForStandbys }),
    ...(options.preStopDemote === undefined ? {} : { preStopDemote: options.preStopDemote }),
    resolveHost: serviceResolver(() => system!)
  })
  const kube = Layer.effectContext(
    Effect.gen(function* () {
      const server = yield* InMemoryKube
      system = server.system
      return yield* Effect.context<InMemoryKube | Kube>()
    })
  ).pipe(Layer.provideMerge(InMemoryKube.layer({ seed: options.seed ?? 0 })))
  return Layer.mergeAll(SimCluster.layer(), SimGuard.layer(options.guard ?? "run")).pipe(
    Layer.provideMerge(dolt),
    Layer.provideMerge(kube),
    Layer.provideMerge(SimWorld.layer)
  )
}

export interface OperatorHandle {
  /** Operator API writes and Dolt writes since the start (counting proxies). */
  readonly kubeCalls: CallCounter
  readonly doltCalls: CallCounter
  /** What the operator's RBAC rules let it do (used) and refused; the operator runs under exactly those rules. */
  readonly rbac: AccessRecorder
  /** Stop the operator (a crash or a lost leadership) and start a fresh one; state lives only in the cluster. */
  readonly restart: Effect.Effect<void>
  readonly stop: Effect.Effect<void>
}

/** Start the operator program against the simulated cluster's services, in the current scope. */
export const startOperator = (options: Partial<OperatorOptions> = {}) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    const dolt = yield* Dolt
    const kubeCalls = new CallCounter()
    const doltCalls = new CallCounter()
    const rbac = new AccessRecorder()
    const services = Layer.mergeAll(
      Layer.succeed(Kube, counting(guardKube(kube, OperatorPermissions, rbac), kubeCalls)),
      Layer.succeed(Dolt, counting(dolt, doltCalls) as DoltShape)
    )
    const program = Layer.launch(
      Manager.layer(controllers({ ...defaultOperatorOptions, ...options })).pipe(
        Layer.provide(Layer.mergeAll(LeaderElection.layerAlwaysLeader, Health.layer, services))
      )
    )
    let fiber = yield* Effect.forkScoped(program)
    const stop = Effect.suspend(() => Fiber.interrupt(fiber))
    const restart = Effect.gen(function* () {
      yield* stop
      fiber = yield* Effect.forkDetach(program)
    })
    return { kubeCalls, doltCalls, rbac, restart, stop } satisfies OperatorHandle
  })

/**
 * The simulation's TestClock. A wake of the TestClock waits until every fiber it resumed has suspended again, but by
 * default gives up after 1 s of *wall* time: on a loaded machine a long reconcile cascade exceeds that, the clock
 * moves on while fibers still run, and the same seed gives a different run. 60 s keeps runs deterministic.
 */
export const simulationClock = TestClock.layer({ warningDelay: "60 seconds" })

/** Advance simulated time in steps, letting every controller catch up after each, until `done` or `limit`. */
export const runUntil = <E, R>(
  done: Effect.Effect<boolean, E, R>,
  options: { readonly limitMillis: number; readonly stepMillis?: number }
): Effect.Effect<number, E, R | SimCluster> =>
  Effect.gen(function* () {
    const sim = yield* SimCluster
    const step = options.stepMillis ?? 250
    let elapsed = 0
    yield* sim.settle
    while (!(yield* done)) {
      if (elapsed >= options.limitMillis) return -1
      yield* TestClock.adjust(step)
      yield* sim.settle
      elapsed += step
    }
    return elapsed
  })

export type SimulationScope = Scope.Scope
