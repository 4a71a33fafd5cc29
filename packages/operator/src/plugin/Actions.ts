/**
 * The plugin's write commands: each makes one change through the API server and then follows what the operator
 * does about it until done or a timeout, printing one line per step. Nothing here talks to a sql-server: the
 * operator carries out the change (fencing, draining, rollout order), the plugin only asks and watches.
 *
 * - switchover: `spec.replication.primary.podIndex` (the operator's switchover trigger, edge-triggered on
 *   `status.primaryRequest`); when podIndex already names the target (a failover moved the primary away from it),
 *   the request is re-armed by clearing `status.primaryRequest`, as `kubectl cnpg promote` writes status.
 * - restart: a `k8s.dolthub.com/restartedAt` pod annotation (`spec.podAnnotations`), so the pod template changes
 *   and the operator rolls the pods as every rollout: standbys first, one at a time, then a switchover.
 * - backup: a Backup object, followed through its phase.
 */
import { Builders } from "@doltdb-op/core"
import { Kube, type KubeObject, Pods } from "@doltdb-op/core/services/Kube"
import { Clock, Console, Data, Duration, Effect } from "effect"
import { rawDoltDBs } from "../reconcilers/Resources.ts"
import { rawBackups } from "./Inspect.ts"

/** A user-facing failure: printed as `error: <message>`, exit code 1 (no stack trace). */
export class PluginError extends Data.TaggedError("PluginError")<{ readonly message: string }> {}

export const RestartedAtAnnotation = "k8s.dolthub.com/restartedAt"

type Raw = Readonly<Record<string, unknown>>
const rec = (v: unknown): Raw => (typeof v === "object" && v !== null ? (v as Raw) : {})

export interface FollowOptions {
  readonly timeout: Duration.Input
  /** Between two reads of the objects followed. */
  readonly interval: Duration.Input
  /** Make the change and return without following it. */
  readonly wait: boolean
}

const readyCondition = (doltdb: KubeObject) =>
  ((rec(doltdb.status).conditions ?? []) as ReadonlyArray<Raw>).find((c) => c.type === "Ready")

const getDoltDB = (namespace: string, name: string) =>
  Effect.flatMap(Kube, (kube) => kube.get(rawDoltDBs, name, { namespace })).pipe(
    Effect.catchTag("NotFound", () =>
      Effect.fail(new PluginError({ message: `DoltDB ${namespace}/${name} not found` }))
    )
  )

/**
 * Poll `step` every `interval` until it returns a result; fails with `PluginError(timedOut())` after `timeout`.
 * `step` may print progress; it sees the elapsed millis.
 */
const follow = <A, E, R>(
  options: FollowOptions,
  step: (elapsedMillis: number) => Effect.Effect<A | undefined, E, R>,
  timedOut: () => string
): Effect.Effect<A, E | PluginError, R> =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const limit = Duration.toMillis(Duration.fromInputUnsafe(options.timeout))
    while (true) {
      const elapsed = (yield* Clock.currentTimeMillis) - start
      const done = yield* step(elapsed)
      if (done !== undefined) return done
      if (elapsed >= limit) return yield* new PluginError({ message: timedOut() })
      yield* Effect.sleep(options.interval)
    }
  })

const secs = (millis: number) => `${(millis / 1000).toFixed(1)}s`

/** `kubectl doltdb switchover <name> --to N`. */
export const switchover = Effect.fn("Plugin.switchover")(function* (
  namespace: string,
  name: string,
  to: number,
  options: FollowOptions
) {
  const kube = yield* Kube
  const doltdb = yield* getDoltDB(namespace, name)
  const spec = rec(doltdb.spec)
  const replicas = Number(spec.replicas ?? 0)
  const replication = rec(spec.replication)
  if (replication.enabled !== true || replicas < 2)
    return yield* new PluginError({ message: `DoltDB ${namespace}/${name} is not replicated: there is no standby` })
  if (!Number.isInteger(to) || to < 0 || to >= replicas)
    return yield* new PluginError({ message: `--to ${to} is out of range: ${name} has pods 0..${replicas - 1}` })
  const status = rec(doltdb.status)
  const target = Builders.podName(name, to)
  if (status.currentPrimaryPodIndex === to && status.primaryTransition === undefined) {
    yield* Console.log(`${target} is already the primary`)
    return
  }
  const podIndex = rec(replication.primary).podIndex ?? 0
  if (podIndex === to) {
    // podIndex already says `to` (the primary moved away in a failover): re-arm the request.
    yield* kube.patchStatus(rawDoltDBs, name, { primaryRequest: null }, { namespace })
  } else {
    yield* kube.mergePatch(rawDoltDBs, name, { spec: { replication: { primary: { podIndex: to } } } }, { namespace })
  }
  yield* Console.log(`switchover to ${target} requested (from ${status.currentPrimary ?? "no primary"})`)
  if (!options.wait) return
  let last = ""
  const took = yield* follow(
    options,
    (elapsed) =>
      Effect.gen(function* () {
        const now = yield* getDoltDB(namespace, name)
        const s = rec(now.status)
        const t = rec(s.primaryTransition)
        const ready = readyCondition(now)
        const line =
          t.kind !== undefined
            ? `${t.kind} ${name}-${t.from} -> ${name}-${t.to} at epoch ${t.epoch}`
            : `primary ${s.currentPrimary ?? "none"}, Ready ${ready?.status ?? "Unknown"} ${ready?.reason ?? ""}`.trim()
        if (line !== last) yield* Console.log(`  ${secs(elapsed).padStart(6)}  ${line}`)
        last = line
        if (ready?.status === "False" && String(ready.reason).endsWith("Blocked"))
          return yield* new PluginError({ message: `switchover blocked: ${ready.reason}: ${ready.message}` })
        return s.currentPrimaryPodIndex === to && t.kind === undefined ? elapsed : undefined
      }),
    () =>
      `switchover to ${target} did not complete within ${Duration.format(Duration.fromInputUnsafe(options.timeout))} (last: ${last})`
  )
  yield* Console.log(`${target} is the primary (${secs(took)})`)
})

