/**
 * Backups in a `simulate` run: every Backup (from a `backup` event or a BackupSchedule) is followed step by step,
 * its phase changes go to the timeline, and the copy a Completed Backup left in the simulated store is taken the
 * step it completes (a later sync to the same URL replaces it). At the end each copy is held to
 * `BackupNotAcknowledged`: every write in it was acknowledged to its client, or is one the cluster kept (a write
 * whose client saw an error may still have committed: it is acknowledged by the cluster's own data). A write in
 * neither would come back on restore although the cluster never acknowledged it. A copy that is missing from the
 * store breaks the same rule (a Completed Backup that cannot be restored).
 */

import type { KubeObject } from "@doltdb-op/core/services/Kube"
import { DoltModel } from "@doltdb-op/dolt"
import { InMemoryKube } from "@doltdb-op/k8s"
import { Effect, HashSet } from "effect"
import { rawBackups, rawDoltDBs } from "../reconcilers/Resources.ts"
import type { InvariantViolation } from "./ScenarioInvariants.ts"

export interface BackupDatabaseOutcome {
  readonly name: string
  readonly url: string
  readonly pod: string | undefined
  /** Client writes in the copy (undefined: nothing stored at the URL). */
  readonly writes: number | undefined
  /** Of those, acknowledged to their client. */
  readonly acknowledged: number
}

export interface BackupOutcome {
  readonly name: string
  readonly doltdb: string
  /** The BackupSchedule that created it, if any. */
  readonly schedule: string | undefined
  readonly phase: string
  /** Simulated millis since the start of the run. */
  readonly createdAt: number
  readonly completedAt: number | undefined
  readonly error: string | undefined
  readonly retryCount: number
  readonly podLosses: number
  readonly databases: ReadonlyArray<BackupDatabaseOutcome>
}

interface Copy {
  readonly doltdb: string
  readonly completedAt: number
  readonly databases: ReadonlyArray<{
    readonly name: string
    readonly url: string
    readonly pod: string | undefined
    readonly writes: ReadonlyArray<number> | undefined
  }>
}

interface BackupStatusView {
  readonly phase?: string
  readonly pod?: string
  readonly error?: string
  readonly retryCount?: number
  readonly podLosses?: number
  readonly databases?: ReadonlyArray<{ readonly name: string; readonly url: string; readonly pod?: string }>
}

const ScheduleLabel = "k8s.dolthub.com/backup-schedule"

/**
 * What breaks `BackupNotAcknowledged` in one database's copy (undefined: nothing). `writes` undefined: nothing was
 * stored at the URL; `kept`: whether the cluster's data (its final primary) holds a write.
 */
export const copyViolation = (
  writes: ReadonlyArray<number> | undefined,
  acked: ReadonlySet<number>,
  kept: (write: number) => boolean
): string | undefined => {
  if (writes === undefined) return "Completed, but nothing is stored at its URL"
  const unknown = writes.filter((w) => !acked.has(w) && !kept(w))
  return unknown.length === 0
    ? undefined
    : `${unknown.length} write(s) in the copy were never acknowledged and are not in the cluster's data (first: write ${unknown[0]})`
}

