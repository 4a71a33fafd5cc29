/**
 * `kubectl doltdb status`: everything about one DoltDB in one plain value (`StatusReport`), read from the API
 * server and, where the pods can be reached from here, from the sql-servers themselves (role, epoch and the
 * primary's replication lag per standby, as `dolt_cluster_status` reports it). Rendering is `StatusText`.
 */
import { Builders } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Events, Kube, type KubeObject, Pods, resource } from "@doltdb-op/core/services/Kube"
import { Clock, Duration, Effect } from "effect"
import { doltTarget, readCredentials } from "../reconcilers/Credentials.ts"
import { rawBackups, rawDoltDBs } from "../reconcilers/Resources.ts"

export { rawBackups }
export const rawSnapshots = resource({
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "Snapshot",
  plural: "snapshots",
  namespaced: true
})

export interface Condition {
  readonly type: string
  readonly status: string
  readonly reason: string
  readonly message: string
  readonly ageSeconds: number | undefined
}

/** What a pod's sql-server said, or why it could not be asked. */
export type ServerView =
  | { readonly reachable: true; readonly role: string; readonly epoch: number }
  | { readonly reachable: false; readonly reason: string }

export interface PodReport {
  readonly name: string
  readonly ordinal: number
  readonly phase: string
  readonly ready: boolean
  readonly node: string | undefined
  readonly restarts: number
  /** The `k8s.dolthub.com/cluster-role` label the operator routes by. */
  readonly roleLabel: string | undefined
  readonly server: ServerView
  /** As the primary reports it for this standby (max over databases); null = never replicated. */
  readonly lagMillis?: number | null
  /** `dolt_cluster_status.current_error` on the primary for this standby, if any. */
  readonly replicationError?: string
  readonly ageSeconds: number | undefined
}

export interface EventReport {
  readonly type: string
  readonly reason: string
  readonly note: string
  readonly ageSeconds: number | undefined
}

export interface ChildReport {
  readonly kind: "Backup" | "Snapshot"
  readonly name: string
  readonly phase: string
  readonly ageSeconds: number | undefined
  readonly message?: string
}

export interface StatusReport {
  readonly namespace: string
  readonly name: string
  readonly replicas: number
  readonly readyReplicas: number
  readonly replication: boolean
  readonly primary: { readonly index: number; readonly pod: string } | undefined
  readonly epoch: number | undefined
  /** `Healthy`, `FailingOver`, `SwitchingOver`, `Blocked`, `NoPrimary`, `Updating` or `NotReady`. */
  readonly state: string
  readonly ready: Condition | undefined
  readonly transition:
    | {
        readonly kind: string
        readonly from: number
        readonly to: number
        readonly epoch: number
        readonly ageSeconds: number | undefined
      }
    | undefined
  /** The last completed primary change (the `PrimarySwitched` condition). */
  readonly lastTransition: Condition | undefined
  readonly blocked: { readonly reason: string; readonly message: string } | undefined
  readonly primaryUnavailableSeconds: number | undefined
  readonly conditions: ReadonlyArray<Condition>
  readonly pods: ReadonlyArray<PodReport>
  readonly events: ReadonlyArray<EventReport>
  readonly backups: ReadonlyArray<ChildReport>
}

export interface InspectOptions {
  /** Ask every pod's sql-server (needs a route to the pod IPs, e.g. inside the cluster). */
  readonly queryServers: boolean
  /** Per server; an unreachable pod must not stall the whole report. */
  readonly serverTimeout: Duration.Input
  /** Newest events shown. */
  readonly maxEvents: number
}

export const defaultInspectOptions: InspectOptions = { queryServers: true, serverTimeout: "2 seconds", maxEvents: 10 }

type Raw = Readonly<Record<string, unknown>>
const rec = (v: unknown): Raw => (typeof v === "object" && v !== null ? (v as Raw) : {})
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined)
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined)

const ageOf = (now: number, time: unknown): number | undefined => {
  const t = typeof time === "string" ? Date.parse(time) : Number.NaN
  return Number.isNaN(t) ? undefined : Math.max(0, Math.floor((now - t) / 1000))
}

const conditionsOf = (status: Raw, now: number): ReadonlyArray<Condition> =>
  arr(status.conditions).map((c) => {
    const r = rec(c)
    return {
      type: str(r.type) ?? "",
      status: str(r.status) ?? "Unknown",
      reason: str(r.reason) ?? "",
      message: str(r.message) ?? "",
      ageSeconds: ageOf(now, r.lastTransitionTime)
    }
  })

