/**
 * Storage resize (reference-operator.md §3.6), as a named situation and a small planner.
 *
 * `spec.volumeClaimTemplates` is immutable, so growing `spec.storage.size` takes three steps, each derived from what
 * is observed (no memory in status, so a crash between steps resumes where it stopped):
 * 1. patch every data PVC whose request is below the new size (`resizeInUseVolumes`), then delete the StatefulSet
 *    with `propagationPolicy: Orphan`: its pods keep running, nothing restarts, no failover;
 * 2. once it is gone, the normal child apply re-creates it with the new template; it adopts the orphaned pods (same
 *    pod template, same revision, so no rollout);
 * 3. wait until every claim has the new capacity and no `Resizing`/`FileSystemResizePending` condition
 *    (`waitForVolumeResize`) and every replica is ready, then `StorageResized` is True.
 *
 * Refused changes keep the StatefulSet's current claim template (so pod template changes still roll out) and say
 * why in a condition and one Warning event: a shrink (the CRD's CEL rule refuses it at admission; this is the
 * fallback), a StorageClass change (immutable: migrate through a snapshot), and growth on a StorageClass without
 * `allowVolumeExpansion` (the API server would refuse the PVC patch on every pass).
 */
import type { Storage } from "../../api/DoltDB.ts"
import { compareQuantities } from "../../api/Quantity.ts"
import type { ConditionInput } from "../../status/Conditions.ts"
import type { ClaimView, StorageObserved } from "./StorageObserved.ts"

export type StorageSituation =
  /** Nothing observed, or no StatefulSet and no claim to grow: the builders' template applies as is. */
  | { readonly _tag: "Unobserved" }
  /** The StatefulSet is being deleted (orphaning): wait until it is gone before re-creating it. */
  | { readonly _tag: "Recreating" }
  | { readonly _tag: "ShrinkRefused"; readonly from: string; readonly to: string }
  | { readonly _tag: "ClassChangeRefused"; readonly from: string | undefined; readonly to: string | undefined }
  | { readonly _tag: "NotExpandable"; readonly storageClass: string; readonly to: string }
  | {
      readonly _tag: "Resize"
      readonly to: string
      readonly claimsToPatch: ReadonlyArray<ClaimView>
      /** The StatefulSet still has the old template: delete it (orphan) after the claims are patched. */
      readonly recreate: boolean
      readonly statefulSetUid: string | undefined
    }
  /** Claims patched and template updated; volumes still growing or replicas not ready. */
  | { readonly _tag: "Waiting"; readonly pending: ReadonlyArray<string> }
  | { readonly _tag: "Settled" }

export interface StorageInput {
  readonly storage: Storage
  readonly observed: StorageObserved | undefined
  readonly replicas: number
  readonly readyReplicas: number
  /** The DoltDB's current StorageResized condition (status), to tell a finished resize from none at all. */
  readonly resizing: boolean
}

const resizeDone = (c: ClaimView, size: string): boolean =>
  !c.bound ||
  (c.capacity !== undefined &&
    compareQuantities(c.capacity, size) >= 0 &&
    !c.conditions.includes("Resizing") &&
    !c.conditions.includes("FileSystemResizePending"))

export const storageSituation = (i: StorageInput): StorageSituation => {
  const o = i.observed
  if (o === undefined) return { _tag: "Unobserved" }
  if (o.statefulSetDeleting) return { _tag: "Recreating" }
  const want = String(i.storage.size)
  const template = o.claimTemplate
  if (template?.size !== undefined && compareQuantities(want, template.size) < 0)
    return { _tag: "ShrinkRefused", from: template.size, to: want }
  if (template !== undefined && template.storageClassName !== i.storage.storageClassName)
    return { _tag: "ClassChangeRefused", from: template.storageClassName, to: i.storage.storageClassName }
  const claimsToPatch = i.storage.resizeInUseVolumes
    ? o.claims.filter((c) => c.requested !== undefined && compareQuantities(c.requested, want) < 0)
    : []
  const recreate = template?.size !== undefined && compareQuantities(want, template.size) > 0
  if (claimsToPatch.length > 0 || recreate) {
    const fixed = claimsToPatch.find(
      (c) => c.storageClassName !== undefined && o.expandable.get(c.storageClassName) === false
    )
    if (fixed?.storageClassName !== undefined)
      return { _tag: "NotExpandable", storageClass: fixed.storageClassName, to: want }
    return { _tag: "Resize", to: want, claimsToPatch, recreate, statefulSetUid: o.statefulSetUid }
  }
  if (template === undefined && o.claims.length === 0) return { _tag: "Unobserved" }
  if (!i.resizing) return { _tag: "Settled" }
  const pending =
    i.storage.resizeInUseVolumes && i.storage.waitForVolumeResize
      ? o.claims.filter((c) => !resizeDone(c, want)).map((c) => c.name)
      : []
  if (pending.length > 0 || i.readyReplicas < i.replicas || template === undefined) return { _tag: "Waiting", pending }
  return { _tag: "Settled" }
}

