/**
 * Validation of updates that kube-apiserver refuses, for the kinds the operator's storage handling depends on:
 * a StatefulSet's spec outside its mutable fields (`volumeClaimTemplates` above all), and a PVC's spec outside
 * `resources.requests` — which may only grow, and only on a StorageClass with `allowVolumeExpansion` (the
 * PersistentVolumeClaimResize admission plugin). Claims without a class are resizable here (the simulated default
 * class allows expansion).
 */
import { compareQuantities } from "@doltdb-op/core/api/Quantity"
import { type KubeError, type KubeObject, kubeError } from "@doltdb-op/core/services/Kube"
import { type Json, jsonEqual } from "./FieldSet.ts"
import type { Res } from "./ObjectRules.ts"

const mutableStatefulSetFields = new Set([
  "replicas",
  "ordinals",
  "template",
  "updateStrategy",
  "persistentVolumeClaimRetentionPolicy",
  "minReadySeconds"
])

type Spec = Record<string, Json>

const without = (spec: Spec, keys: ReadonlySet<string>): Spec =>
  Object.fromEntries(Object.entries(spec).filter(([k]) => !keys.has(k)))

const storageOf = (spec: Spec): string | undefined => {
  const requests = (spec.resources as { requests?: { storage?: string | number } } | undefined)?.requests
  return requests?.storage === undefined ? undefined : String(requests.storage)
}

/** Why `next` may not replace `old`, or undefined. `storageClass` looks a cluster-scoped StorageClass up. */
export const updateError = (
  res: Res,
  old: KubeObject,
  next: KubeObject,
  storageClass: (name: string) => KubeObject | undefined
): KubeError | undefined => {
  const ctx = { verb: "update", kind: res.kind, namespace: old.metadata.namespace, name: old.metadata.name }
  const oldSpec = (old.spec ?? {}) as Spec
  const nextSpec = (next.spec ?? {}) as Spec
  if (res.apiVersion === "apps/v1" && res.kind === "StatefulSet") {
    if (!jsonEqual(without(oldSpec, mutableStatefulSetFields), without(nextSpec, mutableStatefulSetFields)))
      return kubeError(
        "Invalid",
        ctx,
        `StatefulSet.apps "${old.metadata.name}" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`
      )
    return undefined
  }
  if (res.apiVersion === "v1" && res.kind === "PersistentVolumeClaim") {
    const strip = new Set(["resources", "volumeAttributesClassName"])
    if (!jsonEqual(without(oldSpec, strip), without(nextSpec, strip)))
      return kubeError(
        "Invalid",
        ctx,
        `PersistentVolumeClaim "${old.metadata.name}" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims`
      )
    const before = storageOf(oldSpec)
    const after = storageOf(nextSpec)
    if (before === undefined || after === undefined || compareQuantities(after, before) === 0) return undefined
    if (compareQuantities(after, before) < 0)
      return kubeError(
        "Invalid",
        ctx,
        `PersistentVolumeClaim "${old.metadata.name}" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than previous value`
      )
    const className = nextSpec.storageClassName as string | undefined
    const cls = className === undefined ? undefined : storageClass(className)
    if (
      className !== undefined &&
      (cls as { allowVolumeExpansion?: boolean } | undefined)?.allowVolumeExpansion !== true
    )
      return kubeError(
        "Forbidden",
        ctx,
        `persistentvolumeclaims "${old.metadata.name}" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize`
      )
  }
  return undefined
}
