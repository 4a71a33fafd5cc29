/**
 * ServiceAccount, Role and RoleBinding for the Dolt pods, all named `spec.serviceAccountName` or `<name>`
 * (reference-operator.md §3.5), with the reference's rules.
 *
 * Not built: the reference's `system:auth-delegator` ClusterRoleBinding. The pods never mount a token
 * (`automountServiceAccountToken: false`), so it granted nothing, and as a cluster-scoped object with a
 * namespaced owner it leaked on deletion (reference flaw 30).
 */
import type { PolicyRule, Role, RoleBinding, ServiceAccount } from "./KubeObjects.ts"
import { mergeMaps } from "./Labels.ts"
import { serviceAccountName } from "./Names.ts"
import { childMetadata, type IdentifiedDoltDB } from "./Owner.ts"

export const PodRoleRules: ReadonlyArray<PolicyRule> = [
  { apiGroups: ["k8s.dolthub.com"], resources: ["doltdbs"], verbs: ["get"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
  {
    apiGroups: ["snapshot.storage.k8s.io"],
    resources: ["volumesnapshots"],
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
]

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

export const buildRole = (doltdb: IdentifiedDoltDB): Role => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "Role",
  metadata: childMetadata(doltdb, accountName(doltdb)),
  rules: PodRoleRules
})

export const buildRoleBinding = (doltdb: IdentifiedDoltDB): RoleBinding => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "RoleBinding",
  metadata: childMetadata(doltdb, accountName(doltdb)),
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: accountName(doltdb) },
  subjects: [{ kind: "ServiceAccount", name: accountName(doltdb), namespace: doltdb.metadata.namespace }]
})