/** `kubectl doltdb restart <name>`. */
export const restart = Effect.fn("Plugin.restart")(function* (namespace: string, name: string, options: FollowOptions) {
  const kube = yield* Kube
  yield* getDoltDB(namespace, name)
  const now = yield* Clock.currentTimeMillis
  const before = yield* kube.list(Pods, { namespace, labelSelector: `${Builders.NameLabel}=${name}` })
  const uids = new Map(before.items.map((p) => [p.metadata.name, p.metadata.uid] as const))
  yield* kube.mergePatch(
    rawDoltDBs,
    name,
    { spec: { podAnnotations: { [RestartedAtAnnotation]: new Date(now).toISOString() } } },
    { namespace }
  )
  yield* Console.log(`rolling restart of ${name} requested (${uids.size} pods; standbys first, primary last)`)
  if (!options.wait) return
  const restarted = new Set<string>()
  const took = yield* follow(
    options,
    (elapsed) =>
      Effect.gen(function* () {
        const doltdb = yield* getDoltDB(namespace, name)
        const pods = yield* kube.list(Pods, { namespace, labelSelector: `${Builders.NameLabel}=${name}` })
        for (const p of pods.items)
          if (
            uids.has(p.metadata.name) &&
            p.metadata.uid !== uids.get(p.metadata.name) &&
            !restarted.has(p.metadata.name)
          ) {
            restarted.add(p.metadata.name)
            yield* Console.log(`  ${secs(elapsed).padStart(6)}  ${p.metadata.name} restarted`)
          }
        const ready = readyCondition(doltdb)
        const settled = ready?.status === "True" && rec(doltdb.status).primaryTransition === undefined
        return restarted.size === uids.size && settled ? elapsed : undefined
      }),
    () =>
      `rolling restart of ${name} did not complete within ${Duration.format(Duration.fromInputUnsafe(options.timeout))} (${restarted.size}/${uids.size} pods restarted)`
  )
  yield* Console.log(`${name} restarted (${secs(took)})`)
})

export interface BackupRequest {
  /** Backup name; default `<doltdb>-<UTC timestamp>`. */
  readonly name: string | undefined
  /** Copy storage and databases from this BackupSchedule. */
  readonly schedule: string | undefined
  readonly storage: Raw | undefined
  readonly databases: ReadonlyArray<string>
}

const stamp = (millis: number) => new Date(millis).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15)

/** `kubectl doltdb backup <name>`. */
export const backup = Effect.fn("Plugin.backup")(function* (
  namespace: string,
  doltdb: string,
  request: BackupRequest,
  options: FollowOptions
) {
  const kube = yield* Kube
  yield* getDoltDB(namespace, doltdb)
  let storage = request.storage
  let databases = request.databases
  if (request.schedule !== undefined) {
    const schedules = { ...rawBackups, kind: "BackupSchedule", plural: "backupschedules" }
    const schedule = yield* kube
      .get(schedules, request.schedule, { namespace })
      .pipe(
        Effect.catchTag("NotFound", () =>
          Effect.fail(new PluginError({ message: `BackupSchedule ${namespace}/${request.schedule} not found` }))
        )
      )
    const spec = rec(schedule.spec)
    storage ??= rec(spec.storage)
    if (databases.length === 0 && Array.isArray(spec.databases)) databases = spec.databases as Array<string>
  }
  if (storage === undefined)
    return yield* new PluginError({
      message: "no storage: give --schedule <BackupSchedule>, --local-path or --s3-bucket"
    })
  const name = request.name ?? `${doltdb}-${stamp(yield* Clock.currentTimeMillis)}`
  yield* kube
    .create(rawBackups, {
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "Backup",
      metadata: { name, namespace },
      spec: { doltDBRef: { name: doltdb }, storage, ...(databases.length === 0 ? {} : { databases }) }
    } as unknown as KubeObject)
    .pipe(
      Effect.catchTag("AlreadyExists", () =>
        Effect.fail(new PluginError({ message: `Backup ${namespace}/${name} already exists` }))
      ),
      Effect.catchTag("Invalid", (e) => Effect.fail(new PluginError({ message: `Backup refused: ${e.message}` })))
    )
  yield* Console.log(`Backup ${namespace}/${name} created`)
  if (!options.wait) return
  let last = ""
  const phase = yield* follow(
    options,
    (elapsed) =>
      Effect.gen(function* () {
        const b = yield* kube.get(rawBackups, name, { namespace })
        const s = rec(b.status)
        const current = String(s.phase ?? "Pending")
        if (current !== last) yield* Console.log(`  ${secs(elapsed).padStart(6)}  ${current}`)
        last = current
        if (current === "Failed")
          return yield* new PluginError({ message: `Backup ${name} failed: ${s.error ?? "no error recorded"}` })
        return current === "Completed" ? current : undefined
      }),
    () =>
      `Backup ${name} did not complete within ${Duration.format(Duration.fromInputUnsafe(options.timeout))} (phase ${last})`
  )
  yield* Console.log(`Backup ${name} ${phase}`)
})
