/**
 * The operator end to end in memory: the real controllers against the in-memory API server, the simulated
 * StatefulSet controller and kubelet, and the in-memory Dolt cluster, on the TestClock.
 */

import { Builders } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Pods, resource, Secrets, Services } from "@doltdb-op/core/services/Kube"
import { DoltModel } from "@doltdb-op/dolt"
import { SimCluster } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, DoltWrites, KubeWrites, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, podIP, setupDoltDB } from "./fixtures.ts"

const ns = "default"
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")
const rawUsers = resource({ apiVersion: "k8s.dolthub.com/v1alpha", kind: "User", plural: "users", namespaced: true })
const rawGrants = resource({ apiVersion: "k8s.dolthub.com/v1alpha", kind: "Grant", plural: "grants", namespaced: true })

/** The admin user of every DoltDB here: a password that needs quoting. */
const admin = { adminPassword: "s3cret!'pw" }

const condition = (object: KubeObject | undefined, type: string) =>
  (
    (object?.status as { conditions?: ReadonlyArray<{ type: string; status: string; reason: string }> } | undefined)
      ?.conditions ?? []
  ).find((c) => c.type === type)

const get = (res: typeof rawDoltDBs, name: string) =>
  Effect.flatMap(Kube, (kube) =>
    kube.get(res, name, { namespace: ns }).pipe(Effect.catch(() => Effect.succeed(undefined)))
  )

const ready = (res: typeof rawDoltDBs, name: string) =>
  Effect.map(get(res, name), (o) => condition(o, "Ready")?.status === "True")

const status = (o: KubeObject | undefined) => (o?.status ?? {}) as Record<string, unknown>

const inCluster = (seed: number) => Layer.fresh(clusterLayer({ seed }))

/** `CREATE DATABASE app` on a pod's server as the admin user. */
const createAppDatabase = (pod: string) =>
  Effect.gen(function* () {
    const sql = yield* Dolt
    yield* sql.createDatabase(yield* adminTarget(pod, admin), { name: "app" })
  })

