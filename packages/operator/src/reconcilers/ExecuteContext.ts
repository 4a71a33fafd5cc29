/**
 * What a controller's executor can do beyond writing Kubernetes objects, one context per kind of controller, so each
 * names the capabilities its plans need and carries no optional ones: the DoltDB and Backup controllers change server
 * roles and run backup steps with the cluster's admin credentials; the SQL-resource controllers run statements on the
 * referenced cluster's primary; the Snapshot and BackupSchedule controllers write objects only.
 */
import type { BackupOp, ClusterRef, ObjectRef } from "@doltdb-op/core/plan/Action"
import type { Dolt, DoltTarget } from "@doltdb-op/core/services/Dolt"
import type { Kube } from "@doltdb-op/core/services/Kube"
import type { Effect } from "effect"
import type { ActionFailed } from "./ActionFailed.ts"
import type { Credentials } from "./Credentials.ts"

/** Who writes: the field manager of applies and patches, and the reporter of Events. */
export interface ExecutorIdentity {
  readonly fieldManager: string
  readonly controller: string
  readonly instance: string
}

/** The DoltDB and Backup controllers: role changes on a cluster's pods and its backup steps. */
export interface ClusterExecutor extends ExecutorIdentity {
  readonly _tag: "ClusterExecutor"
  /** The DoltDB's admin credentials; undefined while its Secret cannot be read (a pod step then fails). */
  readonly credentials: Credentials | undefined
  readonly backup: (regarding: ObjectRef, op: BackupOp) => Effect.Effect<void, ActionFailed, Kube | Dolt>
}

/** The Database, User and Grant controllers: statements on the referenced cluster's current primary. */
export interface SqlExecutor extends ExecutorIdentity {
  readonly _tag: "SqlExecutor"
  readonly primaryOf: (cluster: ClusterRef) => Effect.Effect<DoltTarget, ActionFailed, Kube>
}

/** The Snapshot and BackupSchedule controllers: Kubernetes objects and Events only. */
export interface ObjectExecutor extends ExecutorIdentity {
  readonly _tag: "ObjectExecutor"
}

export type ExecuteContext = ClusterExecutor | SqlExecutor | ObjectExecutor
