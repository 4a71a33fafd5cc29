/**
 * A DoltDB bootstrapped from a VolumeSnapshot: every data volume starts as the same copy, and with it the cluster
 * role and epoch Dolt persisted on that volume (`$DOLT_ROOT_PATH` is on the PVC). Which role comes back depends on
 * what was copied:
 * - a primary's volume: every pod starts as primary at the old epoch; the replication planner's repair keeps one
 *   and demotes the others above that epoch (safe: the copies are identical and no client has written yet);
 * - a standby's volume (what a Snapshot takes by default): every pod starts as standby and Dolt's
 *   `bootstrap_role` is ignored (persisted values win), so nobody would ever become primary. This planner promotes
 *   the desired primary above every epoch seen — once, while no primary was ever recorded for this DoltDB.
 *
 * Why standbys start from the same snapshot rather than empty: they then hold the same history as the primary and
 * replication only ships what the primary writes later (an empty standby would copy every database over the
 * network first), and a restore needs no second mechanism. It is also what the reference's
 * `storage.volumeSnapshot` did for every ordinal.
 */
import { bootstrapSnapshot } from "../../api/Bootstrap.ts"
import { type Action, event } from "../../plan/Action.ts"
import type { DoltDBObserved } from "../DoltDBObserved.ts"

export type SnapshotBootstrapSituation =
  | { readonly _tag: "NotApplicable" }
  /** Every pod reachable as standby, no primary anywhere, none recorded: promote `ordinal` at `epoch`. */
  | { readonly _tag: "PromoteRestoredStandby"; readonly ordinal: number; readonly epoch: number }

export const snapshotBootstrapSituation = (o: DoltDBObserved): SnapshotBootstrapSituation => {
  const spec = o.doltdb.spec
  const status = o.doltdb.status
  if (bootstrapSnapshot(spec) === undefined || !spec.replication.enabled || spec.replicas < 2)
    return { _tag: "NotApplicable" }
  if (status?.currentPrimaryPodIndex !== undefined || status?.primaryTransition !== undefined)
    return { _tag: "NotApplicable" }
  const pods = o.pods.filter((p) => p.ordinal < spec.replicas)
  if (pods.length < spec.replicas) return { _tag: "NotApplicable" }
  let epoch = status?.replicationEpoch ?? 0
  for (const p of pods) {
    if (!p.exists || p.deleting || p.sql._tag !== "Reachable" || p.sql.role !== "standby")
      return { _tag: "NotApplicable" }
    epoch = Math.max(epoch, p.sql.epoch)
  }
  return { _tag: "PromoteRestoredStandby", ordinal: spec.replication.primary.podIndex, epoch: epoch + 1 }
}

export const planSnapshotBootstrap = (o: DoltDBObserved): ReadonlyArray<Action> => {
  const s = snapshotBootstrapSituation(o)
  if (s._tag === "NotApplicable") return []
  const target = o.pods[s.ordinal]!.target
  const { name, namespace, uid } = o.doltdb.metadata
  return [
    { _tag: "AssumeRole", target, role: "primary", epoch: s.epoch },
    event(
      { apiVersion: o.doltdb.apiVersion, kind: o.doltdb.kind, namespace, name, uid },
      "Normal",
      "PrimaryFromSnapshot",
      `every pod came back from the snapshot as a standby; promoting ${target.pod} at epoch ${s.epoch}`
    )
  ]
}
