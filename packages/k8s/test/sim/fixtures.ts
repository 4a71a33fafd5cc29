import type { KubeObject } from "@doltdb-op/core/services/Kube"
import { type ContainerSpec, type Process, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { InMemoryKube } from "../../src/memory/InMemoryKube.ts"
import { SimCluster } from "../../src/sim/SimCluster.ts"

/** A fresh in-memory cluster with the simulated controllers, built inside the test (so it runs on its TestClock). */
export const simLayer = SimCluster.layer().pipe(
  Layer.provideMerge(InMemoryKube.layer({ seed: 7 })),
  Layer.provideMerge(SimWorld.layer)
)

/** Advance virtual time second by second, letting the controllers settle in between. */
export const advance = (seconds: number) =>
  Effect.gen(function* () {
    const sim = yield* SimCluster
    yield* sim.settle
    for (let i = 0; i < seconds; i++) {
      yield* TestClock.adjust("1 second")
      yield* sim.settle
    }
  })

/** A controllable image runtime: records what the kubelet started, lets tests fail probes and hold preStop. */
export const makeTestRuntime = () => {
  const started: Array<ContainerSpec> = []
  const probeOk = new Map<string, { readiness: boolean; liveness: boolean }>()
  const stops: Array<{ pod: string; signal: string }> = []
  const preStops: Array<string> = []
  let preStopSeconds = 0
  // init container name -> exit codes of its next runs (0 when none left)
  const initExits = new Map<string, Array<number>>()
  const runtime = {
    start: (spec: ContainerSpec) =>
      Effect.sync((): Process => {
        started.push(spec)
        const exit: number | undefined = spec.init === true ? (initExits.get(spec.container)?.shift() ?? 0) : undefined
        let stopped = false
        return {
          probe: (kind) =>
            Effect.sync(() => {
              if (stopped || exit !== undefined) return false
              const ok = probeOk.get(spec.pod) ?? { readiness: true, liveness: true }
              return kind === "liveness" ? ok.liveness : kind === "readiness" ? ok.readiness : true
            }),
          preStop: Effect.suspend(() => {
            preStops.push(spec.pod)
            return preStopSeconds > 0 ? Effect.sleep(`${preStopSeconds} seconds`) : Effect.void
          }),
          stop: (signal) =>
            Effect.sync(() => {
              stopped = true
              stops.push({ pod: spec.pod, signal })
            }),
          exitCode: Effect.sync(() => exit)
        }
      })
  }
  return {
    runtime,
    started,
    stops,
    preStops,
    setProbe: (pod: string, ok: { readiness: boolean; liveness: boolean }) => probeOk.set(pod, ok),
    setPreStopSeconds: (s: number) => {
      preStopSeconds = s
    },
    setInitExits: (container: string, codes: Array<number>) => initExits.set(container, codes)
  }
}

export const registerTestRuntime = Effect.gen(function* () {
  const world = yield* SimWorld
  const rt = makeTestRuntime()
  yield* world.registerRuntime("test/app", rt.runtime)
  return rt
})

export const statefulSet = (
  name: string,
  spec: {
    replicas?: number
    podManagementPolicy?: "OrderedReady" | "Parallel"
    updateStrategy?: Record<string, unknown>
    persistentVolumeClaimRetentionPolicy?: Record<string, string>
    annotations?: Record<string, string>
    probes?: boolean
  } = {}
): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name, namespace: "db" },
  spec: {
    replicas: spec.replicas ?? 3,
    serviceName: `${name}-internal`,
    selector: { matchLabels: { app: name } },
    ...(spec.podManagementPolicy === undefined ? {} : { podManagementPolicy: spec.podManagementPolicy }),
    ...(spec.updateStrategy === undefined ? {} : { updateStrategy: spec.updateStrategy }),
    ...(spec.persistentVolumeClaimRetentionPolicy === undefined
      ? {}
      : { persistentVolumeClaimRetentionPolicy: spec.persistentVolumeClaimRetentionPolicy }),
    template: {
      metadata: { labels: { app: name }, annotations: spec.annotations ?? {} },
      spec: {
        terminationGracePeriodSeconds: 30,
        containers: [
          {
            name: "main",
            image: "test/app:1",
            volumeMounts: [{ name: "data", mountPath: "/db" }],
            ...(spec.probes === false
              ? {}
              : {
                  readinessProbe: { initialDelaySeconds: 1, periodSeconds: 2, failureThreshold: 2 },
                  livenessProbe: { periodSeconds: 5, failureThreshold: 3 }
                })
          }
        ]
      }
    },
    volumeClaimTemplates: [
      {
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } }
      }
    ]
  }
})
