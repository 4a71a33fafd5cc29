/**
 * The isolation guard's loop (`doltdb-operator guard`, docs/guard.md): every tick it reads its own pod and its
 * DoltDB through the API server, the role and epoch of the local Dolt server and of every peer, runs the pure
 * decision (`Guard.decide`), and, when told to, demotes the local server with
 * `dolt_cluster_transition_to_standby(epoch, -1)`. It logs when its decision changes, and why it acts.
 *
 * Timing (docs/guard.md, "Timing"): the tick, the bound on every read and how early to act all derive from the
 * threshold (`Guard.guardTiming`). Every read of a tick starts at the tick's start, so "cut off since" is never
 * later than the truth. Once a primary is cut off, the reads to the API server and the peers, and the sleep between
 * ticks, never run past the moment it must act (`Guard.actDeadline`): the demotion call starts by
 * `threshold - demotionMillis` after the last contact, and the server is read-only by the threshold. The guard never
 * promotes and never writes to the API server: after healing, the server stays a standby and the operator's usual
 * repair takes over.
 */
import { Api, Guard } from "@doltdb-op/core"
import { podHost } from "@doltdb-op/core/builders/Names"
import { Dolt, type DoltTarget, type DoltTls } from "@doltdb-op/core/services/Dolt"
import { Kube } from "@doltdb-op/core/services/Kube"
import { Pods } from "@doltdb-op/core/services/kube/Resource"
import { Clock, Duration, Effect, Option, type Redacted } from "effect"
import { rawDoltDBs } from "../reconcilers/Resources.ts"

export interface GuardConfig {
  readonly namespace: string
  readonly doltdb: string
  readonly pod: string
  /** The pod's uid (downward API): a pod object with another uid means this one was replaced. */
  readonly podUid: string
  readonly doltPort: number
  /** How the guard reaches its own server: loopback in a pod (the simulation dials the pod's IP). */
  readonly localHost: string
  readonly user: string
  readonly password: Redacted.Redacted<string>
  /** Until the DoltDB is read (then its `spec.replication.guard.threshold`). */
  readonly settings: Guard.GuardSettings
  /**
   * The peers from the pod's own Dolt config (`cluster.standby_remotes`, the ConfigMap mounted at /etc/doltdb),
   * so a guard that starts while the API server is down still knows them; empty when unreadable.
   */
  readonly readPeers: Effect.Effect<ReadonlyArray<Peer>>
  /** TLS to every server (`spec.tls`): the CA and the name the DoltDB's certificates carry. */
  readonly tls?: DoltTls | undefined
}

export interface Peer {
  readonly name: string
  readonly host: string
}

/** `cluster.standby_remotes` of a Dolt sql-server config (parsed YAML): each remote's name and host. */
export const peersOfConfig = (config: unknown): ReadonlyArray<Peer> => {
  const cluster = (config as { cluster?: { standby_remotes?: unknown } } | null)?.cluster
  const remotes = Array.isArray(cluster?.standby_remotes) ? cluster.standby_remotes : []
  return remotes.flatMap((r: { name?: unknown; remote_url_template?: unknown }) => {
    const template = typeof r.remote_url_template === "string" ? r.remote_url_template : ""
    const url = template.replaceAll("{database}", "db")
    return typeof r.name === "string" && URL.canParse(url) ? [{ name: r.name, host: new URL(url).hostname }] : []
  })
}

/** What a tick saw and decided (the loop logs it; tests inspect it). */
export interface TickResult {
  readonly observation: Guard.GuardObservation
  readonly decision: Guard.GuardDecision
  readonly memory: Guard.GuardMemory
  /** The demotion's outcome when the decision was to demote. */
  readonly demotion?: { readonly _tag: "Done" } | { readonly _tag: "Failed"; readonly message: string }
}

