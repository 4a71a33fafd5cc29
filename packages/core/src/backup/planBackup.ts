/**
 * The Backup planner: one database at a time, each to its own URL, on a caught-up standby when there is one.
 *
 * Situations, in order:
 * - deleting: remove the remotes this Backup may have left registered, then the finalizer (the backed-up data stays);
 * - finished (Completed, Failed): nothing;
 * - waiting: no DoltDB, another Backup of the same DoltDB runs first, a primary change under way, no pod can run it,
 *   the retry delay, the credentials on their way to the pods;
 * - the last sync's outcome is folded into status: a success completes that database, a lost pod moves the work to
 *   another pod without using an attempt, a failure uses one (`backoffLimit` attempts, then Failed);
 * - otherwise the next database is synced: status (Running, the pod, the URL) is written before the sync starts.
 */
import type { Backup, BackupDatabaseStatus, BackupStatus } from "../api/Backup.ts"
import type { BackupTarget } from "../api/BackupStorage.ts"
import { parseGoDuration } from "../api/GoDuration.ts"
import {
  type Action,
  event,
  type ObjectRef,
  type Plan,
  type Requeue,
  requeueAfter,
  withRequeue
} from "../plan/Action.ts"
import { type ConditionInput, jsonEqual, parseTime, rfc3339, setConditions } from "../status/Conditions.ts"
import type { BackupObserved, BackupPod, SyncOutcome } from "./BackupObserved.ts"
import { defaultBackupPlannerOptions } from "./BackupObserved.ts"
import { backendOf, backupUrl, remoteName } from "./BackupUrl.ts"

export const BackupFinalizer = "k8s.dolthub.com/backup-remotes"
export const BackupCompletedCondition = "BackupCompleted"
/** Reasons of the Ready condition (the reference's, plus the waits it did not report). */
export const BackupReason = {
  Pending: "BackupPending",
  Waiting: "BackupWaiting",
  Running: "BackupRunning",
  Completed: "BackupCompleted",
  Failed: "BackupFailed"
} as const

export interface BackupPlan extends Plan {
  /** The status after the plan ran (for metrics and tests). */
  readonly status: BackupStatus
}

const refOf = (backup: Backup): ObjectRef => ({
  apiVersion: backup.apiVersion,
  kind: backup.kind,
  namespace: backup.metadata.namespace ?? "",
  name: backup.metadata.name ?? "",
  ...(backup.metadata.uid === undefined ? {} : { uid: backup.metadata.uid })
})

/**
 * Where a sync runs. PreferStandby: a ready standby the primary reports caught up (the one used before, else the
 * lowest ordinal), else the primary. A pod just lost is avoided while another one can do the work.
 */
export const chooseTarget = (
  mode: BackupTarget,
  pods: ReadonlyArray<BackupPod>,
  previous: string | undefined,
  avoid: string | undefined
): BackupPod | undefined => {
  const primary = pods.find((p) => p.ready && p.role === "primary")
  const standbys = pods.filter((p) => p.ready && p.role === "standby" && p.caughtUp)
  const ordered =
    mode === "Primary"
      ? [primary]
      : [standbys.find((p) => p.name === previous), ...standbys, primary].filter((p) => p !== undefined)
  const viable = ordered.filter((p): p is BackupPod => p !== undefined)
  return viable.find((p) => p.name !== avoid) ?? viable[0]
}

/** The databases this Backup copies: `spec.databases`, else every user database on the pod that runs it. */
export const databasesToBackUp = (
  backup: Backup,
  listed: ReadonlyArray<string> | undefined
): ReadonlyArray<string> | undefined => {
  const recorded = backup.status?.databases?.map((d) => d.name)
  if (backup.spec.databases !== undefined && backup.spec.databases.length > 0) return backup.spec.databases
  // Once chosen, the list is the one in status (a database created meanwhile waits for the next Backup).
  if (recorded !== undefined && recorded.length > 0) return recorded
  return listed
}

const setDatabase = (
  list: ReadonlyArray<BackupDatabaseStatus>,
  entry: BackupDatabaseStatus
): ReadonlyArray<BackupDatabaseStatus> => {
  const i = list.findIndex((d) => d.name === entry.name)
  return i === -1 ? [...list, entry] : list.map((d, j) => (j === i ? entry : d))
}

const withoutKeys = <T extends object>(o: T, keys: ReadonlyArray<keyof T>): T => {
  const out = { ...o }
  for (const k of keys) delete out[k]
  return out
}

