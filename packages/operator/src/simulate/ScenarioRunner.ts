/**
 * Runs a `Scenario` against the simulated cluster: the real operator on the in-memory API server, simulated
 * controllers, kubelet and Dolt servers, all on a `TestClock`, so a run is deterministic for its seed and takes
 * milliseconds of wall time per simulated second.
 *
 * The run applies the scenario's objects at t=0, then steps simulated time (250 ms steps, every controller settled
 * after each) firing the scenario's events when they are due, and after each step records what a person watching
 * the cluster would see: the DoltDB's primary and epoch, condition changes, the Kubernetes Events the operator
 * emitted, the Dolt servers' roles and epochs, and every client write (through `<doltdb>-primary`, as an
 * application would write). The invariants are checked on every step and at the end.
 */
import { Api } from "@doltdb-op/core"
import type { KubeShape } from "@doltdb-op/core/services/Kube"
import { ApiServerEndpoint, OperatorEndpoint, podEndpoint, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { DoltModel } from "@doltdb-op/dolt"
import { InMemoryKube, SimCluster, type Verb } from "@doltdb-op/k8s"
import { Clock, Effect, Fiber, Layer, References } from "effect"
import { TestClock } from "effect/testing"
import { rawDoltDBs, resourceFor } from "../reconcilers/Resources.ts"
import { makeBackupWatch } from "./BackupWatch.ts"
import { backupObject, durationMillis, PartitionScope, type Scenario, type ScenarioEvent } from "./Scenario.ts"
import { checkedInvariants, type FinalState, makeInvariantMonitor } from "./ScenarioInvariants.ts"
import { describeEvent, jsonMergePatch, resourceOf, stored } from "./ScenarioObjects.ts"
import { makeObserver } from "./ScenarioObserver.ts"
import {
  type PrimaryPeriod,
  type ScenarioReport,
  type TimelineEntry,
  type TimelineKind,
  writeStatistics
} from "./ScenarioReport.ts"
import { clusterLayer, simulationClock, startOperator } from "./SimulatedCluster.ts"

export interface RunOptions {
  /** Overrides the scenario's `seed` (default 1). */
  readonly seed?: number
  /** Simulated time per step (default 250 ms). */
  readonly stepMillis?: number
}

/** A seed's start phase within one 2 s polling period (a multiplicative hash: neighbouring seeds differ a lot). */
export const phaseOf = (seed: number): number => (Math.imul(seed >>> 0, 2654435761) >>> 0) % 2_000

/** The API verbs the operator's client fails on under `apiErrors`. */
const operatorVerbs: ReadonlyArray<Verb> = [
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

/** The run itself; needs the simulated cluster, a TestClock and a scope. */
const simulate = (scenario: Scenario, seed: number, stepMillis: number) =>
  Effect.gen(function* () {
    const server = yield* InMemoryKube
    const kube: KubeShape = server.system
    const sim = yield* SimCluster
    const world = yield* SimWorld
    const dolt = yield* DoltModel.DoltCluster
    const ns = scenario.namespace ?? "default"
    const duration = durationMillis(scenario.duration)
    // `start` is reset once the operator runs (below): scenario times count from there.
    let start = yield* Clock.currentTimeMillis
    const now = Effect.map(Clock.currentTimeMillis, (t) => t - start)
    const timeline: Array<TimelineEntry> = []
    const note = (at: number, kind: TimelineKind, text: string) => timeline.push({ at, kind, text })

    const objects = scenario.objects.map((o) => stored(o, ns))
    const doltdbNames = objects
      .filter((o) => o.apiVersion === Api.ApiVersion && o.kind === "DoltDB")
      .map((o) => o.metadata.name)
    const databaseOf = (doltdb: string) =>
      objects.find(
        (o) =>
          o.apiVersion === Api.ApiVersion &&
          o.kind === "Database" &&
          (o.spec as { doltDBRef?: { name?: string } } | undefined)?.doltDBRef?.name === doltdb
      ) ?? objects.find((o) => o.apiVersion === Api.ApiVersion && o.kind === "Database")
    // A standalone DoltDB has no `<name>-primary`: clients write to its pod through the headless Service.
    const writeHostOf = (doltdb: string) =>
      Effect.gen(function* () {
        const object = yield* kube.get(rawDoltDBs, doltdb, { namespace: ns }).pipe(Effect.option)
        const spec = (object._tag === "Some" ? object.value.spec : undefined) as
          | { replicas?: number; replication?: { enabled?: boolean } }
          | undefined
        const replicated = spec?.replication?.enabled === true && (spec.replicas ?? 1) > 1
        return replicated ? `${doltdb}-primary.${ns}.svc.cluster.local` : `${doltdb}-0.${doltdb}-internal.${ns}`
      })
    const internalHost = (pod: string) => `${pod}.${pod.replace(/-[0-9]+$/u, "")}-internal.${ns}`

    const operator = yield* startOperator()
    // The seed sets the phases a real cluster has: the scenario's clock starts a seed-derived fraction of a 2 s
    // polling period after the operator (so its polling and requeues, the pods' creation, probes and kubelet ticks
    // fall differently against the scenario's events), and the replication jitter (clusterLayer). The same seed
    // gives the same run.
    yield* TestClock.adjust(phaseOf(seed))
    start = yield* Clock.currentTimeMillis
    const monitor = makeInvariantMonitor(ns, doltdbNames, start)
    const backups = makeBackupWatch(ns, (at, text) => note(at, "backup", text))
    for (const object of objects) {
      const res = resourceOf(object)
      if (res === undefined) continue
      yield* kube.create(res, object).pipe(Effect.orDie)
    }
    note(0, "scenario", `applied ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`)

    // ---- the scenario's events ----
    const crashLoops = new Map<string, Fiber.Fiber<unknown>>()
    const lostNodes = new Map<string, string>()
    /** Hosts the scenario's clients wrote through, by DoltDB. */
    const writeHosts = new Map<string, Set<string>>()
    let apiErrorsUntil: number | undefined

    const nodeFor = (value: string) =>
      sim.nodes.includes(value) ? value : (lostNodes.get(value) ?? sim.nodeOf(ns, value))

    const writer = (w: Extract<ScenarioEvent, { writes: unknown }>["writes"], from: number) =>
      Effect.gen(function* () {
        const every = durationMillis(w.every)
        const until = durationMillis(w.until)
        const doltdb = w.doltdb ?? doltdbNames[0]!
        const database = w.database ?? String((databaseOf(doltdb)?.spec as { name?: string } | undefined)?.name)
        const hosts = writeHosts.get(doltdb) ?? new Set<string>()
        writeHosts.set(doltdb, hosts)
        const persisted = new Set<string>()
        for (let n = 0; ; n++) {
          const t = yield* now
          if (t >= until) break
          if (w.ackTimeoutSeconds !== undefined) {
            // SET PERSIST once per server process (a restarted one too): not before every write, which would also
            // undo a SET GLOBAL the operator made (docs/failover.md, ack-writes).
            for (const s of yield* dolt.servers)
              if (s.running && s.pod.startsWith(`${doltdb}-`) && !persisted.has(`${s.pod}#${s.instance}`)) {
                yield* dolt.setAckWritesTimeout(s.ip, w.ackTimeoutSeconds).pipe(Effect.ignore)
                persisted.add(`${s.pod}#${s.instance}`)
              }
          }
          const host = yield* writeHostOf(doltdb)
          hosts.add(host)
          yield* dolt.write(host, database, `k${from}-${n}`, `v${n}`)
          const next = from + (n + 1) * every
          const after = yield* now
          if (next > after) yield* Effect.sleep(next - after)
        }
      })

    const fire = Effect.fnUntraced(function* (event: ScenarioEvent, at: number) {
      if (!("nodeLost" in event)) note(at, "scenario", describeEvent(event))
      if ("kill" in event) return void (yield* sim.crashContainer(ns, event.kill))
      if ("crashLoop" in event) {
        const pod = event.crashLoop
        const loop = Effect.gen(function* () {
          while (true) {
            const server = (yield* dolt.servers).find((s) => s.pod === pod && s.namespace === ns)
            if (server?.running) yield* sim.crashContainer(ns, pod)
            yield* Effect.sleep(500)
          }
        })
        crashLoops.set(pod, yield* Effect.forkScoped(loop))
        return
      }
      if ("deletePod" in event) return yield* sim.deletePod(ns, event.deletePod)
      if ("forceDeletePod" in event) return yield* sim.deletePod(ns, event.forceDeletePod, 0)
      const nodeDown =
        "nodeLost" in event
          ? { action: "nodeLost", value: event.nodeLost, run: sim.nodeLost }
          : "nodePartitioned" in event
            ? { action: "nodePartitioned", value: event.nodePartitioned, run: sim.nodePartitioned }
            : "nodeIsolated" in event
              ? { action: "nodeIsolated", value: event.nodeIsolated, run: sim.nodeIsolated }
              : undefined
      if (nodeDown !== undefined) {
        const node = nodeFor(nodeDown.value)
        note(
          at,
          "scenario",
          `${nodeDown.action} ${nodeDown.value} (${node === undefined ? "runs on no node: nothing happens" : `node ${node}`})`
        )
        if (node === undefined) return
        lostNodes.set(nodeDown.value, node)
        return yield* nodeDown.run(node)
      }
      if ("nodeRestored" in event) {
        const node = nodeFor(event.nodeRestored)
        if (node !== undefined) yield* sim.nodeRestored(node)
        return
      }
      if ("partition" in event) {
        const ep = podEndpoint(ns, event.partition.pod)
        const from = event.partition.from
        const targets = typeof from === "string" ? [from] : from
        const scopes = new Set<string>(targets)
        if (scopes.has("all")) yield* world.isolate(ep)
        else if (scopes.has("peers"))
          // by rule, so pods created later are cut too; the API server is no peer
          yield* world.isolate(ep, [
            ApiServerEndpoint,
            ...(scopes.has("operator") ? [] : [OperatorEndpoint]),
            ...(scopes.has("clients") ? [] : [DoltModel.ClientEndpoint])
          ])
        else {
          if (scopes.has("operator")) yield* world.cutBoth(ep, OperatorEndpoint)
          if (scopes.has("clients")) yield* world.cutBoth(ep, DoltModel.ClientEndpoint)
        }
        for (const target of targets)
          if (!(PartitionScope.literals as ReadonlyArray<string>).includes(target))
            yield* world.cutBoth(ep, podEndpoint(ns, target))
        return
      }
      if ("heal" in event) {
        const ep = podEndpoint(ns, event.heal)
        for (const link of yield* world.cuts)
          if (link.from === ep || link.to === ep) yield* world.heal(link.from, link.to)
        yield* world.heal(ep, ep)
        const loop = crashLoops.get(event.heal)
        crashLoops.delete(event.heal)
        if (loop !== undefined) yield* Fiber.interrupt(loop)
        return
      }
      if ("healAll" in event) {
        yield* world.healAll
        for (const loop of crashLoops.values()) yield* Fiber.interrupt(loop)
        crashLoops.clear()
        return
      }
      if ("slowReplication" in event) {
        const { pod, delay } = event.slowReplication
        return yield* dolt.setReplicationDelay(internalHost(pod), durationMillis(delay))
      }
      if ("writes" in event) {
        yield* Effect.forkScoped(writer(event.writes, at))
        return
      }
      if ("backup" in event) {
        const object = stored(backupObject(event.backup, doltdbNames[0]!, ns), ns)
        yield* kube
          .create(resourceOf(object)!, object)
          .pipe(Effect.catch((e) => Effect.sync(() => note(at, "scenario", `backup refused: ${e.message}`))))
        return
      }
      if ("operatorRestart" in event) return yield* operator.restart
      if ("apiErrors" in event) {
        const rate = event.apiErrors.rate
        yield* server.setFaults(
          rate === 0 ? {} : { errorRate: Object.fromEntries(operatorVerbs.map((v) => [v, rate])) }
        )
        apiErrorsUntil = event.apiErrors.until === undefined ? undefined : durationMillis(event.apiErrors.until)
        return
      }
      if ("patch" in event) {
        const res = resourceFor(Api.ApiVersion, event.patch.kind)
        const info = Api.kinds.find((k) => k.kind === event.patch.kind)
        if (res === undefined || info === undefined) return
        // Validated as the API server would (the CRD's schema and CEL rules are the decoder's): a patch that leaves
        // the object invalid is refused, like `kubectl patch`.
        const current = yield* kube.get(res, event.patch.name, { namespace: ns }).pipe(Effect.option)
        if (current._tag === "Some") {
          const merged = jsonMergePatch(current.value, { spec: event.patch.spec })
          const refused = yield* info.decode(merged).pipe(
            Effect.as(undefined),
            Effect.catch((error) => {
              const issue = error.issues[0]
              return Effect.succeed(issue === undefined ? error.message : `${issue.path}: ${issue.message}`)
            })
          )
          if (refused !== undefined) return note(at, "scenario", `patch refused (as the API server would): ${refused}`)
        }
        yield* kube
          .mergePatch(res, event.patch.name, { spec: event.patch.spec }, { namespace: ns })
          .pipe(Effect.catch((e) => Effect.sync(() => note(at, "scenario", `patch refused: ${e.message}`))))
      }
    })

    // ---- observation ----
    const observer = makeObserver({ kube, ns, doltdbNames, start, note, servers: dolt.servers })
    const observe = Effect.fnUntraced(function* (at: number) {
      yield* observer.observe(at)
      yield* monitor.step()
      yield* backups.step(at)
    })

    // ---- the clock ----
    const pending = scenario.events
      .map((event, index) => ({ event, index, at: durationMillis(event.at) }))
      .sort((a, b) => a.at - b.at || a.index - b.index)
    let next = 0
    yield* sim.settle
    for (let t = 0; ; t += stepMillis) {
      if (apiErrorsUntil !== undefined && t >= apiErrorsUntil) {
        apiErrorsUntil = undefined
        yield* server.setFaults({})
        note(t, "scenario", "apiErrors end")
      }
      while (next < pending.length && pending[next]!.at <= t) {
        const due = pending[next++]!
        yield* fire(due.event, due.at)
      }
      yield* sim.settle
      yield* observe(t)
      if (t >= duration) break
      yield* TestClock.adjust(Math.min(stepMillis, duration - t))
      yield* sim.settle
    }
    const final: ReadonlyArray<FinalState> = yield* monitor.finish()

    // ---- the report ----
    const hosts = new Set([...writeHosts.values()].flatMap((h) => [...h]))
    const ledger = (yield* dolt.ledger).filter((e) => hosts.has(e.host))
    const writes = writeStatistics(ledger, start)
    for (const a of writes.ackedBy)
      note(
        a.at,
        "writes",
        `first write acknowledged by ${a.server.split("/")[1] ?? a.server} at epoch ${a.epoch ?? "?"}`
      )

    timeline.sort((a, b) => a.at - b.at)
    const periods = observer.periods
    const primaries: Array<PrimaryPeriod> = periods.map((p, i) => {
      const later = periods.slice(i + 1).find((q) => q.doltdb === p.doltdb)
      return { ...p, to: later?.from ?? duration }
    })
    const backupEnd = yield* backups.finish()
    const violations = [...monitor.violations(), ...backupEnd.violations].sort((a, b) => a.at - b.at)
    return {
      name: scenario.name,
      seed,
      durationMillis: duration,
      timeline,
      primaries,
      writes: {
        host: hosts.size === 0 ? undefined : [...hosts].join(", "),
        ...writes
      },
      backups: backupEnd.outcomes,
      invariants: { checked: checkedInvariants, violations },
      final: final.map((f) => ({
        doltdb: f.doltdb,
        notConverged: f.notConverged,
        lostUnconfirmed: f.lostUnconfirmed.map((e) => ({
          id: e.id,
          at: e.startedAt - start,
          server: e.server,
          epoch: e.epoch
        }))
      })),
      ok: violations.length === 0
    } satisfies ScenarioReport
  })

/**
 * Runs a decoded scenario in a fresh simulated cluster with its own TestClock; the operator's logs are silenced.
 * Deterministic for a seed.
 */
export const runScenario = (scenario: Scenario, options: RunOptions = {}): Effect.Effect<ScenarioReport> => {
  const seed = options.seed ?? scenario.seed ?? 1
  return Effect.scoped(simulate(scenario, seed, options.stepMillis ?? 250)).pipe(
    Effect.provide(Layer.fresh(clusterLayer({ seed, replicationJitter: "20 millis" }))),
    Effect.provide(simulationClock),
    Effect.provideService(References.MinimumLogLevel, "None")
  )
}
