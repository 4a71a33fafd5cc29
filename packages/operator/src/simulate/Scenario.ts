/**
 * The `simulate` scenario format: initial objects, then timed events against the simulated cluster.
 *
 * ```yaml
 * name: failover
 * duration: 90s            # simulated time to run
 * seed: 7                  # optional; `--seed` overrides
 * objects:                 # applied at t=0 (a DoltDB and its credentials Secret, Databases, Users, ...)
 *   - { apiVersion: v1, kind: Secret, metadata: { name: db-credentials }, stringData: { admin-user: root, admin-password: pw } }
 *   - { apiVersion: k8s.dolthub.com/v1alpha, kind: DoltDB, metadata: { name: db }, spec: { ... } }
 * events:
 *   - { at: 5s, writes: { every: 200ms, until: 80s, database: app } }   # a client writing through db-primary
 *   - { at: 20s, kill: db-0 }                                          # SIGKILL the pod's dolt (it restarts)
 *   - { at: 40s, partition: { pod: db-1, from: peers } }               # peers | operator | clients | all | a pod, or a list
 *   - { at: 45s, nodeIsolated: db-2 }                                  # the node is cut off; its kubelet lives on
 *   - { at: 48s, apiErrors: { rate: 0.2, until: 58s } }                # the API server fails 20% of the operator's calls
 *   - { at: 50s, heal: db-1 }
 *   - { at: 55s, slowReplication: { pod: db-2, delay: 3s } }
 *   - { at: 60s, deletePod: db-2 }
 *   - { at: 65s, operatorRestart: {} }
 *   - { at: 70s, patch: { kind: DoltDB, name: db, spec: { replication: { primary: { podIndex: 2 } } } } }
 *   - { at: 75s, backup: { name: before-upgrade } }                    # a Backup (default: /db/backups/<name>)
 * ```
 * A BackupSchedule among the objects creates Backups on its schedule; the run reports every Backup's outcome.
 * Times are Go-style durations (`500ms`, `5s`, `1m30s`) from the start of the run.
 *
 * `decodeScenario` checks a parsed file and names the first bad field the way a user would point at it
 * (`events[3].at`, `objects[1].spec.replicas`): the event union is decoded one event at a time by its action key,
 * so an error is about the action the user wrote, not about every action it might have been.
 */
import { Api } from "@doltdb-op/core"
import { parseGoDuration } from "@doltdb-op/core/api/GoDuration"
import { Effect, Schema } from "effect"

const DurationText = Schema.String.check(
  Schema.isPattern(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/u, { expected: 'a duration such as "500ms", "5s" or "1m30s"' })
)

const PodName = Schema.String.check(Schema.isMinLength(1))

export const PartitionScope = Schema.Literals(["peers", "operator", "clients", "all"])
export type PartitionScope = typeof PartitionScope.Type

/** What a pod is cut off from: a scope, another pod (by name), or several of those at once. */
const PartitionTarget = Schema.Union([PartitionScope, PodName])
const PartitionFrom = Schema.Union([PartitionTarget, Schema.Array(PartitionTarget).check(Schema.isMinLength(1))])

/** The longest run and the most pods per DoltDB the simulator takes (both bound its wall time and memory). */
export const MaxDurationMillis = 30 * 60_000
export const MaxReplicas = 20

const Empty = Schema.Struct({})

