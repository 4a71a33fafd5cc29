/**
 * The children of a DoltDB a pass applies or deletes: each desired child whose hash differs from the one recorded
 * on it (a converged cluster costs no API writes), none while one of them is too large for the API server, none that
 * an object the DoltDB does not own holds; and the Services, PDB and NetworkPolicy the topology no longer has.
 */
import type { DoltDBStatus } from "../api/DoltDB.ts"
import type { IdentifiedDoltDB } from "../builders/Owner.ts"
import type { BuildContext } from "../builders/PodTemplate.ts"
import { type Action, event, type ObjectRef } from "../plan/Action.ts"
import { childKey, type DoltDBObserved } from "./DoltDBObserved.ts"
import { desiredChildren } from "./desiredChildren.ts"
import { ChildNotOwnedReason, foreignChildrenMessage, isForeign } from "./ForeignChildren.ts"
import { ChildTooLargeReason, type OversizedChild, oversizedChildrenMessage, oversizedOf } from "./OversizedChildren.ts"
import type { TlsSteps } from "./tls/planCertificates.ts"

export interface ChildrenPlan {
  readonly actions: ReadonlyArray<Action>
  /** Children the API server would refuse for their size: while there are any, no child is applied. */
  readonly oversized: ReadonlyArray<OversizedChild>
}

/** `built`: the DoltDB to build the children from (primary and replica count this pass leaves). */
export const planChildren = (
  o: DoltDBObserved,
  built: IdentifiedDoltDB,
  tls: TlsSteps,
  context: Omit<BuildContext, "tlsHash" | "podManagementPolicy">
): ChildrenPlan => {
  const actions: Array<Action> = []
  const desired = desiredChildren(built, {
    tlsHash: tls.tlsHash,
    podManagementPolicy: o.statefulSet?.podManagementPolicy,
    ...context
  })
  // A child the API server would refuse for its size holds every child (ConfigMap and StatefulSet go together).
  const oversized = oversizedOf(desired)
  for (const { child, object, hash } of oversized.length > 0 ? [] : desired) {
    if (isForeign(o.foreignChildren, child.kind, child.metadata.name)) continue
    // The StatefulSet waits until the Secret it mounts is readable.
    if (child.kind === "StatefulSet" && tls.holdStatefulSet) continue
    if (o.children.get(childKey(child.kind, child.metadata.name)) !== hash)
      actions.push({ _tag: "Apply", object, force: true })
  }
  // Services the topology no longer has (standalone ↔ replicated) go away; the PDB too when it can't be built, the
  // NetworkPolicy when it is disabled.
  const wanted = new Set(desired.map(({ child }) => childKey(child.kind, child.metadata.name)))
  for (const key of oversized.length > 0 ? [] : o.children.keys()) {
    const [kind, childName] = key.split("/") as [string, string]
    if ((kind === "Service" || kind === "PodDisruptionBudget" || kind === "NetworkPolicy") && !wanted.has(key))
      actions.push({
        _tag: "Delete",
        ref: {
          apiVersion: kind === "Service" ? "v1" : kind === "NetworkPolicy" ? "networking.k8s.io/v1" : "policy/v1",
          kind,
          namespace: o.doltdb.metadata.namespace,
          name: childName
        },
        reason: `${kind} ${childName} is not part of this topology`
      })
  }
  return { actions, oversized }
}

/** Children in the way are announced once, when the DoltDB first reports them (its Ready message says so). */
export const blockedChildrenEvents = (
  o: DoltDBObserved,
  ref: ObjectRef,
  current: DoltDBStatus,
  oversized: ReadonlyArray<OversizedChild>
): ReadonlyArray<Action> => {
  const readyMessage = current.conditions?.find((c) => c.type === "Ready")?.message
  const foreign = o.foreignChildren ?? []
  if (foreign.length > 0)
    return readyMessage === foreignChildrenMessage(foreign)
      ? []
      : [event(ref, "Warning", ChildNotOwnedReason, foreignChildrenMessage(foreign))]
  const tooLarge = oversizedChildrenMessage(oversized)
  return oversized.length > 0 && readyMessage !== tooLarge ? [event(ref, "Warning", ChildTooLargeReason, tooLarge)] : []
}
