import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeSimWorld, OperatorEndpoint, podEndpoint } from "../src/sim/SimWorld.ts"

describe("SimWorld", () => {
  it.effect("cuts are directional; cutBoth and heal are symmetric", () =>
    Effect.gen(function* () {
      const w = makeSimWorld()
      const a = podEndpoint("ns", "db-0")
      const b = podEndpoint("ns", "db-1")
      yield* w.cut(a, b)
      assert.isFalse(yield* w.canReach(a, b))
      assert.isTrue(yield* w.canReach(b, a))
      yield* w.cutBoth(a, OperatorEndpoint)
      assert.isFalse(yield* w.canReach(OperatorEndpoint, a))
      yield* w.heal(a, b)
      assert.isTrue(yield* w.canReach(a, b))
      assert.isFalse(yield* w.canReach(a, OperatorEndpoint))
      yield* w.healAll
      assert.isTrue(yield* w.canReach(a, OperatorEndpoint))
    })
  )

  it.effect("isolate cuts an endpoint from everyone except the listed ones", () =>
    Effect.gen(function* () {
      const w = makeSimWorld()
      const a = podEndpoint("ns", "db-0")
      yield* w.isolate(a, [OperatorEndpoint])
      assert.isFalse(yield* w.canReach(a, podEndpoint("ns", "db-9")))
      assert.isFalse(yield* w.canReach(podEndpoint("ns", "db-9"), a))
      assert.isTrue(yield* w.canReach(OperatorEndpoint, a))
      assert.isTrue(yield* w.canReach(a, a))
    })
  )

  it.effect("volumes outlive processes and unknown images get a generic healthy process", () =>
    Effect.gen(function* () {
      const w = makeSimWorld()
      const v = yield* w.volume("pvc-1")
      v.set("role", "primary")
      assert.strictEqual((yield* w.volume("pvc-1")).get("role"), "primary")
      const p = yield* w.startContainer({
        namespace: "ns",
        pod: "x-0",
        podUid: "u",
        podIP: "10.0.0.1",
        container: "c",
        image: "busybox:1",
        command: [],
        args: [],
        workingDir: undefined,
        env: {},
        mounts: {}
      })
      assert.isTrue(yield* p.probe("readiness"))
      assert.isUndefined(yield* p.exitCode)
      yield* p.stop("TERM")
      assert.isFalse(yield* p.probe("liveness"))
      yield* w.deleteVolume("pvc-1")
      assert.deepStrictEqual(yield* w.volumeIds, [])
    })
  )

  it.effect("an init container of an unknown image exits 0 at once", () =>
    Effect.gen(function* () {
      const w = makeSimWorld()
      const p = yield* w.startContainer({
        namespace: "ns",
        pod: "x-0",
        podUid: "u",
        podIP: "10.0.0.1",
        container: "init",
        image: "busybox:1",
        command: ["sh", "-c", "true"],
        args: [],
        workingDir: undefined,
        env: {},
        mounts: {},
        init: true
      })
      assert.strictEqual(yield* p.exitCode, 0)
    })
  )

  it.effect("a registered runtime handles its image repository", () =>
    Effect.gen(function* () {
      const w = makeSimWorld()
      const started: Array<string> = []
      yield* w.registerRuntime("dolthub/dolt", {
        start: (spec) =>
          Effect.sync(() => {
            started.push(spec.pod)
            return {
              probe: () => Effect.succeed(false),
              preStop: Effect.void,
              stop: () => Effect.void,
              exitCode: Effect.succeed(undefined)
            }
          })
      })
      const spec = {
        namespace: "ns",
        pod: "db-0",
        podUid: "u",
        podIP: "10.0.0.1",
        container: "dolt",
        image: "docker.io/dolthub/dolt:1.83.6",
        command: [],
        args: [],
        workingDir: "/db",
        env: {},
        mounts: {}
      }
      const p = yield* w.startContainer(spec)
      assert.deepStrictEqual(started, ["db-0"])
      assert.isFalse(yield* p.probe("readiness"))
    })
  )
})