export interface GuardCache {
  /** The last DoltDB read (peers and the threshold survive an API outage). */
  readonly doltdb: Api.DoltDB | undefined
  /** The last tick found this primary cut off (it holds, or its demotion failed): reads are bounded by the deadline. */
  readonly isolated?: boolean
}

/** The shortest read of the last tick before the deadline (every earlier read of the window failed already). */
const LastReadMillis = 50

const bounded = <A, E, R>(millis: number, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutOption(Duration.millis(millis)), Effect.option, Effect.map(Option.flatten))

const target = (config: GuardConfig, host: string): DoltTarget => ({
  host,
  port: config.doltPort,
  user: config.user,
  password: config.password,
  ...(config.tls === undefined ? {} : { tls: config.tls })
})

const answerOf = (config: GuardConfig, host: string, millis: number) =>
  Effect.gen(function* () {
    const dolt = yield* Dolt
    const r = yield* bounded(millis, dolt.roleAndEpoch(target(config, host)))
    return Option.match(r, {
      onNone: (): Guard.ServerAnswer => ({ _tag: "Unreachable" }),
      onSome: (v): Guard.ServerAnswer => ({ _tag: "Answered", role: v.role, epoch: v.epoch })
    })
  })

/** The pod (undefined on 404) and the decoded DoltDB, or `None` when the API server did not answer both. */
const readApi = (config: GuardConfig, millis: number) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    const pod = kube.get(Pods, config.pod, { namespace: config.namespace }).pipe(
      Effect.map((p) => Option.some(p as Guard.OwnPod | undefined)),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.some(undefined))),
      Effect.orElseSucceed(() => Option.none<Guard.OwnPod | undefined>())
    )
    const doltdb = kube.get(rawDoltDBs, config.doltdb, { namespace: config.namespace }).pipe(
      Effect.flatMap((raw) => Api.decodeDoltDB(raw)),
      Effect.map(Option.some),
      Effect.orElseSucceed(() => Option.none<Api.DoltDB>())
    )
    const [p, d] = yield* Effect.all([bounded(millis, pod), bounded(millis, doltdb)], { concurrency: 2 })
    const podRead = Option.flatten(p)
    const doltdbRead = Option.flatten(d)
    return Option.isSome(podRead) && Option.isSome(doltdbRead)
      ? Option.some({ pod: podRead.value, doltdb: doltdbRead.value })
      : Option.none()
  })

const settingsOf = (config: GuardConfig, doltdb: Api.DoltDB | undefined) =>
  doltdb === undefined ? config.settings : Guard.guardSettingsOf(doltdb)

