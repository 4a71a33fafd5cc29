/**
 * Observe step of the DoltDB reconciler: reads the DoltDB, its children, its pods and what every pod's
 * sql-server says, into the plain `DoltDBObserved` value the pure planner takes.
 */
import { Builders, DoltDBPlanner, Guard, type Replication } from "@doltdb-op/core"
import { type ClusterStatusRow, Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Pods } from "@doltdb-op/core/services/Kube"
import { Clock, Effect } from "effect"
import { type Credentials, doltTarget, readCredentials } from "../Credentials.ts"
import { childResources } from "../Resources.ts"
import { observeTls } from "../tls/observeTls.ts"
import { observeStorage } from "./observeStorage.ts"

export interface ObserveOptions {
  readonly clusterDomain: string
  readonly defaults: DoltDBPlanner.ReplicationDefaults
}

const RevisionLabel = "controller-revision-hash"

const ownedBy = (object: KubeObject, uid: string) =>
  object.metadata.ownerReferences?.some((o) => o.uid === uid) ?? false

/** The init container's failure while it fails (terminated non-zero, now or as its last state). */
const initFailure = (pod: KubeObject | undefined): string | undefined => {
  type Terminated = { exitCode?: number; reason?: string; message?: string }
  const statuses = (
    pod?.status as
      | {
          initContainerStatuses?: ReadonlyArray<{
            state?: { terminated?: Terminated }
            lastState?: { terminated?: Terminated }
          }>
        }
      | undefined
  )?.initContainerStatuses
  for (const s of statuses ?? []) {
    if (s.state?.terminated?.exitCode === 0) continue
    const t = s.state?.terminated ?? s.lastState?.terminated
    if (t !== undefined && t.exitCode !== 0)
      return (t.message ?? "").trim() || `init container exited with code ${t.exitCode} (${t.reason ?? "Error"})`
  }
  return undefined
}

const isReady = (pod: KubeObject): boolean => {
  const conditions = (pod.status as { conditions?: ReadonlyArray<{ type: string; status: string }> } | undefined)
    ?.conditions
  return conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false
}

/** The pod's container `name` is running (as last reported; a partitioned node's report is stale). */
const runs = (pod: KubeObject, name: string): boolean => {
  const statuses = (
    pod.status as { containerStatuses?: ReadonlyArray<{ name: string; state?: { running?: unknown } }> } | undefined
  )?.containerStatuses
  return statuses?.some((c) => c.name === name && c.state?.running !== undefined) ?? false
}

/** When container `name` started running (epoch millis), if it runs and says so. */
const runningSince = (pod: KubeObject, name: string): number | undefined => {
  const statuses = (
    pod.status as
      | { containerStatuses?: ReadonlyArray<{ name: string; state?: { running?: { startedAt?: string } } }> }
      | undefined
  )?.containerStatuses
  const startedAt = statuses?.find((c) => c.name === name)?.state?.running?.startedAt
  const millis = startedAt === undefined ? Number.NaN : Date.parse(startedAt)
  return Number.isFinite(millis) ? millis : undefined
}

/** A standby refused the primary's credentials (`StuckStandby.ts`): gRPC `Unauthenticated` in the hook's error. */
const refusedCredentials = (error: string | null): boolean => error?.includes("code = Unauthenticated") === true

/** Folds a primary's status rows per standby remote (the planner's `StandbyReplication`). */
export const foldStandbys = (rows: ReadonlyArray<ClusterStatusRow>): ReadonlyArray<Replication.StandbyReplication> => {
  const byRemote = new Map<
    string,
    { databases: number; maxLag: number | undefined; nullLag: boolean; errors: number; refused: boolean }
  >()
  for (const row of rows) {
    const e = byRemote.get(row.standbyRemote) ?? {
      databases: 0,
      maxLag: 0,
      nullLag: false,
      errors: 0,
      refused: false
    }
    e.databases += 1
    if (row.replicationLagMillis === null) e.nullLag = true
    else e.maxLag = Math.max(e.maxLag ?? 0, row.replicationLagMillis)
    if (row.currentError !== null) e.errors += 1
    if (refusedCredentials(row.currentError)) e.refused = true
    byRemote.set(row.standbyRemote, e)
  }
  return [...byRemote.entries()].map(([remote, e]) => ({
    remote,
    databases: e.databases,
    maxLagMillis: e.nullLag ? undefined : e.maxLag,
    errors: e.errors,
    ...(e.refused ? { refused: true } : {})
  }))
}

/**
 * A standby's staleness per database. `last_update` is the standby's clock; the operator compares it with its own,
 * which assumes the clocks agree within the planner's caught-up slack (NTP on the nodes).
 */
