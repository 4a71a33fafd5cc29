/**
 * The `events.k8s.io/v1` Event both layers create for `Kube.emitEvent`, named like client-go's recorder does
 * (`<object>.<hex nanoseconds>`; `generateName` would not do: the API server rejects a prefix ending in `.`).
 * `entropy` (0 <= entropy < 1, from the seeded `Random`) fills the sub-millisecond digits so two events in the same
 * millisecond get different names.
 */
import type { EventInput, KubeObject } from "@doltdb-op/core/services/Kube"
import { formatMicroTime } from "@doltdb-op/core/services/kube/Resource"

export const eventObject = (event: EventInput, namespace: string, now: number, entropy: number): KubeObject => ({
  apiVersion: "events.k8s.io/v1",
  kind: "Event",
  metadata: {
    name: `${event.regarding.name}.${(BigInt(Math.floor(now)) * 1_000_000n + BigInt(Math.floor(entropy * 1_000_000))).toString(16)}`,
    namespace
  },
  eventTime: formatMicroTime(now),
  type: event.type,
  reason: event.reason,
  action: event.action,
  note: event.note,
  regarding: event.regarding,
  reportingController: event.reportingController,
  reportingInstance: event.reportingInstance
})