/** Folds the last sync outcome into status. */
const fold = (status: BackupStatus, outcome: SyncOutcome | undefined, now: number): BackupStatus => {
  if (outcome === undefined) return status
  const list = status.databases ?? []
  const previous = list.find((d) => d.name === outcome.database)
  // A stale outcome (the database already completed, e.g. a re-run after a crash) changes nothing.
  if (previous?.completedAt !== undefined) return status
  const base: BackupDatabaseStatus = {
    name: outcome.database,
    url: outcome.url,
    pod: outcome.pod,
    durationMillis: Math.round(outcome.durationMillis)
  }
  switch (outcome.result._tag) {
    case "Synced":
      return {
        ...status,
        databases: setDatabase(list, { ...base, hash: outcome.result.hash, completedAt: rfc3339(now) })
      }
    case "PodLost":
      return {
        ...status,
        podLosses: (status.podLosses ?? 0) + 1,
        databases: setDatabase(list, { ...base, error: outcome.result.message })
      }
    case "Failed":
      return {
        ...status,
        retryCount: (status.retryCount ?? 0) + 1,
        error: outcome.result.message,
        databases: setDatabase(list, { ...base, error: outcome.result.message })
      }
  }
}

const ready = (status: ConditionInput["status"], reason: string, message: string): ConditionInput => ({
  type: "Ready",
  status,
  reason,
  message
})

