/**
 * The isolation guard in the simulated world: the primary's node is isolated (its kubelet alive, cut off from the
 * API server and the other nodes) while a client inside the partition keeps writing to the primary's pod address,
 * and a finalizer holds the pod object (so, as on a real partitioned node, the operator's delete does not stop the
 * process). With the guard, the old primary stops acknowledging writes within the threshold, the operator promotes
 * a standby once the guard's deadline has passed, and after healing the old server is a standby of the new primary
 * with the same data. With a guard that never acts (the mutation), the invariant catches the late acknowledgements.
 */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Pods } from "@doltdb-op/core/services/Kube"
import { podEndpoint, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { DoltModel } from "@doltdb-op/dolt"
import { InMemoryKube, SimCluster } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Clock, Effect, Fiber, Layer, Random, Redacted, Schema } from "effect"
import { TestClock } from "effect/testing"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { type CutOff, lateAcknowledgements, type Promotion } from "../../src/simulate/GuardInvariant.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { setupDoltDB } from "../inmemory/fixtures.ts"

const ns = "default"
const name = "db"

const int = (minimum: number, maximum: number) =>
  Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum, maximum }))

/** One isolation of the primary's node, with the knobs that move its timing. */
export const GuardCase = Schema.Struct({
  seed: int(0, 1_000_000),
  thresholdSeconds: int(1, 10),
  failoverDelaySeconds: int(1, 8),
  /** The pod object outlives the operator's delete (a finalizer), so only the guard can stop the process. */
  finalizer: Schema.Boolean,
  /** How long the node stays isolated. */
  isolatedSeconds: int(3, 45),
  writeEveryMillis: Schema.Literals([100, 250, 1_000]),
  /** `dolt_cluster_ack_writes_timeout_secs` on every server (0 = asynchronous). */
  ackSeconds: int(0, 2)
})
export type GuardCase = typeof GuardCase.Type

const baseCase: GuardCase = {
  seed: 11,
  thresholdSeconds: 5,
  failoverDelaySeconds: 3,
  finalizer: true,
  isolatedSeconds: 45,
  writeEveryMillis: 250,
  ackSeconds: 0
}
const podHost = (pod: string) => `${pod}.${name}-internal.${ns}`

interface Outcome {
  readonly late: ReturnType<typeof lateAcknowledgements>
  readonly promotions: ReadonlyArray<Promotion>
  /** Acknowledged by the isolated primary after it was cut off, with their ack times relative to the cut. */
  readonly ackedAfterCut: ReadonlyArray<number>
  readonly oldServerAfterHeal: string
  readonly sameDataAfterHeal: boolean
}

const scenario = (c: GuardCase) =>
  Effect.gen(function* () {
    const thresholdMillis = c.thresholdSeconds * 1_000
    const sim = yield* SimCluster
    const world = yield* SimWorld
    const dolt = yield* DoltModel.DoltCluster
    const api = (yield* InMemoryKube).system
    const operator = yield* startOperator()
    yield* setupDoltDB(
      {
        name,
        namespace: ns,
        spec: {
          replication: {
            enabled: true,
            primary: { failoverDelay: `${c.failoverDelaySeconds}s` },
            guard: { enabled: true, threshold: `${c.thresholdSeconds}s` }
          }
        }
      },
      { stepMillis: 1_000 }
    )
    const primaryPod = (yield* api.list(Pods, { namespace: ns })).items.find((p) => p.metadata.name === `${name}-0`)!
    const primaryIP = (primaryPod.status as { podIP: string }).podIP
    yield* (yield* Dolt)
      .createDatabase({ host: primaryIP, port: 3306, user: "admin", password: Redacted.make("pw") }, { name: "app" })
      .pipe(Effect.orDie)
    if (c.ackSeconds > 0)
      for (const s of yield* dolt.servers)
        yield* dolt.setAckWritesTimeout(podHost(s.pod), c.ackSeconds).pipe(Effect.ignore)
    yield* runUntil(Effect.succeed(false), { limitMillis: 3_000, stepMillis: 1_000 })
    // The pod object outlives a delete (a finalizer): the operator cannot make the process stop by deleting it.
    if (c.finalizer)
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
          yield* Effect.sleep(c.writeEveryMillis)
        })
      )
    )
    // Watch for promotions elsewhere.
    const promotions: Array<Promotion> = []
    for (let t = 0; t < c.isolatedSeconds * 1_000; t += 250) {
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
    // Converged: one running primary, the one the status names (a demoted primary is failed over after the delay).
    const onePrimary = Effect.gen(function* () {
      const primaries = (yield* dolt.servers).filter((s) => s.running && s.role === "primary")
      const db = yield* api.get(rawDoltDBs, name, { namespace: ns }).pipe(Effect.option)
      const status = (db._tag === "Some" ? db.value.status : undefined) as { currentPrimary?: string } | undefined
      return primaries.length === 1 && primaries[0]!.pod === status?.currentPrimary
    })
    // A demotion in flight still reports role primary (read-only) for Dolt's 10 s wait: let it finish first.
    yield* runUntil(Effect.succeed(false), { limitMillis: 12_000, stepMillis: 1_000 })
    yield* runUntil(onePrimary, { limitMillis: 120_000, stepMillis: 1_000 })
    yield* runUntil(Effect.succeed(false), { limitMillis: 5_000, stepMillis: 1_000 })
    const servers = yield* dolt.servers
    const old = servers.find((s) => s.pod === `${name}-0` && s.running)
    const top = [...servers].filter((s) => s.running && s.role === "primary").sort((a, b) => b.epoch - a.epoch)[0]
    const keys = ["inside-1", `inside-${n}`]
    const rows = (pod: string) =>
      Effect.forEach(keys, (k) => dolt.read(podHost(pod), "app", k).pipe(Effect.orElseSucceed(() => "unreadable")))
    const sameData =
      top !== undefined &&
      old !== undefined &&
      JSON.stringify(yield* rows(top.pod)) === JSON.stringify(yield* rows(old.pod))
    yield* operator.stop
    return {
      late,
      promotions,
      ackedAfterCut: inside.map((e) => e.finishedAt - cutAt),
      oldServerAfterHeal: old === undefined ? "not running" : `${old.role}@${old.epoch}`,
      sameDataAfterHeal: sameData,
      startedAt: start,
      cutAt
    } satisfies Outcome & { startedAt: number; cutAt: number }
  })