const staleness = (rows: ReadonlyArray<ClusterStatusRow>, now: number) => {
  const byDb = new Map<string, number | undefined>()
  for (const row of rows) {
    const millis = row.lastUpdateMillis === null ? undefined : Math.max(0, now - row.lastUpdateMillis)
    const previous = byDb.get(row.database)
    // Several remotes per database on a standby: its freshest evidence of the primary counts.
    byDb.set(
      row.database,
      previous === undefined ? millis : millis === undefined ? previous : Math.min(previous, millis)
    )
  }
  return [...byDb.entries()].map(([database, millis]) => ({ database, millis }))
}

/**
 * A server without a `cluster:` configuration (a standalone one, replication just enabled) knows no
 * `@@dolt_cluster_role` and has no `dolt_cluster` database; it is writable, like a primary.
 */
const notClustered = (e: { readonly _tag: string; readonly message: string }) =>
  e._tag === "DoltSqlError" && e.message.includes("dolt_cluster")

const standalone = { role: "primary", epoch: 0, clustered: false, ackWritesTimeoutSecs: undefined } as const

const observeSql = Effect.fnUntraced(function* (host: string, port: number, credentials: Credentials, now: number) {
  const dolt = yield* Dolt
  const target = doltTarget(host, port, credentials)
  const role = yield* dolt.roleAndEpoch(target).pipe(
    Effect.map((r) => ({
      role: r.role,
      epoch: r.epoch,
      clustered: true,
      ackWritesTimeoutSecs: r.ackWritesTimeoutSecs
    })),
    Effect.catchIf(notClustered, () => Effect.succeed(standalone))
  )
  const status = role.clustered
    ? yield* dolt.clusterStatus(target).pipe(
        Effect.map((rows) => ({ clustered: true, rows })),
        Effect.catchIf(notClustered, () =>
          Effect.succeed({ clustered: false, rows: [] as ReadonlyArray<ClusterStatusRow> })
        )
      )
    : { clustered: false, rows: [] as ReadonlyArray<ClusterStatusRow> }
  // The databases it holds: a server lacking one is never promoted (status rows exist per standby remote only).
  const databases = yield* dolt.listDatabases(target)
  const rows = status.rows
  return {
    _tag: "Reachable",
    role: role.role,
    epoch: role.epoch,
    clustered: status.clustered,
    ...(role.ackWritesTimeoutSecs === undefined ? {} : { ackWritesTimeoutSecs: role.ackWritesTimeoutSecs }),
    databases,
    standbys: role.role === "primary" ? foldStandbys(rows) : [],
    staleness: role.role === "standby" ? staleness(rows, now) : []
  } satisfies Replication.SqlView
})

