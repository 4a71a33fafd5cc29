/**
 * The typed actions a planner returns and the runtime executes, in order.
 *
 * A plan is a list of actions and when to reconcile again. The executor runs the actions one after the other and
 * stops at the first failure, so a planner puts fencing before promotion and status writes that record intent before
 * the steps they describe. Actions carry no callbacks: results that matter are observed again on the next reconcile
 * (level-triggered), which is what makes every step safe to resume after an operator crash.
 */
import type { AssumableRole } from "../services/dolt/rows.ts"
import type { KubeObject } from "../services/kube/Resource.ts"

/** A reference to one Kubernetes object. */
export interface ObjectRef {
  readonly apiVersion: string
  readonly kind: string
  readonly namespace: string
  readonly name: string
  /** When set, the action applies only to the object with this uid (a delete precondition). */
  readonly uid?: string
}

/** What an `Apply` sends: the one plain-JSON object type the `Kube` service reads and writes. */
export type { KubeObject }

/** Where a Dolt sql-server is reached: one pod. */
export interface PodTarget {
  readonly ordinal: number
  readonly pod: string
  /** Host the operator connects to (pod FQDN or IP). */
  readonly host: string
  readonly port: number
}

/** The DoltDB whose current primary runs a SQL statement (the executor resolves host and credentials). */
export interface ClusterRef {
  readonly namespace: string
  readonly name: string
}

/** SQL the SQL-resource reconcilers run on a cluster's primary; names are validated by the Dolt service. */
export type SqlOp =
  | { readonly _tag: "CreateDatabase"; readonly name: string; readonly charset?: string; readonly collation?: string }
  | { readonly _tag: "DropDatabase"; readonly name: string }
  | {
      readonly _tag: "EnsureBranches"
      readonly database: string
      readonly branches: ReadonlyArray<string>
      readonly from?: string
    }
  | { readonly _tag: "EnsureIgnorePatterns"; readonly database: string; readonly patterns: ReadonlyArray<string> }
  /** The password is read by the executor from the Secret reference, so plans never carry secrets. */
  | {
      readonly _tag: "CreateUser"
      readonly name: string
      readonly host: string
      readonly password: SecretKeyRef
    }
  | { readonly _tag: "SetPassword"; readonly name: string; readonly host: string; readonly password: SecretKeyRef }
  | { readonly _tag: "DropUser"; readonly name: string; readonly host: string }
  | {
      readonly _tag: "Grant" | "Revoke"
      readonly name: string
      readonly host: string
      readonly privileges: ReadonlyArray<string>
      readonly database: string
      readonly table: string
      readonly grantOption: boolean
    }

/**
 * The steps of a backup (the Backup executor runs them on one DoltDB's pods, with its admin credentials). Plans
 * never carry secret values: `WriteCredentials` names the storage, the executor reads the Secrets it refers to.
 */
export type BackupOp =
  /** hash, `dolt_backup('add')`, `sync` bounded by `timeoutMillis`, `remove`; the outcome is kept for the next plan. */
  | {
      readonly _tag: "Sync"
      readonly target: PodTarget
      readonly database: string
      readonly url: string
      readonly remote: string
      readonly timeoutMillis: number
    }
  /** Best effort: `dolt_backup('remove')` of these remotes on every reachable pod. */
  | {
      readonly _tag: "RemoveRemotes"
      readonly targets: ReadonlyArray<PodTarget>
      readonly remotes: ReadonlyArray<{ readonly database: string; readonly remote: string }>
    }
  /** Writes the DoltDB's backup credentials Secret for `storage` (owned by the DoltDB). */
  | {
      readonly _tag: "WriteCredentials"
      readonly doltdb: ObjectRef
      readonly storage: import("../api/BackupStorage.ts").BackupStorage
    }

export interface SecretKeyRef {
  readonly namespace: string
  readonly name: string
  readonly key: string
}