/** One tick: observe, decide, act. */
export const tick = (config: GuardConfig, memory: Guard.GuardMemory, cache: GuardCache) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const ordinal = Guard.ordinalOf(config.pod) ?? -1
    const probeMillis = Guard.guardTiming(settingsOf(config, cache.doltdb).thresholdMillis).probeTimeoutMillis
    // A primary already cut off must act by its deadline: the remote reads may not run past it. (The local read is
    // not bounded by it: the decision needs the local role, and localhost answers at once.)
    const remoteMillis =
      cache.isolated === true
        ? Math.min(
            Math.max(Guard.actDeadline(memory, settingsOf(config, cache.doltdb)) - now, LastReadMillis),
            probeMillis
          )
        : probeMillis
    // Every read of the tick runs at once, so a tick is bounded by one read timeout. The peers come from the pod's
    // own Dolt config, else from the DoltDB read on an earlier tick.
    const configured = yield* config.readPeers
    const peers: ReadonlyArray<Peer> =
      configured.length > 0 || cache.doltdb === undefined
        ? configured
        : Guard.peerNames(cache.doltdb, config.pod).map((name) => ({
            name,
            host: podHost(config.doltdb, config.namespace, Guard.ordinalOf(name) ?? 0)
          }))
    const [api, local, answers] = yield* Effect.all(
      [
        readApi(config, remoteMillis),
        answerOf(config, config.localHost, probeMillis),
        Effect.forEach(
          peers,
          (peer) =>
            answerOf(config, peer.host, remoteMillis).pipe(Effect.map((answer) => ({ name: peer.name, answer }))),
          { concurrency: "unbounded" }
        )
      ],
      { concurrency: 3 }
    )
    const doltdb = Option.match(api, { onNone: () => cache.doltdb, onSome: (a) => a.doltdb })
    const observation: Guard.GuardObservation = {
      now,
      at: yield* Clock.currentTimeMillis,
      local,
      api: Option.match(api, {
        onNone: (): Guard.ApiAnswer => ({ _tag: "Unreachable" }),
        onSome: (a) => Guard.apiAnswerOf(a.pod, config.podUid, a.doltdb, ordinal)
      }),
      peers: answers
    }
    const settings = settingsOf(config, doltdb)
    const { memory: next, decision } = Guard.decide(memory, observation, settings)
    const base = { observation, decision, memory: next }
    const result: TickResult =
      decision._tag === "Demote"
        ? {
            ...base,
            demotion: yield* (yield* Dolt)
              .transitionToStandby(target(config, config.localHost), decision.epoch, -1)
              .pipe(
                Effect.as({ _tag: "Done" } as const),
                Effect.catch((e) => Effect.succeed({ _tag: "Failed", message: e.message } as const))
              )
          }
        : base
    const isolated =
      decision._tag === "Hold" ||
      (decision._tag === "Demote" && result.demotion?._tag === "Failed" && observation.api._tag === "Unreachable")
    return { result, cache: { doltdb, isolated } satisfies GuardCache }
  })

const summary = (o: Guard.GuardObservation) => ({
  local: o.local._tag === "Answered" ? `${o.local.role}@${o.local.epoch}` : "unreachable",
  api: o.api._tag === "Reachable" ? `reachable (pod ${o.api.pod.toLowerCase()})` : "unreachable",
  peers: o.peers.map(
    (p) => `${p.name}=${p.answer._tag === "Answered" ? `${p.answer.role}@${p.answer.epoch}` : "unreachable"}`
  )
})

/** Runs ticks forever; logs each change of decision and every demotion with its reason. */
export const run = (config: GuardConfig) =>
  Effect.gen(function* () {
    const startedAt = yield* Clock.currentTimeMillis
    let memory = Guard.initialMemory(startedAt)
    let cache: GuardCache = { doltdb: undefined }
    let lastLogged = ""
    yield* Effect.logInfo("isolation guard started", {
      pod: `${config.namespace}/${config.pod}`,
      doltdb: config.doltdb,
      thresholdMillis: config.settings.thresholdMillis
    })
    while (true) {
      const started = yield* Clock.currentTimeMillis
      const { result, cache: nextCache } = yield* tick(config, memory, cache)
      memory = result.memory
      cache = nextCache
      const d = result.decision
      const key = d._tag === "Hold" ? "Hold" : `${d._tag}:${d.reason}`
      if (d._tag === "Demote") {
        yield* Effect.logWarning(`demoting the local server to standby at epoch ${d.epoch}: ${d.reason}`, {
          ...summary(result.observation),
          outcome: result.demotion?._tag === "Failed" ? `failed: ${result.demotion.message}` : "done"
        })
      } else if (key !== lastLogged) {
        const log = d._tag === "Hold" ? Effect.logWarning : Effect.logInfo
        yield* log(`${d._tag.toLowerCase()}: ${d.reason}`, summary(result.observation))
      }
      lastLogged = key
      // The next tick after one period, or at the deadline when a cut-off primary must act before that.
      const settings = settingsOf(config, cache.doltdb)
      const period = started + Guard.guardTiming(settings.thresholdMillis).tickMillis
      const next = cache.isolated === true ? Math.min(period, Guard.actDeadline(memory, settings)) : period
      yield* Effect.sleep(Duration.millis(Math.max(0, next - (yield* Clock.currentTimeMillis))))
    }
  })