export const observeDoltDB = Effect.fn("DoltDB.observe")(function* (
  doltdb: Builders.IdentifiedDoltDB,
  options: ObserveOptions
) {
  const kube = yield* Kube
  const now = yield* Clock.currentTimeMillis
  const { name, namespace, uid } = doltdb.metadata
  const labelSelector = `${Builders.NameLabel}=${name}`

  const lists = yield* Effect.forEach(childResources, (res) => kube.list(res, { namespace, labelSelector }), {
    concurrency: "unbounded"
  })
  const children = new Map<string, string | undefined>()
  let statefulSet: DoltDBPlanner.StatefulSetView | undefined
  let statefulSetObject: KubeObject | undefined
  for (const list of lists)
    for (const child of list.items) {
      if (!ownedBy(child, uid)) continue
      children.set(
        DoltDBPlanner.childKey(child.kind, child.metadata.name),
        child.metadata.annotations?.[DoltDBPlanner.AppliedHashAnnotation]
      )
      if (child.kind === "StatefulSet" && child.metadata.name === Builders.statefulSetName(name)) {
        const status = (child.status ?? {}) as Record<string, unknown>
        statefulSetObject = child
        statefulSet = {
          replicas: Number((child.spec as { replicas?: number } | undefined)?.replicas ?? 0),
          readyReplicas: Number(status.readyReplicas ?? 0),
          updateRevision: status.updateRevision as string | undefined,
          currentRevision: status.currentRevision as string | undefined,
          podManagementPolicy: (child.spec as { podManagementPolicy?: "OrderedReady" | "Parallel" } | undefined)
            ?.podManagementPolicy
        }
      }
    }

  // Desired children we do not own yet: looked up by name, so one held by another object is reported, never taken
  // over (a converged DoltDB owns all of them: no extra reads).
  const missing = DoltDBPlanner.desiredChildren(doltdb)
    .map((d) => d.child)
    .filter((c) => !children.has(DoltDBPlanner.childKey(c.kind, c.metadata.name)))
  const foreign = yield* Effect.forEach(
    missing,
    (c) => {
      const res = childResources.find((r) => r.kind === c.kind)
      if (res === undefined) return Effect.succeed([])
      return kube.get(res, c.metadata.name, { namespace }).pipe(
        Effect.map((found): ReadonlyArray<DoltDBPlanner.ForeignChild> => {
          if (ownedBy(found, uid)) return []
          const controller = found.metadata.ownerReferences?.find((r) => r.controller === true)
          return [
            {
              kind: c.kind,
              name: c.metadata.name,
              owner:
                controller === undefined
                  ? "not created by the operator"
                  : `controlled by ${controller.kind} ${controller.name}`
            }
          ]
        }),
        Effect.catch(() => Effect.succeed([]))
      )
    },
    { concurrency: "unbounded" }
  ).pipe(Effect.map((lists) => lists.flat()))

  // Pods of this StatefulSet only (or orphans awaiting adoption): the name label alone may match someone else's
  // pods (reference flaw 29).
  const podList = yield* kube.list(Pods, { namespace, labelSelector })
  const pods = new Map<number, KubeObject>()
  for (const p of podList.items) {
    const owner = p.metadata.ownerReferences?.find((o) => o.kind === "StatefulSet")
    // A pod with no controller at all is ours in transit: the storage resize re-creates the StatefulSet with an
    // orphaning delete, and until the new one adopts them its pods have no owner. Missing them would look like a
    // lost primary.
    const orphan = !(p.metadata.ownerReferences ?? []).some((o) => o.controller === true)
    if (!orphan && (owner === undefined || owner.name !== Builders.statefulSetName(name))) continue
    const ordinal = Number(p.metadata.name.slice(name.length + 1))
    if (Number.isInteger(ordinal) && p.metadata.name === Builders.podName(name, ordinal)) pods.set(ordinal, p)
  }

  // Still replicated while a switch to standalone moves the primary to pod 0 (`status.mesh` is kept until then).
  const replicated = (doltdb.spec.replication.enabled && doltdb.spec.replicas > 1) || doltdb.status?.mesh !== undefined
  const credentials = replicated
    ? yield* readCredentials(namespace, doltdb).pipe(
        Effect.map((c) => ({ _tag: "Ok" as const, c })),
        Effect.catchTag("CredentialsUnavailable", (e) =>
          Effect.succeed({ _tag: "Missing" as const, message: e.message })
        )
      )
    : undefined
  const port = doltdb.spec.server.listener.port
  const count = Math.max(doltdb.spec.replicas, ...[...pods.keys()].map((o) => o + 1))
  const views = yield* Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    (ordinal) =>
      Effect.gen(function* () {
        const pod = pods.get(ordinal)
        const podIP = (pod?.status as { podIP?: string } | undefined)?.podIP
        const host = podIP ?? Builders.podFqdn(name, namespace, ordinal, options.clusterDomain)
        const sql: Replication.SqlView =
          pod === undefined || podIP === undefined
            ? { _tag: "Unreachable", reason: pod === undefined ? "no pod" : "pod has no IP" }
            : credentials?._tag !== "Ok"
              ? { _tag: "Unreachable", reason: "not queried" }
              : yield* observeSql(podIP, port, credentials.c, now).pipe(
                  Effect.catch((e) => Effect.succeed({ _tag: "Unreachable", reason: e.message } as const))
                )
        return {
          ordinal,
          name: Builders.podName(name, ordinal),
          exists: pod !== undefined,
          uid: pod?.metadata.uid,
          deleting: pod?.metadata.deletionTimestamp !== undefined,
          ready: pod !== undefined && isReady(pod),
          roleLabel: pod?.metadata.labels?.[Builders.ClusterRoleLabel],
          guarded: pod !== undefined && runs(pod, Guard.GuardContainerName),
          serverStarted: pod !== undefined && runs(pod, Builders.DoltContainerName),
          serverStartedAt: pod === undefined ? undefined : runningSince(pod, Builders.DoltContainerName),
          revision: pod?.metadata.labels?.[RevisionLabel],
          createdAt:
            pod?.metadata.creationTimestamp === undefined ? undefined : Date.parse(pod.metadata.creationTimestamp),
          sql,
          initFailure: initFailure(pod),
          target: { ordinal, pod: Builders.podName(name, ordinal), host, port }
        } satisfies DoltDBPlanner.DoltDBPodView
      }),
    { concurrency: "unbounded" }
  )

  const storage = yield* observeStorage(name, namespace, statefulSetObject)
  const tls = yield* observeTls(doltdb, options.clusterDomain)

  return {
    observed: {
      now,
      storage,
      doltdb,
      children,
      statefulSet,
      pods: views,
      defaults: options.defaults,
      ...(credentials?._tag === "Missing" ? { sqlUnavailable: credentials.message } : {}),
      ...(foreign.length === 0 ? {} : { foreignChildren: foreign }),
      ...(tls === undefined ? {} : { tls })
    } satisfies DoltDBPlanner.DoltDBObserved,
    credentials: credentials?._tag === "Ok" ? credentials.c : undefined
  }
})
