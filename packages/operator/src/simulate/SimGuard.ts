/**
 * The isolation guard in the simulated world: an image runtime for the operator image, so a `guard` sidecar the
 * simulated kubelet starts runs the real guard loop (`GuardLoop.run`) from its pod's vantage point:
 * - its API reads go to the in-memory API server, and hang while the pod cannot reach `ApiServerEndpoint` (its node
 *   partitioned or isolated: the packets are dropped, so only the guard's own timeouts end them, as on a real node);
 * - its SQL goes through the Dolt model from the pod's endpoint (so cuts apply, and a peer it cannot reach hangs
 *   likewise), to its own server by pod IP;
 * - its peers come from its mounted Dolt config, as in a real pod.
 * Stopping the container interrupts the loop (an interrupted demotion still completes on the server, as in Dolt).
 */
import { Guard } from "@doltdb-op/core"
import { Dolt, type DoltShape } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeShape } from "@doltdb-op/core/services/Kube"
import {
  ApiServerEndpoint,
  type ContainerSpec,
  type Endpoint,
  podEndpoint,
  SimWorld,
  type SimWorldShape
} from "@doltdb-op/core/sim/SimWorld"
import { DoltModel } from "@doltdb-op/dolt"
import { InMemoryKube } from "@doltdb-op/k8s"
import { Effect, Fiber, Layer, Redacted, References } from "effect"
import { parse } from "yaml"
import * as GuardLoop from "../guard/GuardLoop.ts"

/** The image repository suffix the runtime answers for (the operator image). */
export const OperatorImageRepository = "doltdb-operator"

const flag = (args: ReadonlyArray<string>, name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}

/** The API server as a pod sees it: a `get` hangs while the pod cannot reach it (dropped packets). */
const podKube = (kube: KubeShape, world: SimWorldShape, from: Endpoint): KubeShape =>
  new Proxy(kube, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== "function" || property !== "get") return value
      return (...args: Array<unknown>) =>
        Effect.flatMap(world.canReach(from, ApiServerEndpoint), (ok) =>
          ok ? (value as (...a: Array<unknown>) => Effect.Effect<unknown, unknown>).apply(target, args) : Effect.never
        )
    }
  })

/** The Dolt model as a pod sees it: a server it cannot reach does not answer (connect would time out). */
const podDolt = (dolt: DoltShape): DoltShape => ({
  ...dolt,
  roleAndEpoch: (t) =>
    dolt.roleAndEpoch(t).pipe(
      Effect.catchIf(
        (e) => e._tag === "DoltUnreachable" && e.code === "ETIMEDOUT",
        () => Effect.never
      )
    )
})

const guardConfig = (spec: ContainerSpec): GuardLoop.GuardConfig => {
  const threshold = Number.parseInt(flag(spec.args, "threshold") ?? "", 10)
  const configFile = Object.values(spec.mounts).flatMap((m) =>
    m._tag === "Files" && m.files[`${spec.pod}.yaml`] !== undefined ? [m.files[`${spec.pod}.yaml`]!] : []
  )[0]
  const peers = configFile === undefined ? [] : GuardLoop.peersOfConfig(parse(configFile))
  // `--tls-ca <path>`: the CA file from the pod's mounted Secret, as the real sidecar reads it.
  const caPath = flag(spec.args, "tls-ca")
  const caDir = caPath === undefined ? undefined : caPath.slice(0, caPath.lastIndexOf("/"))
  const caMount = caDir === undefined ? undefined : spec.mounts[caDir]
  const ca =
    caPath !== undefined && caMount?._tag === "Files"
      ? caMount.files[caPath.slice(caPath.lastIndexOf("/") + 1)]
      : undefined
  const doltdb = flag(spec.args, "doltdb") ?? ""
  return {
    namespace: spec.namespace,
    doltdb,
    pod: spec.pod,
    podUid: spec.podUid,
    doltPort: Number(flag(spec.args, "dolt-port") ?? 3306),
    localHost: spec.podIP,
    user: spec.env.DOLT_USERNAME ?? "root",
    password: Redacted.make(spec.env.DOLT_PASSWORD ?? ""),
    settings: Guard.settingsFor(Number.isFinite(threshold) ? threshold : Guard.DefaultThresholdMillis),
    readPeers: Effect.succeed(peers),
    ...(ca === undefined ? {} : { tls: { ca, serverName: `${doltdb}-internal.${spec.namespace}.svc` } })
  }
}

/** Registers the guard runtime in the world; guards run in the layer's scope (`inert`: they never act). */
export const layer = (
  mode: "run" | "inert" = "run"
): Layer.Layer<never, never, SimWorld | InMemoryKube | DoltModel.DoltCluster> =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const world = yield* SimWorld
      const server = yield* InMemoryKube
      const cluster = yield* DoltModel.DoltCluster
      const scope = yield* Effect.scope
      yield* world.registerRuntime(OperatorImageRepository, {
        start: (spec) =>
          Effect.gen(function* () {
            const generic = {
              probe: () => Effect.succeed(true),
              preStop: Effect.void,
              exitCode: Effect.succeed(spec.init === true ? 0 : undefined)
            }
            if (spec.args[0] !== "guard" || mode === "inert") return { ...generic, stop: () => Effect.void }
            const from = podEndpoint(spec.namespace, spec.pod)
            const services = Layer.mergeAll(
              Layer.succeed(Kube, podKube(server.system, world, from)),
              Layer.effect(Dolt, Effect.map(Effect.service(Dolt), podDolt)).pipe(
                Layer.provide(DoltModel.modelLayer({ from })),
                Layer.provide(Layer.succeed(DoltModel.DoltCluster, cluster))
              ),
              Layer.succeed(References.MinimumLogLevel, "None")
            )
            const fiber = yield* GuardLoop.run(guardConfig(spec)).pipe(Effect.provide(services), Effect.forkIn(scope))
            return { ...generic, stop: () => Fiber.interrupt(fiber) }
          })
      })
    })
  )
