/**
 * The isolation guard's loop (`doltdb-operator guard`, docs/guard.md): every tick it reads its own pod and its
 * DoltDB through the API server, the role and epoch of the local Dolt server and of every peer, runs the pure
 * decision (`Guard.decide`), and, when told to, demotes the local server with
 * `dolt_cluster_transition_to_standby(epoch, -1)`. It logs when its decision changes, and why it acts.
 *
 * Every read of a tick starts at the tick's start and is bounded by `readTimeout`, so "cut off since" is never
 * later than the truth. The guard never promotes and never writes to the API server: after healing, the server
 * stays a standby and the operator's usual repair takes over.
 */
import { Api, Guard } from "@doltdb-op/core"
import { podHost } from "@doltdb-op/core/builders/Names"
import { Dolt, type DoltTarget } from "@doltdb-op/core/services/Dolt"
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
  readonly settings: Guard.GuardSettings
  readonly tick: Duration.Duration
  readonly readTimeout: Duration.Duration
  /**
   * The peers from the pod's own Dolt config (`cluster.standby_remotes`, the ConfigMap mounted at /etc/doltdb),
   * so a guard that starts while the API server is down still knows them; empty when unreadable.
   */
  readonly readPeers: Effect.Effect<ReadonlyArray<Peer>>
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
}

const bounded = <A, E, R>(config: GuardConfig, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutOption(config.readTimeout), Effect.option, Effect.map(Option.flatten))

const target = (config: GuardConfig, host: string): DoltTarget => ({
  host,
  port: config.doltPort,
  user: config.user,
  password: config.password
})

const answerOf = (config: GuardConfig, host: string) =>
  Effect.gen(function* () {
    const dolt = yield* Dolt
    const r = yield* bounded(config, dolt.roleAndEpoch(target(config, host)))
    return Option.match(r, {
      onNone: (): Guard.ServerAnswer => ({ _tag: "Unreachable" }),
      onSome: (v): Guard.ServerAnswer => ({ _tag: "Answered", role: v.role, epoch: v.epoch })
    })
  })

/** The pod (undefined on 404) and the decoded DoltDB, or `None` when the API server did not answer both. */
const readApi = (config: GuardConfig) =>
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
    const [p, d] = yield* Effect.all([bounded(config, pod), bounded(config, doltdb)], { concurrency: 2 })
    const podRead = Option.flatten(p)
    const doltdbRead = Option.flatten(d)
    return Option.isSome(podRead) && Option.isSome(doltdbRead)
      ? Option.some({ pod: podRead.value, doltdb: doltdbRead.value })
      : Option.none()
  })

/** One tick: observe, decide, act. */
export const tick = (config: GuardConfig, memory: Guard.GuardMemory, cache: GuardCache) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const ordinal = Guard.ordinalOf(config.pod) ?? -1
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
        readApi(config),
        answerOf(config, config.localHost),
        Effect.forEach(
          peers,
          (peer) => answerOf(config, peer.host).pipe(Effect.map((answer) => ({ name: peer.name, answer }))),
          { concurrency: "unbounded" }
        )
      ],
      { concurrency: 3 }
    )
    const doltdb = Option.match(api, { onNone: () => cache.doltdb, onSome: (a) => a.doltdb })
    const observation: Guard.GuardObservation = {
      now,
      local,
      api: Option.match(api, {
        onNone: (): Guard.ApiAnswer => ({ _tag: "Unreachable" }),
        onSome: (a) => Guard.apiAnswerOf(a.pod, config.podUid, a.doltdb, ordinal)
      }),
      peers: answers
    }
    const settings = doltdb === undefined ? config.settings : Guard.guardSettingsOf(doltdb)
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
    return { result, cache: { doltdb } satisfies GuardCache }
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
      const elapsed = (yield* Clock.currentTimeMillis) - started
      yield* Effect.sleep(Duration.millis(Math.max(0, Duration.toMillis(config.tick) - elapsed)))
    }
  })
