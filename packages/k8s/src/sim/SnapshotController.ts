/**
 * The simulated snapshot-controller plus CSI snapshotter: a VolumeSnapshot of a bound PVC copies the claim's
 * volume in `SimWorld` (its persisted state at that instant) and becomes `readyToUse` with the claim's capacity as
 * `restoreSize`; a class that does not exist, or a missing claim, sets `status.error` as the real controller does.
 * A PVC created with a VolumeSnapshot `dataSource` starts as a copy of it (restored synchronously when the claim
 * is committed, before any pod can mount it). Deleting a VolumeSnapshot deletes its copy.
 *
 * Not modelled: VolumeSnapshotContent objects (the binding lives in the VolumeSnapshot's status), pre-provisioned
 * snapshots, default-class selection by driver (every snapshot without a class uses the simulated driver).
 */
import {
  type KubeObject,
  type KubeShape,
  PersistentVolumeClaims,
  VolumeSnapshotClasses,
  VolumeSnapshots
} from "@doltdb-op/core/services/Kube"
import { formatTime } from "@doltdb-op/core/services/kube/Resource"
import type { SimWorldShape } from "@doltdb-op/core/sim/SimWorld"
import { Clock, Effect, Result } from "effect"
import type { ApiServerState, StoreEvent } from "../memory/ApiServerState.ts"

interface VolumeSnapshotSpec {
  readonly source?: { readonly persistentVolumeClaimName?: string }
  readonly volumeSnapshotClassName?: string
}

export const makeSnapshotController = (state: ApiServerState, kube: KubeShape, world: SimWorldShape) => {
  const reconcile = Effect.fnUntraced(function* (key: string) {
    const [namespace, name] = key.split("/") as [string, string]
    const got = state.get(VolumeSnapshots, namespace, name)
    if (Result.isFailure(got)) return
    const vs = got.success
    const status = (vs.status ?? {}) as { readyToUse?: boolean; error?: unknown }
    if (vs.metadata.deletionTimestamp !== undefined || status.readyToUse === true || status.error !== undefined) return
    const spec = (vs.spec ?? {}) as VolumeSnapshotSpec
    const now = yield* Clock.currentTimeMillis
    const fail = (message: string) =>
      kube.patchStatus(
        VolumeSnapshots,
        name,
        { readyToUse: false, error: { message, time: formatTime(now) } },
        { namespace, fieldManager: "snapshot-controller" }
      )
    const className = spec.volumeSnapshotClassName
    if (className !== undefined && Result.isFailure(state.get(VolumeSnapshotClasses, undefined, className)))
      return yield* fail(
        `Failed to get snapshot class with error volumesnapshotclass.snapshot.storage.k8s.io "${className}" not found`
      )
    const claimName = spec.source?.persistentVolumeClaimName ?? ""
    const claim = state.get(PersistentVolumeClaims, namespace, claimName)
    if (Result.isFailure(claim) || (claim.success.status as { phase?: string } | undefined)?.phase !== "Bound")
      return yield* fail(`the PVC ${claimName} is not yet bound or does not exist`)
    yield* world.snapshotVolume(claim.success.metadata.uid!, vs.metadata.uid!)
    const capacity = (claim.success.status as { capacity?: { storage?: string } } | undefined)?.capacity?.storage
    yield* kube.patchStatus(
      VolumeSnapshots,
      name,
      {
        boundVolumeSnapshotContentName: `snapcontent-${vs.metadata.uid}`,
        creationTime: formatTime(now),
        readyToUse: true,
        ...(capacity === undefined ? {} : { restoreSize: capacity })
      },
      { namespace, fieldManager: "snapshot-controller" }
    )
  })

  const keysFor = (object: KubeObject): ReadonlyArray<string> =>
    object.kind === "VolumeSnapshot" ? [`${object.metadata.namespace}/${object.metadata.name}`] : []

  /** Runs inside the API server's commit: restores new claims from their snapshot, drops deleted snapshots. */
  const onCommit = (event: StoreEvent): void => {
    const o = event.object
    if (o.kind === "VolumeSnapshot" && event.type === "DELETED") {
      Effect.runSync(world.deleteSnapshot(o.metadata.uid!))
      return
    }
    if (o.kind !== "PersistentVolumeClaim" || event.type !== "ADDED") return
    const source = (o.spec as { dataSource?: { kind?: string; name?: string } } | undefined)?.dataSource
    if (source?.kind !== "VolumeSnapshot" || source.name === undefined) return
    const vs = state.get(VolumeSnapshots, o.metadata.namespace, source.name)
    if (Result.isSuccess(vs)) Effect.runSync(world.restoreVolume(vs.success.metadata.uid!, o.metadata.uid!))
  }

  return { reconcile, keysFor, onCommit }
}
