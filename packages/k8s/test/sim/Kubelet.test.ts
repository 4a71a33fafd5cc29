import {
  ConfigMaps,
  Kube,
  type KubeObject,
  PersistentVolumeClaims,
  Pods,
  Secrets,
  StatefulSets
} from "@doltdb-op/core/services/Kube"
import { ApiServerEndpoint, OperatorEndpoint, podEndpoint, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SimCluster } from "../../src/sim/SimCluster.ts"
import { advance, registerTestRuntime, simLayer, statefulSet } from "./fixtures.ts"

interface PodStatus {
  readonly phase?: string
  readonly podIP?: string
  readonly conditions?: ReadonlyArray<{ type: string; status: string; reason?: string }>
  readonly containerStatuses?: ReadonlyArray<{
    restartCount: number
    ready: boolean
    lastState?: { terminated?: { reason: string } }
  }>
}

const podStatus = (name: string) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    return (yield* kube.get(Pods, name, { namespace: "db" })).status as PodStatus
  })

const isReady = (s: PodStatus) => (s.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")

const podExists = (name: string) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    return yield* kube.get(Pods, name, { namespace: "db" }).pipe(
      Effect.as(true),
      Effect.catchTag("NotFound", () => Effect.succeed(false))
    )
  })

const bare = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "db", labels: { app: "bare" } },
  spec
})

