/**
 * The operator proper: its controllers and the watches that feed them, as `Manager` definitions. The same
 * definitions run against a real cluster (live layers, `run`) and inside the simulation (in-memory layers): they
 * need only the `Kube` and `Dolt` services.
 */
import { type Backups as BackupPlanner, Builders, DoltDBPlanner, type SqlResources } from "@doltdb-op/core"
import type { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Pods, Secrets } from "@doltdb-op/core/services/Kube"
import { Duration, Effect } from "effect"
import { reconcileBackup } from "./reconcilers/backup/reconcileBackup.ts"
import { reconcileBackupSchedule } from "./reconcilers/backup/reconcileBackupSchedule.ts"
import type { OutcomeMemory } from "./reconcilers/backup/runBackupOp.ts"
import { reconcileDoltDB } from "./reconcilers/doltdb/reconcileDoltDB.ts"
import {
  BackupSchedules,
  Backups,
  childResources,
  Databases,
  DoltDBs,
  Grants,
  Snapshots,
  Users
} from "./reconcilers/Resources.ts"
import { reconcileSnapshot } from "./reconcilers/snapshot/reconcileSnapshot.ts"
import { reconcileDatabase } from "./reconcilers/sql/reconcileDatabase.ts"
import { reconcileGrant } from "./reconcilers/sql/reconcileGrant.ts"
import { reconcileUser } from "./reconcilers/sql/reconcileUser.ts"
import type { FailureMemory } from "./reconcilers/sql/runSqlPlan.ts"
import * as EventSource from "./runtime/EventSource.ts"
import * as Manager from "./runtime/Manager.ts"
import * as RateLimiter from "./runtime/RateLimiter.ts"

export interface OperatorOptions {
  /** Namespaces to watch; empty = all. */
  readonly namespaces: ReadonlyArray<string>
  readonly doltdbWorkers: number
  /** Workers of the other controllers (`--max-concurrent-reconciles`). */
  readonly workers: number
  readonly fieldManager: string
  /** This process's identity (Events' reportingInstance). */
  readonly instance: string
  readonly clusterDomain: string
  readonly replicationDefaults: DoltDBPlanner.ReplicationDefaults
  readonly sqlPlanner: SqlResources.PlannerOptions
  /** Backup timings (credentials propagation, retry delays); defaults when absent. */
  readonly backupPlanner?: BackupPlanner.BackupPlannerOptions | undefined
  /** Replaces the DoltDB planner (tests only: the simulation's mutation check runs a planner that skips fencing). */
  readonly doltdbPlanner?: ((observed: DoltDBPlanner.DoltDBObserved) => DoltDBPlanner.DoltDBPlan) | undefined
}

export const FieldManager = "doltdb-operator"

/** The label that makes a Secret's changes reconcile the Users referring to it (reference-compatible). */
export const WatchLabel = "k8s.dolthub.com/watch"

/** Users in the Secret's namespace whose `passwordSecretKeyRef` names it. */
const usersReferring = (secret: KubeObject) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    const namespace = secret.metadata.namespace
    const users = yield* kube.list(Users, namespace === undefined ? {} : { namespace }).pipe(
      Effect.map((l) => l.items),
      Effect.catch(() => Effect.succeed([]))
    )
    return users
      .filter((u) => u.spec.passwordSecretKeyRef.name === secret.metadata.name)
      .map((u) => EventSource.objectKey(u.metadata.namespace, u.metadata.name ?? ""))
  })

/** Grants in the User's namespace for the same account. */
const grantsOfUser = (user: {
  readonly metadata: { readonly namespace?: string | undefined }
  readonly spec: { readonly name: string }
}) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    const namespace = user.metadata.namespace
    const grants = yield* kube.list(Grants, namespace === undefined ? {} : { namespace }).pipe(
      Effect.map((l) => l.items),
      Effect.catch(() => Effect.succeed([]))
    )
    return grants
      .filter((g) => g.spec.username === user.spec.name)
      .map((g) => EventSource.objectKey(g.metadata.namespace, g.metadata.name ?? ""))
  })