describe("operator in memory", () => {
  it.effect(
    "a 3-replica DoltDB becomes Ready with one primary, role labels and the reference's Services; a converged cluster costs no writes",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        yield* setupDoltDB(admin)
        const kube = yield* Kube
        const db = yield* get(rawDoltDBs, "db")
        assert.strictEqual(status(db).currentPrimary, "db-0")
        assert.strictEqual(status(db).replicationEpoch, 1)
        assert.deepStrictEqual(status(db).replicationStatus, {
          "db-0": "primary",
          "db-1": "standby",
          "db-2": "standby"
        })
        const services = (yield* kube.list(Services, { namespace: ns })).items.map((s) => s.metadata.name).sort()
        assert.includeMembers(services, ["db-internal", "db-primary", "db-reader"])
        assert.notInclude(services, "db")
        const primary = yield* kube.get(Services, "db-primary", { namespace: ns })
        assert.strictEqual(
          (primary.spec as { selector: Record<string, string> }).selector[Builders.PodNameLabel],
          "db-0"
        )
        const pods = (yield* kube.list(Pods, { namespace: ns })).items
        const roles = Object.fromEntries(
          pods.map((p) => [p.metadata.name, p.metadata.labels?.[Builders.ClusterRoleLabel]])
        )
        assert.deepStrictEqual(roles, { "db-0": "primary", "db-1": "standby", "db-2": "standby" })

        // A client write through db-primary lands on the primary and replicates to the standbys.
        yield* createAppDatabase("db-0")
        const dolt = yield* DoltModel.DoltCluster
        const w = yield* dolt.write("db-primary.default.svc.cluster.local", "app", "k", "v")
        assert.strictEqual(w.outcome, "acked", JSON.stringify(w))
        assert.strictEqual(w.server, "default/db-0")
        const replicated = Effect.map(
          dolt.read("db-2.db-internal.default", "app", "k").pipe(Effect.catch(() => Effect.succeed(undefined))),
          (v) => v === "v"
        )
        assert.isAtLeast(yield* runUntil(replicated, { limitMillis: 10_000 }), 0, "the write never reached db-2")

        // Steady state: let the operator poll for a while; it must not write anything.
        yield* runUntil(Effect.succeed(false), { limitMillis: 5_000 })
        const kubeBefore = operator.kubeCalls.total(KubeWrites)
        const doltBefore = operator.doltCalls.total(DoltWrites)
        const reads = operator.kubeCalls.total(["get", "list"])
        yield* runUntil(Effect.succeed(false), { limitMillis: 60_000 })
        assert.strictEqual(operator.kubeCalls.total(KubeWrites) - kubeBefore, 0, "API writes in steady state")
        assert.strictEqual(operator.doltCalls.total(DoltWrites) - doltBefore, 0, "Dolt writes in steady state")
        assert.isAbove(operator.kubeCalls.total(["get", "list"]), reads, "the operator kept reconciling (reads)")
      }).pipe(Effect.provide(inCluster(1))),
    60_000
  )

  it.effect(
    "User and Grant are applied on the primary; deleting the DoltDB removes its children",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        yield* setupDoltDB(admin)
        const kube = yield* Kube
        yield* kube.create(Secrets, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "app-pw", namespace: ns, labels: { "k8s.dolthub.com/watch": "true" } },
          data: { password: b64("app-pass") }
        })
        yield* kube.create(rawUsers, {
          apiVersion: "k8s.dolthub.com/v1alpha",
          kind: "User",
          metadata: { name: "app", namespace: ns },
          spec: { doltDBRef: { name: "db" }, name: "app", passwordSecretKeyRef: { name: "app-pw", key: "password" } }
        })
        yield* kube.create(rawGrants, {
          apiVersion: "k8s.dolthub.com/v1alpha",
          kind: "Grant",
          metadata: { name: "app-read", namespace: ns },
          spec: { doltDBRef: { name: "db" }, username: "app", privileges: ["SELECT", "INSERT"] }
        })
        const both = Effect.all([ready(rawUsers, "app"), ready(rawGrants, "app-read")]).pipe(
          Effect.map(([u, g]) => u && g)
        )
        assert.isAtLeast(yield* runUntil(both, { limitMillis: 120_000 }), 0, "User/Grant never became Ready")
        assert.isAtLeast(operator.doltCalls.total(["createUser"]), 1)
        assert.isAtLeast(operator.doltCalls.total(["grant"]), 1)

        // Deletion: owner references let the garbage collector remove every child.
        yield* kube.delete(rawDoltDBs, "db", { namespace: ns })
        const gone = Effect.map(kube.list(Services, { namespace: ns }), (l) =>
          l.items.every((s) => !s.metadata.name.startsWith("db"))
        )
        assert.isAtLeast(yield* runUntil(gone, { limitMillis: 120_000 }), 0, "children were not garbage-collected")
        const sim = yield* SimCluster
        assert.isDefined(sim)
      }).pipe(Effect.provide(inCluster(2))),
    60_000
  )
  it.effect(
    "failover: the primary's node is lost; a caught-up standby is promoted at a higher epoch and writes resume",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupDoltDB(admin)
        const kube = yield* Kube
        yield* createAppDatabase("db-0")
        const dolt = yield* DoltModel.DoltCluster
        // Let the new database replicate so the standbys are caught up when the primary dies.
        yield* runUntil(Effect.succeed(false), { limitMillis: 3_000 })
        const sim = yield* SimCluster
        yield* sim.nodeLost(sim.nodeOf(ns, "db-0")!)
        const moved = Effect.map(get(rawDoltDBs, "db"), (d) => {
          const s = status(d)
          return s.currentPrimary !== undefined && s.currentPrimary !== "db-0" && s.primaryTransition === undefined
        })
        const took = yield* runUntil(moved, { limitMillis: 120_000 })
        assert.isAtLeast(took, 0, "no failover happened")
        const after = status(yield* get(rawDoltDBs, "db"))
        assert.isAtLeast(after.replicationEpoch as number, 2)
        const primary = yield* kube.get(Services, "db-primary", { namespace: ns })
        assert.strictEqual(
          (primary.spec as { selector: Record<string, string> }).selector[Builders.PodNameLabel],
          after.currentPrimary
        )
        const acked = Effect.map(
          dolt.write("db-primary.default.svc.cluster.local", "app", "after", "failover"),
          (w) => w.outcome === "acked"
        )
        assert.isAtLeast(yield* runUntil(acked, { limitMillis: 30_000 }), 0, "writes did not resume")
        // One primary at the highest epoch. The old pod, rescheduled after the fencing delete, boots with the role it
        // persisted (primary at the old epoch) and is not routed to; it is demoted by the new primary's first push
        // or by the operator, within seconds.
        const servers = yield* dolt.servers
        const top = Math.max(...servers.map((s) => s.epoch))
        assert.strictEqual(servers.filter((s) => s.running && s.role === "primary" && s.epoch === top).length, 1)
        const onePrimary = Effect.map(
          dolt.servers,
          (all) => all.filter((s) => s.running && s.role === "primary").length === 1
        )
        assert.isAtLeast(yield* runUntil(onePrimary, { limitMillis: 10_000 }), 0, "a stale primary stayed primary")
      }).pipe(Effect.provide(inCluster(3))),
    60_000
  )
  it.effect(
    "scale-up 2 → 3: the new pod receives data once the pods that knew only the old peers are restarted",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupDoltDB({ ...admin, replicas: 2 })
        const kube = yield* Kube
        yield* createAppDatabase("db-0")
        yield* kube.mergePatch(rawDoltDBs, "db", { spec: { replicas: 3 } }, { namespace: ns })
        const dolt = yield* DoltModel.DoltCluster
        // Keep writing through db-primary (one write per step); the new pod must end up with the write of the
        // previous step, i.e. be replicated to like any standby.
        let n = 0
        let previous: string | undefined
        const latestOnNewPod = Effect.gen(function* () {
          const onNew = yield* dolt
            .read("db-2.db-internal.default", "app", "k")
            .pipe(Effect.catch(() => Effect.succeed(undefined)))
          const caughtUp = previous !== undefined && onNew === previous
          n++
          const w = yield* dolt.write("db-primary.default.svc.cluster.local", "app", "k", `v${n}`)
          previous = w.outcome === "acked" ? w.value : undefined
          return caughtUp
        })
        const tookScale = yield* runUntil(latestOnNewPod, { limitMillis: 300_000, stepMillis: 500 })
        assert.isAtLeast(tookScale, 0, "db-2 never caught up")
        const status = (yield* get(rawDoltDBs, "db"))?.status as { mesh?: { replicas: number } }
        assert.strictEqual(status.mesh?.replicas, 3)
        assert.isAtLeast(yield* runUntil(ready(rawDoltDBs, "db"), { limitMillis: 120_000 }), 0)
      }).pipe(Effect.provide(inCluster(4))),
    60_000
  )
  it.effect(
    "switchover by editing podIndex under write load with ack-writes on: no acknowledged write lost, the spec untouched",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        yield* setupDoltDB(admin)
        const kube = yield* Kube
        yield* createAppDatabase("db-0")
        const dolt = yield* DoltModel.DoltCluster
        for (const pod of ["db-0", "db-1", "db-2"]) yield* dolt.setAckWritesTimeout(yield* podIP(pod), 10)
        // A client writing every 100 ms through db-primary, concurrently (an ack-writes commit waits for the standbys).
        let n = 0
        yield* Effect.forkChild(
          Effect.forever(
            Effect.andThen(
              Effect.suspend(() => dolt.write("db-primary.default.svc.cluster.local", "app", `k${++n}`, `v${n}`)),
              Effect.sleep(100)
            )
          )
        )
        yield* runUntil(Effect.succeed(false), { limitMillis: 2_000 })
        yield* kube.mergePatch(
          rawDoltDBs,
          "db",
          { spec: { replication: { primary: { podIndex: 2 } } } },
          { namespace: ns }
        )
        const switched = Effect.map(get(rawDoltDBs, "db"), (d) => {
          const s = status(d)
          return s.currentPrimary === "db-2" && s.primaryTransition === undefined
        })
        assert.isAtLeast(yield* runUntil(switched, { limitMillis: 60_000 }), 0, "no switchover")
        yield* runUntil(Effect.succeed(false), { limitMillis: 3_000 })
        const lost = yield* dolt.lostAcknowledgedWrites()
        assert.deepStrictEqual(lost, [], "acknowledged writes lost")
        const ledger = yield* dolt.ledger
        assert.isTrue(ledger.some((w) => w.outcome === "acked" && w.server === "default/db-2"))
        const d = yield* get(rawDoltDBs, "db")
        assert.strictEqual(status(d).replicationEpoch, 2)
        assert.strictEqual(
          ((d?.spec ?? {}) as { replication?: { primary: { podIndex: number } } }).replication?.primary.podIndex,
          2,
          "the spec is the user's request, unchanged"
        )
        assert.isAtLeast(operator.doltCalls.total(["transitionToStandby"]), 1, "graceful drain used")
      }).pipe(Effect.provide(inCluster(5))),
    60_000
  )
  it.effect(
    "1 → 3 with replication enabled, then back to 1: the primary moves to pod 0 before the cluster runs standalone",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupDoltDB({ ...admin, replicas: 1 })
        const kube = yield* Kube
        yield* kube.mergePatch(
          rawDoltDBs,
          "db",
          { spec: { replicas: 3, replication: { enabled: true } } },
          { namespace: ns }
        )
        const replicatedReady = Effect.map(get(rawDoltDBs, "db"), (d) => {
          const s = status(d)
          return (
            condition(d, "Ready")?.status === "True" &&
            s.currentPrimary === "db-0" &&
            Object.keys((s.replicationStatus as object | undefined) ?? {}).length === 3
          )
        })
        const t13 = yield* runUntil(replicatedReady, { limitMillis: 300_000 })
        assert.isAtLeast(t13, 0, "1 → 3 never converged")
        // Move the primary to db-2, then go back to one replica without replication.
        yield* kube.mergePatch(
          rawDoltDBs,
          "db",
          { spec: { replication: { primary: { podIndex: 2 } } } },
          { namespace: ns }
        )
        const onTwo = Effect.map(get(rawDoltDBs, "db"), (d) => status(d).currentPrimary === "db-2")
        assert.isAtLeast(yield* runUntil(onTwo, { limitMillis: 120_000 }), 0, "no switchover to db-2")
        yield* createAppDatabase("db-2")
        const dolt = yield* DoltModel.DoltCluster
        const w = yield* dolt.write("db-primary.default.svc.cluster.local", "app", "last", "written-on-db-2")
        assert.strictEqual(w.outcome, "acked")
        yield* kube.mergePatch(
          rawDoltDBs,
          "db",
          { spec: { replicas: 1, replication: { enabled: false, primary: { podIndex: 0 } } } },
          { namespace: ns }
        )
        const standalone = Effect.gen(function* () {
          const d = yield* get(rawDoltDBs, "db")
          const podsNow = (yield* kube.list(Pods, { namespace: ns })).items
          return (
            condition(d, "Ready")?.status === "True" &&
            podsNow.length === 1 &&
            status(d).replicationStatus === undefined
          )
        })
        const t31 = yield* runUntil(standalone, { limitMillis: 300_000 })
        assert.isAtLeast(t31, 0, "3 → 1 never converged")
        const value = yield* dolt.read("db.default.svc.cluster.local", "app", "last")
        assert.strictEqual(value, "written-on-db-2", "the standalone server lost the last write")
      }).pipe(Effect.provide(inCluster(6))),
    60_000
  )
})
