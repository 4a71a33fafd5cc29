/**
 * The Snapshot planner: on each `frequencySchedule` fire, one VolumeSnapshot of one caught-up standby's data volume
 * (the primary's when no standby is caught up; every replica's with `everyReplica`), then retention (`keep`,
 * `maxAge`) over the VolumeSnapshots it took, and a status listing them.
 *
 * Why one volume per fire: Dolt's storage is crash-safe (an append-only journal, fsynced before a commit is
 * acknowledged), so a point-in-time copy of a running server's volume is what a crash at that instant would leave,
 * and it restarts to its last complete commit. A caught-up standby holds every acknowledged write up to its lag,
 * and copying it leaves the primary's I/O alone.
 *
 * Each fire is named by its scheduled time, so re-running a plan after a crash re-applies the same VolumeSnapshot
 * (a no-op) rather than taking a second one. A missed fire (operator down) is taken once, late, like a CronJob.
 */
import { Result } from "effect"
import { parseGoDuration } from "../api/GoDuration.ts"
import type { SnapshotRecord, SnapshotStatus } from "../api/Snapshot.ts"
import { latestDue, nextTime, parseSchedule } from "../backup/BackupCron.ts"
import { type Action, event, type ObjectRef, type Plan, requeueAfter, withRequeue } from "../plan/Action.ts"
import {
  type ConditionInput,
  findCondition,
  jsonEqual,
  parseTime,
  rfc3339,
  setConditions
} from "../status/Conditions.ts"
import {
  ScheduledTimeAnnotation,
  SnapshotLabel,
  type SnapshotObserved,
  type SnapshotSource,
  SourcePodAnnotation,
  SourceRoleAnnotation,
  type VolumeSnapshotView
} from "./SnapshotObserved.ts"

export interface SnapshotPlan extends Plan {
  readonly status: SnapshotStatus
}

/** The volumes one fire copies: one caught-up standby (lowest ordinal), else the primary; or every replica. */
export const pickSources = (
  sources: ReadonlyArray<SnapshotSource>,
  everyReplica: boolean
): ReadonlyArray<SnapshotSource> => {
  const available = sources.filter((s) => s.available)
  if (everyReplica) return available
  const standby = available.find((s) => s.role === "standby" && s.caughtUp)
  if (standby !== undefined) return [standby]
  const primary = available.find((s) => s.role === "primary")
  if (primary !== undefined) return [primary]
  // Standalone (no replication roles): its only server.
  return available.length === 1 && available[0]!.role === undefined ? [available[0]!] : []
}

const stamp = (millis: number) => new Date(millis).toISOString().replace(/[-:T]/g, "").slice(0, 14)

export const volumeSnapshotName = (snapshot: string, fire: number, ordinal: number | undefined) =>
  `${snapshot}-${stamp(fire)}${ordinal === undefined ? "" : `-${ordinal}`}`

interface Round {
  readonly time: number
  readonly members: ReadonlyArray<VolumeSnapshotView>
  readonly ready: boolean
  readonly error: string | undefined
}

const rounds = (snapshots: ReadonlyArray<VolumeSnapshotView>): ReadonlyArray<Round> => {
  const byTime = new Map<number, Array<VolumeSnapshotView>>()
  for (const v of snapshots) {
    if (v.deleting || v.scheduledTime === undefined) continue
    const list = byTime.get(v.scheduledTime) ?? []
    list.push(v)
    byTime.set(v.scheduledTime, list)
  }
  return [...byTime.entries()]
    .sort(([a], [b]) => b - a)
    .map(([time, members]) => ({
      time,
      members,
      ready: members.every((m) => m.readyToUse),
      error: members.find((m) => m.error !== undefined)?.error
    }))
}

/** Rounds to delete: beyond the newest `keep` ready rounds, or older than `maxAge` (never the newest ready one). */
export const expiredRounds = (
  all: ReadonlyArray<Round>,
  now: number,
  keep: number | undefined,
  maxAgeMillis: number | undefined
): ReadonlyArray<Round> => {
  const newestReady = all.find((r) => r.ready)
  let readySeen = 0
  const out: Array<Round> = []
  for (const r of all) {
    const beyondKeep = keep !== undefined && readySeen >= keep
    const tooOld = maxAgeMillis !== undefined && r.time < now - maxAgeMillis && r !== newestReady
    if (beyondKeep || tooOld) out.push(r)
    else if (r.ready) readySeen++
  }
  return out
}

