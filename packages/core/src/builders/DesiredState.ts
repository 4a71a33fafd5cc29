/**
 * Every child object of a DoltDB, as plain data: what the operator applies and what `render` prints.
 */
import { buildConfigMap, configHash, doltConfigInput } from "./ConfigMapBuilder.ts"
import { buildDoltConfigs } from "./DoltConfig.ts"
import type { ChildObject } from "./KubeObjects.ts"
import { isValidLabelValue, VersionLabel } from "./Labels.ts"
import { buildNetworkPolicy } from "./NetworkPolicyBuilder.ts"
import type { IdentifiedDoltDB } from "./Owner.ts"
import { budgetWarnings, buildPodDisruptionBudget } from "./PodDisruptionBudgetBuilder.ts"
import { restrictedViolations } from "./PodSecurityStandard.ts"
import { type BuildContext, buildPodTemplate } from "./PodTemplate.ts"
import { probeWarnings } from "./Probes.ts"
import { buildRole, buildRoleBinding, buildServiceAccount } from "./RbacBuilder.ts"
import { buildServices } from "./ServiceBuilder.ts"
import { buildStatefulSet } from "./StatefulSetBuilder.ts"

export interface DesiredState {
  /** In apply order: RBAC, ConfigMap, Services, StatefulSet, PodDisruptionBudget and NetworkPolicy (when built). */
  readonly objects: ReadonlyArray<ChildObject>
  /** Settings that were adjusted or dropped for this engine version or cluster size, for users to see. */
  readonly warnings: ReadonlyArray<string>
  /** The pod-template config hash (also in the StatefulSet's template annotations unless `updateStrategy: Never`). */
  readonly configHash: string
}

export const buildWarnings = (doltdb: IdentifiedDoltDB): ReadonlyArray<string> => [
  ...(isValidLabelValue(doltdb.spec.engineVersion)
    ? []
    : [
        `spec.engineVersion ${JSON.stringify(doltdb.spec.engineVersion)} is not a valid label value; no ${VersionLabel} label`
      ]),
  ...buildDoltConfigs(doltConfigInput(doltdb)).warnings,
  ...probeWarnings(doltdb),
  ...budgetWarnings(doltdb),
  ...restrictedViolations(buildPodTemplate(doltdb).spec).map(
    (v) => `the pods leave the restricted Pod Security Standard (spec.securityContext/containerSecurityContext): ${v}`
  )
]

export const buildDesiredState = (doltdb: IdentifiedDoltDB, context: BuildContext = {}): DesiredState => {
  const pdb = buildPodDisruptionBudget(doltdb)
  const networkPolicy = buildNetworkPolicy(doltdb)
  return {
    objects: [
      buildServiceAccount(doltdb),
      buildRole(doltdb),
      buildRoleBinding(doltdb),
      buildConfigMap(doltdb, context.peerMembers),
      ...buildServices(doltdb),
      buildStatefulSet(doltdb, context),
      ...(pdb === undefined ? [] : [pdb]),
      ...(networkPolicy === undefined ? [] : [networkPolicy])
    ],
    warnings: buildWarnings(doltdb),
    configHash: configHash(doltdb, context.peerMembers)
  }
}