export const makeBackupWatch = (namespace: string, note: (at: number, text: string) => void) => {
  const seen = new Map<string, { object: KubeObject; createdAt: number; key: string }>()
  const copies = new Map<string, Copy>()

  const step = Effect.fnUntraced(function* (at: number) {
    const api = (yield* InMemoryKube).system
    const dolt = yield* DoltModel.DoltCluster
    const list = yield* api
      .list(rawBackups, { namespace })
      .pipe(Effect.catch(() => Effect.succeed({ items: [] as ReadonlyArray<KubeObject> })))
    const present = new Set(list.items.map((o) => o.metadata.uid ?? o.metadata.name))
    for (const [uid, entry] of seen)
      if (!present.has(uid) && !entry.key.startsWith("deleted")) {
        seen.set(uid, { ...entry, key: `deleted/${entry.key}` })
        note(at, `Backup ${entry.object.metadata.name}: deleted`)
      }
    for (const object of list.items) {
      const uid = object.metadata.uid ?? object.metadata.name
      const status = (object.status ?? {}) as BackupStatusView
      const phase = status.phase ?? "Pending"
      const key = `${phase}/${status.pod ?? ""}/${status.podLosses ?? 0}/${status.retryCount ?? 0}`
      const before = seen.get(uid)
      seen.set(uid, { object, createdAt: before?.createdAt ?? at, key })
      if (before?.key === key) continue
      const losses = status.podLosses ? `, ${status.podLosses} pod(s) lost mid-sync` : ""
      const retries = status.retryCount ? `, attempt ${status.retryCount + 1}` : ""
      note(
        at,
        `Backup ${object.metadata.name}: ${phase}${status.pod === undefined ? "" : ` on ${status.pod}`}${losses}${retries}${
          phase === "Failed" && status.error !== undefined ? `: ${status.error}` : ""
        }`
      )
      if (phase !== "Completed" || copies.has(uid)) continue
      const doltdb = String((object.spec as { doltDBRef?: { name?: string } } | undefined)?.doltDBRef?.name ?? "")
      copies.set(uid, {
        doltdb,
        completedAt: at,
        databases: (status.databases ?? []).map((d) => {
          const stored = dolt.backupStore.get(d.url)
          return {
            name: d.name,
            url: d.url,
            pod: d.pod,
            writes: stored === undefined ? undefined : [...stored.root.writes].sort((a, b) => a - b)
          }
        })
      })
    }
  })

  /** The outcomes and the `BackupNotAcknowledged` violations, against the cluster as it ends. */
  const finish = Effect.fnUntraced(function* () {
    const api = (yield* InMemoryKube).system
    const dolt = yield* DoltModel.DoltCluster
    const acked = new Set((yield* dolt.ledger).filter((e) => e.outcome === "acked").map((e) => e.id))
    /** The writes of `database` on the DoltDB's final primary (empty when it has none). */
    const kept = Effect.fnUntraced(function* (doltdb: string, database: string) {
      const object = yield* api
        .get(rawDoltDBs, doltdb, { namespace })
        .pipe(Effect.catch(() => Effect.succeed(undefined as KubeObject | undefined)))
      const primary = (object?.status as { currentPrimary?: string } | undefined)?.currentPrimary
      if (primary === undefined) return HashSet.empty<number>()
      const server = yield* dolt.serverAt(`${primary}.${doltdb}-internal.${namespace}`)
      return server?.data.databases.get(database)?.root.writes ?? HashSet.empty<number>()
    })
    const violations: Array<InvariantViolation> = []
    const outcomes: Array<BackupOutcome> = []
    for (const [uid, { object, createdAt }] of seen) {
      const status = (object.status ?? {}) as BackupStatusView
      const copy = copies.get(uid)
      const doltdb = String((object.spec as { doltDBRef?: { name?: string } } | undefined)?.doltDBRef?.name ?? "")
      const databases: Array<BackupDatabaseOutcome> = []
      for (const d of copy?.databases ?? []) {
        const writes = d.writes ?? []
        databases.push({
          name: d.name,
          url: d.url,
          pod: d.pod,
          writes: d.writes?.length,
          acknowledged: writes.filter((w) => acked.has(w)).length
        })
        const data = d.writes === undefined ? HashSet.empty<number>() : yield* kept(doltdb, d.name)
        const broken = copyViolation(d.writes, acked, (w) => HashSet.has(data, w))
        if (broken !== undefined)
          violations.push({
            at: copy!.completedAt,
            doltdb,
            invariant: "BackupNotAcknowledged",
            message: `Backup ${object.metadata.name}, database ${d.name} (${d.url}): ${broken}`,
            steps: 1
          })
      }
      outcomes.push({
        name: object.metadata.name,
        doltdb,
        schedule: object.metadata.labels?.[ScheduleLabel],
        phase: status.phase ?? "Pending",
        createdAt,
        completedAt: copy?.completedAt,
        error: status.error,
        retryCount: status.retryCount ?? 0,
        podLosses: status.podLosses ?? 0,
        databases
      })
    }
    return { outcomes, violations }
  })

  return { step, finish }
}