describe("simulated kubelet", () => {
  it.effect("starts containers with env and mounts resolved", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      yield* kube.create(ConfigMaps, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "cfg", namespace: "db" },
        data: { "db-0.yaml": "listener: 3306", mode: "fast" }
      })
      yield* kube.create(Secrets, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "creds", namespace: "db" },
        data: { password: Buffer.from("s3cret").toString("base64") }
      })
      yield* kube.create(PersistentVolumeClaims, {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "data-db-0", namespace: "db" },
        spec: {}
      })
      yield* kube.create(
        Pods,
        bare("db-0", {
          containers: [
            {
              name: "dolt",
              image: "docker.io/test/app:2",
              command: ["dolt"],
              args: ["sql-server"],
              workingDir: "/db",
              env: [
                { name: "DOLT_ROOT_PATH", value: "/db" },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
                { name: "MODE", valueFrom: { configMapKeyRef: { name: "cfg", key: "mode" } } },
                { name: "MISSING", valueFrom: { configMapKeyRef: { name: "cfg", key: "nope", optional: true } } }
              ],
              volumeMounts: [
                { name: "config", mountPath: "/etc/doltdb" },
                { name: "data", mountPath: "/db" },
                { name: "scratch", mountPath: "/tmp" }
              ]
            }
          ],
          volumes: [
            { name: "config", configMap: { name: "cfg", items: [{ key: "db-0.yaml", path: "config.yaml" }] } },
            { name: "data", persistentVolumeClaim: { claimName: "data-db-0" } },
            { name: "scratch", emptyDir: {} }
          ]
        })
      )
      yield* advance(0)
      assert.strictEqual(runtime.started.length, 1)
      const spec = runtime.started[0]!
      const status = yield* podStatus("db-0")
      const claim = yield* kube.get(PersistentVolumeClaims, "data-db-0", { namespace: "db" })
      assert.deepStrictEqual(spec.env, {
        DOLT_ROOT_PATH: "/db",
        POD_NAME: "db-0",
        POD_IP: status.podIP!,
        PASSWORD: "s3cret",
        MODE: "fast"
      })
      assert.deepStrictEqual(spec.mounts, {
        "/etc/doltdb": { _tag: "Files", files: { "config.yaml": "listener: 3306" } },
        "/db": { _tag: "Volume", volumeId: claim.metadata.uid! },
        "/tmp": { _tag: "EmptyDir" }
      })
      assert.deepStrictEqual([spec.command, spec.args, spec.workingDir], [["dolt"], ["sql-server"], "/db"])
      assert.strictEqual(status.phase, "Running")
      assert.isTrue(isReady(status))
      const pod = yield* kube.get(Pods, "db-0", { namespace: "db" })
      assert.include((yield* SimCluster).nodes, (pod.spec as { nodeName: string }).nodeName)
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("waits (CreateContainerConfigError) until a referenced Secret exists", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      yield* kube.create(
        Pods,
        bare("p", {
          containers: [
            {
              name: "c",
              image: "test/app",
              env: [{ name: "X", valueFrom: { secretKeyRef: { name: "later", key: "k" } } }]
            }
          ]
        })
      )
      yield* advance(3)
      assert.strictEqual(runtime.started.length, 0)
      const pod = yield* kube.get(Pods, "p", { namespace: "db" })
      assert.include(JSON.stringify(pod.status), "CreateContainerConfigError")
      yield* kube.create(Secrets, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "later", namespace: "db" },
        stringData: { k: "v" }
      })
      yield* advance(2)
      assert.strictEqual(runtime.started.length, 1)
      assert.deepStrictEqual(runtime.started[0]!.env, { X: "v" })
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("init containers run in order, each until it exits 0, before the main containers", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      runtime.setInitExits("first", [1])
      yield* kube.create(
        Pods,
        bare("p", {
          initContainers: [
            { name: "first", image: "test/app", command: ["sh", "-c", "init"] },
            { name: "second", image: "test/app" }
          ],
          containers: [{ name: "main", image: "test/app" }]
        })
      )
      yield* advance(0)
      // the first run of `first` failed: nothing else started, the pod is not initialized
      assert.deepStrictEqual(
        runtime.started.map((s) => `${s.container}${s.init === true ? " (init)" : ""}`),
        ["first (init)"]
      )
      let status = yield* podStatus("p")
      assert.strictEqual(status.phase, "Pending")
      assert.isFalse((status.conditions ?? []).some((c) => c.type === "Initialized" && c.status === "True"))
      yield* advance(2)
      assert.deepStrictEqual(
        runtime.started.map((s) => `${s.container}${s.init === true ? " (init)" : ""}`),
        ["first (init)", "first (init)", "second (init)", "main"]
      )
      status = yield* podStatus("p")
      assert.strictEqual(status.phase, "Running")
      assert.isTrue(isReady(status))
      const pod = yield* kube.get(Pods, "p", { namespace: "db" })
      const inits = (
        pod.status as { initContainerStatuses: Array<{ name: string; restartCount: number; ready: boolean }> }
      ).initContainerStatuses
      assert.deepStrictEqual(
        inits.map((i) => [i.name, i.restartCount, i.ready]),
        [
          ["first", 1, true],
          ["second", 0, true]
        ]
      )
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("readiness follows the probe at its period and failure threshold; the unready hook overrides it", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      const sim = yield* SimCluster
      yield* kube.create(StatefulSets, statefulSet("db", { replicas: 1 }))
      yield* advance(1)
      assert.isTrue(isReady(yield* podStatus("db-0")))
      runtime.setProbe("db-0", { readiness: false, liveness: true })
      // period 2 s, failureThreshold 2: still Ready after one failed probe, not after the second
      yield* advance(2)
      assert.isTrue(isReady(yield* podStatus("db-0")))
      yield* advance(2)
      assert.isFalse(isReady(yield* podStatus("db-0")))
      runtime.setProbe("db-0", { readiness: true, liveness: true })
      yield* advance(2)
      assert.isTrue(isReady(yield* podStatus("db-0")))
      yield* sim.setPodUnready("db", "db-0", true)
      yield* advance(0)
      assert.isFalse(isReady(yield* podStatus("db-0")))
      yield* sim.setPodUnready("db", "db-0", false)
      yield* advance(0)
      assert.isTrue(isReady(yield* podStatus("db-0")))
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("a crash or failed liveness restarts the container and counts it", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      const sim = yield* SimCluster
      yield* kube.create(StatefulSets, statefulSet("db", { replicas: 1 }))
      yield* advance(1)
      yield* sim.crashContainer("db", "db-0")
      yield* advance(1)
      let status = yield* podStatus("db-0")
      assert.strictEqual(status.containerStatuses![0]!.restartCount, 1)
      assert.strictEqual(status.containerStatuses![0]!.lastState?.terminated?.reason, "Error")
      assert.strictEqual(runtime.started.length, 2)
      // liveness: period 5 s, failureThreshold 3
      runtime.setProbe("db-0", { readiness: true, liveness: false })
      yield* advance(16)
      status = yield* podStatus("db-0")
      assert.strictEqual(status.containerStatuses![0]!.restartCount, 2)
      assert.strictEqual(status.containerStatuses![0]!.lastState?.terminated?.reason, "LivenessProbeFailed")
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("graceful deletion runs preStop within the grace period, then the pod is gone and recreated", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      const sim = yield* SimCluster
      yield* kube.create(StatefulSets, statefulSet("db", { replicas: 1 }))
      yield* advance(1)
      const oldUid = (yield* kube.get(Pods, "db-0", { namespace: "db" })).metadata.uid
      const volumeBefore = runtime.started[0]!.mounts["/db"]
      runtime.setPreStopSeconds(5)
      yield* sim.deletePod("db", "db-0", 30)
      yield* advance(0)
      const terminating = yield* kube.get(Pods, "db-0", { namespace: "db" })
      assert.isString(terminating.metadata.deletionTimestamp)
      assert.deepStrictEqual(runtime.preStops, ["db-0"])
      yield* advance(4)
      assert.strictEqual((yield* kube.get(Pods, "db-0", { namespace: "db" })).metadata.uid, oldUid)
      yield* advance(2)
      const replacement = yield* kube.get(Pods, "db-0", { namespace: "db" })
      assert.notStrictEqual(replacement.metadata.uid, oldUid)
      assert.deepStrictEqual(runtime.stops[0], { pod: "db-0", signal: "TERM" })
      // the same claim, the same volume
      assert.deepStrictEqual(runtime.started[1]!.mounts["/db"], volumeBefore)
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("a grace period shorter than preStop cuts it short", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      const sim = yield* SimCluster
      yield* kube.create(StatefulSets, statefulSet("db", { replicas: 1 }))
      yield* advance(1)
      runtime.setPreStopSeconds(60)
      yield* sim.deletePod("db", "db-0", 2)
      yield* advance(1)
      assert.isTrue(yield* podExists("db-0"))
      assert.strictEqual(runtime.stops.length, 0)
      yield* advance(2)
      assert.deepStrictEqual(runtime.stops[0], { pod: "db-0", signal: "TERM" })
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("node lost: processes die, pods turn not ready after the grace period, deletion waits for the node", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      const sim = yield* SimCluster
      yield* kube.create(StatefulSets, statefulSet("db", { replicas: 1 }))
      yield* advance(1)
      const node = sim.nodeOf("db", "db-0")!
      yield* sim.nodeLost(node)
      yield* advance(0)
      assert.deepStrictEqual(runtime.stops.at(-1), { pod: "db-0", signal: "KILL" })
      assert.isTrue(isReady(yield* podStatus("db-0")))
      yield* advance(41)
      const status = yield* podStatus("db-0")
      assert.isFalse(isReady(status))
      assert.strictEqual(status.conditions!.find((c) => c.type === "Ready")!.reason, "NodeLost")
      // a graceful delete cannot finish without the kubelet
      yield* sim.deletePod("db", "db-0", 30)
      yield* advance(60)
      assert.isString((yield* kube.get(Pods, "db-0", { namespace: "db" })).metadata.deletionTimestamp)
      yield* sim.nodeRestored(node)
      yield* advance(2)
      const replacement = yield* kube.get(Pods, "db-0", { namespace: "db" })
      assert.strictEqual(replacement.metadata.deletionTimestamp, undefined)
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("a lost node's pods are evicted after the timeout; the delete waits for the node", () =>
    Effect.gen(function* () {
      yield* registerTestRuntime
      const kube = yield* Kube
      const sim = yield* SimCluster
      yield* kube.create(StatefulSets, statefulSet("db", { replicas: 1 }))
      yield* advance(1)
      yield* sim.nodeLost(sim.nodeOf("db", "db-0")!)
      yield* advance(339)
      assert.strictEqual((yield* kube.get(Pods, "db-0", { namespace: "db" })).metadata.deletionTimestamp, undefined)
      yield* advance(2)
      const evicted = yield* kube.get(Pods, "db-0", { namespace: "db" })
      assert.isString(evicted.metadata.deletionTimestamp)
      yield* advance(120)
      assert.strictEqual((yield* kube.get(Pods, "db-0", { namespace: "db" })).metadata.uid, evicted.metadata.uid)
    }).pipe(Effect.provide(simLayer))
  )

  it.effect(
    "a partitioned node: processes run on unreachable, pods turn not ready, and reconnect without restart",
    () =>
      Effect.gen(function* () {
        const runtime = yield* registerTestRuntime
        const kube = yield* Kube
        const sim = yield* SimCluster
        const world = yield* SimWorld
        yield* kube.create(StatefulSets, statefulSet("db", { replicas: 1 }))
        yield* advance(1)
        const node = sim.nodeOf("db", "db-0")!
        yield* sim.nodePartitioned(node)
        yield* advance(0)
        assert.deepStrictEqual(runtime.stops, [])
        assert.isFalse(yield* world.canReach(OperatorEndpoint, podEndpoint("db", "db-0")))
        assert.isFalse(yield* world.canReach(podEndpoint("db", "db-0"), OperatorEndpoint))
        assert.isTrue(isReady(yield* podStatus("db-0")))
        yield* advance(41)
        assert.isFalse(isReady(yield* podStatus("db-0")))
        yield* sim.nodeRestored(node)
        yield* advance(2)
        assert.isTrue(yield* world.canReach(OperatorEndpoint, podEndpoint("db", "db-0")))
        const status = yield* podStatus("db-0")
        assert.isTrue(isReady(status))
        assert.strictEqual(status.containerStatuses![0]!.restartCount, 0)
        assert.strictEqual(runtime.started.length, 1)
      }).pipe(Effect.provide(simLayer))
  )

  it.effect(
    "an isolated node: the kubelet lives on (restarts a crashed container) but cannot report it until it reconnects",
    () =>
      Effect.gen(function* () {
        const runtime = yield* registerTestRuntime
        const kube = yield* Kube
        const sim = yield* SimCluster
        const world = yield* SimWorld
        yield* kube.create(StatefulSets, statefulSet("db", { replicas: 1 }))
        yield* advance(1)
        const node = sim.nodeOf("db", "db-0")!
        yield* sim.nodeIsolated(node)
        yield* advance(0)
        const pod = podEndpoint("db", "db-0")
        assert.isFalse(yield* world.canReach(pod, ApiServerEndpoint))
        assert.isFalse(yield* world.canReach(OperatorEndpoint, pod))
        yield* sim.crashContainer("db", "db-0")
        yield* advance(12)
        // restarted locally after the 10 s back-off, while the API server still shows the old status
        assert.strictEqual(runtime.started.length, 2)
        assert.strictEqual((yield* podStatus("db-0")).containerStatuses![0]!.restartCount, 0)
        yield* advance(30)
        assert.isFalse(isReady(yield* podStatus("db-0")), "the node controller marks the pod not ready")
        yield* sim.nodeRestored(node)
        yield* advance(2)
        assert.isTrue(yield* world.canReach(pod, ApiServerEndpoint))
        const status = yield* podStatus("db-0")
        assert.isTrue(isReady(status))
        assert.strictEqual(status.containerStatuses![0]!.restartCount, 1)
      }).pipe(Effect.provide(simLayer))
  )

  it.effect("a pod evicted from a partitioned node is stopped gracefully when the node reconnects", () =>
    Effect.gen(function* () {
      const runtime = yield* registerTestRuntime
      const kube = yield* Kube
      const sim = yield* SimCluster
      yield* kube.create(StatefulSets, statefulSet("db", { replicas: 1 }))
      yield* advance(1)
      const before = (yield* kube.get(Pods, "db-0", { namespace: "db" })).metadata.uid
      const node = sim.nodeOf("db", "db-0")!
      yield* sim.nodePartitioned(node)
      yield* advance(345)
      assert.isString((yield* kube.get(Pods, "db-0", { namespace: "db" })).metadata.deletionTimestamp)
      assert.deepStrictEqual(runtime.stops, [])
      yield* sim.nodeRestored(node)
      yield* advance(3)
      assert.deepStrictEqual(runtime.preStops, ["db-0"])
      assert.deepStrictEqual(runtime.stops, [{ pod: "db-0", signal: "TERM" }])
      assert.notStrictEqual((yield* kube.get(Pods, "db-0", { namespace: "db" })).metadata.uid, before)
    }).pipe(Effect.provide(simLayer))
  )

  it.effect("a force delete (grace 0) removes a pod on a lost node at once", () =>
    Effect.gen(function* () {
      yield* registerTestRuntime
      const kube = yield* Kube
      const sim = yield* SimCluster
      yield* kube.create(StatefulSets, statefulSet("db", { replicas: 1 }))
      yield* advance(1)
      const before = (yield* kube.get(Pods, "db-0", { namespace: "db" })).metadata.uid
      yield* sim.nodeLost(sim.nodeOf("db", "db-0")!)
      yield* sim.deletePod("db", "db-0", 0)
      yield* advance(2)
      const replacement = yield* kube.get(Pods, "db-0", { namespace: "db" })
      assert.notStrictEqual(replacement.metadata.uid, before)
      assert.notStrictEqual((replacement.spec as { nodeName: string }).nodeName, undefined)
    }).pipe(Effect.provide(simLayer))
  )
})
