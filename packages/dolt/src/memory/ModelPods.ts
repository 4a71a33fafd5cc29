/**
 * Boots model Dolt pods without the Kube layer (tests, benchmarks): container specs shaped like the builders' (config
 * in the `/etc/doltdb` ConfigMap mount as `<pod>.yaml`, the PVC at `/db`, `DOLT_ROOT_PATH=/db`, admin credentials in
 * `DOLT_USERNAME`/`DOLT_PASSWORD`), started through `SimWorld.startContainer` like the simulated kubelet does.
 */
import type { DoltTarget } from "@doltdb-op/core/services/Dolt"
import { type ContainerSpec, type Process, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { Effect, Redacted } from "effect"
import { stringify } from "yaml"
import { DoltImage } from "./DoltCluster.ts"

export interface ModelPodsOptions {
  readonly name?: string
  readonly namespace?: string
  readonly replicas: number
  /** Ordinal that bootstraps as primary (default 0). */
  readonly primary?: number
  readonly user?: string
  readonly password?: string
  /** `false`: DOLT_ROOT_PATH is not on the volume (the reference's mistake): role/epoch are lost on restart. */
  readonly rootPathOnVolume?: boolean
  readonly ackWritesTimeoutSecs?: number
  /** Extra YAML keys merged into every config (e.g. a broken one, for startup-failure tests). */
  readonly extraConfig?: Readonly<Record<string, unknown>>
}

export const ListenerPort = 3306
export const RemotesApiPort = 50051

const defaults = (o: ModelPodsOptions) => ({
  name: o.name ?? "db",
  namespace: o.namespace ?? "ns",
  primary: o.primary ?? 0,
  user: o.user ?? "root",
  password: o.password ?? "model-secret"
})

export const podName = (o: ModelPodsOptions, i: number): string => `${defaults(o).name}-${i}`
export const podIp = (i: number): string => `10.0.0.${10 + i}`
export const podHost = (o: ModelPodsOptions, i: number): string => {
  const d = defaults(o)
  return `${d.name}-${i}.${d.name}-internal.${d.namespace}.svc.cluster.local`
}

export const configYaml = (o: ModelPodsOptions, i: number): string => {
  const d = defaults(o)
  const peers = Array.from({ length: o.replicas }, (_, p) => p).filter((p) => p !== i)
  const config: Record<string, unknown> = {
    log_level: "info",
    ...(o.replicas > 1
      ? {
          cluster: {
            standby_remotes: peers.map((p) => ({
              name: `${d.name}-${p}`,
              remote_url_template: `http://${d.name}-${p}.${d.name}-internal.${d.namespace}.svc.cluster.local:${RemotesApiPort}/{database}`
            })),
            bootstrap_role: i === d.primary ? "primary" : "standby",
            bootstrap_epoch: 1,
            remotesapi: { port: RemotesApiPort }
          }
        }
      : {}),
    listener: { host: "0.0.0.0", port: ListenerPort, max_connections: 1000 },
    ...(o.ackWritesTimeoutSecs === undefined
      ? {}
      : { system_variables: { dolt_cluster_ack_writes_timeout_secs: o.ackWritesTimeoutSecs } }),
    ...o.extraConfig
  }
  return stringify(config)
}

export const podSpec = (o: ModelPodsOptions, i: number, restart = 0): ContainerSpec => {
  const d = defaults(o)
  const pod = podName(o, i)
  const files = Object.fromEntries(
    Array.from({ length: o.replicas }, (_, p) => [`${d.name}-${p}.yaml`, configYaml(o, p)])
  )
  return {
    namespace: d.namespace,
    pod,
    podUid: `${pod}-uid-${restart}`,
    podIP: podIp(i),
    container: "dolt",
    image: `${DoltImage}:2.3.1`,
    command: ["tini", "--", "/usr/local/bin/dolt", "sql-server", "--config", "config.yaml"],
    args: [],
    workingDir: "/db",
    env: {
      ...(o.rootPathOnVolume === false ? { HOME: "/root" } : { DOLT_ROOT_PATH: "/db" }),
      POD_NAME: pod,
      DOLT_USERNAME: d.user,
      DOLT_PASSWORD: d.password
    },
    mounts: {
      "/etc/doltdb": { _tag: "Files", files },
      "/db": { _tag: "Volume", volumeId: `pvc-${d.namespace}-${pod}` }
    }
  }
}

export const target = (o: ModelPodsOptions, i: number): DoltTarget => {
  const d = defaults(o)
  return { host: podHost(o, i), port: ListenerPort, user: d.user, password: Redacted.make(d.password) }
}

/** Starts pod `i` (again): returns its process (stop it to kill the server). */
export const startPod = (o: ModelPodsOptions, i: number, restart = 0): Effect.Effect<Process, never, SimWorld> =>
  Effect.gen(function* () {
    const world = yield* SimWorld
    return yield* world.startContainer(podSpec(o, i, restart))
  })

/** Starts every pod; returns the processes in ordinal order. */
export const startPods = (o: ModelPodsOptions): Effect.Effect<ReadonlyArray<Process>, never, SimWorld> =>
  Effect.forEach(
    Array.from({ length: o.replicas }, (_, i) => i),
    (i) => startPod(o, i)
  )
