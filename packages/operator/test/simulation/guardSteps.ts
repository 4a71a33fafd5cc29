/**
 * The isolation guard in the fault schedules (a small extension of `runSchedule`, docs/guard.md): a schedule with
 * `guardSeconds` enables the guard at that threshold, and its `NodeIsolated` steps cut a pod's node off from
 * everything (the kubelet lives on, the processes keep running, the API server and the other nodes are out of
 * reach) except a client that keeps writing to the pod's address every 250 ms. A finalizer holds the pod object
 * while the node is isolated: on a real partitioned node a deleted pod's process runs on, while in the simulation a
 * new pod of the same name would replace it (one model server per pod). After every step the guard's
 * invariant is checked: after a promotion, no old primary acknowledges a write more than the threshold after it
 * was cut off (`GuardInvariant.lateAcknowledgements`).
 *
 * Not checked (and so not claimed): a pod whose containers were restarted while cut off (`Crash`): its new guard
 * does not know since when it is cut off and counts from its own start.
 */

import { Pods } from "@doltdb-op/core/services/Kube"
import { podEndpoint, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { DoltModel } from "@doltdb-op/dolt"
import { InMemoryKube, SimCluster } from "@doltdb-op/k8s"
import { Clock, Effect, Fiber } from "effect"
import { type CutOff, lateAcknowledgements, type Promotion } from "../../src/simulate/GuardInvariant.ts"
import type * as Invariants from "../../src/simulate/Invariants.ts"
import type { Snapshot } from "../../src/simulate/WorldSnapshot.ts"

const InsideWriteMillis = 250
const Finalizer = "sim.doltdb.io/isolated"

interface Isolation {
  readonly node: string
  readonly pods: ReadonlyArray<string>
  readonly writers: ReadonlyArray<Fiber.Fiber<unknown>>
}

/** The guard's part of one schedule run (`thresholdSeconds` undefined: no guard, `NodeIsolated` does nothing). */
export const make = (options: {
  readonly name: string
  readonly namespace: string
  readonly replicas: number
  readonly thresholdSeconds: number | undefined
}) => {
  const { name, namespace: ns } = options
  const isolations = new Map<string, Isolation>()
  const cutOffs: Array<{ server: string; from: number; until: number | undefined }> = []
  const promotions: Array<Promotion> = []
  const reported = new Set<number>()
  let inside = 0
  const podHost = (pod: string) => `${pod}.${name}-internal.${ns}`
  const endCutOffs = (server: string, at: number) => {
    for (const c of cutOffs) if (c.server === server && c.until === undefined) c.until = at
  }

  /** The DoltDB spec's `replication.guard` for this schedule. */
  const spec =
    options.thresholdSeconds === undefined
      ? {}
      : { guard: { enabled: true, threshold: `${options.thresholdSeconds}s` } }

  /** Whether the node is isolated by this schedule (a `NodeLost` on it is then a no-op, as in the kubelet). */
  const isIsolated = (node: string) => isolations.has(node)

  const isolate = (pod: string) =>
    Effect.gen(function* () {
      if (options.thresholdSeconds === undefined) return
      const sim = yield* SimCluster
      const world = yield* SimWorld
      const dolt = yield* DoltModel.DoltCluster
      const node = sim.nodeOf(ns, pod)
      if (node === undefined || isolations.has(node)) return
      yield* sim.nodeIsolated(node)
      const pods = Array.from({ length: options.replicas }, (_, i) => `${name}-${i}`).filter(
        (p) => sim.nodeOf(ns, p) === node
      )
      const local = pods.map((p) => podEndpoint(ns, p))
      const at = yield* Clock.currentTimeMillis
      const writers: Array<Fiber.Fiber<unknown>> = []
      const api = (yield* InMemoryKube).system
      for (const p of pods) {
        yield* api.mergePatch(Pods, p, { metadata: { finalizers: [Finalizer] } }, { namespace: ns }).pipe(Effect.ignore)
        // By IP: the process itself, whatever the operator does to its pod object.
        const ip = yield* api.get(Pods, p, { namespace: ns }).pipe(
          Effect.map((o) => (o.status as { podIP?: string } | undefined)?.podIP),
          Effect.orElseSucceed(() => undefined)
        )
        // The client inside the partition still reaches the pod (clients holding its IP, or on its node).
        yield* world.isolate(podEndpoint(ns, p), [...local, DoltModel.ClientEndpoint])
        cutOffs.push({ server: `${ns}/${p}`, from: at, until: undefined })
        writers.push(
          yield* Effect.forkScoped(
            Effect.forever(
              Effect.gen(function* () {
                inside++
                yield* dolt.write(ip ?? podHost(p), "app", `inside-${inside}`, `v${inside}`)
                yield* Effect.sleep(InsideWriteMillis)
              })
            )
          )
        )
      }
      isolations.set(node, { node, pods, writers })
    })

  /** Every isolated node reconnects (the world's cuts are healed by the caller first). */
  const heal = Effect.gen(function* () {
    const sim = yield* SimCluster
    const api = (yield* InMemoryKube).system
    const at = yield* Clock.currentTimeMillis
    for (const iso of isolations.values()) {
      for (const w of iso.writers) yield* Fiber.interrupt(w)
      for (const p of iso.pods) endCutOffs(`${ns}/${p}`, at)
      yield* sim.nodeRestored(iso.node)
      for (const p of iso.pods)
        yield* api.mergePatch(Pods, p, { metadata: { finalizers: [] } }, { namespace: ns }).pipe(Effect.ignore)
    }
    isolations.clear()
  })

  /** A pod's containers were restarted: its guard starts over, so its cut-off is no longer checked. */
  const restarted = (pod: string) => Effect.map(Clock.currentTimeMillis, (at) => endCutOffs(`${ns}/${pod}`, at))

  /** The guard invariant on a snapshot (each late acknowledgement reported once). */
  const check = (snapshot: Snapshot): ReadonlyArray<Invariants.Violation> => {
    for (const s of snapshot.servers)
      if (s.running && s.role === "primary" && !promotions.some((p) => p.server === s.endpoint && p.epoch === s.epoch))
        promotions.push({ server: s.endpoint, epoch: s.epoch, at: snapshot.at })
    if (options.thresholdSeconds === undefined || cutOffs.length === 0) return []
    const late = lateAcknowledgements(
      snapshot.ledger,
      cutOffs as ReadonlyArray<CutOff>,
      promotions,
      options.thresholdSeconds * 1_000
    ).filter((l) => !reported.has(l.id))
    for (const l of late) reported.add(l.id)
    return late.map((l) => ({
      invariant: "GuardLate",
      at: snapshot.at,
      message: `${l.server} (epoch ${l.epoch}) acknowledged write ${l.id} ${l.ackedAt - l.cutOffAt}ms after it was cut off (threshold ${options.thresholdSeconds}s), after ${l.promotion.server} was promoted at epoch ${l.promotion.epoch}`
    }))
  }

  return { spec, isIsolated, isolate, heal, restarted, check }
}
