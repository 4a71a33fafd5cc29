/**
 * The simulated world shared by the in-memory Kube layer (`@doltdb-op/k8s`) and the in-memory Dolt cluster
 * (`@doltdb-op/dolt`): the processes that run inside pods, the volumes that outlive them, and the network links
 * between pods and the operator.
 *
 * It lives in core so that both adapters (and the operator's `simulate` command) can share one world without
 * importing each other. It is deliberately small: the simulated kubelet (k8s) starts and stops containers through
 * it, an image runtime (the Dolt model registers one for `dolthub/dolt`) turns a container into a process, and the
 * Dolt model asks it whether two endpoints can reach each other.
 *
 * Everything is synchronous state behind `Effect.sync`: a simulation runs thousands of schedules per second on one
 * fiber at a time, and no operation here waits. Time comes from `Clock`, randomness from the caller's seed.
 */
import { Context, Effect, Layer } from "effect"

/** A network endpoint: the operator, or a pod as `<namespace>/<pod>`. */
export type Endpoint = string

/** The operator process (its SQL and API traffic). */
export const OperatorEndpoint: Endpoint = "operator"

/**
 * The Kubernetes API server, as a pod sees it (`canReach(pod, ApiServerEndpoint)`): cut when the pod's node is
 * partitioned or isolated, so an in-pod guard can tell that it is cut off. The operator's own API traffic is not
 * routed through the world (API faults are the in-memory API server's).
 */
export const ApiServerEndpoint: Endpoint = "apiserver"

export const podEndpoint = (namespace: string, pod: string): Endpoint => `${namespace}/${pod}`

/** A file or directory mount resolved by the kubelet. */
export type Mount =
  /** Files projected from a ConfigMap or Secret: file name -> content. Read-only. */
  | { readonly _tag: "Files"; readonly files: Readonly<Record<string, string>> }
  /** A persistent volume (a PVC): its id outlives the pod; the same claim gets the same id back. */
  | { readonly _tag: "Volume"; readonly volumeId: string }
  /** Scratch space that dies with the pod (emptyDir, the container's own filesystem). */
  | { readonly _tag: "EmptyDir" }

/** What the kubelet knows when it starts a container. */
export interface ContainerSpec {
  readonly namespace: string
  readonly pod: string
  readonly podUid: string
  readonly podIP: string
  readonly container: string
  readonly image: string
  readonly command: ReadonlyArray<string>
  readonly args: ReadonlyArray<string>
  readonly workingDir: string | undefined
  /** Environment after resolving `valueFrom` (secretKeyRef, configMapKeyRef, fieldRef). */
  readonly env: Readonly<Record<string, string>>
  /** mountPath -> mount */
  readonly mounts: Readonly<Record<string, Mount>>
  /** An init container: the kubelet waits for it to exit (0 = done) before starting the next container. */
  readonly init?: boolean
}

export type ProbeKind = "readiness" | "liveness" | "startup"

/** A running container, as the simulated kubelet drives it. */
export interface Process {
  /** Run the container's probe of this kind; `true` = success. A hung process should answer `false`. */
  readonly probe: (kind: ProbeKind) => Effect.Effect<boolean>
  /** Run the preStop hook (the kubelet bounds it by the grace period). */
  readonly preStop: Effect.Effect<void>
  /** Deliver SIGTERM (graceful) or SIGKILL. After either, the process is gone. */
  readonly stop: (signal: "TERM" | "KILL") => Effect.Effect<void>
  /** `undefined` while running; the exit code once the process ended by itself (a crash). */
  readonly exitCode: Effect.Effect<number | undefined>
  /**
   * After SIGTERM: whether the process still runs (shutting down). The kubelet waits for it until the grace period
   * ends, then sends SIGKILL. Absent: SIGTERM ends the process at once.
   */
  readonly runningAfterTerm?: Effect.Effect<boolean>
}