const run = (c: GuardCase, guard: "run" | "inert" = "run") =>
  scenario(c).pipe(
    Effect.orDie,
    Effect.scoped,
    Effect.provide(Layer.fresh(clusterLayer({ seed: c.seed, guard }))),
    Effect.provide(TestClock.layer()),
    Random.withSeed(c.seed)
  )

/** What must hold for every case: no late acknowledgement; after healing, one primary and no divergence. */
const holds = (o: Outcome) =>
  o.late.length === 0 && /^(standby|primary)@/u.test(o.oldServerAfterHeal) && o.sameDataAfterHeal

describe("isolation guard (simulated)", () => {
  it.effect(
    "a primary cut off from everything but a client stops acknowledging within the threshold; a standby takes over; after healing it is a standby with the new primary's data",
    () =>
      Effect.gen(function* () {
        const o = yield* run(baseCase)
        assert.deepStrictEqual(o.late, [], "no acknowledgement past the threshold after the cut")
        assert.isAbove(o.promotions.length, 0, "a standby was promoted although the old pod could not be deleted")
        const last = Math.max(...o.ackedAfterCut)
        console.log(
          `simulated guard: last write acknowledged by the isolated primary ${last} ms after the cut (threshold ${baseCase.thresholdSeconds} s); first promotion ${o.promotions[0]!.at - o.cutAt} ms after the cut`
        )
        assert.isBelow(last, baseCase.thresholdSeconds * 1_000, `acks after the cut: ${o.ackedAfterCut.join(", ")}`)
        assert.match(o.oldServerAfterHeal, /^standby@/u)
        assert.isTrue(o.sameDataAfterHeal, "no divergent history on the old primary")
      }),
    { timeout: 300_000 }
  )

  it.effect(
    "mutation: a guard that never acts lets the old primary acknowledge writes after the promotion, and the invariant says so",
    () =>
      Effect.gen(function* () {
        const o = yield* run(baseCase, "inert")
        assert.isAbove(o.promotions.length, 0)
        assert.isAbove(o.late.length, 0, "the invariant must catch the late acknowledgements")
      }),
    { timeout: 300_000 }
  )

  const runs = Number(process.env.DOLTDB_GUARD_RUNS ?? 6)
  it.effect(
    `property: random thresholds, failover delays, isolation lengths, write rates, ack-writes and finalizers (${runs} cases)`,
    () =>
      Effect.gen(function* () {
        const result = yield* Arbitrary.checkEffect(Arbitrary.schema(GuardCase), (c) => Effect.map(run(c), holds), {
          runs,
          seed: Number(process.env.DOLTDB_SIM_SEED ?? 20261206),
          maxShrinks: 20
        })
        if (result._tag === "Falsified") {
          const o = yield* run(result.shrunkInput)
          assert.fail(`guard invariant violated for ${JSON.stringify(result.shrunkInput)}: ${JSON.stringify(o)}`)
        }
        assert.strictEqual(result._tag, "Passed")
      }),
    { timeout: Math.max(300_000, runs * 60_000) }
  )
})
