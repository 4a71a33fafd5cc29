/**
 * Observe step of the storage planner: the StatefulSet's claim template, the data PVCs and whether their
 * StorageClasses allow expansion. A class that cannot be read (absent, or no permission) is left unknown: the
 * planner then tries the resize and the API server's answer shows in the reconcile error.
 */
import { Builders, DoltDBPlanner } from "@doltdb-op/core"
import { Kube, type KubeObject, PersistentVolumeClaims, StorageClasses } from "@doltdb-op/core/services/Kube"
import { Effect } from "effect"

interface ClaimSpec {
  readonly storageClassName?: string
  readonly resources?: { readonly requests?: { readonly storage?: string | number } }
  readonly dataSource?: { readonly kind?: string; readonly name?: string }
}

const quantity = (q: string | number | undefined) => (q === undefined ? undefined : String(q))

export const claimTemplateOf = (sts: KubeObject | undefined): DoltDBPlanner.ClaimTemplateView | undefined => {
  const templates = (sts?.spec as { volumeClaimTemplates?: ReadonlyArray<KubeObject> } | undefined)
    ?.volumeClaimTemplates
  const t = templates?.find((c) => c.metadata.name === Builders.dataVolumeName)
  if (t === undefined) return undefined
  const spec = (t.spec ?? {}) as ClaimSpec
  return {
    size: quantity(spec.resources?.requests?.storage),
    storageClassName: spec.storageClassName,
    volumeSnapshot: spec.dataSource?.kind === "VolumeSnapshot" ? spec.dataSource.name : undefined
  }
}

export const observeStorage = Effect.fn("DoltDB.observeStorage")(function* (
  name: string,
  namespace: string,
  statefulSet: KubeObject | undefined
) {
  const kube = yield* Kube
  const list = yield* kube.list(PersistentVolumeClaims, { namespace, labelSelector: `${Builders.NameLabel}=${name}` })
  const claims: Array<DoltDBPlanner.ClaimView> = []
  for (const pvc of list.items) {
    const prefix = `${Builders.dataVolumeName}-${name}-`
    if (!pvc.metadata.name.startsWith(prefix)) continue
    const ordinal = Number(pvc.metadata.name.slice(prefix.length))
    if (!Number.isInteger(ordinal) || DoltDBPlanner.claimName(name, ordinal) !== pvc.metadata.name) continue
    const spec = (pvc.spec ?? {}) as ClaimSpec
    const status = (pvc.status ?? {}) as {
      readonly phase?: string
      readonly capacity?: { readonly storage?: string | number }
      readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }>
      readonly allocatedResourceStatuses?: { readonly storage?: string }
    }
    claims.push({
      name: pvc.metadata.name,
      ordinal,
      requested: quantity(spec.resources?.requests?.storage),
      capacity: quantity(status.capacity?.storage),
      bound: status.phase === "Bound",
      storageClassName: spec.storageClassName,
      conditions: (status.conditions ?? []).filter((c) => c.status === "True").map((c) => c.type),
      resizeStatus: status.allocatedResourceStatuses?.storage
    })
  }
  claims.sort((a, b) => a.ordinal - b.ordinal)
  const classes = [...new Set(claims.flatMap((c) => (c.storageClassName === undefined ? [] : [c.storageClassName])))]
  const expandable = new Map<string, boolean>()
  yield* Effect.forEach(
    classes,
    (c) =>
      kube.get(StorageClasses, c).pipe(
        Effect.tap((sc) =>
          Effect.sync(() => expandable.set(c, (sc as { allowVolumeExpansion?: boolean }).allowVolumeExpansion === true))
        ),
        Effect.catch(() => Effect.void)
      ),
    { discard: true }
  )
  return {
    claimTemplate: claimTemplateOf(statefulSet),
    statefulSetUid: statefulSet?.metadata.uid,
    statefulSetDeleting: statefulSet?.metadata.deletionTimestamp !== undefined,
    claims,
    expandable
  } satisfies DoltDBPlanner.StorageObserved
})