/** Why the DoltDB is where it is, in one word (the status line's headline). */
export const stateOf = (
  r: Pick<StatusReport, "ready" | "transition" | "primary" | "blocked" | "primaryUnavailableSeconds">
) => {
  if (r.blocked !== undefined) return "Blocked"
  if (r.transition !== undefined) return r.transition.kind === "Switchover" ? "SwitchingOver" : "FailingOver"
  if (r.primary === undefined || r.primaryUnavailableSeconds !== undefined) return "NoPrimary"
  if (r.ready?.status === "True") return "Healthy"
  if (r.ready?.reason === "Updating") return "Updating"
  return "NotReady"
}

const podOf = (pod: KubeObject, ordinal: number, now: number) => {
  const status = rec(pod.status)
  const containers = arr(status.containerStatuses).map(rec)
  return {
    name: pod.metadata.name,
    ordinal,
    phase: pod.metadata.deletionTimestamp !== undefined ? "Terminating" : (str(status.phase) ?? "Unknown"),
    ready: arr(status.conditions).some((c) => rec(c).type === "Ready" && rec(c).status === "True"),
    node: str(rec(pod.spec).nodeName),
    restarts: containers.reduce((n, c) => n + (num(c.restartCount) ?? 0), 0),
    roleLabel: pod.metadata.labels?.[Builders.ClusterRoleLabel],
    ageSeconds: ageOf(now, pod.metadata.creationTimestamp),
    ip: str(status.podIP)
  }
}

