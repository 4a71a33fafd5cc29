/**
 * The DoltDB's status after a pass: the reference's conditions (Ready, Updated, PrimarySwitched, Bootstrapped), the
 * replica counts and roles, and the replication state the plan leaves.
 */
import type { Condition } from "../api/Common.ts"
import type { DoltDBStatus } from "../api/DoltDB.ts"
import { podName } from "../builders/Names.ts"
import type { ReplicationDecision } from "../replication/planReplication.ts"
import type { ReplicationState } from "../replication/ReplicationObserved.ts"
import { setConditions } from "../status/Conditions.ts"
import { bootstrappedCondition } from "./bootstrapCondition.ts"
import type { DoltDBObserved } from "./DoltDBObserved.ts"
import { foreignChildrenReady } from "./ForeignChildren.ts"
import { type OversizedChild, oversizedChildrenReady } from "./OversizedChildren.ts"
import { withReplicationState } from "./replicationStatus.ts"

export const computeStatus = (
  o: DoltDBObserved,
  decision: ReplicationDecision | undefined,
  next: ReplicationState
): DoltDBStatus => {
  const doltdb = o.doltdb
  const spec = doltdb.spec
  const current = doltdb.status ?? {}
  const sts = o.statefulSet
  const ready = sts?.readyReplicas ?? 0
  const replicationStatus: Record<string, "primary" | "standby" | "not_configured"> = {}
  for (const p of o.pods) {
    if (!p.exists || !p.ready || p.sql._tag !== "Reachable" || p.ordinal >= spec.replicas) continue
    replicationStatus[p.name] = p.sql.role === "detected_broken_config" ? "not_configured" : p.sql.role
  }
  const updated = updatedCondition(o)
  const bootstrapped = bootstrappedCondition(o)
  const readyCondition = ((): { status: "True" | "False"; reason: string; message: string } => {
    if (decision?.blocked !== undefined)
      return { status: "False", reason: decision.blocked.reason, message: decision.blocked.message }
    if (next.transition !== undefined)
      return {
        status: "False",
        reason: "SwitchPrimary",
        message: `Switching primary to '${podName(doltdb.metadata.name, next.transition.to)}'`
      }
    if (sts === undefined || sts.replicas === 0 || ready < spec.replicas)
      return {
        status: "False",
        reason: "StatefulSetNotReady",
        message: `Not ready: ${ready}/${spec.replicas} replicas ready`
      }
    if (updated?.reason === "Updating") return { status: "False", reason: "Updating", message: "Updating" }
    if (updated?.reason === "PendingUpdate")
      return { status: "True", reason: "PendingUpdate", message: "Pending update" }
    return { status: "True", reason: "StatefulSetReady", message: "Running" }
  })()
  const conditions = setConditions(
    current.conditions,
    [
      { type: "Ready", ...readyCondition },
      ...(updated === undefined ? [] : [updated]),
      ...(bootstrapped === undefined ? [] : [bootstrapped]),
      ...(decision === undefined ? [] : [{ type: "PrimarySwitched", ...decision.primarySwitched }])
    ],
    doltdb.metadata.generation,
    o.now
  )
  const base: DoltDBStatus = {
    ...current,
    conditions,
    replicas: ready,
    ...(Object.keys(replicationStatus).length === 0 && decision === undefined ? {} : { replicationStatus }),
    ...(doltdb.metadata.generation === undefined ? {} : { observedGeneration: doltdb.metadata.generation })
  }
  if (decision === undefined) {
    const { replicationStatus: _r, primaryTransition: _t, primaryUnavailableSince: _u, ...rest } = base
    return { ...rest, currentPrimaryPodIndex: 0, currentPrimary: podName(doltdb.metadata.name, 0) }
  }
  // Epochs never go down, whatever the planner computed.
  const epoch = Math.max(next.replicationEpoch ?? 0, current.replicationEpoch ?? 0)
  return withReplicationState(
    base,
    { ...next, replicationEpoch: epoch === 0 ? undefined : epoch },
    doltdb.metadata.name
  )
}

/**
 * Ready False while desired children are held by objects the DoltDB does not own, else while some child is too
 * large for the API server (one problem at a time: the foreign object first).
 */
export const withBlockedChildren = (
  o: DoltDBObserved,
  status: DoltDBStatus,
  oversized: ReadonlyArray<OversizedChild>
): DoltDBStatus => {
  const ready =
    o.foreignChildren !== undefined && o.foreignChildren.length > 0
      ? foreignChildrenReady(o.foreignChildren)
      : oversized.length > 0
        ? oversizedChildrenReady(oversized)
        : undefined
  return ready === undefined
    ? status
    : { ...status, conditions: setConditions(status.conditions, [ready], o.doltdb.metadata.generation, o.now) }
}

/** The reference's `Updated` condition: how many pods run the StatefulSet's update revision. */
const updatedCondition = (o: DoltDBObserved): Pick<Condition, "type" | "status" | "reason" | "message"> | undefined => {
  const revision = o.statefulSet?.updateRevision
  if (revision === undefined) return undefined
  const count = o.pods.filter((p) => p.exists && p.revision === revision).length
  if (count >= o.doltdb.spec.replicas) return { type: "Updated", status: "True", reason: "Updated", message: "Updated" }
  if (count > 0) return { type: "Updated", status: "False", reason: "Updating", message: "Updating" }
  return { type: "Updated", status: "False", reason: "PendingUpdate", message: "Pending update" }
}