/** What each event does, by its action key (every event has `at` and exactly one of these). */
export const EventActions = {
  /** SIGKILL every container of the pod; the kubelet restarts them with back-off. */
  kill: PodName,
  /** Kill the pod's containers whenever they run, until `heal: <pod>` or the end of the run. */
  crashLoop: PodName,
  /** `kubectl delete pod` with the pod's grace period (preStop runs); the StatefulSet recreates it. */
  deletePod: PodName,
  /** `kubectl delete pod --grace-period=0 --force`: no preStop, the object goes at once. */
  forceDeletePod: PodName,
  /** The node running this pod (or the node of that name) dies: processes killed, status frozen. */
  nodeLost: PodName,
  /** The node is cut off from everything (API server, other nodes, operator, clients); processes and kubelet die with it. */
  nodePartitioned: PodName,
  /**
   * The node is cut off from the API server and from the other nodes, but its kubelet lives on: containers keep
   * running, probes keep running (a failing liveness probe restarts a container), status is frozen.
   */
  nodeIsolated: PodName,
  /** The node lost, partitioned or isolated with the same value comes back. */
  nodeRestored: PodName,
  partition: Schema.Struct({ pod: PodName, from: PartitionFrom }),
  /** Heal every partition of the pod and end its crash loop. */
  heal: PodName,
  healAll: Empty,
  /** Every replication push to this pod takes `delay`. */
  slowReplication: Schema.Struct({ pod: PodName, delay: DurationText }),
  /** A client writing one row every `every` through `<doltdb>-primary` until `until`. */
  writes: Schema.Struct({
    every: DurationText,
    until: DurationText,
    /** Default: the first DoltDB. */
    doltdb: Schema.optionalKey(PodName),
    /** Default: the first Database object's `spec.name`. */
    database: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1))),
    /** `dolt_cluster_ack_writes_timeout_secs` (0 = asynchronous, the default). */
    ackTimeoutSeconds: Schema.optionalKey(
      Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 60 }))
    )
  }),
  /** The operator process crashes and a new one starts (state lives only in the cluster). */
  operatorRestart: Empty,
  /** The API server fails this share of the operator's calls (503) until `until` (default: the end of the run). */
  apiErrors: Schema.Struct({
    rate: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
    until: Schema.optionalKey(DurationText)
  }),
  /** A JSON merge patch of an object's `spec` (`kubectl patch --type merge`). */
  patch: Schema.Struct({
    kind: Schema.String,
    name: Schema.String,
    spec: Schema.Record(Schema.String, Schema.Unknown)
  }),
  /** `kubectl apply` of a Backup; the other fields are the Backup's spec (checked as the API server would). */
  backup: Schema.Struct({
    name: Schema.String.check(Schema.isMinLength(1)),
    /** Default: the first DoltDB. */
    doltdb: Schema.optionalKey(PodName),
    /** Default: the data volume, `{ local: { path: /db/backups/<name> } }`. */
    storage: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
    databases: Schema.optionalKey(Schema.Array(Schema.String)),
    target: Schema.optionalKey(Schema.String),
    backoffLimit: Schema.optionalKey(Schema.Number)
  })
} as const

export type EventAction = keyof typeof EventActions
export const eventActionNames = Object.keys(EventActions) as ReadonlyArray<EventAction>

const at = { at: DurationText }

export const ScenarioEvent = Schema.Union([
  Schema.Struct({ ...at, kill: EventActions.kill }),
  Schema.Struct({ ...at, crashLoop: EventActions.crashLoop }),
  Schema.Struct({ ...at, deletePod: EventActions.deletePod }),
  Schema.Struct({ ...at, forceDeletePod: EventActions.forceDeletePod }),
  Schema.Struct({ ...at, nodeLost: EventActions.nodeLost }),
  Schema.Struct({ ...at, nodePartitioned: EventActions.nodePartitioned }),
  Schema.Struct({ ...at, nodeIsolated: EventActions.nodeIsolated }),
  Schema.Struct({ ...at, nodeRestored: EventActions.nodeRestored }),
  Schema.Struct({ ...at, partition: EventActions.partition }),
  Schema.Struct({ ...at, heal: EventActions.heal }),
  Schema.Struct({ ...at, healAll: EventActions.healAll }),
  Schema.Struct({ ...at, slowReplication: EventActions.slowReplication }),
  Schema.Struct({ ...at, writes: EventActions.writes }),
  Schema.Struct({ ...at, operatorRestart: EventActions.operatorRestart }),
  Schema.Struct({ ...at, apiErrors: EventActions.apiErrors }),
  Schema.Struct({ ...at, patch: EventActions.patch }),
  Schema.Struct({ ...at, backup: EventActions.backup })
])
export type ScenarioEvent = typeof ScenarioEvent.Type

export const Scenario = Schema.Struct({
  name: Schema.String,
  description: Schema.optionalKey(Schema.String),
  duration: DurationText,
  seed: Schema.optionalKey(Schema.Number.check(Schema.isInt())),
  namespace: Schema.optionalKey(Schema.String),
  objects: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)).check(Schema.isMinLength(1)),
  events: Schema.Array(ScenarioEvent)
})
export type Scenario = typeof Scenario.Type