export type Action =
  /** Server-side apply of a whole object (or of the fields this field manager owns). */
  | {
      readonly _tag: "Apply"
      readonly object: KubeObject
      /** Field manager; defaults to the operator's. Pod role labels use their own manager. */
      readonly fieldManager?: string
      readonly force: boolean
    }
  | {
      readonly _tag: "Delete"
      readonly ref: ObjectRef
      readonly gracePeriodSeconds?: number
      readonly propagationPolicy?: "Background" | "Foreground" | "Orphan"
      readonly reason: string
    }
  /**
   * Make the status subresource equal `status` (optimistic concurrency on `resourceVersion` when given). `replaces`
   * is the status it replaces, so the executor can send a merge patch that also removes the keys that went away.
   */
  | {
      readonly _tag: "PatchStatus"
      readonly ref: ObjectRef
      readonly status: Readonly<Record<string, unknown>>
      readonly replaces?: Readonly<Record<string, unknown>>
      readonly resourceVersion?: string
    }
  | { readonly _tag: "AssumeRole"; readonly target: PodTarget; readonly role: AssumableRole; readonly epoch: number }
  /**
   * `SET GLOBAL dolt_cluster_ack_writes_timeout_secs` on one server (its process only). `bestEffort`: a failure is
   * logged and the plan goes on (lowering the wait must never hold up the promotion it accompanies).
   */
  | {
      readonly _tag: "SetAckWritesTimeout"
      readonly target: PodTarget
      readonly seconds: number
      readonly bestEffort: boolean
    }
  /**
   * Graceful demotion of a primary. The executor fails the action unless at least `minCaughtUp` standbys are
   * reported caught up and every standby remote named in `requireCaughtUp` (pod names, as in the config's
   * `standby_remotes`) is among them.
   */
  | {
      readonly _tag: "TransitionToStandby"
      readonly target: PodTarget
      readonly epoch: number
      readonly minCaughtUp: number
      readonly requireCaughtUp: ReadonlyArray<string>
    }
  | { readonly _tag: "Sql"; readonly cluster: ClusterRef; readonly op: SqlOp }
  | { readonly _tag: "Backup"; readonly regarding: ObjectRef; readonly op: BackupOp }
  /** Add or remove one finalizer (a metadata patch guarded by resourceVersion). */
  | { readonly _tag: "SetFinalizer"; readonly ref: ObjectRef; readonly finalizer: string; readonly present: boolean }
  | {
      readonly _tag: "Event"
      readonly regarding: ObjectRef
      readonly type: "Normal" | "Warning"
      readonly reason: string
      readonly message: string
      /**
       * The Event announces a refusal the status then records as announced (it is not repeated while the condition
       * holds): if it cannot be written, the plan fails here, before that status write, and the next pass retries.
       * Other Events are best effort.
       */
      readonly required?: boolean
    }
  /**
   * Issue a DoltDB's TLS certificates (`doltdb/tls/planCertificates.ts`): a new CA when `issueCa` (else the one in
   * `<name>-tls-ca`), then a server certificate for `dnsNames`, written to `<name>-tls`. Keys never leave Secrets.
   */
  | {
      readonly _tag: "IssueCertificates"
      readonly doltdb: ObjectRef
      readonly issueCa: boolean
      readonly dnsNames: ReadonlyArray<string>
      readonly durationMillis: number
      readonly reason: string
    }

/** Reconcile again after `millis` (0 = as soon as possible); `why` says what is awaited. */
export interface Requeue {
  readonly millis: number
  readonly why: string
}

/** What a planner returns: the actions to run in order, and when to reconcile again once they succeeded. */
export interface Plan {
  readonly actions: ReadonlyArray<Action>
  /** Absent: only the next watch event reconciles again. */
  readonly requeueAfter?: Requeue
}

export const apply = (object: KubeObject, options?: { readonly fieldManager?: string; readonly force?: boolean }) =>
  ({
    _tag: "Apply",
    object,
    force: options?.force ?? true,
    ...(options?.fieldManager === undefined ? {} : { fieldManager: options.fieldManager })
  }) satisfies Action as Action

export const requeueAfter = (millis: number, why: string): Requeue => ({ millis, why })

export const event = (regarding: ObjectRef, type: "Normal" | "Warning", reason: string, message: string): Action => ({
  _tag: "Event",
  regarding,
  type,
  reason,
  message
})

/**
 * The earliest of these requeues (the first of equal ones), when plans are merged: the runtime requeues once per
 * reconcile, and the soonest thing due decides when.
 */
export const earliest = (...requeues: ReadonlyArray<Requeue | undefined>): Requeue | undefined => {
  let min: Requeue | undefined
  for (const r of requeues) if (r !== undefined && (min === undefined || r.millis < min.millis)) min = r
  return min
}

/** `{ requeueAfter }` when there is one: spread into a plan (optional fields stay absent, never `undefined`). */
export const withRequeue = (requeue: Requeue | undefined): { readonly requeueAfter?: Requeue } =>
  requeue === undefined ? {} : { requeueAfter: requeue }
