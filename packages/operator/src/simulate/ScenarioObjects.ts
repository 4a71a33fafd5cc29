/**
 * The scenario's objects as the API server would hold them and change them, and its events in words (the timeline's
 * `scenario` entries).
 */
import { ConfigMaps, type KubeObject, Secrets } from "@doltdb-op/core/services/Kube"
import { resourceFor } from "../reconcilers/Resources.ts"
import { actionOf, type ScenarioEvent } from "./Scenario.ts"

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")

/** What the API server stores for a manifest: namespace filled, a Secret's `stringData` folded into `data`. */
export const stored = (object: Readonly<Record<string, unknown>>, namespace: string): KubeObject => {
  const metadata = { ...(object.metadata as Record<string, unknown>), namespace }
  if (object.kind !== "Secret" || object.stringData === undefined)
    return { ...object, metadata } as unknown as KubeObject
  const { stringData, ...rest } = object
  const data = { ...((rest.data as Record<string, string> | undefined) ?? {}) }
  for (const [k, v] of Object.entries(stringData as Record<string, string>)) data[k] = b64(v)
  return { ...rest, metadata, data } as unknown as KubeObject
}

export const resourceOf = (object: KubeObject) =>
  object.apiVersion === "v1" && object.kind === "Secret"
    ? Secrets
    : object.apiVersion === "v1" && object.kind === "ConfigMap"
      ? ConfigMaps
      : resourceFor(object.apiVersion, object.kind)

export const describeEvent = (event: ScenarioEvent): string => {
  const action = actionOf(event)
  const value = (event as Record<string, unknown>)[action]
  if (typeof value === "string") return `${action} ${value}`
  if ("partition" in event) {
    const from = event.partition.from
    return `partition ${event.partition.pod} from ${typeof from === "string" ? from : from.join(", ")}`
  }
  if ("apiErrors" in event)
    return `apiErrors: the API server fails ${event.apiErrors.rate * 100}% of the operator's calls${
      event.apiErrors.until === undefined ? "" : ` until ${event.apiErrors.until}`
    }`
  if ("slowReplication" in event)
    return `slowReplication ${event.slowReplication.pod}: pushes take ${event.slowReplication.delay}`
  if ("writes" in event) {
    const w = event.writes
    return `writes${w.doltdb === undefined ? "" : ` to ${w.doltdb}`} every ${w.every} until ${w.until}${
      w.ackTimeoutSeconds ? ` (dolt_cluster_ack_writes_timeout_secs=${w.ackTimeoutSeconds})` : " (asynchronous)"
    }`
  }
  if ("patch" in event) return `patch ${event.patch.kind} ${event.patch.name} spec ${JSON.stringify(event.patch.spec)}`
  if ("backup" in event) return `backup ${event.backup.name}${event.backup.doltdb ? ` of ${event.backup.doltdb}` : ""}`
  return action
}

/** RFC 7386 JSON merge patch (`kubectl patch --type merge`). */
export const jsonMergePatch = (target: unknown, patch: unknown): unknown => {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch
  const base =
    target !== null && typeof target === "object" && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {}
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete base[k]
    else base[k] = jsonMergePatch(base[k], v)
  }
  return base
}
