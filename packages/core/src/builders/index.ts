/**
 * Builders: every child object of a DoltDB as plain data (StatefulSet, Services, ConfigMap with one Dolt
 * sql-server config per pod, RBAC, PodDisruptionBudget), and the pieces they are made of.
 *
 * Start with `identify` (fills a missing namespace/uid) and `buildDesiredState`; the per-object builders and the
 * Dolt config generator are exported for operators that need one piece.
 */
export * from "./BootstrapScript.ts"
export * from "./ConfigMapBuilder.ts"
export * from "./DesiredState.ts"
export * from "./DoltConfig.ts"
export * from "./DoltYaml.ts"
export * from "./EngineVersion.ts"
export * from "./GuardSidecar.ts"
export * from "./KubeObjects.ts"
export * from "./Labels.ts"
export * from "./Names.ts"
export * from "./NetworkPolicyBuilder.ts"
export * from "./Owner.ts"
export * from "./PodDisruptionBudgetBuilder.ts"
export * from "./PodSecurityStandard.ts"
export * from "./PodTemplate.ts"
export * from "./Probes.ts"
export * from "./RbacBuilder.ts"
export * from "./SecurityContext.ts"
export * from "./ServiceBuilder.ts"
export * from "./Sha256.ts"
export * from "./StatefulSetBuilder.ts"
export * from "./TlsBuilder.ts"