/** Milliseconds of a scenario duration (already validated by the schema). */
export const durationMillis = (text: string): number => parseGoDuration(text) ?? 0

/** The Backup object a `backup` event applies. */
export const backupObject = (
  event: (typeof EventActions.backup)["Type"],
  defaultDoltDB: string,
  namespace: string
): Record<string, unknown> => {
  const { name, doltdb, storage, ...rest } = event
  return {
    apiVersion: Api.ApiVersion,
    kind: "Backup",
    metadata: { name, namespace },
    spec: {
      doltDBRef: { name: doltdb ?? defaultDoltDB },
      storage: storage ?? { local: { path: `/db/backups/${name}` } },
      ...rest
    }
  }
}

/** The action key of a decoded event. */
export const actionOf = (event: ScenarioEvent): EventAction =>
  eventActionNames.find((name) => name in event) as EventAction

/** A scenario file that cannot run; `field` is the path of the first bad field (`events[3].at`). */
export class ScenarioError extends Schema.TaggedError<ScenarioError>()("ScenarioError", {
  field: Schema.String,
  message: Schema.String
}) {}

const strict = { onExcessProperty: "error" } as const

const fail = (field: string, reason: string) =>
  Effect.fail(new ScenarioError({ field, message: field === "" ? reason : `${field}: ${reason}` }))

const decodeAt = <S extends Schema.Top>(schema: S, value: unknown, prefix: string) =>
  Schema.decodeUnknownEffect(schema)(value, strict).pipe(
    Effect.catch((error) => {
      const first = Api.fieldIssues(error.issue)[0]
      const path = [prefix, first?.path ?? ""].filter((p) => p !== "").join(".")
      return fail(path.replaceAll(".[", "["), first?.message ?? error.message)
    })
  ) as Effect.Effect<S["Type"], ScenarioError, S["DecodingServices"]>

const Envelope = Scenario.mapFields(({ events: _events, ...rest }) => ({
  ...rest,
  events: Schema.Array(Schema.Record(Schema.String, Schema.Unknown))
}))

const objectKind = (o: Readonly<Record<string, unknown>>) => ({
  apiVersion: typeof o.apiVersion === "string" ? o.apiVersion : undefined,
  kind: typeof o.kind === "string" ? o.kind : undefined,
  name: (o.metadata as { name?: unknown } | undefined)?.name
})

/** DNS-1123 subdomain: what the API server accepts as an object name. */
const Dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/u
/** A DoltDB names Services and pods after itself: a DNS-1035 label short enough for `<name>-<hash>` labels. */
const Dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/u
const MaxDoltDBName = 52

/** `<doltdb>-<ordinal>` split without building a regular expression from user input. */
const ordinalOf = (doltdb: string, pod: string): number | undefined => {
  if (!pod.startsWith(`${doltdb}-`)) return undefined
  const rest = pod.slice(doltdb.length + 1)
  return /^(0|[1-9][0-9]{0,8})$/u.test(rest) ? Number(rest) : undefined
}

/** The target of a pod-valued event (the pod name and the field it came from). */
const podFields = (event: ScenarioEvent, action: EventAction): ReadonlyArray<{ field: string; value: string }> => {
  if ("partition" in event) {
    const from = event.partition.from
    const targets = typeof from === "string" ? [from] : from
    return [
      { field: "partition.pod", value: event.partition.pod },
      ...targets.flatMap((t, i) =>
        (PartitionScope.literals as ReadonlyArray<string>).includes(t)
          ? []
          : [{ field: typeof from === "string" ? "partition.from" : `partition.from[${i}]`, value: t }]
      )
    ]
  }
  if ("slowReplication" in event) return [{ field: "slowReplication.pod", value: event.slowReplication.pod }]
  const value = (event as Record<string, unknown>)[action]
  return typeof value === "string" ? [{ field: action, value }] : []
}

const nodeActions: ReadonlyArray<EventAction> = ["nodeLost", "nodePartitioned", "nodeIsolated", "nodeRestored"]

/**
 * A parsed scenario file (YAML or JSON, as plain data) to a `Scenario`, checking what the schema cannot: one action
 * per event, times within `duration`, objects of kinds the simulation knows (our kinds are decoded with the API
 * schemas) with names the API server accepts and no duplicates, at least one DoltDB with its credentials Secret,
 * pod names that belong to one, and the simulator's bounds (run length, pods per DoltDB).
 */
