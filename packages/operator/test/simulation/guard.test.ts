/**
 * The isolation guard in the simulated world: the primary's node is isolated (its kubelet alive, cut off from the
 * API server and the other nodes) while a client inside the partition keeps writing to the primary's pod address,
 * and a finalizer holds the pod object (so, as on a real partitioned node, the operator's delete does not stop the
 * process). With the guard, the old primary stops acknowledging writes within the threshold, the operator promotes
 * a standby once the guard's deadline has passed, and after healing the old server is a standby of the new primary
 * with the same data. With a guard that never acts (the mutation), the invariant catches the late acknowledgements.
 */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, Pods, Secrets } from "@doltdb-op/core/services/Kube"
import { podEndpoint, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { DoltModel } from "@doltdb-op/dolt"
import { InMemoryKube, SimCluster } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { type CutOff, lateAcknowledgements, type Promotion } from "../../src/simulate/GuardInvariant.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"

const ns = "default"
const name = "db"
const thresholdMillis = 5_000
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")
const podHost = (pod: string) => `${pod}.${name}-internal.${ns}`

const readyCondition = Effect.gen(function* () {
  const db = yield* (yield* InMemoryKube).system.get(rawDoltDBs, name, { namespace: ns }).pipe(Effect.option)
  const status = (db._tag === "Some" ? db.value.status : undefined) as
    | { conditions?: ReadonlyArray<{ type: string; status: string }> }
    | undefined
  return status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false
})

interface Outcome {
  readonly late: ReturnType<typeof lateAcknowledgements>
  readonly promotions: ReadonlyArray<Promotion>
  /** Acknowledged by the isolated primary after it was cut off, with their ack times relative to the cut. */
  readonly ackedAfterCut: ReadonlyArray<number>
  readonly oldServerAfterHeal: string
  readonly sameDataAfterHeal: boolean
}

const scenario = Effect.gen(function* () {
  const sim = yield* SimCluster
  const world = yield* SimWorld
  const dolt = yield* DoltModel.DoltCluster
  const kube = yield* Kube
  const api = (yield* InMemoryKube).system
  const operator = yield* startOperator()
  yield* kube.create(Secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `${name}-credentials`, namespace: ns },
    data: { "admin-user": b64("admin"), "admin-password": b64("pw") }
  })
  yield* kube.create(rawDoltDBs, {
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "DoltDB",
    metadata: { name, namespace: ns },
    spec: {
      engineVersion: "2.3.1",
      replicas: 3,
      storage: { size: "1Gi" },
      replication: { enabled: true, guard: { enabled: true, threshold: `${thresholdMillis / 1000}s` } }
    }
  } as never)
  assert.isAtLeast(yield* runUntil(readyCondition, { limitMillis: 300_000, stepMillis: 1_000 }), 0, "Ready")
  const primaryPod = (yield* api.list(Pods, { namespace: ns })).items.find((p) => p.metadata.name === `${name}-0`)!
  const primaryIP = (primaryPod.status as { podIP: string }).podIP
  yield* (yield* Dolt)
    .createDatabase({ host: primaryIP, port: 3306, user: "admin", password: Redacted.make("pw") }, { name: "app" })
    .pipe(Effect.orDie)
  yield* runUntil(Effect.succeed(false), { limitMillis: 3_000, stepMillis: 1_000 })
  // The pod object outlives a delete (a finalizer): the operator cannot make the process stop by deleting it.
  yield* api.mergePatch(Pods, `${name}-0`, { metadata: { finalizers: ["example.com/hold"] } }, { namespace: ns })

  // Cut the primary's node off; a client inside the partition keeps the primary's address.
  const start = yield* Clock.currentTimeMillis
  const node = sim.nodeOf(ns, `${name}-0`)!
  yield* sim.nodeIsolated(node)
  yield* world.isolate(podEndpoint(ns, `${name}-0`), [DoltModel.ClientEndpoint])
  const cutAt = yield* Clock.currentTimeMillis
  let n = 0
  const client = yield* Effect.forkScoped(
    Effect.forever(
      Effect.gen(function* () {
        n++
        yield* dolt.write(podHost(`${name}-0`), "app", `inside-${n}`, `v${n}`)
        yield* Effect.sleep(250)
      })
    )
  )
  // Watch for promotions elsewhere.
  const promotions: Array<Promotion> = []
  for (let t = 0; t < 45_000; t += 250) {
    yield* TestClock.adjust(250)
    yield* sim.settle
    const now = yield* Clock.currentTimeMillis
    for (const s of yield* dolt.servers) {
      const server = `${s.namespace}/${s.pod}`
      if (s.running && s.role === "primary" && s.pod !== `${name}-0` && !promotions.some((p) => p.server === server))
        promotions.push({ server, epoch: s.epoch, at: now })
    }
  }
  yield* Fiber.interrupt(client)
  const ledger = yield* dolt.ledger
  const inside = ledger.filter((e) => e.server === `${ns}/${name}-0` && e.outcome === "acked" && e.startedAt >= cutAt)
  const cutOffs: ReadonlyArray<CutOff> = [{ server: `${ns}/${name}-0`, from: cutAt, until: undefined }]
  const late = lateAcknowledgements(ledger, cutOffs, promotions, thresholdMillis)

  // Heal: the node reconnects; the old server must end up a standby holding the new primary's data.
  yield* sim.nodeRestored(node)
  yield* world.healAll
  yield* api.mergePatch(Pods, `${name}-0`, { metadata: { finalizers: [] } }, { namespace: ns }).pipe(Effect.ignore)
  yield* runUntil(readyCondition, { limitMillis: 120_000, stepMillis: 1_000 })
  yield* runUntil(Effect.succeed(false), { limitMillis: 5_000, stepMillis: 1_000 })
  const servers = yield* dolt.servers
  const old = servers.find((s) => s.pod === `${name}-0` && s.running)
  const top = [...servers].filter((s) => s.running && s.role === "primary").sort((a, b) => b.epoch - a.epoch)[0]
  const keys = ["inside-1", `inside-${n}`]
  const rows = (pod: string) =>
    Effect.forEach(keys, (k) => dolt.read(podHost(pod), "app", k).pipe(Effect.orElseSucceed(() => "unreadable")))
  const sameData =
    top !== undefined && old !== undefined && JSON.stringify(yield* rows(top.pod)) === JSON.stringify(yield* rows(old.pod))
  yield* operator.stop
  return {
    late,
    promotions,
    ackedAfterCut: inside.map((e) => e.finishedAt - cutAt),
    oldServerAfterHeal: old === undefined ? "not running" : `${old.role}@${old.epoch}`,
    sameDataAfterHeal: sameData,
    startedAt: start
  } satisfies Outcome & { startedAt: number }
})