export const inspect = Effect.fn("Plugin.inspect")(function* (
  namespace: string,
  name: string,
  options: InspectOptions = defaultInspectOptions
) {
  const kube = yield* Kube
  const dolt = yield* Dolt
  const now = yield* Clock.currentTimeMillis
  const doltdb = yield* kube.get(rawDoltDBs, name, { namespace })
  const spec = rec(doltdb.spec)
  const status = rec(doltdb.status)
  const replicas = num(spec.replicas) ?? 0
  const replication = rec(spec.replication).enabled === true && replicas > 1
  const labelSelector = `${Builders.NameLabel}=${name}`
  const [podList, eventList, backupList, snapshotList] = yield* Effect.all(
    [
      kube.list(Pods, { namespace, labelSelector }),
      kube.list(Events, { namespace }),
      kube.list(rawBackups, { namespace }).pipe(Effect.orElseSucceed(() => ({ items: [], resourceVersion: "" }))),
      kube.list(rawSnapshots, { namespace }).pipe(Effect.orElseSucceed(() => ({ items: [], resourceVersion: "" })))
    ],
    { concurrency: "unbounded" }
  )
  const pods = podList.items
    .flatMap((p) => {
      const ordinal = Number(p.metadata.name.slice(name.length + 1))
      return p.metadata.name === Builders.podName(name, ordinal) ? [podOf(p, ordinal, now)] : []
    })
    .sort((a, b) => a.ordinal - b.ordinal)

  const credentials = options.queryServers ? yield* readCredentials(namespace, name).pipe(Effect.option) : undefined
  const port = num(rec(rec(spec.server).listener).port) ?? 3306
  const ask = (ip: string | undefined) =>
    Effect.gen(function* () {
      if (!options.queryServers) return { view: { reachable: false, reason: "not queried" } as ServerView, rows: [] }
      if (ip === undefined) return { view: { reachable: false, reason: "pod has no IP" } as ServerView, rows: [] }
      if (credentials === undefined || credentials._tag === "None")
        return { view: { reachable: false, reason: "no credentials Secret" } as ServerView, rows: [] }
      const target = doltTarget(ip, port, credentials.value)
      return yield* Effect.all([dolt.roleAndEpoch(target), dolt.clusterStatus(target)]).pipe(
        Effect.timeout(options.serverTimeout),
        Effect.map(([role, rows]) => ({
          view: { reachable: true, role: role.role, epoch: role.epoch } as ServerView,
          rows: role.role === "primary" ? rows : []
        })),
        Effect.catch((e) =>
          Effect.succeed({
            view: { reachable: false, reason: e._tag === "TimeoutError" ? "timed out" : e.message } as ServerView,
            rows: []
          })
        )
      )
    })
  const servers = yield* Effect.forEach(pods, (p) => ask(p.ip), { concurrency: "unbounded" })
  const standbyRows = servers.flatMap((s) => s.rows)
  const podReports: ReadonlyArray<PodReport> = pods.map(({ ip: _ip, ...p }, i) => {
    const rows = standbyRows.filter((r) => r.standbyRemote === p.name)
    const lag = rows.some((r) => r.replicationLagMillis === null)
      ? null
      : rows.length === 0
        ? undefined
        : Math.max(...rows.map((r) => r.replicationLagMillis ?? 0))
    const error = rows.find((r) => r.currentError !== null)?.currentError ?? undefined
    return {
      ...p,
      server: servers[i]!.view,
      ...(lag === undefined ? {} : { lagMillis: lag }),
      ...(error === undefined ? {} : { replicationError: error })
    }
  })

  const conditions = conditionsOf(status, now)
  const ready = conditions.find((c) => c.type === "Ready")
  const index = num(status.currentPrimaryPodIndex)
  const t = rec(status.primaryTransition)
  const transition =
    str(t.kind) === undefined
      ? undefined
      : {
          kind: str(t.kind)!,
          from: num(t.from) ?? -1,
          to: num(t.to) ?? -1,
          epoch: num(t.epoch) ?? 0,
          ageSeconds: ageOf(now, t.startedAt)
        }
  const blocked =
    ready !== undefined && ready.status === "False" && /Blocked$/.test(ready.reason)
      ? { reason: ready.reason, message: ready.message }
      : undefined
  const primary = index === undefined ? undefined : { index, pod: Builders.podName(name, index) }
  const regardsThis = (e: KubeObject) => {
    const regarding = rec(e.regarding)
    return regarding.name === name && regarding.kind === "DoltDB"
  }
  const events = eventList.items
    .filter(regardsThis)
    .map((e) => {
      const time = e.eventTime ?? rec(e.series).lastObservedTime ?? e.metadata.creationTimestamp
      return {
        type: str(e.type) ?? "",
        reason: str(e.reason) ?? "",
        note: str(e.note) ?? "",
        at: typeof time === "string" ? Date.parse(time) : 0,
        ageSeconds: ageOf(now, time)
      }
    })
    .sort((a, b) => b.at - a.at)
    .slice(0, options.maxEvents)
    .map(({ at: _at, ...e }) => e)
  const mine = (o: KubeObject) => rec(rec(o.spec).doltDBRef).name === name
  const backups: ReadonlyArray<ChildReport> = [
    ...backupList.items.filter(mine).map((b) => {
      const s = rec(b.status)
      const message = str(s.error)
      return {
        kind: "Backup" as const,
        name: b.metadata.name,
        phase: str(s.phase) ?? "Pending",
        ageSeconds: ageOf(now, s.completedAt ?? s.startedAt ?? b.metadata.creationTimestamp),
        ...(message === undefined ? {} : { message })
      }
    }),
    ...snapshotList.items.filter(mine).map((o) => {
      const c = conditionsOf(rec(o.status), now).find((x) => x.type === "Ready")
      return {
        kind: "Snapshot" as const,
        name: o.metadata.name,
        phase: c === undefined ? "Pending" : c.status === "True" ? "Ready" : c.reason || "NotReady",
        ageSeconds: c?.ageSeconds ?? ageOf(now, o.metadata.creationTimestamp),
        ...(c?.message ? { message: c.message } : {})
      }
    })
  ]
  const lastTransition = conditions.find((c) => c.type === "PrimarySwitched")
  const report = {
    namespace,
    name,
    replicas,
    readyReplicas: num(status.replicas) ?? 0,
    replication,
    primary,
    epoch: num(status.replicationEpoch),
    ready,
    transition,
    lastTransition,
    blocked,
    primaryUnavailableSeconds: ageOf(now, status.primaryUnavailableSince),
    conditions,
    pods: podReports,
    events,
    backups
  }
  return { ...report, state: stateOf(report) } satisfies StatusReport
})

/** Shown instead of a stack trace when the DoltDB does not exist. */
export const describeNotFound = (namespace: string, name: string) =>
  `DoltDB ${namespace}/${name} not found (kubectl get doltdbs -n ${namespace})`

export const timeoutMillis = (d: Duration.Input) => Duration.toMillis(Duration.fromInputUnsafe(d))
