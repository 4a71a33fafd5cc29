import { Guard } from "@doltdb-op/core"
import { Dolt, type DoltShape, DoltUnreachable, RoleAndEpoch } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeShape, NotFound, Unavailable } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { parse } from "yaml"
import * as GuardLoop from "../../src/guard/GuardLoop.ts"

interface World {
  api: boolean
  /** Reads to what is cut off hang (dropped packets) instead of failing at once. */
  hang?: boolean
  /** When each demotion call reached the server (simulated millis). */
  demotedAt?: Array<number>
  pod: "present" | "gone"
  servers: Map<string, { role: "primary" | "standby"; epoch: number } | "down">
  demotions: Array<string>
}

const doltdb = {
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "DoltDB",
  metadata: { name: "db", namespace: "ns", uid: "d1" },
  spec: {
    engineVersion: "1.86.4",
    replicas: 3,
    storage: { size: "1Gi" },
    replication: { enabled: true, guard: { enabled: true, threshold: "3s" } }
  },
  status: { currentPrimaryPodIndex: 0, replicationEpoch: 2 }
}

const layers = (w: World) => {
  const unavailable = new Unavailable({ verb: "get", kind: "Pod", message: "cut off" })
  const kube = {
    get: (res: { kind: string }, name: string) => {
      if (!w.api) return w.hang === true ? Effect.never : Effect.fail(unavailable)
      if (res.kind === "Pod")
        return w.pod === "gone"
          ? Effect.fail(new NotFound({ verb: "get", kind: "Pod", name, message: `pods "${name}" not found` }))
          : Effect.succeed({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "ns", uid: "u0" } })
      return Effect.succeed(doltdb)
    }
  } as unknown as KubeShape
  const server = (host: string) => w.servers.get(host) ?? "down"
  const dolt = {
    roleAndEpoch: (t: { host: string }) => {
      const s = server(t.host)
      if (s !== "down") return Effect.succeed(new RoleAndEpoch({ role: s.role, epoch: s.epoch }))
      return w.hang === true
        ? Effect.never
        : Effect.fail(new DoltUnreachable({ host: t.host, op: "roleAndEpoch", message: "timeout" }))
    },
    transitionToStandby: (t: { host: string }, epoch: number, min: number) =>
      Effect.gen(function* () {
        w.demotedAt?.push(yield* Clock.currentTimeMillis)
        w.demotions.push(`${t.host}@${epoch}/${min}`)
        w.servers.set(t.host, { role: "standby", epoch })
        return []
      })
  } as unknown as DoltShape
  return Layer.mergeAll(Layer.succeed(Kube, kube), Layer.succeed(Dolt, dolt))
}

const config: GuardLoop.GuardConfig = {
  namespace: "ns",
  doltdb: "db",
  pod: "db-0",
  podUid: "u0",
  doltPort: 3306,
  localHost: "127.0.0.1",
  user: "root",
  password: Redacted.make(""),
  settings: { thresholdMillis: 5_000, demotionMillis: 500 },
  readPeers: Effect.succeed([])
}

const world = (over: Partial<World> = {}): World => ({
  api: true,
  pod: "present",
  servers: new Map([
    ["127.0.0.1", { role: "primary", epoch: 2 }],
    ["db-1.db-internal.ns", { role: "standby", epoch: 2 }],
    ["db-2.db-internal.ns", { role: "standby", epoch: 2 }]
  ]),
  demotions: [],
  ...over
})

/** Ticks once a second for `seconds`; returns every decision tag. */
const ticks = (w: World, seconds: number, c: GuardLoop.GuardConfig = config) =>
  Effect.gen(function* () {
    let memory = { lastContactAt: 0 }
    let cache: GuardLoop.GuardCache = { doltdb: undefined }
    const tags: Array<string> = []
    for (let i = 0; i <= seconds; i++) {
      const r = yield* GuardLoop.tick(c, memory, cache).pipe(Effect.provide(layers(w)))
      memory = r.result.memory
      cache = r.cache
      tags.push(r.result.decision._tag)
      yield* TestClock.adjust("1 second")
    }
    return tags
  })

