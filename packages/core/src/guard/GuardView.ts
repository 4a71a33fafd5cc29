/**
 * From what the API server returned to the guard's view of it (`ApiAnswer`), and the guard's settings and peers
 * from its DoltDB. Pure; the live guard and the simulated one share it.
 */
import type { DoltDB } from "../api/DoltDB.ts"
import { parseGoDuration } from "../api/GoDuration.ts"
import { podName } from "../builders/Names.ts"
import type { ApiAnswer, GuardSettings } from "./IsolationGuard.ts"

/** Default `spec.replication.guard.threshold`. */
export const DefaultThresholdMillis = 5_000
/**
 * What the operator adds to the threshold before it treats an unreachable, guarded primary as fenced: one guard
 * tick whose reads time out (the guard's period plus its read timeout) plus the local demotion call's start.
 */
export const GuardTickMillis = 1_000
export const GuardReadTimeoutMillis = 2_000
export const OperatorMarginMillis = GuardTickMillis + GuardReadTimeoutMillis + 2_000

/** The guard sidecar's container name (the operator looks for it to know a pod is guarded). */
export const GuardContainerName = "guard"

export interface OwnPod {
  readonly metadata: { readonly uid?: string | undefined; readonly deletionTimestamp?: string | undefined }
}

/** `pod` is `undefined` when the API server answered 404. */
export const podState = (pod: OwnPod | undefined, uid: string): "Present" | "Deleting" | "Gone" | "Replaced" => {
  if (pod === undefined) return "Gone"
  if (pod.metadata.uid !== undefined && uid !== "" && pod.metadata.uid !== uid) return "Replaced"
  return pod.metadata.deletionTimestamp === undefined ? "Present" : "Deleting"
}

/** The guard's view of a reachable API server: its pod's state and what the operator recorded about the primary. */
export const apiAnswerOf = (pod: OwnPod | undefined, uid: string, doltdb: DoltDB, ordinal: number): ApiAnswer => {
  const status = doltdb.status
  const t = status?.primaryTransition
  const current = status?.currentPrimaryPodIndex
  return {
    _tag: "Reachable",
    pod: podState(pod, uid),
    failoverAwayAtEpoch: t !== undefined && t.kind === "Failover" && t.from === ordinal ? t.epoch : undefined,
    otherPrimaryAtEpoch: current !== undefined && current !== ordinal ? status?.replicationEpoch : undefined
  }
}

export const guardEnabled = (doltdb: DoltDB): boolean =>
  doltdb.spec.replication.enabled && doltdb.spec.replicas >= 2 && doltdb.spec.replication.guard?.enabled === true

export const guardSettingsOf = (doltdb: DoltDB): GuardSettings => {
  const text = doltdb.spec.replication.guard?.threshold
  const parsed = text === undefined ? undefined : parseGoDuration(text)
  // Below one tick the guard could not tell a slow read from a cut-off.
  return { thresholdMillis: Math.max(parsed ?? DefaultThresholdMillis, GuardTickMillis) }
}

/** The other pods of the DoltDB, by name (the guard asks each for its role and epoch). */
export const peerNames = (doltdb: DoltDB, self: string): ReadonlyArray<string> =>
  Array.from({ length: doltdb.spec.replicas }, (_, i) => podName(doltdb.metadata.name ?? "", i)).filter(
    (n) => n !== self
  )

/** The ordinal of a StatefulSet pod name (`<name>-<i>`), `undefined` when it has none. */
export const ordinalOf = (pod: string): number | undefined => {
  const m = /-(\d+)$/u.exec(pod)
  return m === null ? undefined : Number(m[1])
}
