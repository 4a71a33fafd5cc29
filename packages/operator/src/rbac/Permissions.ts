/**
 * The operator's Kubernetes permissions, declared once next to the resource descriptors the code uses, and turned
 * into RBAC PolicyRules by `npm run gen:rbac` (charts/doltdb-operator/files/*.yaml, rendered by the chart's
 * ClusterRole/Role templates).
 *
 * Two tests keep this list honest (test/rbac/): every in-memory operator run goes through `guardKube`, which
 * refuses (403, like the API server) any call these rules do not grant; and a scenario that drives every code path
 * records what the operator did and fails when a rule grants something the operator never used.
 *
 * How a `Kube` method maps to RBAC verbs: get → get, list → list, watch → watch, informer → list + watch,
 * create → create, replace → update, mergePatch → patch, patchStatus → patch on `<plural>/status`, delete → delete,
 * apply (server-side apply) → patch, plus create when the object does not exist yet, emitEvent → create on
 * `events.k8s.io` events.
 */
import {
  ConfigMaps,
  Events,
  groupOf,
  Leases,
  NetworkPolicies,
  PersistentVolumeClaims,
  PodDisruptionBudgets,
  Pods,
  type Resource,
  RoleBindings,
  Roles,
  Secrets,
  ServiceAccounts,
  Services,
  StatefulSets,
  StorageClasses,
  VolumeSnapshotClasses,
  VolumeSnapshots
} from "@doltdb-op/core/services/Kube"
import { BackupSchedules, Backups, Databases, DoltDBs, Grants, Snapshots, Users } from "../reconcilers/Resources.ts"

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete"

export interface Permission {
  readonly resource: Pick<Resource<unknown>, "apiVersion" | "plural">
  readonly subresource?: string
  readonly verbs: ReadonlyArray<Verb>
  /** Which code needs it (kept in the generated file as a comment, for reviewers). */
  readonly why: string
}

/** One RBAC check: the API group, `plural` or `plural/subresource`, and the verb. */
export interface Access {
  readonly group: string
  readonly resource: string
  readonly verb: Verb
}

export const accessKey = (a: Access): string => `${a.verb} ${a.group === "" ? "core" : a.group}/${a.resource}`

const children =
  "the DoltDB controller's children (server-side apply, watched by owner; a name held by another object is looked up and reported, never taken over)"

/** What the controllers need in every watched namespace (ClusterRole, or a Role per watched namespace). */
export const OperatorPermissions: ReadonlyArray<Permission> = [
  { resource: DoltDBs, verbs: ["get", "list", "watch"], why: "DoltDB controller" },
  { resource: DoltDBs, subresource: "status", verbs: ["patch"], why: "DoltDB status" },
  ...[Databases, Users, Grants].flatMap(
    (res): ReadonlyArray<Permission> => [
      { resource: res, verbs: ["get", "list", "watch", "patch"], why: "SQL-resource controllers (finalizers)" },
      { resource: res, subresource: "status", verbs: ["patch"], why: "SQL-resource status" }
    ]
  ),
  {
    resource: Backups,
    verbs: ["get", "list", "watch", "create", "patch", "delete"],
    why: "Backup controller (finalizers); BackupSchedule creates its Backups and prunes them to the history limits"
  },
  { resource: Backups, subresource: "status", verbs: ["patch"], why: "Backup status" },
  { resource: BackupSchedules, verbs: ["get", "list", "watch"], why: "BackupSchedule controller" },
  { resource: BackupSchedules, subresource: "status", verbs: ["patch"], why: "BackupSchedule status" },
  {
    resource: Secrets,
    verbs: ["get", "list", "watch", "create", "patch"],
    why: "admin credentials and User passwords (read at execution time); labelled Secrets trigger password rotation; the operator-managed <doltdb>-backup-credentials Secret (server-side apply)"
  },
  {
    resource: Pods,
    verbs: ["get", "list", "watch", "patch", "delete"],
    why: "role labels (patch), rolling updates (delete), primary lookup"
  },
  ...[ServiceAccounts, Roles, RoleBindings, ConfigMaps].map(
    (res): Permission => ({ resource: res, verbs: ["get", "list", "watch", "create", "patch"], why: children })
  ),
  ...[Services, PodDisruptionBudgets, NetworkPolicies].map(
    (res): Permission => ({
      resource: res,
      verbs: ["get", "list", "watch", "create", "patch", "delete"],
      why: `${children}; removed when the topology no longer has them`
    })
  ),
  {
    resource: StatefulSets,
    verbs: ["get", "list", "watch", "create", "patch", "delete"],
    why: `${children}; deleted with propagationPolicy Orphan to change its volume claim template (storage resize)`
  },
  {
    resource: PersistentVolumeClaims,
    verbs: ["list", "patch"],
    why: "storage resize: read the data volumes' size and conditions, grow their request"
  },
  {
    resource: StorageClasses,
    verbs: ["get"],
    why: "storage resize: whether the volumes' StorageClass allows expansion (cluster-scoped)"
  },
  { resource: Snapshots, verbs: ["get", "list", "watch"], why: "Snapshot controller" },
  { resource: Snapshots, subresource: "status", verbs: ["patch"], why: "Snapshot status" },
  {
    resource: VolumeSnapshots,
    verbs: ["list", "create", "patch", "delete"],
    why: "Snapshot controller: take scheduled VolumeSnapshots (server-side apply) and delete expired ones"
  },
  {
    resource: VolumeSnapshotClasses,
    verbs: ["get"],
    why: "Snapshot controller: check the snapshot class exists (cluster-scoped)"
  },
  { resource: Events, verbs: ["create"], why: "Events on the objects the operator manages" }
]