describe("guard loop", () => {
  it.effect("connected primary: serves, reads the peers of its DoltDB", () =>
    Effect.gen(function* () {
      const w = world()
      // The first tick learns the DoltDB (and so the peers, when the pod's config does not list them).
      const first = yield* GuardLoop.tick(config, { lastContactAt: 0 }, { doltdb: undefined }).pipe(
        Effect.provide(layers(w))
      )
      const r = yield* GuardLoop.tick(config, first.result.memory, first.cache).pipe(Effect.provide(layers(w)))
      assert.strictEqual(r.result.decision._tag, "Serve")
      assert.deepStrictEqual(
        r.result.observation.peers.map((p) => p.name),
        ["db-1", "db-2"]
      )
      assert.deepStrictEqual(w.demotions, [])
    })
  )

  it.effect("cut off from the API server and the peers: demotes after the DoltDB's threshold (3 s)", () =>
    Effect.gen(function* () {
      const w = world()
      // One connected tick (learns the DoltDB), then the node is cut off.
      const first = yield* ticks(w, 0)
      w.api = false
      w.servers.set("db-1.db-internal.ns", "down")
      w.servers.set("db-2.db-internal.ns", "down")
      const rest = yield* ticks(w, 5)
      assert.deepStrictEqual(first, ["Serve"])
      assert.include(rest, "Demote")
      assert.deepStrictEqual(w.demotions, ["127.0.0.1@3/-1"])
      // Afterwards the server is a standby: idle, no second demotion.
      assert.strictEqual(rest[rest.length - 1], "Idle")
    })
  )

  it.effect("the API server down but the peers answer: keeps serving, peers known from its Dolt config", () =>
    Effect.gen(function* () {
      // Started during the API outage: only the pod's own config tells it the peers.
      const w = world({ api: false })
      const peers = GuardLoop.peersOfConfig(
        parse(
          [
            "cluster:",
            "  standby_remotes:",
            "  - name: db-1",
            "    remote_url_template: http://db-1.db-internal.ns:50051/{database}",
            "  - name: db-2",
            "    remote_url_template: http://db-2.db-internal.ns:50051/{database}"
          ].join("\n")
        )
      )
      assert.deepStrictEqual(peers, [
        { name: "db-1", host: "db-1.db-internal.ns" },
        { name: "db-2", host: "db-2.db-internal.ns" }
      ])
      const tags = yield* ticks(w, 20, { ...config, readPeers: Effect.succeed(peers) })
      assert.deepStrictEqual([...new Set(tags)], ["Serve"])
      assert.deepStrictEqual(w.demotions, [])
      // Without the config (nor a DoltDB read), it could not tell: it would count itself cut off.
      const blind = yield* ticks(world({ api: false }), 6)
      assert.include(blind, "Demote")
    })
  )

  it.effect("its pod deleted (404): demotes at once", () =>
    Effect.gen(function* () {
      const w = world({ pod: "gone" })
      const tags = yield* ticks(w, 0)
      assert.deepStrictEqual(tags, ["Demote"])
      assert.deepStrictEqual(w.demotions, ["127.0.0.1@3/-1"])
    })
  )

  // The loop itself (GuardLoop.run) on the DoltDB's threshold (3 s: tick 600 ms, reads 1.2 s, acting 300 ms early):
  // cut off at various moments after a tick, the demotion call reaches the server by the threshold after the cut,
  // whether the reads to what is cut off hang until their timeout or fail at once.
  for (const hang of [true, false])
    for (const cutAfter of [0, 100, 350, 590])
      it.effect(
        `the demotion starts by threshold - demotionMillis after the last contact (${hang ? "reads hang" : "reads fail at once"}, cut ${cutAfter} ms after a tick)`,
        () =>
          Effect.gen(function* () {
            const w = world({ hang, demotedAt: [] })
            const { demotionMillis, tickMillis } = Guard.guardTiming(3_000)
            const fiber = yield* Effect.forkChild(GuardLoop.run(config).pipe(Effect.provide(layers(w))))
            // Connected for a while (ticks at 0, 600, ... 3000), then cut `cutAfter` ms after the tick at 3000.
            yield* TestClock.adjust(3_000 + cutAfter)
            const cutAt = yield* Clock.currentTimeMillis
            w.api = false
            w.servers.set("db-1.db-internal.ns", "down")
            w.servers.set("db-2.db-internal.ns", "down")
            for (let i = 0; i < 200; i++) yield* TestClock.adjust(50)
            yield* Fiber.interrupt(fiber)
            assert.strictEqual(w.demotedAt?.length, 1, `demotions: ${w.demotions.join(", ")}`)
            const after = w.demotedAt![0]! - cutAt
            // The last contact was the tick at 3000, so at most one tick before the cut.
            assert.isAtMost(after, 3_000 - demotionMillis, `demoted ${after} ms after the cut`)
            assert.isAtLeast(after, 3_000 - demotionMillis - tickMillis, `demoted ${after} ms after the cut`)
          })
      )
})
