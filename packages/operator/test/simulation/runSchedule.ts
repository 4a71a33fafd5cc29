/**
 * Runs one fault schedule against a fresh simulated cluster with the real operator, checking the invariants after
 * every step, and returns the violations and the timeline.
 *
 * A run: boot a 3-replica DoltDB until Ready, create a database, start a client that writes through
 * `db-primary` once a second, play the schedule (waits advance the TestClock in `stepMillis` steps; every other
 * step happens at once), then heal every fault and require convergence within `recoveryMillis`; finally lose the
 * primary's node for good and require a failover to a caught-up standby within the same bound.
 */

import type { DoltDBPlanner } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Events, Kube, Pods, Secrets } from "@doltdb-op/core/services/Kube"
import { OperatorEndpoint, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { DoltModel } from "@doltdb-op/dolt"
import { InMemoryKube, SimCluster, type Verb } from "@doltdb-op/k8s"
import { Clock, Effect, Fiber, Layer, Random, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import * as Invariants from "../../src/simulate/Invariants.ts"
import * as Schedule from "../../src/simulate/Schedule.ts"
import {
  clusterLayer,
  type OperatorHandle,
  runUntil,
  simulationClock,
  startOperator
} from "../../src/simulate/SimulatedCluster.ts"
import * as Timeline from "../../src/simulate/Timeline.ts"
import * as WorldSnapshot from "../../src/simulate/WorldSnapshot.ts"
import * as GuardSteps from "./guardSteps.ts"
import * as Storage from "./storageSteps.ts"

const ns = "default"
const name = "db"
const replicas = 3
const primaryHost = `${name}-primary.${ns}.svc.cluster.local`
const podHost = (pod: string) => `${pod}.${name}-internal.${ns}`
const verbs: ReadonlyArray<Verb> = [
  "get",
  "list",
  "watch",
  "create",
  "replace",
  "apply",
  "patch",
  "patchStatus",
  "delete",
  "event"
]

export interface RunOptions {
  /** Invariants are checked after every step of this much simulated time. */
  readonly stepMillis?: number
  /** After the schedule, every fault is healed and the cluster must converge within this. */
  readonly recoveryMillis?: number
  readonly bounds?: Invariants.Bounds
  /** Replaces the DoltDB planner (the mutation check). */
  readonly planner?: (observed: DoltDBPlanner.DoltDBObserved) => DoltDBPlanner.DoltDBPlan
  /** After recovery, lose the primary's node for good and require a failover within `recoveryMillis` (default on). */
  readonly finalFailover?: boolean
  /** Runs at the end, before the world is torn down (debugging). */
  readonly inspect?: Effect.Effect<void, never, DoltModel.DoltCluster | InMemoryKube>
  /** Keep the timeline (costs memory; off for passing bulk runs). */
  readonly timeline?: boolean
  /** The guard sidecars of schedules with `guardSeconds`: `inert` never acts (the guard's mutation check). */
  readonly guard?: "run" | "inert"
  /** Called as each phase of the run ends, at its simulated time (profiling: bench/scheduleDigest.ts --phases). */
  readonly onPhase?: (phase: Phase, simulatedMillis: number) => void
}

/** A run's phases: boot until Ready, database and client, the schedule, recovery, the final failover. */
export type Phase = "boot" | "workload" | "schedule" | "recovery" | "finalFailover"

/** A step as it ran: when (millis after the workload started) and the pod its target resolved to. */
export interface PlayedStep {
  readonly at: number
  readonly step: Schedule.Step
  readonly pod: string | undefined
}

export interface RunResult {
  readonly violations: ReadonlyArray<Invariants.Violation>
  /** The schedule's steps as played (for a reproducing scenario file). */
  readonly played: ReadonlyArray<PlayedStep>
  readonly timeline: ReadonlyArray<Timeline.TimelineEntry>
  /** Simulated millis the run covered (boot included). */
  readonly simulatedMillis: number
  readonly writes: number
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")

const setup = (guard: object) =>
  Effect.gen(function* () {
    const kube = yield* Kube
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
      spec: { engineVersion: "2.3.1", replicas, storage: { size: "1Gi" }, replication: { enabled: true, ...guard } }
    } as never)
  })

const isReady = Effect.gen(function* () {
  const api = (yield* InMemoryKube).system
  const db = yield* api.get(rawDoltDBs, name, { namespace: ns }).pipe(Effect.orElseSucceed(() => undefined))
  const conditions = ((db?.status as { conditions?: ReadonlyArray<{ type: string; status: string }> } | undefined)
    ?.conditions ?? []) as ReadonlyArray<{ type: string; status: string }>
  return conditions.some((c) => c.type === "Ready" && c.status === "True")
})

const run = (schedule: Schedule.Schedule, options: RunOptions) =>
  Effect.gen(function* () {
    const stepMillis = options.stepMillis ?? 500
    const recoveryMillis = options.recoveryMillis ?? 60_000
    // Recovery is checked at a coarser step (the invariants still hold at every step; 1 s is the liveness resolution).
    const recoveryStepMillis = Math.max(stepMillis, 1_000)
    const sim = yield* SimCluster
    const world = yield* SimWorld
    const server = yield* InMemoryKube
    const dolt = yield* DoltModel.DoltCluster
    const api = server.system
    const operator: OperatorHandle = yield* startOperator(
      options.planner === undefined ? {} : { doltdbPlanner: options.planner }
    )
    const guard = GuardSteps.make({ name, namespace: ns, replicas, thresholdSeconds: schedule.guardSeconds })
    yield* setup(guard.spec)
    const start = (yield* runUntil(isReady, { limitMillis: 300_000, stepMillis: 1_000 })) >= 0
    const startedAt = yield* Clock.currentTimeMillis
    // Not one Effect more without a listener: extra operations could move a fiber's forced yield, and so the run.
    const { onPhase } = options
    const phaseEnds = (phase: Phase) => Effect.map(Clock.currentTimeMillis, (now) => onPhase?.(phase, now))
    if (onPhase !== undefined) yield* phaseEnds("boot")
    if (!start) {
      const snap = yield* WorldSnapshot.snapshot(name, ns)
      return {
        violations: [{ invariant: "NotConverged", at: snap.at, message: "the DoltDB never became Ready" }],
        played: [],
        timeline: [Timeline.entry("boot", snap)],
        simulatedMillis: snap.at,
        writes: 0
      } satisfies RunResult
    }
    // A database to write into, created on the primary and replicated before the faults start.
    const pods = (yield* api.list(Pods, { namespace: ns })).items
    const db0 = pods.find((p) => p.metadata.name === `${name}-0`)
    const sql = yield* Dolt
    yield* sql
      .createDatabase(
        {
          host: ((db0?.status ?? {}) as { podIP: string }).podIP,
          port: 3306,
          user: "admin",
          password: Redacted.make("pw")
        },
        { name: "app" }
      )
      .pipe(Effect.orDie)
    yield* runUntil(Effect.succeed(false), { limitMillis: 2_000, stepMillis: 1_000 })

    // The client: one write a second through db-primary.
    let written = 0
    const client = yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          written++
          yield* dolt.write(primaryHost, "app", `k${written}`, `v${written}`)
          yield* Effect.sleep(1_000)
        })
      )
    )

    if (onPhase !== undefined) yield* phaseEnds("workload")
    const timeline: Array<Timeline.TimelineEntry> = []
    const violations: Array<Invariants.Violation> = []
    let state: Invariants.CheckState | undefined
    let eventsSeen = 0
    const check = (event: string) =>
      Effect.gen(function* () {
        yield* sim.settle
        const snap = yield* WorldSnapshot.snapshot(name, ns)
        const result = Invariants.checkInvariants(snap, state, options.bounds)
        state = result.state
        const found = [...result.violations, ...guard.check(snap)]
        violations.push(...found)
        if (options.timeline === true) {
          // The operator's Kubernetes Events since the last step, as their own lines.
          const events = [...(yield* api.list(Events, { namespace: ns }).pipe(Effect.orDie)).items].sort(
            (a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion)
          )
          for (const e of events.slice(eventsSeen))
            timeline.push(Timeline.entry(`  > ${String(e.reason)}: ${String(e.note)}`, snap))
          eventsSeen = events.length
        }
        if (options.timeline === true || found.length > 0) timeline.push(Timeline.entry(event, snap, found))
        return snap
      })
    const advance = (millis: number, event: string) =>
      Effect.gen(function* () {
        for (let t = 0; t < millis; t += stepMillis) {
          yield* TestClock.adjust(Math.min(stepMillis, millis - t))
          yield* check(event)
        }
      })

    const servers = () => Effect.map(dolt.servers, (all) => all.filter((s) => s.namespace === ns))
    const resolve = (target: Schedule.Target) =>
      Effect.gen(function* () {
        const all = yield* servers()
        if (target === "primary") {
          const top = [...all].filter((s) => s.running && s.role === "primary").sort((a, b) => b.epoch - a.epoch)[0]
          return top?.pod ?? `${name}-0`
        }
        if (target === "standby") return all.find((s) => s.running && s.role === "standby")?.pod ?? `${name}-1`
        return `${name}-${target}`
      }).pipe(Effect.tap((pod) => Effect.sync(() => (lastResolved = pod))))
    const lostNodes = new Set<string>()
    const played: Array<PlayedStep> = []
    let lastResolved: string | undefined
    let edits = 0
    const patch = (body: Record<string, unknown>) =>
      api.mergePatch(rawDoltDBs, name, body, { namespace: ns }).pipe(Effect.ignore)

    const apply = (step: Schedule.Step) =>
      Effect.gen(function* () {
        switch (step._tag) {
          case "Wait":
            return
          case "Crash": {
            const pod = yield* resolve(step.target)
            yield* sim.crashContainer(ns, pod)
            yield* guard.restarted(pod)
            return
          }
          case "DeletePod":
            yield* sim.deletePod(ns, yield* resolve(step.target), step.graceful ? 30 : 0)
            return
          case "NodeLost": {
            const node = sim.nodeOf(ns, yield* resolve(step.target))
            if (node !== undefined && !lostNodes.has(node) && !guard.isIsolated(node)) {
              lostNodes.add(node)
              yield* sim.nodeLost(node)
            }
            return
          }
          case "NodeIsolated": {
            const pod = yield* resolve(step.target)
            const node = sim.nodeOf(ns, pod)
            if (node !== undefined && !lostNodes.has(node)) yield* guard.isolate(pod)
            return
          }
          case "NodesRestored":
            for (const node of lostNodes) yield* sim.nodeRestored(node)
            lostNodes.clear()
            return
          case "Partition": {
            const pod = yield* resolve(step.target)
            const self = `${ns}/${pod}`
            const peers = Array.from({ length: replicas }, (_, i) => `${ns}/${name}-${i}`).filter((e) => e !== self)
            if (step.from === "peers" || step.from === "operatorAndPeers")
              for (const p of peers) yield* world.cutBoth(self, p)
            if (step.from === "operator" || step.from === "operatorAndPeers")
              yield* world.cutBoth(self, OperatorEndpoint)
            if (step.from === "clients") yield* world.cutBoth(self, DoltModel.ClientEndpoint)
            return
          }
          case "Heal":
            yield* world.healAll
            yield* guard.heal
            return
          case "SlowStandby":
            yield* dolt.setReplicationDelay(podHost(yield* resolve(step.target)), step.millis)
            return
          case "AckWrites":
            for (const s of yield* servers())
              yield* Effect.ignore(dolt.setAckWritesTimeout(podHost(s.pod), step.seconds))
            return
          case "OperatorRestart":
            yield* TestClock.adjust(100)
            for (let i = 0; i < step.turns; i++) yield* Effect.yieldNow
            yield* operator.restart
            return
          case "ApiErrors":
            yield* server.setFaults(
              step.rate === 0 ? {} : { errorRate: Object.fromEntries(verbs.map((v) => [v, step.rate])) }
            )
            return
          case "DropWatches":
            yield* server.dropWatches
            return
          case "Switchover":
            yield* patch({ spec: { replication: { primary: { podIndex: step.podIndex } } } })
            return
          case "EditSpec":
            edits++
            if (step.edit === "failoverDelay1s" || step.edit === "failoverDelay10s")
              yield* patch({
                spec: { replication: { primary: { failoverDelay: step.edit === "failoverDelay1s" ? "1s" : "10s" } } }
              })
            else if (step.edit === "podAnnotation")
              yield* patch({ spec: { podAnnotations: { "sim/edit": `${edits}` } } })
            else if (step.edit === "growStorage" || step.edit === "snapshotSchedule") yield* Storage.edit(step.edit)
            else yield* patch({ metadata: { annotations: { "sim/touch": `${edits}` } } })
            return
        }
      })

    yield* check("start")
    for (const step of schedule.steps) {
      lastResolved = undefined
      const at = (yield* Clock.currentTimeMillis) - startedAt
      if (step._tag === "Wait") yield* advance(step.seconds * 1000, Schedule.describeStep(step))
      else {
        yield* apply(step)
        yield* check(Schedule.describeStep(step))
      }
      played.push({ at, step, pod: lastResolved })
    }

    if (onPhase !== undefined) yield* phaseEnds("schedule")
    // Recovery: every fault healed; the cluster must converge within the bound.
    yield* world.healAll
    yield* guard.heal
    for (const node of lostNodes) yield* sim.nodeRestored(node)
    yield* server.setFaults({})
    yield* dolt.setReplicationDelay(undefined, 20)
    const awaitConverged = (first: string, phase: string) =>
      Effect.gen(function* () {
        let reasons: ReadonlyArray<string> = ["not checked"]
        for (let t = 0; t <= recoveryMillis && reasons.length > 0; t += recoveryStepMillis) {
          if (t > 0) yield* TestClock.adjust(recoveryStepMillis)
          const snap = yield* check(t === 0 ? first : phase)
          reasons = Invariants.converged(snap)
        }
        if (reasons.length === 0) return true
        const snap = yield* WorldSnapshot.snapshot(name, ns)
        const v: Invariants.Violation = {
          invariant: "NotConverged",
          at: snap.at,
          message: `${recoveryMillis}ms after ${first}: ${reasons.join("; ")}`
        }
        violations.push(v)
        timeline.push(Timeline.entry(`${phase}: deadline`, snap, [v]))
        return false
      })
    // Then the primary's node dies for good, once the precondition of the liveness guarantee holds: the DoltDB is
    // Ready (every pod ready, no rollout or transition pending; a crash-looping container may take minutes) and a
    // standby on another node is running and caught up (it heard from the primary within 2 s on every database). A
    // standby must then be promoted and routed within the same bound, with no acknowledged write lost.
    const recovered = yield* awaitConverged("heal all", "recovering")
    if (onPhase !== undefined) yield* phaseEnds("recovery")
    if (recovered && options.finalFailover !== false) {
      let eligible: string | undefined
      for (let t = 0; t <= 300_000 && eligible === undefined; t += 1_000) {
        if (t > 0) yield* advance(1_000, "waiting for Ready and a caught-up standby")
        const snap = yield* WorldSnapshot.snapshot(name, ns)
        const top = WorldSnapshot.topPrimaries(snap)
        if (!snap.status?.conditions.Ready?.startsWith("True") || top.length !== 1) continue
        const primaryNode = sim.nodeOf(ns, top[0]!.pod)
        const now = yield* Clock.currentTimeMillis
        // What the operator can know: the verdict it recorded from the primary's report (it polls every 2 s, so a
        // standby that caught up a moment ago may still be recorded as lagging; soak seed 20261231).
        const recorded = yield* (yield* InMemoryKube).system
          .get(rawDoltDBs, name, { namespace: ns })
          .pipe(Effect.orElseSucceed(() => undefined))
        const evidence = (
          recorded?.status as { replicationEvidence?: { standbys?: ReadonlyArray<{ pod: string; caughtUp: boolean }> } }
        )?.replicationEvidence
        for (const s of snap.servers) {
          if (!s.running || s.role !== "standby" || sim.nodeOf(ns, s.pod) === primaryNode) continue
          if (!(evidence?.standbys ?? []).some((e) => e.pod === s.pod && e.caughtUp)) continue
          // Caught up as the planner judges it: the standby heard from the primary (push or heartbeat) lately.
          const rows = (yield* dolt.serverAt(podHost(s.pod)))?.statusRows(now) ?? []
          if (rows.length > 0 && rows.every((r) => r.lastUpdateMillis !== null && now - r.lastUpdateMillis <= 2_000))
            eligible = s.pod
        }
      }
      const primary = yield* resolve("primary")
      const node = sim.nodeOf(ns, primary)
      if (eligible !== undefined && node !== undefined) {
        yield* sim.nodeLost(node)
        yield* awaitConverged(`node of ${primary} lost for good (${eligible} caught up)`, "failing over")
      }
    }
    if (onPhase !== undefined) yield* phaseEnds("finalFailover")
    violations.push(...(yield* Storage.converged(name, ns)))
    const end = yield* Clock.currentTimeMillis
    if (options.inspect !== undefined) yield* options.inspect
    yield* Fiber.interrupt(client)
    yield* operator.stop
    return {
      violations,
      played,
      timeline,
      simulatedMillis: end - startedAt,
      writes: written
    } satisfies RunResult
  })

/** One schedule in a fresh world (cluster, TestClock, randomness seeded by the schedule). */
export const runSchedule = (schedule: Schedule.Schedule, options: RunOptions = {}): Effect.Effect<RunResult> =>
  run(schedule, options).pipe(
    Effect.orDie,
    Effect.scoped,
    Effect.provide(Layer.fresh(clusterLayer({ seed: schedule.seed, guard: options.guard ?? "run" }))),
    Effect.provide(simulationClock),
    Random.withSeed(schedule.seed)
  )
