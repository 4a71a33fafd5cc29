/** The `events.k8s.io/v1` Event both layers create for `Kube.emitEvent` (the server picks the name suffix). */
import type { EventInput, KubeObject } from "@doltdb-op/core/services/Kube"
import { formatMicroTime } from "@doltdb-op/core/services/kube/Resource"

export const eventObject = (event: EventInput, namespace: string, now: number): KubeObject => ({
  apiVersion: "events.k8s.io/v1",
  kind: "Event",
  metadata: { name: "", generateName: `${event.regarding.name}.`, namespace },
  eventTime: formatMicroTime(now),
  type: event.type,
  reason: event.reason,
  action: event.action,
  note: event.note,
  regarding: event.regarding,
  reportingController: event.reportingController,
  reportingInstance: event.reportingInstance
})