/** Turns containers of some images into processes (e.g. the Dolt model for `dolthub/dolt`). */
export interface ImageRuntime {
  readonly start: (spec: ContainerSpec) => Effect.Effect<Process>
}

/** A direction-aware cut between two endpoints. */
export interface Link {
  readonly from: Endpoint
  readonly to: Endpoint
}

export interface SimWorldShape {
  /** Register the runtime for images whose repository (the part before `:`) ends with `repository`. */
  readonly registerRuntime: (repository: string, runtime: ImageRuntime) => Effect.Effect<void>
  /**
   * Start a container. Images without a registered runtime get a generic process that is always healthy
   * and exits only when stopped (an init container of such an image exits 0 at once).
   */
  readonly startContainer: (spec: ContainerSpec) => Effect.Effect<Process>

  /** Persistent volume contents, created empty on first use. Survives pod restarts; gone after `deleteVolume`. */
  readonly volume: (volumeId: string) => Effect.Effect<Map<string, unknown>>
  readonly deleteVolume: (volumeId: string) => Effect.Effect<void>
  readonly volumeIds: Effect.Effect<ReadonlyArray<string>>
  /**
   * A volume snapshot: a copy of the volume's persisted state at this instant (what a crash now would leave), kept
   * under `snapshotId`. Values are copied by the cloner registered for their key's prefix (the image runtime
   * knows which of its objects are mutable), else shared (immutable values).
   */
  readonly snapshotVolume: (volumeId: string, snapshotId: string) => Effect.Effect<boolean>
  /** A new volume filled from a snapshot (a PVC whose dataSource is a VolumeSnapshot); false if there is none. */
  readonly restoreVolume: (snapshotId: string, volumeId: string) => Effect.Effect<boolean>
  readonly deleteSnapshot: (snapshotId: string) => Effect.Effect<void>
  readonly snapshotIds: Effect.Effect<ReadonlyArray<string>>
  /** How values under keys starting with `prefix` are copied into and out of snapshots. */
  readonly registerVolumeCloner: (prefix: string, clone: (value: unknown) => unknown) => Effect.Effect<void>

  /** Cut traffic from `from` to `to` (one direction). Use `cutBoth` for a symmetric partition. */
  readonly cut: (from: Endpoint, to: Endpoint) => Effect.Effect<void>
  readonly cutBoth: (a: Endpoint, b: Endpoint) => Effect.Effect<void>
  readonly heal: (a: Endpoint, b: Endpoint) => Effect.Effect<void>
  readonly healAll: Effect.Effect<void>
  /** Isolate an endpoint from every other endpoint, in both directions (`except` stays reachable). */
  readonly isolate: (endpoint: Endpoint, except?: ReadonlyArray<Endpoint>) => Effect.Effect<void>
  readonly canReach: (from: Endpoint, to: Endpoint) => Effect.Effect<boolean>
  readonly cuts: Effect.Effect<ReadonlyArray<Link>>
}

const linkKey = (from: Endpoint, to: Endpoint) => `${from}\u0000${to}`