export const controllers = (options: OperatorOptions): ReadonlyArray<Manager.ControllerDefinition<Kube | Dolt>> => {
  const { namespaces } = options
  const owner = { group: "k8s.dolthub.com", kind: "DoltDB" }
  const sql = { fieldManager: options.fieldManager, instance: options.instance, planner: options.sqlPlanner }
  const failures = { database: new Map(), user: new Map(), grant: new Map() } satisfies Record<string, FailureMemory>
  const backupOutcomes: OutcomeMemory = new Map()
  return [
    {
      name: "doltdb",
      workers: options.doltdbWorkers,
      // Failed reconciles are retried no later than the next poll: they are how a lost primary is detected.
      rateLimiter: RateLimiter.cappedController(Duration.millis(DoltDBPlanner.PollMillis)),
      reconcile: reconcileDoltDB({
        clusterDomain: options.clusterDomain,
        defaults: options.replicationDefaults,
        fieldManager: options.fieldManager,
        instance: options.instance,
        planner: options.doltdbPlanner
      }),
      sources: [
        Manager.watch(DoltDBs, {
          namespaces,
          cacheGets: true,
          toKeys: ({ object }) => EventSource.toSelf({ object, type: "" })
        }),
        ...childResources.map((res) =>
          Manager.watch(res, { namespaces, toKeys: EventSource.toControllerOwner(owner) })
        ),
        // Pods belong to the StatefulSet; the pod template carries the DoltDB's name as an annotation.
        Manager.watch(Pods, { namespaces, toKeys: EventSource.toAnnotated(Builders.DoltDBAnnotation) })
      ]
    },
    {
      name: "database",
      workers: options.workers,
      reconcile: reconcileDatabase(sql, failures.database),
      sources: [
        Manager.watch(Databases, {
          namespaces,
          cacheGets: true,
          toKeys: ({ object }) => EventSource.toSelf({ object, type: "" })
        })
      ]
    },
    {
      name: "user",
      workers: options.workers,
      reconcile: reconcileUser(sql, failures.user),
      sources: [
        Manager.watch(Users, {
          namespaces,
          cacheGets: true,
          toKeys: ({ object }) => EventSource.toSelf({ object, type: "" })
        }),
        Manager.watch(Secrets, {
          namespaces,
          labelSelector: WatchLabel,
          toKeys: ({ object }) => usersReferring(object)
        })
      ]
    },
    {
      name: "snapshot",
      workers: options.workers,
      reconcile: reconcileSnapshot({ fieldManager: options.fieldManager, instance: options.instance }),
      sources: [
        Manager.watch(Snapshots, { namespaces, toKeys: ({ object }) => EventSource.toSelf({ object, type: "" }) })
      ]
    },
    {
      name: "grant",
      workers: options.workers,
      reconcile: reconcileGrant(sql, failures.grant),
      sources: [
        Manager.watch(Grants, {
          namespaces,
          cacheGets: true,
          toKeys: ({ object }) => EventSource.toSelf({ object, type: "" })
        }),
        Manager.watch(Users, { namespaces, toKeys: ({ object }) => grantsOfUser(object) })
      ]
    },
    {
      name: "backup",
      workers: options.workers,
      reconcile: reconcileBackup(
        { fieldManager: options.fieldManager, instance: options.instance, planner: options.backupPlanner },
        backupOutcomes
      ),
      sources: [
        Manager.watch(Backups, { namespaces, toKeys: ({ object }) => EventSource.toSelf({ object, type: "" }) })
      ]
    },
    {
      name: "backupschedule",
      workers: options.workers,
      reconcile: reconcileBackupSchedule({ fieldManager: options.fieldManager, instance: options.instance }),
      sources: [
        Manager.watch(BackupSchedules, {
          namespaces,
          toKeys: ({ object }) => EventSource.toSelf({ object, type: "" })
        }),
        // A Backup that finishes lets a Forbid schedule go on and the history be pruned.
        Manager.watch(Backups, {
          namespaces,
          toKeys: EventSource.toControllerOwner({ group: "k8s.dolthub.com", kind: "BackupSchedule" })
        })
      ]
    }
  ]
}
