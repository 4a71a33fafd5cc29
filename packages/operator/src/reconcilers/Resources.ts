/**
 * Resource descriptors for every kind the reconcilers read or write: our 7 kinds (decoded through core's
 * schemas) and the built-in kinds a DoltDB owns.
 */
import { Api } from "@doltdb-op/core"
import {
  ConfigMaps,
  NetworkPolicies,
  PersistentVolumeClaims,
  PodDisruptionBudgets,
  Pods,
  type Resource,
  RoleBindings,
  Roles,
  resource,
  Secrets,
  ServiceAccounts,
  Services,
  StatefulSets,
  VolumeSnapshots
} from "@doltdb-op/core/services/Kube"
import type { Schema } from "effect"

// The API schemas decode from the wire form; the Kube service only needs "unknown in, A out".
const codec = <A>(schema: Schema.Top): Schema.Codec<A, unknown> => schema as unknown as Schema.Codec<A, unknown>

const ours = <A>(kind: string, plural: string, schema: Schema.Top): Resource<A> =>
  resource<A>({ apiVersion: Api.ApiVersion, kind, plural, namespaced: true, schema: codec<A>(schema) })

export const DoltDBs = ours<Api.DoltDB>("DoltDB", "doltdbs", Api.DoltDB)
export const Databases = ours<Api.Database>("Database", "databases", Api.Database)
export const Users = ours<Api.User>("User", "users", Api.User)
export const Grants = ours<Api.Grant>("Grant", "grants", Api.Grant)
export const Backups = ours<Api.Backup>("Backup", "backups", Api.Backup)
export const BackupSchedules = ours<Api.BackupSchedule>("BackupSchedule", "backupschedules", Api.BackupSchedule)
export const Snapshots = ours<Api.Snapshot>("Snapshot", "snapshots", Api.Snapshot)

/** Untyped descriptors for our kinds, for generic reads and status patches. */
export const rawDoltDBs = resource({ apiVersion: Api.ApiVersion, kind: "DoltDB", plural: "doltdbs", namespaced: true })
export const rawBackups = resource({ apiVersion: Api.ApiVersion, kind: "Backup", plural: "backups", namespaced: true })

/** Children a DoltDB owns, in the order builders emit them. */
export const childResources: ReadonlyArray<Resource> = [
  ServiceAccounts,
  Roles,
  RoleBindings,
  ConfigMaps,
  Services,
  StatefulSets,
  PodDisruptionBudgets,
  NetworkPolicies
]

const byKind = new Map<string, Resource>(
  [...childResources, Pods, Secrets, PersistentVolumeClaims, VolumeSnapshots].map(
    (r) => [`${r.apiVersion}/${r.kind}`, r] as const
  )
)
for (const k of Api.kinds)
  byKind.set(
    `${Api.ApiVersion}/${k.kind}`,
    resource({ apiVersion: Api.ApiVersion, kind: k.kind, plural: k.plural, namespaced: true })
  )

/** The untyped descriptor for an apiVersion/kind the operator writes. */
export const resourceFor = (apiVersion: string, kind: string): Resource | undefined =>
  byKind.get(`${apiVersion}/${kind}`)