const record = (v: VolumeSnapshotView): SnapshotRecord => ({
  name: v.name,
  persistentVolumeClaimName: v.claim,
  scheduledTime: rfc3339(v.scheduledTime ?? 0),
  readyToUse: v.readyToUse,
  ...(v.restoreSize === undefined ? {} : { restoreSize: v.restoreSize }),
  ...(v.creationTime === undefined ? {} : { creationTime: v.creationTime }),
  ...(v.error === undefined ? {} : { error: v.error })
})

export const planSnapshot = (o: SnapshotObserved): SnapshotPlan => {
  const snap = o.snapshot
  const { name, namespace } = snap.metadata
  const ref: ObjectRef = {
    apiVersion: snap.apiVersion,
    kind: snap.kind,
    namespace,
    name,
    ...(snap.metadata.uid === undefined ? {} : { uid: snap.metadata.uid })
  }
  const current = snap.status ?? {}
  const previousReady = findCondition(current.conditions, "Ready")
  const actions: Array<Action> = []
  const requeues: Array<number> = []

  const finish = (ready: ConditionInput, status: SnapshotStatus, warn?: boolean): SnapshotPlan => {
    const next: SnapshotStatus = {
      ...status,
      conditions: setConditions(current.conditions, [ready], snap.metadata.generation, o.now)
    }
    if (warn === true && (previousReady?.reason !== ready.reason || previousReady.message !== ready.message))
      actions.push(event(ref, "Warning", ready.reason, ready.message))
    if (!jsonEqual(next, current)) actions.push({ _tag: "PatchStatus", ref, status: next, replaces: current })
    const requeue =
      requeues.length > 0 ? requeueAfter(Math.max(1, Math.min(...requeues)), "snapshot schedule") : undefined
    return { actions, ...withRequeue(requeue), status: next }
  }
  const failed = (reason: string, message: string, retryMillis?: number) => {
    if (retryMillis !== undefined) requeues.push(retryMillis)
    return finish({ type: "Ready", status: "False", reason, message }, current, true)
  }

  if (!o.api)
    return failed(
      "VolumeSnapshotAPIMissing",
      "the VolumeSnapshot API (snapshot.storage.k8s.io/v1) is not served: install the external-snapshotter CRDs and snapshot-controller, and a CSI driver that supports snapshots",
      60_000
    )
  // The reference hands frequencySchedule to a CronJob (robfig/cron ParseStandard): 5 fields or a descriptor such
  // as @daily or @every 15m, as BackupSchedule's schedule.
  const schedule = parseSchedule(snap.spec.frequencySchedule, "UTC")
  if (Result.isFailure(schedule)) return failed("InvalidSchedule", `spec.frequencySchedule: ${schedule.failure}`)
  if (o.snapshotClass._tag === "Missing")
    return failed(
      "VolumeSnapshotClassNotFound",
      `VolumeSnapshotClass '${o.snapshotClass.name}' (spec.volumeSnapshotClassName) does not exist`,
      60_000
    )
  if (o.doltdb._tag === "NotFound") return failed("DoltDBNotFound", `DoltDB '${o.doltdb.name}' not found`, 30_000)
  const maxAge = snap.spec.maxAge === undefined ? undefined : parseGoDuration(snap.spec.maxAge)

  // 1. The fire, if one is due.
  const created = parseTime(snap.metadata.creationTimestamp) ?? o.now
  const last = parseTime(current.lastScheduleTime) ?? created
  const due = nextTime(schedule.success, last)
  let lastScheduleTime = current.lastScheduleTime
  let taken: ReadonlyArray<VolumeSnapshotView> = []
  let noSource: string | undefined
  if (due <= o.now) {
    const fire = latestDue(schedule.success, last, o.now) ?? due
    const sources = pickSources(o.doltdb.sources, snap.spec.everyReplica === true)
    if (sources.length === 0) {
      noSource = `no volume to snapshot: no ready pod of DoltDB '${o.doltdb.name}' with a bound claim (retrying)`
      requeues.push(10_000)
    } else {
      lastScheduleTime = rfc3339(fire)
      taken = sources.map((s) => {
        const vsName = volumeSnapshotName(name, fire, snap.spec.everyReplica === true ? s.ordinal : undefined)
        actions.push({
          _tag: "Apply",
          force: true,
          object: {
            apiVersion: "snapshot.storage.k8s.io/v1",
            kind: "VolumeSnapshot",
            metadata: {
              name: vsName,
              namespace,
              labels: { [SnapshotLabel]: name, "app.kubernetes.io/part-of": o.doltdb.name },
              annotations: {
                [ScheduledTimeAnnotation]: rfc3339(fire),
                [SourcePodAnnotation]: s.pod,
                ...(s.role === undefined ? {} : { [SourceRoleAnnotation]: s.role })
              },
              ...(snap.spec.deletionPolicy === "Delete" && snap.metadata.uid !== undefined
                ? {
                    ownerReferences: [
                      {
                        apiVersion: snap.apiVersion,
                        kind: snap.kind,
                        name,
                        uid: snap.metadata.uid,
                        blockOwnerDeletion: true
                      }
                    ]
                  }
                : {})
            },
            spec: {
              source: { persistentVolumeClaimName: s.claim },
              ...(o.snapshotClass._tag === "Named" ? { volumeSnapshotClassName: o.snapshotClass.name } : {})
            }
          }
        })
        actions.push(
          event(
            ref,
            "Normal",
            "SnapshotTaken",
            `VolumeSnapshot ${vsName} of ${s.claim} (${s.role ?? "standalone"} ${s.pod})`
          )
        )
        return { name: vsName, claim: s.claim, scheduledTime: fire, readyToUse: false, deleting: false }
      })
    }
  }

  // 2. Retention over what this Snapshot took (the new round counts as not ready yet).
  const known = new Set(o.volumeSnapshots.map((v) => v.name))
  const all = rounds([...taken.filter((t) => !known.has(t.name)), ...o.volumeSnapshots])
  const expired = expiredRounds(all, o.now, snap.spec.keep, maxAge)
  const gone = new Set<string>()
  for (const r of expired)
    for (const m of r.members) {
      gone.add(m.name)
      actions.push({
        _tag: "Delete",
        ref: { apiVersion: "snapshot.storage.k8s.io/v1", kind: "VolumeSnapshot", namespace, name: m.name },
        reason: `retention of Snapshot ${name} (keep ${snap.spec.keep ?? "all"}, maxAge ${snap.spec.maxAge ?? "none"})`
      })
    }

  // 3. Status.
  const kept = all.filter((r) => !r.members.some((m) => gone.has(m.name)))
  const newest = kept[0]
  const lastReady = kept.find((r) => r.ready)
  if (newest !== undefined && !newest.ready && newest.error === undefined) requeues.push(2_000)
  const from = parseTime(lastScheduleTime) ?? last
  // The next fire after now: for @every, counted in whole periods from the last fire.
  const base = o.now <= from ? from : (latestDue(schedule.success, from, o.now) ?? from)
  const next = nextTime(schedule.success, base)
  requeues.push(next - o.now)
  const status: SnapshotStatus = {
    ...(lastScheduleTime === undefined ? {} : { lastScheduleTime }),
    nextScheduleTime: rfc3339(next),
    ...(lastReady === undefined ? {} : { lastSuccessfulTime: rfc3339(lastReady.time) }),
    snapshots: kept.flatMap((r) => r.members.map(record))
  }
  if (noSource !== undefined)
    return finish({ type: "Ready", status: "False", reason: "NoVolumeToSnapshot", message: noSource }, status, true)
  if (newest?.error !== undefined)
    return finish(
      { type: "Ready", status: "False", reason: "SnapshotFailed", message: `snapshot failed: ${newest.error}` },
      status,
      true
    )
  return finish(
    {
      type: "Ready",
      status: "True",
      reason: "Scheduled",
      message: `next snapshot at ${rfc3339(next)}${lastReady === undefined ? "" : `; last ready ${rfc3339(lastReady.time)}`}`
    },
    status
  )
}