export const decodeScenario = Effect.fn("Scenario.decode")(function* (input: unknown) {
  if (input === null || typeof input !== "object" || Array.isArray(input))
    return yield* fail("", "a scenario is a mapping with name, duration, objects and events")
  const envelope = yield* decodeAt(Envelope, input, "")
  const duration = durationMillis(envelope.duration)
  if (duration <= 0) return yield* fail("duration", "must be longer than 0s")
  if (duration > MaxDurationMillis)
    return yield* fail("duration", `${envelope.duration} is longer than the simulator runs (at most 30m)`)

  const doltdbs: Array<{ name: string; replicas: number; where: string }> = []
  const seen = new Map<string, string>()
  for (const [i, object] of envelope.objects.entries()) {
    const where = `objects[${i}]`
    const { apiVersion, kind, name } = objectKind(object)
    if (apiVersion === undefined) return yield* fail(`${where}.apiVersion`, "missing")
    if (kind === undefined) return yield* fail(`${where}.kind`, "missing")
    if (typeof name !== "string" || name === "") return yield* fail(`${where}.metadata.name`, "missing")
    if (name.length > 253 || !Dns1123Subdomain.test(name))
      return yield* fail(
        `${where}.metadata.name`,
        `${JSON.stringify(name.slice(0, 80))} is not a valid name (lowercase letters, digits, '-' and '.')`
      )
    const key = `${apiVersion}\u0000${kind}\u0000${name}`
    const earlier = seen.get(key)
    if (earlier !== undefined)
      return yield* fail(`${where}.metadata.name`, `${kind} ${name} is already defined by ${earlier}`)
    seen.set(key, where)
    if (apiVersion === Api.ApiVersion) {
      const info = Api.kinds.find((k) => k.kind === kind)
      if (info === undefined) return yield* fail(`${where}.kind`, `unknown kind ${JSON.stringify(kind)}`)
      const decoded = yield* info.decode(object).pipe(
        Effect.catch((error) => {
          const issue = error.issues[0]
          return fail(issue === undefined || issue.path === "" ? where : `${where}.${issue.path}`, issue?.message ?? "")
        })
      )
      if (kind === "DoltDB") {
        if (name.length > MaxDoltDBName || !Dns1035Label.test(name))
          return yield* fail(
            `${where}.metadata.name`,
            `a DoltDB names its pods and Services after itself: a lowercase letter, then letters, digits or '-', at most ${MaxDoltDBName} characters`
          )
        const replicas = (decoded as Api.DoltDB).spec.replicas
        if (replicas > MaxReplicas)
          return yield* fail(`${where}.spec.replicas`, `${replicas} pods; the simulator runs at most ${MaxReplicas}`)
        doltdbs.push({ name, replicas, where })
      }
    } else if (!(apiVersion === "v1" && (kind === "Secret" || kind === "ConfigMap"))) {
      return yield* fail(`${where}.kind`, `the simulation creates ${Api.ApiVersion} kinds, Secrets and ConfigMaps`)
    }
  }
  if (doltdbs.length === 0) return yield* fail("objects", "no DoltDB (kind: DoltDB)")
  for (const d of doltdbs)
    if (!seen.has(`v1\u0000Secret\u0000${d.name}-credentials`))
      return yield* fail(
        "objects",
        `DoltDB ${d.name} (${d.where}) needs its credentials Secret ${d.name}-credentials (keys admin-user, admin-password) among the objects`
      )

  // a pod may exist once a patch scales the DoltDB up
  for (const [i, raw] of envelope.events.entries()) {
    const patch = raw.patch as { kind?: unknown; name?: unknown; spec?: { replicas?: unknown } } | undefined
    const d = doltdbs.find((x) => patch?.kind === "DoltDB" && x.name === patch.name)
    if (d !== undefined && typeof patch?.spec?.replicas === "number") {
      if (patch.spec.replicas > MaxReplicas)
        return yield* fail(
          `events[${i}].patch.spec.replicas`,
          `${patch.spec.replicas} pods; the simulator runs at most ${MaxReplicas}`
        )
      d.replicas = Math.max(d.replicas, patch.spec.replicas)
    }
  }
  const podOk = (pod: string) =>
    doltdbs.some((d) => {
      const ordinal = ordinalOf(d.name, pod)
      return ordinal !== undefined && ordinal < d.replicas
    })
  const events: Array<ScenarioEvent> = []
  for (const [i, raw] of envelope.events.entries()) {
    const where = `events[${i}]`
    const actions = eventActionNames.filter((name) => name in raw)
    if (actions.length !== 1)
      return yield* fail(
        where,
        `expected \`at\` and exactly one of ${eventActionNames.join(", ")}; got ${
          Object.keys(raw).join(", ").slice(0, 200) || "nothing"
        }`
      )
    const action = actions[0]!
    const event = (yield* decodeAt(
      Schema.Struct({ ...at, [action]: EventActions[action] }),
      raw,
      where
    )) as unknown as ScenarioEvent
    const atMillis = durationMillis(event.at)
    if (atMillis > duration)
      return yield* fail(`${where}.at`, `${event.at} is after the end of the run (${envelope.duration})`)
    for (const pod of podFields(event, action)) {
      const isNode = nodeActions.includes(action) && pod.value.startsWith("sim-node-")
      if (!isNode && !podOk(pod.value))
        return yield* fail(
          `${where}.${pod.field}`,
          `${JSON.stringify(pod.value.slice(0, 80))} is not a pod of ${doltdbs.map((d) => `DoltDB ${d.name} (${d.name}-0..${d.replicas - 1})`).join(", ")}`
        )
    }
    if ("writes" in event) {
      const until = durationMillis(event.writes.until)
      if (until <= atMillis) return yield* fail(`${where}.writes.until`, `must be after \`at\` (${event.at})`)
      if (durationMillis(event.writes.every) <= 0) return yield* fail(`${where}.writes.every`, "must be longer than 0s")
      if (durationMillis(event.writes.every) < 10)
        return yield* fail(`${where}.writes.every`, "the simulated client writes at most every 10ms")
      if (event.writes.doltdb !== undefined && !doltdbs.some((d) => d.name === event.writes.doltdb))
        return yield* fail(`${where}.writes.doltdb`, `no DoltDB ${event.writes.doltdb} among the objects`)
      if (
        event.writes.database === undefined &&
        !envelope.objects.some((o) => objectKind(o).kind === "Database" && objectKind(o).apiVersion === Api.ApiVersion)
      )
        return yield* fail(`${where}.writes.database`, "no Database object to default to; name the database")
    }
    if ("apiErrors" in event && event.apiErrors.until !== undefined) {
      if (durationMillis(event.apiErrors.until) <= atMillis)
        return yield* fail(`${where}.apiErrors.until`, `must be after \`at\` (${event.at})`)
    }
    if ("backup" in event) {
      const b = event.backup
      if (b.name.length > 253 || !Dns1123Subdomain.test(b.name))
        return yield* fail(`${where}.backup.name`, `${JSON.stringify(b.name.slice(0, 80))} is not a valid name`)
      if (b.doltdb !== undefined && !doltdbs.some((d) => d.name === b.doltdb))
        return yield* fail(`${where}.backup.doltdb`, `no DoltDB ${b.doltdb} among the objects`)
      const info = Api.kinds.find((k) => k.kind === "Backup")!
      yield* info.decode(backupObject(b, doltdbs[0]!.name, "default")).pipe(
        Effect.catch((error) => {
          const issue = error.issues[0]
          const path = (issue?.path ?? "").replace(/^spec\.?/u, "").replace(/^doltDBRef\.name$/u, "doltdb")
          return fail(path === "" ? `${where}.backup` : `${where}.backup.${path}`, issue?.message ?? "")
        })
      )
    }
    if ("patch" in event) {
      const target = envelope.objects.find((o) => {
        const k = objectKind(o)
        return k.apiVersion === Api.ApiVersion && k.kind === event.patch.kind && k.name === event.patch.name
      })
      if (target === undefined)
        return yield* fail(`${where}.patch`, `no ${event.patch.kind} ${event.patch.name} among the objects`)
    }
    events.push(event)
  }
  return { ...envelope, events } satisfies Scenario
})