/** Leader election, in the operator's own namespace only (a Role there, never cluster-wide). */
export const LeaderElectionPermissions: ReadonlyArray<Permission> = [
  { resource: Leases, verbs: ["get", "create", "update"], why: "leader election Lease" }
]

export const AllPermissions: ReadonlyArray<Permission> = [...OperatorPermissions, ...LeaderElectionPermissions]

const resourceName = (p: Permission) =>
  p.subresource === undefined ? p.resource.plural : `${p.resource.plural}/${p.subresource}`

/** Every (group, resource, verb) the permissions grant. */
export const grantedAccesses = (permissions: ReadonlyArray<Permission>): ReadonlyArray<Access> =>
  permissions.flatMap((p) =>
    p.verbs.map((verb) => ({ group: groupOf(p.resource.apiVersion), resource: resourceName(p), verb }))
  )

export interface PolicyRule {
  readonly apiGroups: ReadonlyArray<string>
  readonly resources: ReadonlyArray<string>
  readonly verbs: ReadonlyArray<string>
}

const verbOrder: ReadonlyArray<Verb> = ["get", "list", "watch", "create", "update", "patch", "delete"]

/**
 * PolicyRules: one per (group, verb set), resources sorted, so the output is stable and reviewable. Resources of a
 * group that need the same verbs share a rule.
 */
export const policyRules = (permissions: ReadonlyArray<Permission>): ReadonlyArray<PolicyRule> => {
  const byResource = new Map<string, { group: string; resource: string; verbs: Set<Verb> }>()
  for (const a of grantedAccesses(permissions)) {
    const key = `${a.group} ${a.resource}`
    const entry = byResource.get(key) ?? { group: a.group, resource: a.resource, verbs: new Set<Verb>() }
    entry.verbs.add(a.verb)
    byResource.set(key, entry)
  }
  const rules = new Map<string, { group: string; verbs: ReadonlyArray<Verb>; resources: Array<string> }>()
  for (const { group, resource, verbs } of byResource.values()) {
    const ordered = verbOrder.filter((v) => verbs.has(v))
    const key = `${group} ${ordered.join(",")}`
    const rule = rules.get(key) ?? { group, verbs: ordered, resources: [] }
    rule.resources.push(resource)
    rules.set(key, rule)
  }
  return [...rules.values()]
    .map((r) => ({ apiGroups: [r.group], resources: [...r.resources].sort(), verbs: r.verbs }))
    .sort((a, b) => {
      const ka = `${a.apiGroups[0]} ${a.resources[0]}`
      const kb = `${b.apiGroups[0]} ${b.resources[0]}`
      return ka < kb ? -1 : ka > kb ? 1 : 0
    })
}