const run = (guard: "run" | "inert") =>
  scenario.pipe(
    Effect.orDie,
    Effect.scoped,
    Effect.provide(Layer.fresh(clusterLayer({ seed: 11, guard }))),
    Effect.provide(TestClock.layer())
  )

describe("isolation guard (simulated)", () => {
  it.effect(
    "a primary cut off from everything but a client stops acknowledging within the threshold; a standby takes over; after healing it is a standby with the new primary's data",
    () =>
      Effect.gen(function* () {
        const o = yield* run("run")
        assert.deepStrictEqual(o.late, [], "no acknowledgement past threshold + slack after the cut")
        assert.isAbove(o.promotions.length, 0, "a standby was promoted although the old pod could not be deleted")
        assert.isTrue(
          o.ackedAfterCut.every((ms) => ms <= thresholdMillis + 4_000),
          `acks after the cut: ${o.ackedAfterCut.join(", ")}`
        )
        assert.match(o.oldServerAfterHeal, /^standby@/u)
        assert.isTrue(o.sameDataAfterHeal, "no divergent history on the old primary")
      }),
    { timeout: 300_000 }
  )

  it.effect(
    "mutation: a guard that never acts lets the old primary acknowledge writes after the promotion, and the invariant says so",
    () =>
      Effect.gen(function* () {
        const o = yield* run("inert")
        assert.isAbove(o.promotions.length, 0)
        assert.isAbove(o.late.length, 0, "the invariant must catch the late acknowledgements")
      }),
    { timeout: 300_000 }
  )
})
