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
/** The smallest threshold the guard accepts: below it a slow read could not be told from a cut-off. */
export const MinThresholdMillis = 1_000

/**
 * The guard's clock, derived from its threshold so that writes stop **by** the threshold (docs/guard.md, "Timing"):
 * the guard demotes once it has had no contact for `threshold - demotionMillis`, and a tick's reads never run past
 * that moment, so the demotion call starts by then and has `demotionMillis` to make the server read-only.
 * `2 * probeTimeoutMillis + demotionMillis <= threshold`: a tick that starts right after the last contact, and the
 * next one, end before the deadline even when every read times out.
 */
export interface GuardTiming {
  /** Period of the checks. */
  readonly tickMillis: number
  /** Bound on every read of a tick. */
  readonly probeTimeoutMillis: number
  /** What the demotion may take: the guard acts this long before the threshold. */
  readonly demotionMillis: number
}

const clamp = (value: number, min: number, max: number) => Math.round(Math.min(Math.max(value, min), max))

export const guardTiming = (thresholdMillis: number): GuardTiming => {
  const t = Math.max(thresholdMillis, MinThresholdMillis)
  return {
    tickMillis: clamp(t / 5, 200, 1_000),
    probeTimeoutMillis: clamp((2 * t) / 5, 400, 2_000),
    demotionMillis: clamp(t / 10, 200, 1_000)
  }
}

/** The guard's settings for a threshold (at least `MinThresholdMillis`). */
export const settingsFor = (thresholdMillis: number): GuardSettings => {
  const t = Math.max(thresholdMillis, MinThresholdMillis)
  return { thresholdMillis: t, demotionMillis: guardTiming(t).demotionMillis }
}

/**
 * What the operator adds to the threshold before it treats an unreachable, guarded primary as fenced. The guard has
 * stopped writes by `threshold` after its last contact, which was before `fencingSince` (or it read the failover and
 * demoted at once); the margin covers a demotion call slower than `demotionMillis` on a loaded node and the two
 * clocks' rates.
 */
export const OperatorMarginMillis = 2_000

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
  return settingsFor(parsed ?? DefaultThresholdMillis)
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
