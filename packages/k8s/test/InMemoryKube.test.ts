import {
  ConfigMaps,
  formatMicroTime,
  Kube,
  type KubeObject,
  type Lease,
  Leases,
  resource
} from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import { InMemoryKube } from "../src/memory/InMemoryKube.ts"

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "ns" },
  data
})

const tagOf = <A, E extends { _tag: string }>(effect: Effect.Effect<A, E>) =>
  effect.pipe(
    Effect.flip,
    Effect.map((e) => e._tag)
  )

describe("InMemoryKube", () => {
  it.effect("a watch resumed from a compacted resourceVersion fails with Gone", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const server = yield* InMemoryKube
      const first = yield* kube.create(ConfigMaps, cm("a"))
      yield* kube.mergePatch(ConfigMaps, "a", { data: { x: "1" } }, { namespace: "ns" })
      yield* server.compact
      const tag = yield* tagOf(
        kube
          .watch(ConfigMaps, { namespace: "ns", resourceVersion: first.metadata.resourceVersion! })
          .pipe(Stream.runDrain)
      )
      assert.strictEqual(tag, "Gone")
    }).pipe(Effect.provide(InMemoryKube.layer()))
  )

  it.effect("the event window compacts old events by itself", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const first = yield* kube.create(ConfigMaps, cm("a"))
      for (let i = 0; i < 30; i++)
        yield* kube.mergePatch(ConfigMaps, "a", { data: { i: String(i) } }, { namespace: "ns" })
      const tag = yield* tagOf(
        kube
          .watch(ConfigMaps, { namespace: "ns", resourceVersion: first.metadata.resourceVersion! })
          .pipe(Stream.runDrain)
      )
      assert.strictEqual(tag, "Gone")
    }).pipe(Effect.provide(InMemoryKube.layer({ eventWindow: 5 })))
  )

  it.effect("injected errors follow the per-verb rate and are reproducible from the seed", () =>
    Effect.gen(function* () {
      const outcomes = (seed: number) =>
        Effect.gen(function* () {
          const kube = yield* Kube
          const server = yield* InMemoryKube
          yield* server.system.create(ConfigMaps, cm("a"))
          yield* server.setFaults({ errorRate: { get: 0.5 } })
          const results: Array<string> = []
          for (let i = 0; i < 40; i++) {
            results.push(
              yield* kube.get(ConfigMaps, "a", { namespace: "ns" }).pipe(
                Effect.as("ok"),
                Effect.catchTag("Unavailable", () => Effect.succeed("fail"))
              )
            )
          }
          // other verbs are untouched; the fault-free client is never affected
          yield* kube.list(ConfigMaps, { namespace: "ns" })
          yield* server.setFaults({ errorRate: { get: 1 } })
          yield* server.system.get(ConfigMaps, "a", { namespace: "ns" })
          return results.join(",")
        }).pipe(Effect.provide(InMemoryKube.layer({ seed })))
      const a = yield* outcomes(42)
      assert.strictEqual(a, yield* outcomes(42))
      const failures = a.split(",").filter((r) => r === "fail").length
      assert.isAbove(failures, 5)
      assert.isBelow(failures, 35)
      assert.notStrictEqual(a, yield* outcomes(43))
    })
  )

  it.effect("latency is virtual time: a call completes only when the clock moves", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const server = yield* InMemoryKube
      yield* server.setFaults({ latency: "2 seconds" })
      const fiber = yield* kube.create(ConfigMaps, cm("slow")).pipe(Effect.forkChild)
      yield* TestClock.adjust("1 second")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 second")
      const created = yield* Fiber.join(fiber)
      assert.strictEqual(created.metadata.creationTimestamp, "1970-01-01T00:00:02Z")
    }).pipe(Effect.provide(InMemoryKube.layer()))
  )

  it.effect("the informer survives watch drops, 410 on resume and list failures, and converges", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const server = yield* InMemoryKube
      yield* server.setFaults({ watchDropRate: 0.3, goneOnResumeRate: 0.3, errorRate: { list: 0.3, watch: 0.2 } })
      const seen = new Map<string, string>()
      let syncs = 0
      yield* kube.informer(ConfigMaps, { namespace: "ns", backoff: { min: "100 millis", max: "1 second" } }).pipe(
        Stream.runForEach((e) =>
          Effect.sync(() => {
            if (e.type === "SYNC") {
              syncs++
              seen.clear()
              for (const o of e.items) seen.set(o.metadata.name, (o.data as { v?: string }).v ?? "")
            } else if (e.type === "DELETED") seen.delete(e.object.metadata.name)
            else seen.set(e.object.metadata.name, (e.object.data as { v?: string }).v ?? "")
          })
        ),
        Effect.forkChild
      )
      for (let i = 0; i < 40; i++) {
        const name = `cm-${i % 7}`
        yield* server.system
          .apply(
            ConfigMaps,
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns" }, data: { v: String(i) } },
            { fieldManager: "test" }
          )
          .pipe(Effect.asVoid)
        if (i % 5 === 4) yield* server.system.delete(ConfigMaps, `cm-${i % 3}`, { namespace: "ns" }).pipe(Effect.ignore)
        yield* TestClock.adjust("300 millis")
      }
      yield* server.setFaults({})
      yield* TestClock.adjust("5 seconds")
      const truth = yield* server.system.list(ConfigMaps, { namespace: "ns" })
      assert.deepStrictEqual(
        Object.fromEntries([...seen.entries()].sort()),
        Object.fromEntries(truth.items.map((o) => [o.metadata.name, (o.data as { v: string }).v]).sort())
      )
      assert.isAbove(syncs, 1)
    }).pipe(Effect.provide(InMemoryKube.layer({ seed: 3 })))
  )

  it.effect("typed kinds decode through their schema: Lease get/create/update with optimistic concurrency", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const lease: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "doltdb-operator", namespace: "ops" },
        spec: { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: formatMicroTime(0), leaseTransitions: 0 }
      }
      const created = yield* kube.create(Leases, lease)
      assert.strictEqual(created.spec?.renewTime, "1970-01-01T00:00:00.000000Z")
      const renewed = yield* kube.replace(Leases, {
        ...created,
        spec: { ...created.spec, renewTime: formatMicroTime(1500) }
      })
      assert.strictEqual(renewed.spec?.renewTime, "1970-01-01T00:00:01.500000Z")
      // a second candidate writing from the stale copy loses
      assert.strictEqual(
        yield* tagOf(kube.replace(Leases, { ...created, spec: { ...created.spec, holderIdentity: "b" } })),
        "Conflict"
      )
      const got = yield* kube.get(Leases, "doltdb-operator", { namespace: "ops" })
      assert.strictEqual(got.spec?.holderIdentity, "a")
    }).pipe(Effect.provide(InMemoryKube.layer()))
  )

  it.effect("an object that does not decode is skipped by lists and watches, and fails a get", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const untyped = resource({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        plural: "leases",
        namespaced: true
      })
      const lease = (name: string, duration: unknown) => ({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace: "ops" },
        spec: { leaseDurationSeconds: duration }
      })
      const start = yield* kube.create(untyped, lease("good", 15))
      yield* kube.create(untyped, lease("bad", "fifteen"))
      yield* kube.create(untyped, lease("good-2", 10))
      const listed = yield* kube.list(Leases, { namespace: "ops" })
      assert.deepStrictEqual(
        listed.items.map((l) => l.metadata.name),
        ["good", "good-2"]
      )
      const events = yield* kube
        .watch(Leases, { namespace: "ops", resourceVersion: start.metadata.resourceVersion! })
        .pipe(Stream.take(1), Stream.runCollect)
      assert.deepStrictEqual(
        events.map((e) => e.object.metadata.name),
        ["good-2"]
      )
      const error = yield* kube.get(Leases, "bad", { namespace: "ops" }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "Invalid")
      assert.include(error.message, "leaseDurationSeconds")
    }).pipe(Effect.provide(InMemoryKube.layer()))
  )

  it.effect("a no-op write is not a write (no new resourceVersion, no event)", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const server = yield* InMemoryKube
      const applied = yield* kube.apply(
        ConfigMaps,
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "same", namespace: "ns" }, data: { a: "1" } },
        { fieldManager: "op" }
      )
      const rv = server.state.resourceVersion
      const again = yield* kube.apply(
        ConfigMaps,
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "same", namespace: "ns" }, data: { a: "1" } },
        { fieldManager: "op" }
      )
      yield* kube.mergePatch(ConfigMaps, "same", { data: { a: "1" } }, { namespace: "ns", fieldManager: "op" })
      assert.strictEqual(again.metadata.resourceVersion, applied.metadata.resourceVersion)
      assert.strictEqual(server.state.resourceVersion, rv)
    }).pipe(Effect.provide(InMemoryKube.layer()))
  )

  it.effect("managedFields are tracked per manager and operation", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const server = yield* InMemoryKube
      yield* kube.apply(
        ConfigMaps,
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "mf", namespace: "ns", labels: { app: "db" } },
          data: { a: "1" }
        },
        { fieldManager: "op" }
      )
      yield* kube.mergePatch(ConfigMaps, "mf", { data: { b: "2" } }, { namespace: "ns", fieldManager: "kubectl" })
      assert.deepStrictEqual(server.state.managedFields(ConfigMaps, "ns", "mf"), [
        { manager: "op", operation: "Apply", subresource: "main", fields: [".data.a", ".metadata.labels.app"] },
        { manager: "kubectl", operation: "Update", subresource: "main", fields: [".data.b"] }
      ])
    }).pipe(Effect.provide(InMemoryKube.layer()))
  )

  it.effect("bad input names the field", () =>
    Effect.gen(function* () {
      const kube = yield* Kube
      const noNs = yield* kube.create(ConfigMaps, { ...cm("x"), metadata: { name: "x" } }).pipe(Effect.flip)
      assert.include(noNs.message, "metadata.namespace")
      const badSelector = yield* kube.list(ConfigMaps, { namespace: "ns", labelSelector: "a in (b" }).pipe(Effect.flip)
      assert.strictEqual(badSelector._tag, "Invalid")
      assert.include(badSelector.message, "a in (b")
      const wrongKind = yield* kube.create(ConfigMaps, { ...cm("y"), kind: "Secret" }).pipe(Effect.flip)
      assert.include(wrongKind.message, "apiVersion/kind")
      const badLease = yield* kube
        .create(Leases, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: "l", namespace: "ops" },
          spec: { leaseDurationSeconds: "15" }
        } as never)
        .pipe(Effect.flip)
      assert.strictEqual(badLease._tag, "Invalid")
      assert.include(badLease.message, "leaseDurationSeconds")
    }).pipe(Effect.provide(InMemoryKube.layer()))
  )
})