/** Builds a fresh, empty world. */
export const makeSimWorld = (): SimWorldShape => {
  const runtimes = new Map<string, ImageRuntime>()
  const volumes = new Map<string, Map<string, unknown>>()
  const snapshots = new Map<string, Map<string, unknown>>()
  const cloners = new Map<string, (value: unknown) => unknown>()
  const copy = (from: Map<string, unknown>): Map<string, unknown> => {
    const out = new Map<string, unknown>()
    for (const [key, value] of from) {
      let clone: ((value: unknown) => unknown) | undefined
      for (const [prefix, c] of cloners) if (key.startsWith(prefix)) clone = c
      out.set(key, clone === undefined ? value : clone(value))
    }
    return out
  }
  const cutLinks = new Map<string, Link>()
  // `isolate` cuts against endpoints we have not seen yet too, so it is kept as a rule, not as links.
  const isolated = new Map<Endpoint, ReadonlySet<Endpoint>>()

  const genericProcess = (init: boolean): Process => {
    let stopped = false
    return {
      probe: () => Effect.sync(() => !stopped),
      preStop: Effect.void,
      stop: () =>
        Effect.sync(() => {
          stopped = true
        }),
      exitCode: Effect.succeed(init ? 0 : undefined)
    }
  }

  const runtimeFor = (image: string): ImageRuntime | undefined => {
    const repository = image.replace(/[:@].*$/, "")
    for (const [suffix, runtime] of runtimes) {
      if (repository === suffix || repository.endsWith(`/${suffix}`) || repository.endsWith(suffix)) return runtime
    }
    return undefined
  }

  const blockedByIsolation = (from: Endpoint, to: Endpoint) => {
    const a = isolated.get(from)
    if (a !== undefined && !a.has(to)) return true
    const b = isolated.get(to)
    return b !== undefined && !b.has(from)
  }

  return {
    registerRuntime: (repository, runtime) =>
      Effect.sync(() => {
        runtimes.set(repository, runtime)
      }),
    startContainer: (spec) =>
      Effect.suspend(() => {
        const runtime = runtimeFor(spec.image)
        return runtime === undefined ? Effect.succeed(genericProcess(spec.init === true)) : runtime.start(spec)
      }),
    volume: (volumeId) =>
      Effect.sync(() => {
        let v = volumes.get(volumeId)
        if (v === undefined) {
          v = new Map()
          volumes.set(volumeId, v)
        }
        return v
      }),
    deleteVolume: (volumeId) =>
      Effect.sync(() => {
        volumes.delete(volumeId)
      }),
    volumeIds: Effect.sync(() => [...volumes.keys()]),
    snapshotVolume: (volumeId, snapshotId) =>
      Effect.sync(() => {
        const v = volumes.get(volumeId)
        snapshots.set(snapshotId, v === undefined ? new Map() : copy(v))
        return v !== undefined
      }),
    restoreVolume: (snapshotId, volumeId) =>
      Effect.sync(() => {
        const s = snapshots.get(snapshotId)
        if (s === undefined) return false
        volumes.set(volumeId, copy(s))
        return true
      }),
    deleteSnapshot: (snapshotId) =>
      Effect.sync(() => {
        snapshots.delete(snapshotId)
      }),
    snapshotIds: Effect.sync(() => [...snapshots.keys()]),
    registerVolumeCloner: (prefix, clone) =>
      Effect.sync(() => {
        cloners.set(prefix, clone)
      }),
    cut: (from, to) =>
      Effect.sync(() => {
        cutLinks.set(linkKey(from, to), { from, to })
      }),
    cutBoth: (a, b) =>
      Effect.sync(() => {
        cutLinks.set(linkKey(a, b), { from: a, to: b })
        cutLinks.set(linkKey(b, a), { from: b, to: a })
      }),
    heal: (a, b) =>
      Effect.sync(() => {
        cutLinks.delete(linkKey(a, b))
        cutLinks.delete(linkKey(b, a))
        isolated.delete(a)
        isolated.delete(b)
      }),
    healAll: Effect.sync(() => {
      cutLinks.clear()
      isolated.clear()
    }),
    isolate: (endpoint, except = []) =>
      Effect.sync(() => {
        isolated.set(endpoint, new Set(except))
      }),
    canReach: (from, to) =>
      Effect.sync(() => from === to || (!cutLinks.has(linkKey(from, to)) && !blockedByIsolation(from, to))),
    cuts: Effect.sync(() => [...cutLinks.values()])
  }
}

/** The world as a service, so the Kube and Dolt in-memory layers share one instance. */
export class SimWorld extends Context.Service<SimWorld, SimWorldShape>()("@doltdb-op/core/sim/SimWorld") {
  /** A fresh world per layer build. */
  static readonly layer: Layer.Layer<SimWorld> = Layer.sync(SimWorld, makeSimWorld)
}
