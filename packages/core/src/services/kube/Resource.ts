/**
 * Resource descriptors and the typed object metadata the `Kube` service works with.
 *
 * A descriptor names a resource type once (`{ apiVersion, kind, plural, namespaced }`); an optional Schema decodes
 * what the server returns into a typed value and encodes what we send. Built-in kinds have no schema: they are plain
 * JSON objects whose `metadata` is typed. Our own kinds plug in with their schemas from `@doltdb-op/core/api`.
 */
import { Schema } from "effect"

export interface OwnerReference {
  readonly apiVersion: string
  readonly kind: string
  readonly name: string
  readonly uid: string
  readonly controller?: boolean
  readonly blockOwnerDeletion?: boolean
}

export interface ObjectMeta {
  /** Empty only on a create that uses `generateName`. */
  readonly name: string
  readonly generateName?: string
  readonly namespace?: string
  readonly uid?: string
  readonly resourceVersion?: string
  readonly generation?: number
  readonly creationTimestamp?: string
  readonly deletionTimestamp?: string
  readonly deletionGracePeriodSeconds?: number
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
  readonly ownerReferences?: ReadonlyArray<OwnerReference>
  readonly finalizers?: ReadonlyArray<string>
  readonly managedFields?: ReadonlyArray<unknown>
}

/** Any Kubernetes object as plain JSON, with typed metadata. */
export interface KubeObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: ObjectMeta
  readonly [field: string]: unknown
}

/** A resource type. `A` is what reads return (and creates/replaces accept); `KubeObject` unless a schema is given. */
export interface Resource<A = KubeObject> {
  readonly apiVersion: string
  readonly kind: string
  /** Lower-case plural used in URLs (`statefulsets`). */
  readonly plural: string
  readonly namespaced: boolean
  /** Whether writes to the main resource ignore `status` (and status writes go through `/status`). */
  readonly statusSubresource: boolean
  /** Decodes the server's JSON into `A`, encodes `A` into JSON. Absent: `A` is the JSON itself. */
  readonly schema?: Schema.Codec<A, unknown>
}

/** Declares a resource type; `statusSubresource` defaults to true (most kinds with a status have one). */
export const resource = <A = KubeObject>(descriptor: {
  readonly apiVersion: string
  readonly kind: string
  readonly plural: string
  readonly namespaced: boolean
  readonly statusSubresource?: boolean
  readonly schema?: Schema.Codec<A, unknown>
}): Resource<A> => ({ ...descriptor, statusSubresource: descriptor.statusSubresource ?? true })

/** `group` of an apiVersion (`""` for the core group). */
export const groupOf = (apiVersion: string): string => {
  const slash = apiVersion.indexOf("/")
  return slash < 0 ? "" : apiVersion.slice(0, slash)
}

