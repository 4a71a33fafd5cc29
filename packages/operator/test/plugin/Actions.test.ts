/**
 * The plugin's commands against the real operator running on the in-memory cluster (simulated time): status of a
 * converged DoltDB, switchover (and switching back after a failover, when podIndex already names the target),
 * rolling restart, backup following, logs.
 */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Pods } from "@doltdb-op/core/services/Kube"
import { SimCluster } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Console, type Duration, Effect, Exit, Fiber, Layer, Redacted } from "effect"
import { TestClock } from "effect/testing"
import * as Actions from "../../src/plugin/Actions.ts"
import { inspect, rawBackups } from "../../src/plugin/Inspect.ts"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { createDoltDB } from "../inmemory/fixtures.ts"
import { backupObject, layer, ns } from "./fixtures.ts"

/** Console output captured line by line. */
const captured = () => {
  const lines: Array<string> = []
  const push = (...args: ReadonlyArray<unknown>) => {
    lines.push(args.map(String).join(" "))
  }
  const console = { ...globalThis.console, log: push, error: push } as unknown as Console.Console
  return { lines, provide: <A, E, R>(e: Effect.Effect<A, E, R>) => Effect.provideService(e, Console.Console, console) }
}

/** A 3-replica DoltDB (admin user root), run until the plugin's own inspection reports it Healthy. */
const setupReady = Effect.gen(function* () {
  yield* createDoltDB({ namespace: ns, adminUser: "root" })
  const ready = Effect.map(
    inspect(ns, "db", { queryServers: false, serverTimeout: "1 second", maxEvents: 1 }),
    (r) => r.state === "Healthy"
  )
  assert.isAtLeast(yield* runUntil(ready, { limitMillis: 300_000 }), 0, "the DoltDB never became Ready")
})

/** Fork `command`, advance simulated time until it ends; its exit. */
const runCommand = <A, E, R>(command: Effect.Effect<A, E, R>, limitMillis: number) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(command)
    const ended = Effect.sync(() => fiber.pollUnsafe() !== undefined)
    yield* runUntil(ended, { limitMillis, stepMillis: 250 })
    return yield* Fiber.await(fiber)
  })

const follow = (timeout: Duration.Input): Actions.FollowOptions => ({ timeout, interval: "500 millis", wait: true })
const inCluster = (seed: number) => Layer.fresh(clusterLayer({ seed }))

describe("kubectl doltdb against the operator (in memory)", () => {
  it.effect(
    "status of a converged DoltDB: every server reachable, standbys' lag reported by the primary",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupReady
        // dolt_cluster_status has a row per user database and standby: create one and let it replicate.
        const kube = yield* Kube
        const pod = yield* kube.get(Pods, "db-0", { namespace: ns })
        const host = (pod.status as { podIP: string }).podIP
        yield* (yield* Dolt).createDatabase(
          { host, port: 3306, user: "root", password: Redacted.make("pw") },
          { name: "app" }
        )
        yield* runUntil(Effect.succeed(false), { limitMillis: 3_000 })
        const report = yield* inspect(ns, "db")
        assert.strictEqual(report.state, "Healthy")
        assert.strictEqual(report.primary?.pod, "db-0")
        assert.deepStrictEqual(
          report.pods.map((p) => (p.server.reachable ? `${p.server.role}@${p.server.epoch}` : "unreachable")),
          ["primary@1", "standby@1", "standby@1"]
        )
        assert.isDefined(report.pods[1]!.lagMillis, "the primary reports db-1's lag")
        assert.isUndefined(report.pods[0]!.lagMillis)
      }).pipe(Effect.provide(inCluster(11))),
    60_000
  )

  it.effect(
    "switchover --to 1 follows the transition to the end; switching back after a failover re-arms the request",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupReady
        const out = captured()
        const exit = yield* runCommand(out.provide(Actions.switchover(ns, "db", 1, follow("60 seconds"))), 90_000)
        assert.isTrue(Exit.isSuccess(exit), `switchover failed: ${String(exit)}`)
        assert.strictEqual((yield* inspect(ns, "db")).primary?.pod, "db-1")
        assert.include(out.lines[0]!, "switchover to db-1 requested")
        assert.match(out.lines.at(-1)!, /^db-1 is the primary \(\d+\.\ds\)$/)

        // A second request for the same pod is a no-op.
        const again = captured()
        yield* again.provide(Actions.switchover(ns, "db", 1, follow("5 seconds")))
        assert.deepStrictEqual(again.lines, ["db-1 is already the primary"])

        // Lose db-1's node: the operator fails over; podIndex still says 1, so switching back re-arms the request.
        const sim = yield* SimCluster
        yield* sim.nodeLost(sim.nodeOf(ns, "db-1")!)
        const movedAway = Effect.map(
          inspect(ns, "db", { queryServers: false, serverTimeout: "1 second", maxEvents: 1 }),
          (r) => r.primary !== undefined && r.primary.pod !== "db-1" && r.state === "Healthy"
        )
        assert.isAtLeast(yield* runUntil(movedAway, { limitMillis: 180_000 }), 0, "no failover away from db-1")
        const back = captured()
        const exitBack = yield* runCommand(
          back.provide(Actions.switchover(ns, "db", 1, follow("120 seconds"))),
          150_000
        )
        assert.isTrue(Exit.isSuccess(exitBack), `switch back failed: ${back.lines.join("\n")}`)
        assert.strictEqual((yield* inspect(ns, "db")).primary?.pod, "db-1")
      }).pipe(Effect.provide(inCluster(12))),
    120_000
  )

  it.effect(
    "switchover refuses an index out of range, naming the range",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupReady
        const error = yield* Effect.flip(Actions.switchover(ns, "db", 3, follow("5 seconds")))
        assert.strictEqual(error.message, "--to 3 is out of range: db has pods 0..2")
        const missing = yield* Effect.flip(Actions.switchover(ns, "nope", 1, follow("5 seconds")))
        assert.strictEqual(missing.message, "DoltDB default/nope not found")
      }).pipe(Effect.provide(inCluster(13))),
    60_000
  )

  it.effect(
    "restart rolls every pod (standbys first, primary last) through the pod-template annotation",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupReady
        const kube = yield* Kube
        const before = yield* kube.list(Pods, { namespace: ns, labelSelector: "app.kubernetes.io/name=db" })
        const out = captured()
        const exit = yield* runCommand(out.provide(Actions.restart(ns, "db", follow("10 minutes"))), 600_000)
        assert.isTrue(Exit.isSuccess(exit), `restart failed: ${out.lines.join("\n")}`)
        const after = yield* kube.list(Pods, { namespace: ns, labelSelector: "app.kubernetes.io/name=db" })
        const uid = (items: ReadonlyArray<KubeObject>, name: string) =>
          items.find((p) => p.metadata.name === name)?.metadata.uid
        for (const name of ["db-0", "db-1", "db-2"])
          assert.notStrictEqual(uid(after.items, name), uid(before.items, name), `${name} was not restarted`)
        const order = out.lines
          .filter((l) => l.endsWith("restarted") && l.includes("db-"))
          .map((l) => l.trim().split(/\s+/)[1])
        assert.strictEqual(order.at(-1), "db-0", `the primary restarts last: ${order.join(", ")}`)
        const doltdb = yield* kube.get(rawDoltDBs, "db", { namespace: ns })
        const annotations = (doltdb.spec as { podAnnotations?: Record<string, string> }).podAnnotations ?? {}
        assert.isDefined(annotations[Actions.RestartedAtAnnotation])
      }).pipe(Effect.provide(inCluster(14))),
    120_000
  )
})

