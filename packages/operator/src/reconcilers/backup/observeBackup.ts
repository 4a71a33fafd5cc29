/**
 * Observe step of the Backup reconciler: the DoltDB's pods as a backup sees them (role, readiness, caught up), the
 * Backups ahead in the DoltDB's queue, the databases on the pod the backup will run on, and whether the credentials
 * Secret holds what this Backup needs (compared through a fingerprint: the values never leave this module).
 */
import { type Api, Backups as B, Builders } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Pods, Secrets } from "@doltdb-op/core/services/Kube"
import { Effect } from "effect"
import { type Credentials, doltTarget, readCredentials, secretValue } from "../Credentials.ts"
import { foldStandbys } from "../doltdb/observeDoltDB.ts"
import { Backups, DoltDBs } from "../Resources.ts"

const isReady = (pod: KubeObject): boolean =>
  ((pod.status as { conditions?: ReadonlyArray<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
    (c) => c.type === "Ready" && c.status === "True"
  )

const unfinished = (b: Api.Backup) =>
  b.metadata.deletionTimestamp === undefined && b.status?.phase !== "Completed" && b.status?.phase !== "Failed"

/** Older first; the name breaks ties, so every reconcile agrees on the order. */
const before = (a: Api.Backup, b: Api.Backup): boolean => {
  const ta = a.metadata.creationTimestamp ?? ""
  const tb = b.metadata.creationTimestamp ?? ""
  return ta < tb || (ta === tb && (a.metadata.name ?? "") < (b.metadata.name ?? ""))
}

/** The earliest unfinished Backup of the same DoltDB that comes before `backup`, if any. */
const aheadOf = Effect.fnUntraced(function* (backup: Api.Backup) {
  const kube = yield* Kube
  const all = yield* kube.list(Backups, { namespace: backup.metadata.namespace ?? "" })
  const queue = all.items
    .filter((b) => b.spec.doltDBRef.name === backup.spec.doltDBRef.name && unfinished(b))
    .filter((b) => b.metadata.uid !== backup.metadata.uid && before(b, backup))
    .sort((a, b) => (before(a, b) ? -1 : 1))
  return queue[0]?.metadata.name
})

/** The values the storage refers to, or the first missing one named by its field. */
export const readCredentialValues = Effect.fnUntraced(function* (namespace: string, storage: Api.BackupStorage) {
  const kube = yield* Kube
  const values: { -readonly [K in keyof B.CredentialValues]: B.CredentialValues[K] } = {}
  for (const ref of B.credentialRefs(storage)) {
    if (ref.name === "") return { _tag: "Invalid", message: `${ref.path}.name is required` } as const
    const secret = yield* kube
      .get(Secrets, ref.name, { namespace })
      .pipe(Effect.catch(() => Effect.succeed(undefined as KubeObject | undefined)))
    const value = secret === undefined ? undefined : secretValue(secret, ref.key)
    if (value === undefined)
      return {
        _tag: "Invalid",
        message: `${ref.path}: Secret ${namespace}/${ref.name} ${secret === undefined ? "not found" : `has no key ${ref.key}`}`
      } as const
    values[ref.field] = value
  }
  return { _tag: "Ok", files: B.credentialFiles(storage, values) } as const
})

export const observeCredentials = Effect.fnUntraced(function* (
  namespace: string,
  doltdb: string,
  storage: Api.BackupStorage
) {
  if (!B.usesCredentialFiles(storage)) return { _tag: "NotNeeded" } as B.CredentialsView
  const read = yield* readCredentialValues(namespace, storage)
  if (read._tag === "Invalid") return read as B.CredentialsView
  const kube = yield* Kube
  const secret = yield* kube
    .get(Secrets, B.backupCredentialsSecretName(doltdb), { namespace })
    .pipe(Effect.catch(() => Effect.succeed(undefined as KubeObject | undefined)))
  const annotations = secret?.metadata.annotations ?? {}
  if (annotations[B.FingerprintAnnotation] !== B.fingerprint(read.files)) return { _tag: "Stale" } as B.CredentialsView
  const updatedAt = Date.parse(annotations[B.UpdatedAtAnnotation] ?? "")
  return { _tag: "Current", updatedAt: Number.isNaN(updatedAt) ? 0 : updatedAt } as B.CredentialsView
})

const observePods = Effect.fnUntraced(function* (doltdb: Api.DoltDB, credentials: Credentials) {
  const kube = yield* Kube
  const dolt = yield* Dolt
  const name = doltdb.metadata.name ?? ""
  const namespace = doltdb.metadata.namespace ?? ""
  const replicated = doltdb.spec.replication.enabled && doltdb.spec.replicas > 1
  const port = doltdb.spec.server.listener.port
  const list = yield* kube.list(Pods, { namespace, labelSelector: `${Builders.NameLabel}=${name}` })
  const pods = list.items.filter((p) =>
    Array.from({ length: doltdb.spec.replicas }, (_, i) => Builders.podName(name, i)).includes(p.metadata.name)
  )
  const views = yield* Effect.forEach(
    pods,
    (pod) =>
      Effect.gen(function* () {
        const ordinal = Number(pod.metadata.name.slice(name.length + 1))
        const ip = (pod.status as { podIP?: string } | undefined)?.podIP
        const target = { ordinal, pod: pod.metadata.name, host: ip ?? "", port }
        const base = { ordinal, name: pod.metadata.name, target }
        if (ip === undefined || pod.metadata.deletionTimestamp !== undefined || !isReady(pod))
          return { ...base, ready: false, role: undefined, standbys: [] as ReturnType<typeof foldStandbys> }
        const sqlTarget = doltTarget(ip, port, credentials)
        if (!replicated)
          return yield* dolt.listDatabases(sqlTarget).pipe(
            Effect.map(() => ({ ...base, ready: true, role: "primary" as const, standbys: [] })),
            Effect.catch(() => Effect.succeed({ ...base, ready: false, role: undefined, standbys: [] }))
          )
        return yield* Effect.gen(function* () {
          const role = yield* dolt.roleAndEpoch(sqlTarget)
          const r =
            role.role === "primary" ? ("primary" as const) : role.role === "standby" ? ("standby" as const) : undefined
          const standbys = r === "primary" ? foldStandbys(yield* dolt.clusterStatus(sqlTarget)) : []
          return { ...base, ready: r !== undefined, role: r, standbys }
        }).pipe(Effect.catch(() => Effect.succeed({ ...base, ready: false, role: undefined, standbys: [] })))
      }),
    { concurrency: "unbounded" }
  )
  const primaries = views.filter((v) => v.role === "primary")
  const caughtUp = new Set(
    primaries.length === 1
      ? primaries[0]!.standbys.filter((s) => s.maxLagMillis === 0 && s.errors === 0).map((s) => s.remote)
      : []
  )
  return views
    .map(
      (v): B.BackupPod => ({
        ordinal: v.ordinal,
        name: v.name,
        ready: v.ready,
        // Two servers claiming primary: trust neither until the DoltDB reconciler has repaired it.
        role: v.role === "primary" && primaries.length > 1 ? undefined : v.role,
        caughtUp: v.role === "standby" && caughtUp.has(v.name),
        target: v.target
      })
    )
    .sort((a, b) => a.ordinal - b.ordinal)
})

export const observeBackup = Effect.fn("Backup.observe")(function* (
  backup: Api.Backup,
  now: number,
  lastOutcome: B.SyncOutcome | undefined,
  options: B.BackupPlannerOptions
) {
  const kube = yield* Kube
  const dolt = yield* Dolt
  const namespace = backup.metadata.namespace ?? ""
  const doltdbName = backup.spec.doltDBRef.name ?? ""
  const base = { now, backup, lastOutcome, options }
  const finished = backup.status?.phase === "Completed" || backup.status?.phase === "Failed"
  // Backups reach only DoltDBs of their own namespace (a Backup could otherwise copy another tenant's data).
  const crossNamespace = (backup.spec.doltDBRef.namespace ?? namespace) !== namespace
  const doltdb = crossNamespace
    ? undefined
    : yield* kube
        .get(DoltDBs, doltdbName, { namespace })
        .pipe(Effect.catchTag("NotFound", () => Effect.succeed(undefined)))
  const empty = { ahead: undefined, databases: undefined, credentials: { _tag: "NotNeeded" } as B.CredentialsView }
  if (doltdb === undefined)
    return { observed: { ...base, ...empty, parent: { _tag: "Missing" } } satisfies B.BackupObserved }
  const credentials = yield* readCredentials(namespace, doltdbName).pipe(
    Effect.map((c) => ({ _tag: "Ok" as const, c })),
    Effect.catchTag("CredentialsUnavailable", (e) => Effect.succeed({ _tag: "Missing" as const, message: e.message }))
  )
  const parentBase = {
    _tag: "Found" as const,
    name: doltdbName,
    uid: doltdb.metadata.uid ?? "",
    changingPrimary: doltdb.status?.primaryTransition !== undefined
  }
  if (credentials._tag === "Missing")
    return {
      observed: {
        ...base,
        ...empty,
        parent: { ...parentBase, pods: [], sqlUnavailable: credentials.message }
      } satisfies B.BackupObserved
    }
  const pods = yield* observePods(doltdb, credentials.c)
  const parent: B.BackupParent = { ...parentBase, pods }
  // Finished or deleting: only the pods matter (to remove leftover remotes).
  if (finished || backup.metadata.deletionTimestamp !== undefined)
    return { observed: { ...base, ...empty, parent } satisfies B.BackupObserved, credentials: credentials.c }
  const ahead = yield* aheadOf(backup)
  const avoid = lastOutcome?.result._tag === "PodLost" ? lastOutcome.pod : undefined
  const target = B.chooseTarget(backup.spec.target, pods, backup.status?.pod, avoid)
  const databases =
    target === undefined
      ? undefined
      : yield* dolt
          .listDatabases(doltTarget(target.target.host, target.target.port, credentials.c))
          .pipe(Effect.catch(() => Effect.succeed(undefined)))
  const creds = yield* observeCredentials(namespace, doltdbName, backup.spec.storage)
  return {
    observed: { ...base, parent, ahead, databases, credentials: creds } satisfies B.BackupObserved,
    credentials: credentials.c
  }
})