/** `/api/v1` or `/apis/<group>/<version>`. */
export const apiPrefix = (apiVersion: string): string =>
  apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`

/** The REST path of a collection or an object (no query string). */
export const resourcePath = (
  res: Pick<Resource<unknown>, "apiVersion" | "plural" | "namespaced">,
  namespace: string | undefined,
  name?: string,
  subresource?: string
): string => {
  let path = apiPrefix(res.apiVersion)
  if (res.namespaced && namespace !== undefined) path += `/namespaces/${encodeURIComponent(namespace)}`
  path += `/${res.plural}`
  if (name !== undefined) path += `/${encodeURIComponent(name)}`
  if (subresource !== undefined) path += `/${subresource}`
  return path
}

// --- built-in kinds the operator touches (reference-operator.md §3) ---

export const Pods = resource({ apiVersion: "v1", kind: "Pod", plural: "pods", namespaced: true })
export const Services = resource({ apiVersion: "v1", kind: "Service", plural: "services", namespaced: true })
export const ConfigMaps = resource({
  apiVersion: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
  statusSubresource: false
})
export const Secrets = resource({
  apiVersion: "v1",
  kind: "Secret",
  plural: "secrets",
  namespaced: true,
  statusSubresource: false
})
export const ServiceAccounts = resource({
  apiVersion: "v1",
  kind: "ServiceAccount",
  plural: "serviceaccounts",
  namespaced: true,
  statusSubresource: false
})
export const PersistentVolumeClaims = resource({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  plural: "persistentvolumeclaims",
  namespaced: true
})
export const Namespaces = resource({ apiVersion: "v1", kind: "Namespace", plural: "namespaces", namespaced: false })
export const StatefulSets = resource({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  plural: "statefulsets",
  namespaced: true
})
export const EndpointSlices = resource({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  plural: "endpointslices",
  namespaced: true,
  statusSubresource: false
})
export const Events = resource({
  apiVersion: "events.k8s.io/v1",
  kind: "Event",
  plural: "events",
  namespaced: true,
  statusSubresource: false
})
export const Roles = resource({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "Role",
  plural: "roles",
  namespaced: true,
  statusSubresource: false
})
export const RoleBindings = resource({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "RoleBinding",
  plural: "rolebindings",
  namespaced: true,
  statusSubresource: false
})
export const ClusterRoleBindings = resource({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRoleBinding",
  plural: "clusterrolebindings",
  namespaced: false,
  statusSubresource: false
})
export const PodDisruptionBudgets = resource({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  plural: "poddisruptionbudgets",
  namespaced: true
})
export const NetworkPolicies = resource({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  plural: "networkpolicies",
  namespaced: true,
  statusSubresource: false
})
export const Jobs = resource({ apiVersion: "batch/v1", kind: "Job", plural: "jobs", namespaced: true })
export const CronJobs = resource({ apiVersion: "batch/v1", kind: "CronJob", plural: "cronjobs", namespaced: true })
/** Read to know whether a claim's class allows expansion (`allowVolumeExpansion`). */
export const StorageClasses = resource({
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  plural: "storageclasses",
  namespaced: false,
  statusSubresource: false
})

// --- external-snapshotter (CRDs installed with the CSI snapshot-controller) ---

export const VolumeSnapshots = resource({
  apiVersion: "snapshot.storage.k8s.io/v1",
  kind: "VolumeSnapshot",
  plural: "volumesnapshots",
  namespaced: true
})
export const VolumeSnapshotClasses = resource({
  apiVersion: "snapshot.storage.k8s.io/v1",
  kind: "VolumeSnapshotClass",
  plural: "volumesnapshotclasses",
  namespaced: false,
  statusSubresource: false
})
export const VolumeSnapshotContents = resource({
  apiVersion: "snapshot.storage.k8s.io/v1",
  kind: "VolumeSnapshotContent",
  plural: "volumesnapshotcontents",
  namespaced: false
})

// --- Lease, typed (leader election) ---

const OwnerReferenceSchema = Schema.Struct({
  apiVersion: Schema.String,
  kind: Schema.String,
  name: Schema.String,
  uid: Schema.String,
  controller: Schema.optionalKey(Schema.Boolean),
  blockOwnerDeletion: Schema.optionalKey(Schema.Boolean)
})

/** The metadata fields a typed kind usually needs; unknown keys are dropped on decode. */
export const ObjectMetaSchema = Schema.Struct({
  name: Schema.String,
  generateName: Schema.optionalKey(Schema.String),
  namespace: Schema.optionalKey(Schema.String),
  uid: Schema.optionalKey(Schema.String),
  resourceVersion: Schema.optionalKey(Schema.String),
  generation: Schema.optionalKey(Schema.Number),
  creationTimestamp: Schema.optionalKey(Schema.String),
  deletionTimestamp: Schema.optionalKey(Schema.String),
  deletionGracePeriodSeconds: Schema.optionalKey(Schema.Number),
  labels: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  annotations: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  ownerReferences: Schema.optionalKey(Schema.Array(OwnerReferenceSchema)),
  finalizers: Schema.optionalKey(Schema.Array(Schema.String))
})

export const LeaseSpec = Schema.Struct({
  holderIdentity: Schema.optionalKey(Schema.String),
  leaseDurationSeconds: Schema.optionalKey(Schema.Number),
  /** MicroTime strings (`2026-11-26T14:00:00.000000Z`); see `formatMicroTime`. */
  acquireTime: Schema.optionalKey(Schema.String),
  renewTime: Schema.optionalKey(Schema.String),
  leaseTransitions: Schema.optionalKey(Schema.Number)
})

export const Lease = Schema.Struct({
  apiVersion: Schema.Literal("coordination.k8s.io/v1"),
  kind: Schema.Literal("Lease"),
  metadata: ObjectMetaSchema,
  spec: Schema.optionalKey(LeaseSpec)
})
export type Lease = typeof Lease.Type

export const Leases: Resource<Lease> = resource({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  plural: "leases",
  namespaced: true,
  statusSubresource: false,
  schema: Lease
})

/** Kubernetes MicroTime: RFC 3339 with exactly 6 fractional digits (what `renewTime`/`acquireTime` need). */
export const formatMicroTime = (epochMillis: number): string =>
  new Date(epochMillis).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z")

/** RFC 3339 with second precision (`metadata.creationTimestamp`, `deletionTimestamp`). */
export const formatTime = (epochMillis: number): string =>
  new Date(Math.floor(epochMillis / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z")