describe("kubectl doltdb backup", () => {
  const doltdb = Effect.flatMap(Kube, (kube) =>
    kube.create(rawDoltDBs, {
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "DoltDB",
      metadata: { name: "db", namespace: ns },
      spec: { engineVersion: "2.3.1", replicas: 1, storage: { size: "1Gi" } }
    } as unknown as KubeObject)
  )
  /** Plays the Backup controller: Running, then `final`. */
  const controller = (name: string, final: Record<string, unknown>) =>
    Effect.gen(function* () {
      const kube = yield* Kube
      yield* TestClock.adjust(1_000)
      yield* kube.patchStatus(rawBackups, name, { phase: "Running" }, { namespace: ns })
      yield* TestClock.adjust(2_000)
      yield* kube.patchStatus(rawBackups, name, final, { namespace: ns })
      yield* TestClock.adjust(1_000)
    })
  const request = { name: "b1", schedule: undefined, storage: { local: { path: "/backups" } }, databases: ["app"] }

  it.effect("creates a Backup and follows it until Completed", () =>
    Effect.gen(function* () {
      yield* doltdb
      const out = captured()
      const fiber = yield* Effect.forkChild(out.provide(Actions.backup(ns, "db", request, follow("1 minute"))))
      yield* controller("b1", { phase: "Completed" })
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(
        out.lines.map((l) => l.trim().replace(/^\d+\.\ds\s+/, "")),
        ["Backup default/b1 created", "Pending", "Running", "Completed", "Backup b1 Completed"]
      )
      const created = yield* Effect.flatMap(Kube, (kube) => kube.get(rawBackups, "b1", { namespace: ns }))
      assert.deepStrictEqual(created.spec, {
        doltDBRef: { name: "db" },
        storage: { local: { path: "/backups" } },
        databases: ["app"]
      })
    }).pipe(Effect.provide(layer(new Map())))
  )

  it.effect("a failed Backup is an error carrying its message; storage can come from a BackupSchedule", () =>
    Effect.gen(function* () {
      yield* doltdb
      yield* backupObject("unused", {})
      const kube = yield* Kube
      yield* kube.create({ ...rawBackups, kind: "BackupSchedule", plural: "backupschedules" }, {
        apiVersion: "k8s.dolthub.com/v1alpha",
        kind: "BackupSchedule",
        metadata: { name: "nightly", namespace: ns },
        spec: { doltDBRef: { name: "db" }, schedule: "@daily", storage: { local: { path: "/nightly" } } }
      } as unknown as KubeObject)
      const out = captured()
      const fromSchedule = { name: "b2", schedule: "nightly", storage: undefined, databases: [] }
      const fiber = yield* Effect.forkChild(out.provide(Actions.backup(ns, "db", fromSchedule, follow("1 minute"))))
      yield* controller("b2", { phase: "Failed", error: "access denied" })
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error.message, "Backup b2 failed: access denied")
      const created = yield* kube.get(rawBackups, "b2", { namespace: ns })
      assert.deepStrictEqual((created.spec as { storage: unknown }).storage, { local: { path: "/nightly" } })
      const none = yield* Effect.flip(
        Actions.backup(
          ns,
          "db",
          { name: "b3", schedule: undefined, storage: undefined, databases: [] },
          follow("1 minute")
        )
      )
      assert.include(none.message, "no storage")
    }).pipe(Effect.provide(layer(new Map())))
  )
})
