import { ConfigMaps, Kube, Leases } from "@doltdb-op/core/services/Kube"
import { InMemoryKube } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Context, Duration, Effect, Fiber, Layer, Metric, SubscriptionRef } from "effect"
import { TestClock } from "effect/testing"
import * as Controller from "../../src/runtime/Controller.ts"
import * as EventSource from "../../src/runtime/EventSource.ts"
import { LeaderElection } from "../../src/runtime/LeaderElection.ts"
import * as Manager from "../../src/runtime/Manager.ts"
import { OperatorConfig } from "../../src/runtime/OperatorConfig.ts"
import * as OperatorRuntime from "../../src/runtime/OperatorRuntime.ts"
import { ProbeEndpoints } from "../../src/runtime/ProbeServer.ts"

const config = (leaderElect: boolean) =>
  OperatorConfig.make({
    watchNamespaces: ["apps"],
    metricsBindAddress: { _tag: "Disabled" },
    healthProbeBindAddress: { _tag: "Listen", host: "127.0.0.1", port: 0 },
    leaderElect,
    leaderElectionId: "k8s.dolthub.com",
    leaderElectionNamespace: "",
    leaderLeaseDuration: Duration.seconds(10),
    leaderRenewDeadline: Duration.seconds(7),
    leaderRetryPeriod: Duration.seconds(2),
    maxConcurrentReconciles: 1,
    maxDoltdbConcurrentReconciles: 10,
    requeueSql: Duration.seconds(30),
    backupCredentialsPropagation: Duration.seconds(90),
    logLevel: "info",
    logFormat: "json",
    clusterName: "cluster.local",
    metricsSecure: false,
    enableHttp2: false
  })

const settle = Effect.gen(function* () {
  for (let i = 0; i < 200; i++) yield* Effect.yieldNow
})

const readyz = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/readyz`)
    return { status: response.status, body: await response.text() }
  })

describe("OperatorRuntime", () => {
  it.effect("with --leader-elect: takes the Lease in the operator's namespace, reconciles, reports ready", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const reconciled: Array<string> = []
      yield* kube.create(
        ConfigMaps,
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "apps" } },
        { namespace: "apps" }
      )
      const controllers: ReadonlyArray<Manager.ControllerDefinition<Kube>> = [
        {
          name: "configmap",
          workers: 1,
          reconcile: (key) =>
            Effect.as(
              Effect.sync(() => reconciled.push(key)),
              Controller.done
            ),
          sources: [Manager.watch(ConfigMaps, { namespaces: ["apps"], toKeys: EventSource.toSelf })]
        }
      ]
      const services = yield* Layer.build(OperatorRuntime.layer(config(true), controllers))
      yield* TestClock.adjust("1 second")
      yield* settle
      const election = Context.get(services, LeaderElection)
      assert.isTrue(yield* SubscriptionRef.get(election.isLeader))
      const lease = yield* kube.get(Leases, "k8s.dolthub.com", { namespace: "doltdb-system" })
      assert.strictEqual(lease.spec?.holderIdentity, election.identity)
      assert.match(election.identity, /^doltdb-operator-7d9f_[0-9a-f]{8}$/)
      assert.deepStrictEqual(reconciled, ["apps/a"])
      const health = Context.get(services, ProbeEndpoints).health
      assert.isDefined(health)
      const ready = yield* readyz(health!)
      assert.deepStrictEqual(ready, {
        status: 200,
        body: "[+]configmap-controller ok\n[+]controllers-started ok\n[+]leader-election ok\nreadyz check passed\n"
      })
    }).pipe(
      Effect.scoped,
      Effect.provide(InMemoryKube.layer()),
      Effect.provide(
        ConfigProvider.layer(
          ConfigProvider.fromUnknown({ DOLT_OPERATOR_NAMESPACE: "doltdb-system", POD_NAME: "doltdb-operator-7d9f" })
        )
      ),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )

  it.effect("launch runs until interrupted (SIGTERM), then releases the Lease and stops the controllers", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      let interrupted = 0
      const controllers: ReadonlyArray<Manager.ControllerDefinition<Kube>> = [
        {
          name: "configmap",
          workers: 1,
          reconcile: () =>
            Effect.as(
              Effect.onInterrupt(Effect.never, () => Effect.sync(() => interrupted++)),
              Controller.done
            ),
          sources: [Manager.watch(ConfigMaps, { namespaces: ["apps"], toKeys: EventSource.toSelf })]
        }
      ]
      yield* kube.create(
        ConfigMaps,
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "apps" } },
        { namespace: "apps" }
      )
      const running = yield* Effect.forkChild(OperatorRuntime.launch(config(true), controllers))
      yield* TestClock.adjust("1 second")
      yield* settle
      const held = yield* kube.get(Leases, "k8s.dolthub.com", { namespace: "doltdb-system" })
      assert.match(held.spec?.holderIdentity ?? "", /^doltdb-operator-7d9f_/)
      yield* Fiber.interrupt(running)
      assert.strictEqual(interrupted, 1, "the reconcile in flight was interrupted")
      const released = yield* kube.get(Leases, "k8s.dolthub.com", { namespace: "doltdb-system" })
      assert.strictEqual(released.spec?.holderIdentity, "")
      assert.strictEqual(released.spec?.leaseDurationSeconds, 1)
    }).pipe(
      Effect.provide(InMemoryKube.layer()),
      Effect.provide(
        ConfigProvider.layer(
          ConfigProvider.fromUnknown({ DOLT_OPERATOR_NAMESPACE: "doltdb-system", POD_NAME: "doltdb-operator-7d9f" })
        )
      ),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )

  it.effect("without --leader-elect: always the leader, no Lease", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const services = yield* Layer.build(OperatorRuntime.layer<never>(config(false), []))
      yield* settle
      assert.isTrue(yield* SubscriptionRef.get(Context.get(services, LeaderElection).isLeader))
      const leases = yield* kube.list(Leases, {})
      assert.strictEqual(leases.items.length, 0)
      const ready = yield* readyz(Context.get(services, ProbeEndpoints).health!)
      assert.strictEqual(ready.status, 200)
    }).pipe(
      Effect.scoped,
      Effect.provide(InMemoryKube.layer()),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )
})
