/**
 * StatefulSet `<name>` with the volumeClaimTemplate `dolt-data` (reference-operator.md §4.1).
 *
 * - `podManagementPolicy`: `Parallel` for a StatefulSet this operator creates; an existing one keeps its own (the
 *   field is immutable: a StatefulSet the reference operator created is `OrderedReady`, its implicit value). With
 *   `OrderedReady` the first pod's Dolt starts before its peers exist, its gRPC connections to them fail to
 *   resolve their DNS names and retry on grpc-go's exponential back-off (1.6 s growing to 2 min): users and grants
 *   then reach a late peer only at the next retry, and `dolt_cluster_transition_to_standby` waits up to its 10 s
 *   for them (the first switchover of a fresh cluster took 10-15 s). Pods starting together resolve each other
 *   within the first retries. Nothing else depends on the order: the bootstrap primary is chosen by the config,
 *   and rollouts and scale-downs are the operator's (OnDelete) or one at a time either way (RollingUpdate).
 * - `updateStrategy`: `ReplicasFirstPrimaryLast` and `OnDelete` are `OnDelete` (the operator, or the user, deletes
 *   pods); `RollingUpdate` is the StatefulSet controller's; `Never` is `OnDelete` too. The reference left `Never`
 *   as `{}`, which the API server defaults to RollingUpdate, so template changes rolled anyway (flaw 20).
 * - The volumeClaimTemplate carries only labels that never change: the selector label and
 *   `pvc.k8s.dolthub.com/role`. `spec.volumeClaimTemplates` is immutable, so the reference's copies of the DoltDB's
 *   labels, annotations and the version label would make every later label edit or engine upgrade un-appliable
 *   (the reference never noticed because it only ever patched the pod template). Size, class and data source are
 *   in it too: changing those needs the StatefulSet recreated (orphaning its pods), which is the planner's job.
 */
import { bootstrapSnapshot } from "../api/Bootstrap.ts"
import type { UpdateStrategy } from "../api/DoltDB.ts"
import type { PersistentVolumeClaimTemplate, StatefulSet } from "./KubeObjects.ts"
import { DoltDBAnnotation, PvcRoleLabel, ReplicationAnnotation, selectorLabels, sortKeys } from "./Labels.ts"
import { dataVolumeName, internalServiceName, statefulSetName } from "./Names.ts"
import { childMetadata, type IdentifiedDoltDB } from "./Owner.ts"
import { type BuildContext, buildPodTemplate } from "./PodTemplate.ts"

export const statefulSetUpdateStrategy = (strategy: UpdateStrategy): "OnDelete" | "RollingUpdate" =>
  strategy === "RollingUpdate" ? "RollingUpdate" : "OnDelete"

export const buildVolumeClaimTemplate = (doltdb: IdentifiedDoltDB): PersistentVolumeClaimTemplate => {
  const { storage } = doltdb.spec
  const source = bootstrapSnapshot(doltdb.spec)
  return {
    metadata: {
      name: dataVolumeName,
      labels: sortKeys({ ...selectorLabels(doltdb.metadata.name), [PvcRoleLabel]: dataVolumeName })
    },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: storage.size } },
      ...(storage.storageClassName === undefined ? {} : { storageClassName: storage.storageClassName }),
      ...(source === undefined
        ? {}
        : { dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: source } })
    }
  }
}

export type PodManagementPolicy = "OrderedReady" | "Parallel"

/** For a StatefulSet that does not exist yet. */
export const DefaultPodManagementPolicy: PodManagementPolicy = "Parallel"

/** `context.podManagementPolicy`: the existing StatefulSet's (immutable); absent for a new one. */
export const buildStatefulSet = (doltdb: IdentifiedDoltDB, context: BuildContext = {}): StatefulSet => {
  const name = doltdb.metadata.name
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: childMetadata(doltdb, statefulSetName(name), {
      annotations: {
        [DoltDBAnnotation]: name,
        [ReplicationAnnotation]: String(doltdb.spec.replication.enabled)
      }
    }),
    spec: {
      replicas: doltdb.spec.replicas,
      selector: { matchLabels: selectorLabels(name) },
      serviceName: internalServiceName(name),
      podManagementPolicy: context.podManagementPolicy ?? DefaultPodManagementPolicy,
      updateStrategy: { type: statefulSetUpdateStrategy(doltdb.spec.updateStrategy) },
      persistentVolumeClaimRetentionPolicy: doltdb.spec.storage.retentionPolicy ?? {
        whenDeleted: "Retain",
        whenScaled: "Retain"
      },
      template: buildPodTemplate(doltdb, context),
      volumeClaimTemplates: [buildVolumeClaimTemplate(doltdb)]
    }
  }
}
