/**
 * What the Backup reconciler observes: the Backup, its DoltDB's pods as the backup sees them, the Backups ahead of
 * it, the databases to copy, the state of the credentials Secret and the outcome of the sync it ran last.
 */
import type { Backup } from "../api/Backup.ts"
import type { PodTarget } from "../plan/Action.ts"

export interface BackupPod {
  readonly ordinal: number
  readonly name: string
  /** Pod Ready and its sql-server answered. */
  readonly ready: boolean
  /** What the sql-server says (`undefined`: not reachable). */
  readonly role: "primary" | "standby" | undefined
  /** A standby the primary reports caught up on every database (no lag, no error). */
  readonly caughtUp: boolean
  readonly target: PodTarget
}

export type BackupParent =
  | { readonly _tag: "Missing" }
  | {
      readonly _tag: "Found"
      readonly name: string
      readonly uid: string
      readonly pods: ReadonlyArray<BackupPod>
      /** A switchover or failover is under way (`status.primaryTransition`): no new sync starts. */
      readonly changingPrimary: boolean
      /** Why SQL is unavailable (e.g. the admin Secret is missing), if it is. */
      readonly sqlUnavailable?: string | undefined
    }

/** What the last sync step did, remembered by the executor until a plan folds it into status. */
export interface SyncOutcome {
  readonly database: string
  readonly pod: string
  readonly url: string
  readonly startedAt: number
  readonly durationMillis: number
  readonly result:
    | { readonly _tag: "Synced"; readonly hash: string }
    /** The pod (or the connection to it) went away mid-sync: retried elsewhere, not an attempt. */
    | { readonly _tag: "PodLost"; readonly message: string }
    | { readonly _tag: "Failed"; readonly message: string }
}

export type CredentialsView =
  /** Local and DoltHub backends do not read the Secret. */
  | { readonly _tag: "NotNeeded" }
  /** A referenced Secret or key is missing. */
  | { readonly _tag: "Invalid"; readonly message: string }
  /** The Secret does not hold what this Backup needs. */
  | { readonly _tag: "Stale" }
  /** It does, since `updatedAt` (epoch millis; the kubelet refreshes mounted Secrets within a minute or so). */
  | { readonly _tag: "Current"; readonly updatedAt: number }

export interface BackupPlannerOptions {
  /** How long a changed credentials Secret needs to reach the pods' volumes. */
  readonly propagationMillis: number
  /** Delay before attempt n+1 is `n × retryBaseMillis` (the reference: 30 s). */
  readonly retryBaseMillis: number
  /** A Backup waiting for something polls at this interval. */
  readonly pollMillis: number
}

export const defaultBackupPlannerOptions: BackupPlannerOptions = {
  propagationMillis: 90_000,
  retryBaseMillis: 30_000,
  pollMillis: 5_000
}

export interface BackupObserved {
  readonly now: number
  readonly backup: Backup
  readonly parent: BackupParent
  /** The earliest other unfinished Backup of the same DoltDB: it runs first. */
  readonly ahead: string | undefined
  /** User databases on the pod the backup runs on (`undefined`: not read). */
  readonly databases: ReadonlyArray<string> | undefined
  readonly credentials: CredentialsView
  readonly lastOutcome: SyncOutcome | undefined
  readonly options?: BackupPlannerOptions | undefined
}
