/**
 * ServiceAccount, Role and RoleBinding for the Dolt pods, all named `spec.serviceAccountName` or `<name>`
 * (reference-operator.md §3.5). The Role grants nothing: the pods never call the Kubernetes API (no token is
 * mounted), so the reference's rules (DoltDB and pod reads, VolumeSnapshot CRUD) only widened what a stolen token
 * could do, and the operator would have to hold every one of them itself to create the Role (RBAC escalation
 * check). The objects stay, empty, so manifests and tools that bind to them by name keep working.
 *
 * Not built: the reference's `system:auth-delegator` ClusterRoleBinding. The pods never mount a token
 * (`automountServiceAccountToken: false`), so it granted nothing, and as a cluster-scoped object with a
 * namespaced owner it leaked on deletion (reference flaw 30).
 */

import { guardEnabled } from "../guard/GuardView.ts"
import type { PolicyRule, Role, RoleBinding, ServiceAccount } from "./KubeObjects.ts"
import { mergeMaps } from "./Labels.ts"
import { podName, serviceAccountName } from "./Names.ts"
import { childMetadata, type IdentifiedDoltDB } from "./Owner.ts"

export const PodRoleRules: ReadonlyArray<PolicyRule> = []

const accountName = (doltdb: IdentifiedDoltDB): string =>
  serviceAccountName(doltdb.metadata.name, doltdb.spec.serviceAccountName)

export const buildServiceAccount = (doltdb: IdentifiedDoltDB): ServiceAccount => {
  const annotations = mergeMaps(doltdb.spec.serviceAccountAnnotations)
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: childMetadata(doltdb, accountName(doltdb), annotations === undefined ? {} : { annotations })
  }
}

/**
 * With the isolation guard, the pods hold a token (in the guard container only), so the Role grants exactly what
 * the guard reads: `get` on this DoltDB and on its pods, by name. The reference's rules (volumesnapshots too) were
 * harmless without a token; with one they would be more than the guard needs.
 */
export const guardRoleRules = (doltdb: IdentifiedDoltDB): ReadonlyArray<PolicyRule> => {
  const name = doltdb.metadata.name
  return [
    { apiGroups: ["k8s.dolthub.com"], resources: ["doltdbs"], resourceNames: [name], verbs: ["get"] },
    {
      apiGroups: [""],
      resources: ["pods"],
      resourceNames: Array.from({ length: doltdb.spec.replicas }, (_, i) => podName(name, i)),
      verbs: ["get"]
    }
  ]
}

export const buildRole = (doltdb: IdentifiedDoltDB): Role => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "Role",
  metadata: childMetadata(doltdb, accountName(doltdb)),
  rules: guardEnabled(doltdb) ? guardRoleRules(doltdb) : PodRoleRules
})

export const buildRoleBinding = (doltdb: IdentifiedDoltDB): RoleBinding => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "RoleBinding",
  metadata: childMetadata(doltdb, accountName(doltdb)),
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: accountName(doltdb) },
  subjects: [{ kind: "ServiceAccount", name: accountName(doltdb), namespace: doltdb.metadata.namespace }]
})
