/**
 * What the storage planner observes besides the DoltDB: the StatefulSet's claim template (immutable in the API
 * server), the data PVCs with their size and resize conditions, and whether their StorageClass allows expansion.
 * Built by the operator's observe step; absent in a `DoltDBObserved` when the caller did not look (the planner then
 * leaves storage alone).
 */

/** The StatefulSet's `dolt-data` volumeClaimTemplate, as the API server has it. */
export interface ClaimTemplateView {
  readonly size: string | undefined
  readonly storageClassName: string | undefined
  /** The VolumeSnapshot named by the template's `dataSource`, if any. */
  readonly volumeSnapshot: string | undefined
}

/** One data PVC (`dolt-data-<name>-<ordinal>`). */
export interface ClaimView {
  readonly name: string
  readonly ordinal: number
  /** `spec.resources.requests.storage`. */
  readonly requested: string | undefined
  /** `status.capacity.storage` (what the volume has now). */
  readonly capacity: string | undefined
  readonly bound: boolean
  readonly storageClassName: string | undefined
  /** Types of the claim's conditions that are True (`Resizing`, `FileSystemResizePending`, ...). */
  readonly conditions: ReadonlyArray<string>
  /** `status.allocatedResourceStatuses.storage` (e.g. `ControllerResizeInfeasible`), when set. */
  readonly resizeStatus?: string | undefined
}

export interface StorageObserved {
  /** The StatefulSet's claim template; undefined when there is no StatefulSet. */
  readonly claimTemplate: ClaimTemplateView | undefined
  readonly statefulSetUid: string | undefined
  /** The StatefulSet has a deletionTimestamp (an orphaning delete in progress). */
  readonly statefulSetDeleting: boolean
  readonly claims: ReadonlyArray<ClaimView>
  /** `allowVolumeExpansion` of each StorageClass the claims use; a class that could not be read is absent. */
  readonly expandable: ReadonlyMap<string, boolean>
}
