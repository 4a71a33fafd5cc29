/**
 * The simulated volume expansion (external-resizer + kubelet): a bound PVC whose request grew above its capacity
 * goes through `Resizing`, then `FileSystemResizePending` with the new capacity, then no condition — the phases
 * the operator's `waitForVolumeResize` watches. Each phase is one status write, so a test sees them in order. The
 * update rules of the API server (`memory/UpdateRules.ts`) already refused what a real cluster refuses.
 */
import { compareQuantities } from "@doltdb-op/core/api/Quantity"
import { type KubeObject, type KubeShape, PersistentVolumeClaims } from "@doltdb-op/core/services/Kube"
import { Effect, Result } from "effect"
import type { ApiServerState } from "../memory/ApiServerState.ts"

interface ClaimStatus {
  readonly phase?: string
  readonly capacity?: { readonly storage?: string }
  readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }>
}

const requested = (pvc: KubeObject): string | undefined => {
  const r = (pvc.spec as { resources?: { requests?: { storage?: string | number } } } | undefined)?.resources
  return r?.requests?.storage === undefined ? undefined : String(r.requests.storage)
}

export const makeVolumeExpander = (state: ApiServerState, kube: KubeShape) => {
  const reconcile = Effect.fnUntraced(function* (key: string) {
    const [namespace, name] = key.split("/") as [string, string]
    const got = state.get(PersistentVolumeClaims, namespace, name)
    if (Result.isFailure(got)) return
    const pvc = got.success
    const status = (pvc.status ?? {}) as ClaimStatus
    const want = requested(pvc)
    if (status.phase !== "Bound" || want === undefined || pvc.metadata.deletionTimestamp !== undefined) return
    const has = (type: string) => (status.conditions ?? []).some((c) => c.type === type && c.status === "True")
    const patch = (next: Record<string, unknown>) =>
      kube.patchStatus(PersistentVolumeClaims, name, next, { namespace, fieldManager: "volume-expander" })
    if (has("FileSystemResizePending")) {
      // the kubelet grew the filesystem
      yield* patch({ conditions: null, allocatedResourceStatuses: null })
      return
    }
    const capacity = status.capacity?.storage
    if (capacity !== undefined && compareQuantities(capacity, want) >= 0) return
    if (!has("Resizing")) {
      yield* patch({
        conditions: [{ type: "Resizing", status: "True" }],
        allocatedResourceStatuses: { storage: "ControllerResizeInProgress" }
      })
      return
    }
    yield* patch({
      capacity: { ...(status.capacity ?? {}), storage: want },
      conditions: [{ type: "FileSystemResizePending", status: "True" }],
      allocatedResourceStatuses: { storage: "NodeResizePending" }
    })
  })

  const keysFor = (object: KubeObject): ReadonlyArray<string> =>
    object.kind === "PersistentVolumeClaim" ? [`${object.metadata.namespace}/${object.metadata.name}`] : []

  return { reconcile, keysFor }
}
