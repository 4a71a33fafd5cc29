import type { ClusterIdentity, ReplicationStep } from "../../src/replication/planReplication.ts"
import type {
  PodView,
  PrimaryTransition,
  ReplicationObserved,
  ReplicationState,
  SqlView
} from "../../src/replication/ReplicationObserved.ts"
import { defaultPolicy } from "../../src/replication/ReplicationObserved.ts"

export const cluster: ClusterIdentity = {
  namespace: "ns",
  name: "db",
  regarding: { apiVersion: "k8s.dolthub.com/v1alpha", kind: "DoltDB", namespace: "ns", name: "db", uid: "u-db" }
}

export const host = (i: number) => `db-${i}.db-internal.ns.svc.cluster.local`

export const primarySql = (
  epoch: number,
  standbys: ReadonlyArray<{ remote: string; lag?: number | undefined; errors?: number }> = []
): SqlView => ({
  _tag: "Reachable",
  role: "primary",
  epoch,
  standbys: standbys.map((s) => ({
    remote: s.remote,
    databases: 1,
    maxLagMillis: "lag" in s ? s.lag : 0,
    errors: s.errors ?? 0
  })),
  staleness: []
})

/** `staleness: null` = the NULL `last_update` of a standby that heard nothing from the primary. */
export const standbySql = (epoch: number, staleness: number | null = 500, database = "app"): SqlView => ({
  _tag: "Reachable",
  role: "standby",
  epoch,
  standbys: [],
  staleness: [{ database, millis: staleness ?? undefined }]
})

export const brokenSql = (epoch: number): SqlView => ({
  _tag: "Reachable",
  role: "detected_broken_config",
  epoch,
  standbys: [],
  staleness: []
})

export const unreachable: SqlView = { _tag: "Unreachable", reason: "connect ECONNREFUSED" }

export const pod = (ordinal: number, sql: SqlView, overrides: Partial<PodView> = {}): PodView => ({
  ordinal,
  name: `db-${ordinal}`,
  exists: true,
  uid: `uid-${ordinal}`,
  deleting: false,
  ready: sql._tag === "Reachable",
  roleLabel: sql._tag === "Reachable" && sql.role === "primary" ? "primary" : "standby",
  sql,
  target: { ordinal, pod: `db-${ordinal}`, host: host(ordinal), port: 3306 },
  ...overrides
})

export const state = (overrides: Partial<ReplicationState> = {}): ReplicationState => ({
  currentPrimaryPodIndex: 0,
  replicationEpoch: 1,
  transition: undefined,
  primaryUnavailableSince: undefined,
  primaryRequest: 0,
  ...overrides
})

export const observed = (
  pods: ReadonlyArray<PodView>,
  s: ReplicationState = state(),
  policy: Partial<ReplicationObserved["policy"]> = {},
  now = 100_000
): ReplicationObserved => ({
  now,
  policy: { ...defaultPolicy, replicas: pods.length, desiredPrimary: 0, ...policy },
  state: s,
  pods
})

/** Three healthy pods: 0 primary at `epoch`, 1 and 2 caught-up standbys. */
export const healthy3 = (epoch = 1) => [
  pod(0, primarySql(epoch, [{ remote: "db-1" }, { remote: "db-2" }])),
  pod(1, standbySql(epoch)),
  pod(2, standbySql(epoch))
]

/** A failover from db-0 (pod uid-0) to db-1 at epoch 2, started at 99 s. */
export const failover0to1: PrimaryTransition = {
  kind: "Failover",
  from: 0,
  to: 1,
  epoch: 2,
  fromPodUid: "uid-0",
  startedAt: 99_000
}

/** What a plan does, as `pod@epoch` or names, for table assertions. */
export const promotions = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) => (a._tag === "AssumeRole" && a.role === "primary" ? [`${a.target.pod}@${a.epoch}`] : []))
export const demotions = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) => (a._tag === "AssumeRole" && a.role === "standby" ? [`${a.target.pod}@${a.epoch}`] : []))
export const deletions = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) => (a._tag === "Delete" ? [a.ref.name] : []))
export const warnings = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) => (a._tag === "Event" && a.type === "Warning" ? [a.reason] : []))