export interface StoragePlan {
  readonly situation: StorageSituation
  /** The storage the StatefulSet is built with (the observed template where a change is refused). */
  readonly storage: Storage
  /** Skip the StatefulSet apply this pass (it is being deleted). */
  readonly holdStatefulSet: boolean
  /** PVC patches and the orphaning delete, in order. */
  readonly steps: ReadonlyArray<StorageStep>
  /** `StorageResized`, and the Ready condition to show instead of the computed one while resizing. */
  readonly condition: ConditionInput | undefined
  readonly ready: ConditionInput | undefined
  /** A Warning event when a refusal starts (the caller emits it once, when the condition changes). */
  readonly warning: { readonly reason: string; readonly message: string } | undefined
  readonly requeueMillis: number | undefined
}

export type StorageStep =
  | { readonly _tag: "PatchClaim"; readonly claim: string; readonly size: string }
  | { readonly _tag: "OrphanStatefulSet"; readonly uid: string | undefined }

const resized = (status: "True" | "False", reason: string, message: string): ConditionInput => ({
  type: "StorageResized",
  status,
  reason,
  message
})

export const planStorage = (i: StorageInput): StoragePlan => {
  const s = storageSituation(i)
  const keepTemplate = (): Storage => {
    const t = i.observed?.claimTemplate
    if (t === undefined) return i.storage
    const { storageClassName: _c, volumeSnapshot: _v, ...rest } = i.storage
    return {
      ...rest,
      size: t.size ?? i.storage.size,
      ...(t.storageClassName === undefined ? {} : { storageClassName: t.storageClassName }),
      ...(t.volumeSnapshot === undefined ? {} : { volumeSnapshot: t.volumeSnapshot })
    }
  }
  // The data source only matters when a claim is created: keep the StatefulSet's (changing it would need the
  // StatefulSet re-created for nothing), unless it is being re-created for a resize anyway.
  const keepSource = (): Storage => {
    const t = i.observed?.claimTemplate
    if (t === undefined) return i.storage
    const { volumeSnapshot: _v, ...rest } = i.storage
    return t.volumeSnapshot === undefined ? rest : { ...rest, volumeSnapshot: t.volumeSnapshot }
  }
  const base = {
    situation: s,
    storage: keepSource(),
    holdStatefulSet: false,
    steps: [],
    condition: undefined,
    ready: undefined,
    warning: undefined,
    requeueMillis: undefined
  } satisfies StoragePlan
  switch (s._tag) {
    case "Unobserved":
      return base
    case "Settled":
      return i.resizing ? { ...base, condition: resized("True", "StorageResized", "Storage resized") } : base
    case "Recreating":
      return {
        ...base,
        holdStatefulSet: true,
        condition: resized("False", "ResizingStorage", "Resizing storage"),
        ready: { type: "Ready", status: "False", reason: "ResizingStorage", message: "Resizing storage" },
        requeueMillis: 1_000
      }
    case "Resize":
      return {
        ...base,
        storage: s.recreate ? i.storage : keepTemplate(),
        holdStatefulSet: s.recreate,
        steps: [
          ...s.claimsToPatch.map((c) => ({ _tag: "PatchClaim", claim: c.name, size: s.to }) as const),
          ...(s.recreate ? [{ _tag: "OrphanStatefulSet", uid: s.statefulSetUid } as const] : [])
        ],
        condition: resized("False", "ResizingStorage", "Resizing storage"),
        ready: { type: "Ready", status: "False", reason: "ResizingStorage", message: "Resizing storage" },
        requeueMillis: 1_000
      }
    case "Waiting": {
      const message =
        s.pending.length === 0
          ? "Waiting for storage resize: replicas not ready yet"
          : `Waiting for storage resize: ${s.pending.join(", ")}`
      return {
        ...base,
        condition: resized("False", "WaitStorageResize", message),
        ready: { type: "Ready", status: "False", reason: "WaitStorageResize", message: "Waiting for storage resize" },
        requeueMillis: 1_000
      }
    }
    case "ShrinkRefused": {
      const message = `cannot decrease storage size from '${s.from}' to '${s.to}': spec.storage.size may only grow`
      return refused(base, keepTemplate(), "StorageShrinkRefused", message)
    }
    case "ClassChangeRefused": {
      const message = `spec.storage.storageClassName cannot change from '${s.from ?? "<default>"}' to '${
        s.to ?? "<default>"
      }' on an existing DoltDB (volume claims are immutable): take a Snapshot and create a new DoltDB with spec.bootstrap.from.volumeSnapshot and the new class, or restore it to the old value`
      return refused(base, keepTemplate(), "StorageClassChangeRefused", message)
    }
    case "NotExpandable": {
      const message = `cannot grow the volumes to '${s.to}': StorageClass '${s.storageClass}' does not set allowVolumeExpansion: true (enable it on the class, or migrate to an expandable class through a Snapshot)`
      return refused(base, keepTemplate(), "StorageNotExpandable", message)
    }
  }
}

const refused = (base: StoragePlan, storage: Storage, reason: string, message: string): StoragePlan => ({
  ...base,
  storage,
  condition: resized("False", reason, message),
  warning: { reason, message }
})