export const planBackup = (observed: BackupObserved): BackupPlan => {
  const { backup, now, parent } = observed
  const options = observed.options ?? defaultBackupPlannerOptions
  const ref = refOf(backup)
  const current = backup.status ?? {}
  const generation = backup.metadata.generation
  const hasFinalizer = backup.metadata.finalizers?.includes(BackupFinalizer) ?? false
  const pods = parent._tag === "Found" ? parent.pods : []
  const reachable = pods.filter((p) => p.role !== undefined).map((p) => p.target)
  const remotes = (current.databases ?? []).map((d) => ({ database: d.name, remote: remoteName(d.url) }))
  const cleanup: ReadonlyArray<Action> =
    remotes.length > 0 && reachable.length > 0
      ? [{ _tag: "Backup", regarding: ref, op: { _tag: "RemoveRemotes", targets: reachable, remotes } }]
      : []
  const releaseFinalizer: ReadonlyArray<Action> = hasFinalizer
    ? [...cleanup, { _tag: "SetFinalizer", ref, finalizer: BackupFinalizer, present: false }]
    : []

  if (backup.metadata.deletionTimestamp !== undefined) return { actions: releaseFinalizer, status: current }
  if (current.phase === "Completed" || current.phase === "Failed") return { actions: releaseFinalizer, status: current }

  const actions: Array<Action> = []
  const write = (status: BackupStatus, tail: ReadonlyArray<Action>, requeue?: Requeue): BackupPlan => {
    const changed = !jsonEqual(status, current)
    const patch: ReadonlyArray<Action> = changed
      ? [
          {
            _tag: "PatchStatus",
            ref,
            status: status as Readonly<Record<string, unknown>>,
            replaces: current as Readonly<Record<string, unknown>>
          }
        ]
      : []
    return { actions: [...actions, ...patch, ...tail], ...withRequeue(requeue), status }
  }
  const conditions = (status: BackupStatus, inputs: ReadonlyArray<ConditionInput>) =>
    setConditions(status.conditions, inputs, generation, now)
  const wait = (status: BackupStatus, reason: string, message: string, millis: number): BackupPlan => {
    const phase = status.phase ?? "Pending"
    return write(
      {
        ...status,
        phase,
        conditions: conditions(status, [
          ready("False", phase === "Running" ? BackupReason.Running : BackupReason.Waiting, `${reason}: ${message}`)
        ])
      },
      [],
      requeueAfter(millis, message)
    )
  }

  let status = fold(current, observed.lastOutcome, now)
  if (status.phase === undefined)
    status = {
      ...status,
      phase: "Pending",
      conditions: conditions(status, [ready("False", BackupReason.Pending, "Backup pending")])
    }

  // A failure used the last attempt.
  const attempts = status.retryCount ?? 0
  if (attempts >= backup.spec.backoffLimit) {
    const message = `backoff limit exceeded after ${attempts} attempts: ${status.error ?? "unknown error"}`
    const failed: BackupStatus = {
      ...status,
      phase: "Failed",
      completedAt: rfc3339(now),
      error: message,
      conditions: conditions(status, [
        ready("False", BackupReason.Failed, message),
        { type: BackupCompletedCondition, status: "False", reason: BackupReason.Failed, message }
      ])
    }
    return write(failed, [event(ref, "Warning", BackupReason.Failed, message), ...releaseFinalizer])
  }

  if (parent._tag === "Missing")
    return wait(status, "DoltDBNotFound", `DoltDB ${backup.spec.doltDBRef.name} not found`, options.pollMillis * 6)
  if (observed.ahead !== undefined)
    return wait(
      status,
      "Queued",
      `waiting for Backup ${observed.ahead} of the same DoltDB to finish`,
      options.pollMillis * 2
    )
  if (parent.sqlUnavailable !== undefined)
    return wait(status, "DoltDBUnavailable", parent.sqlUnavailable, options.pollMillis * 6)
  if (parent.changingPrimary)
    return wait(status, "PrimaryChanging", "the DoltDB is changing its primary", options.pollMillis)

  if (!hasFinalizer) actions.push({ _tag: "SetFinalizer", ref, finalizer: BackupFinalizer, present: true })

  // The retry delay after a failed attempt (the reference: attempt × 30 s).
  if (observed.lastOutcome?.result._tag === "Failed")
    status = { ...status, nextAttemptAt: rfc3339(now + attempts * options.retryBaseMillis) }
  const nextAttempt = parseTime(status.nextAttemptAt)
  if (nextAttempt !== undefined && now < nextAttempt)
    return wait(
      status,
      "Retrying",
      `attempt ${attempts + 1} of ${backup.spec.backoffLimit} after: ${status.error ?? "a failure"}`,
      nextAttempt - now
    )

  if (observed.credentials._tag === "Invalid") {
    const message = observed.credentials.message
    return write(
      {
        ...status,
        retryCount: attempts + 1,
        error: message,
        nextAttemptAt: rfc3339(now + (attempts + 1) * options.retryBaseMillis)
      },
      [event(ref, "Warning", "BackupCredentials", message)],
      requeueAfter(0, "credentials missing")
    )
  }

  const avoid = observed.lastOutcome?.result._tag === "PodLost" ? observed.lastOutcome.pod : undefined
  const target = chooseTarget(backup.spec.target, pods, status.pod, avoid)
  if (target === undefined)
    return wait(status, "NoTarget", "no pod of the DoltDB can run the backup (none ready)", options.pollMillis)

  const databases = databasesToBackUp(backup, observed.databases)
  if (databases === undefined) return wait(status, "ListingDatabases", "reading the databases", options.pollMillis)
  const missing = databases.filter((d) => observed.databases !== undefined && !observed.databases.includes(d))
  const done = new Set((status.databases ?? []).filter((d) => d.completedAt !== undefined).map((d) => d.name))
  const next = databases.find((d) => !done.has(d))

  if (next === undefined) {
    const message =
      databases.length === 0
        ? "Backup completed: no database to back up"
        : `Backup completed: ${databases.length} database(s)`
    const completed: BackupStatus = {
      ...withoutKeys(status, ["error", "nextAttemptAt"]),
      phase: "Completed",
      startedAt: status.startedAt ?? rfc3339(now),
      completedAt: rfc3339(now),
      conditions: conditions(status, [
        ready("True", BackupReason.Completed, message),
        { type: BackupCompletedCondition, status: "True", reason: BackupReason.Completed, message }
      ])
    }
    return write(completed, [event(ref, "Normal", BackupReason.Completed, message), ...releaseFinalizer])
  }
  if (missing.includes(next)) {
    const message = `database ${next} does not exist on ${target.name}`
    return write(
      {
        ...status,
        retryCount: attempts + 1,
        error: message,
        nextAttemptAt: rfc3339(now + (attempts + 1) * options.retryBaseMillis)
      },
      [],
      requeueAfter(0, message)
    )
  }

  const storage = backup.spec.storage
  if (observed.credentials._tag === "Stale" && parent._tag === "Found")
    return write(
      status,
      [
        {
          _tag: "Backup",
          regarding: ref,
          op: {
            _tag: "WriteCredentials",
            doltdb: {
              apiVersion: backup.apiVersion,
              kind: "DoltDB",
              namespace: ref.namespace,
              name: parent.name,
              uid: parent.uid
            },
            storage
          }
        }
      ],
      requeueAfter(0, "credentials written")
    )
  if (observed.credentials._tag === "Current") {
    const visibleAt = observed.credentials.updatedAt + options.propagationMillis
    if (now < visibleAt)
      return wait(
        status,
        "Credentials",
        `waiting for the credentials to reach the pods' volumes (${Math.ceil((visibleAt - now) / 1000)} s)`,
        visibleAt - now
      )
  }

  const url = backupUrl(storage, next)
  const running: BackupStatus = {
    ...status,
    phase: "Running",
    startedAt: status.startedAt ?? rfc3339(now),
    pod: target.name,
    // Every database of this Backup is listed from the first step, so the list stays fixed across attempts.
    databases: [
      ...(status.databases ?? []),
      ...databases
        .filter((d) => !(status.databases ?? []).some((e) => e.name === d))
        .map((d) => ({ name: d, url: backupUrl(storage, d) }))
    ],
    conditions: conditions(status, [
      ready("False", BackupReason.Running, `Backup running: ${next} on ${target.name} (${backendOf(storage)})`)
    ])
  }
  const timeoutMillis = parseGoDuration(backup.spec.syncTimeout) ?? 3_600_000
  const started: ReadonlyArray<Action> =
    current.phase === "Running"
      ? []
      : [event(ref, "Normal", "BackupStarted", `Backup started on ${target.name} (${backendOf(storage)})`)]
  return write(
    running,
    [
      ...started,
      {
        _tag: "Backup",
        regarding: ref,
        op: { _tag: "Sync", target: target.target, database: next, url, remote: remoteName(url), timeoutMillis }
      }
    ],
    requeueAfter(0, "next step")
  )
}
