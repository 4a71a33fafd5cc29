/**
 * Hooks the storage planner into the DoltDB planner: the StatefulSet is built with the storage `planStorage`
 * allows, the claim patches and the orphaning delete run before the children are applied, and the status carries
 * `StorageResized` (and Ready while a resize runs). A wrapper rather than edits inside `planDoltDB`, so each stays
 * one concept.
 */
import type { Condition } from "../../api/Common.ts"
import type { DoltDBSpec, DoltDBStatus } from "../../api/DoltDB.ts"
import { dataVolumeName, statefulSetName } from "../../builders/Names.ts"
import { type Action, earliest, event, type Plan, requeueAfter, withRequeue } from "../../plan/Action.ts"
import { type ConditionInput, findCondition, jsonEqual, setConditions } from "../../status/Conditions.ts"
import { planSnapshotBootstrap } from "../bootstrap/planSnapshotBootstrap.ts"
import type { DoltDBObserved } from "../DoltDBObserved.ts"
import { planStorage, type StoragePlan } from "./planStorage.ts"

interface PlanWithStatus extends Plan {
  readonly status: DoltDBStatus
}

/** The computed Ready reasons a resize may replace (a primary change or a replication block says more). */
const replaceableReady = new Set(["StatefulSetReady", "PendingUpdate", "StatefulSetNotReady", "Updating"])

/** `input` as `setConditions` would record it against the stored conditions, substituted into `conditions`. */
const substitute = (
  conditions: ReadonlyArray<Condition> | undefined,
  stored: ReadonlyArray<Condition> | undefined,
  input: ConditionInput,
  generation: number | undefined,
  now: number
): ReadonlyArray<Condition> => {
  const entry = setConditions(stored, [input], generation, now).find((c) => c.type === input.type)!
  const list = [...(conditions ?? [])]
  const index = list.findIndex((c) => c.type === input.type)
  if (index === -1) list.push(entry)
  else list[index] = entry
  return list
}

export const claimName = (doltdb: string, ordinal: number): string => `${dataVolumeName}-${doltdb}-${ordinal}`

const storageActions = (o: DoltDBObserved, sp: StoragePlan, previous: Condition | undefined): Array<Action> => {
  const { name, namespace, uid } = o.doltdb.metadata
  const regarding = { apiVersion: o.doltdb.apiVersion, kind: o.doltdb.kind, namespace, name, uid }
  const out: Array<Action> = []
  for (const step of sp.steps) {
    if (step._tag === "PatchClaim")
      out.push({
        _tag: "Apply",
        object: {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: step.claim, namespace },
          spec: { resources: { requests: { storage: step.size } } }
        },
        force: true
      })
    else
      out.push({
        _tag: "Delete",
        ref: {
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          namespace,
          name: statefulSetName(name),
          ...(step.uid === undefined ? {} : { uid: step.uid })
        },
        propagationPolicy: "Orphan",
        reason: "re-create the StatefulSet with the new volume claim template; its pods keep running"
      })
  }
  const s = sp.situation
  if (s._tag === "Resize" && previous?.reason !== "ResizingStorage")
    out.push(event(regarding, "Normal", "ResizingStorage", `resizing the data volumes to ${s.to}`))
  if (sp.warning !== undefined && (previous?.reason !== sp.warning.reason || previous.message !== sp.warning.message))
    out.push(event(regarding, "Warning", sp.warning.reason, sp.warning.message))
  return out
}

/** The spec built with the storage `planStorage` allows; its data source then replaces `bootstrap.from`'s. */
const keepingSource = (spec: DoltDBSpec, sp: StoragePlan): DoltDBSpec => {
  const from = spec.bootstrap?.from
  if (from?.volumeSnapshot === undefined) return { ...spec, storage: sp.storage }
  const { volumeSnapshot: _v, ...rest } = from
  return { ...spec, storage: sp.storage, bootstrap: { ...spec.bootstrap, from: rest } }
}

export const withStorage =
  <P extends PlanWithStatus>(planner: (o: DoltDBObserved) => P) =>
  (o: DoltDBObserved): P => {
    const doltdb = o.doltdb
    const current = doltdb.status ?? {}
    const previous = findCondition(current.conditions, "StorageResized")
    const sp = planStorage({
      storage: doltdb.spec.storage,
      observed: o.storage,
      replicas: doltdb.spec.replicas,
      readyReplicas: o.statefulSet?.readyReplicas ?? 0,
      resizing: previous?.status === "False"
    })
    const inner = planner(
      sp.storage === doltdb.spec.storage ? o : { ...o, doltdb: { ...doltdb, spec: keepingSource(doltdb.spec, sp) } }
    )
    const bootstrap = planSnapshotBootstrap(o)
    if (
      sp.condition === undefined &&
      sp.ready === undefined &&
      sp.steps.length === 0 &&
      !sp.holdStatefulSet &&
      bootstrap.length === 0
    )
      return inner

    const generation = doltdb.metadata.generation
    let conditions = inner.status.conditions
    if (sp.condition !== undefined)
      conditions = substitute(conditions, current.conditions, sp.condition, generation, o.now)
    const computedReady = findCondition(inner.status.conditions, "Ready")
    if (sp.ready !== undefined && (computedReady === undefined || replaceableReady.has(computedReady.reason)))
      conditions = substitute(conditions, current.conditions, sp.ready, generation, o.now)
    const status: DoltDBStatus = conditions === undefined ? inner.status : { ...inner.status, conditions }

    const kept = inner.actions.filter(
      (a) => !(sp.holdStatefulSet && a._tag === "Apply" && a.object.kind === "StatefulSet")
    )
    // The inner plan's final status write is replaced by ours (or dropped when ours changes nothing).
    const finalIndex = kept.findLastIndex((a) => a._tag === "PatchStatus" && a.status === inner.status)
    const finalWrite = finalIndex === -1 ? undefined : kept[finalIndex]
    const withoutFinal = finalIndex === -1 ? kept : kept.filter((_, i) => i !== finalIndex)
    const earlier = withoutFinal.findLast((a) => a._tag === "PatchStatus")
    const actions: Array<Action> = [...storageActions(o, sp, previous), ...bootstrap, ...withoutFinal]
    if (!jsonEqual(status, current)) {
      const rv = doltdb.metadata.resourceVersion
      actions.push(
        finalWrite?._tag === "PatchStatus"
          ? { ...finalWrite, status }
          : {
              _tag: "PatchStatus",
              ref: {
                apiVersion: doltdb.apiVersion,
                kind: doltdb.kind,
                namespace: doltdb.metadata.namespace,
                name: doltdb.metadata.name,
                uid: doltdb.metadata.uid
              },
              status,
              replaces: earlier?._tag === "PatchStatus" ? earlier.status : current,
              ...(earlier === undefined && rv !== undefined ? { resourceVersion: rv } : {})
            }
      )
    }
    const requeue = earliest(
      inner.requeueAfter,
      sp.requeueMillis === undefined ? undefined : requeueAfter(sp.requeueMillis, "storage resize in progress")
    )
    // Defined whenever the inner plan's is (the earliest of it and ours), so it always replaces that one.
    return { ...inner, actions, ...withRequeue(requeue), status }
  }
