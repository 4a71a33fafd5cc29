/**
 * Plain JSON shapes of the Kubernetes objects the builders produce.
 *
 * Local interfaces on purpose: core depends on `effect` only, so it cannot use a Kubernetes types package. They
 * cover exactly the fields we set; user-supplied pieces (affinity, tolerations, probes, ...) reuse the API's
 * generated models, which have the Kubernetes shape. The tests validate every rendered object against the real
 * Kubernetes schema of its kind (kubernetes-models).
 */
import type {
  Affinity,
  EnvVar,
  LabelSelector,
  LocalObjectReference,
  PodSecurityContext,
  Probe,
  ResourceRequirements,
  SecurityContext,
  StatefulSetPersistentVolumeClaimRetentionPolicy,
  Toleration,
  TopologySpreadConstraint
} from "../api/k8s/Models.generated.ts"
import type { StringMap } from "./Labels.ts"

export type { EnvVar, Probe, ResourceRequirements }

export interface OwnerReference {
  readonly apiVersion: string
  readonly kind: string
  readonly name: string
  readonly uid: string
  readonly controller: true
  readonly blockOwnerDeletion: true
}

export interface ObjectMeta {
  readonly name: string
  readonly namespace?: string
  readonly labels?: StringMap
  readonly annotations?: StringMap
  readonly ownerReferences?: ReadonlyArray<OwnerReference>
}

/** Metadata inside templates (pod template, volumeClaimTemplates): no namespace or owner. */
export interface TemplateMeta {
  readonly name?: string
  readonly labels?: StringMap
  readonly annotations?: StringMap
}

export interface ContainerPort {
  readonly name: string
  readonly containerPort: number
  readonly protocol: "TCP"
}

export interface VolumeMount {
  readonly name: string
  readonly mountPath: string
  readonly readOnly?: boolean
}

export interface ExecHandler {
  readonly exec: { readonly command: ReadonlyArray<string> }
}

export interface Container {
  readonly name: string
  readonly image: string
  readonly imagePullPolicy: "IfNotPresent"
  /** Absent: the image's entrypoint (the guard sidecar passes only `args`). */
  readonly command?: ReadonlyArray<string>
  readonly args?: ReadonlyArray<string>
  readonly workingDir?: string
  readonly env: ReadonlyArray<EnvVar>
  readonly ports?: ReadonlyArray<ContainerPort>
  readonly resources?: ResourceRequirements
  readonly volumeMounts: ReadonlyArray<VolumeMount>
  readonly startupProbe?: Probe
  readonly readinessProbe?: Probe
  readonly livenessProbe?: Probe
  readonly lifecycle?: { readonly preStop: ExecHandler }
  readonly terminationMessagePolicy?: "File" | "FallbackToLogsOnError"
  readonly securityContext?: ContainerSecurityContext | SecurityContext
}

/** A container that runs a command of ours (the Dolt containers): command and working directory always set. */
export type CommandContainer = Container & { readonly command: ReadonlyArray<string>; readonly workingDir: string }

/** The container securityContext fields the builders set (the restricted Pod Security Standard's). */
export interface ContainerSecurityContext {
  readonly allowPrivilegeEscalation?: boolean
  readonly readOnlyRootFilesystem?: boolean
  readonly runAsNonRoot?: boolean
  readonly runAsUser?: number
  readonly runAsGroup?: number
  readonly capabilities?: { readonly drop?: ReadonlyArray<string>; readonly add?: ReadonlyArray<string> }
  readonly seccompProfile?: { readonly type: "RuntimeDefault" | "Localhost" | "Unconfined" }
}

type KeyToPath = { readonly key: string; readonly path: string }

/** A projected volume source (the guard's service-account token, CA and namespace). */
export type ProjectedSource =
  | { readonly serviceAccountToken: { readonly path: string; readonly expirationSeconds: number } }
  | { readonly configMap: { readonly name: string; readonly items: ReadonlyArray<KeyToPath> } }
  | {
      readonly downwardAPI: {
        readonly items: ReadonlyArray<{
          readonly path: string
          readonly fieldRef: { readonly apiVersion: "v1"; readonly fieldPath: string }
        }>
      }
    }

export type Volume =
  | { readonly name: string; readonly configMap: { readonly name: string } }
  | { readonly name: string; readonly secret: { readonly secretName: string; readonly optional?: boolean } }
  | { readonly name: string; readonly projected: { readonly sources: ReadonlyArray<ProjectedSource> } }
  | { readonly name: string; readonly emptyDir: { readonly sizeLimit?: string } }

export interface PodSpec {
  readonly automountServiceAccountToken: false
  readonly serviceAccountName: string
  readonly terminationGracePeriodSeconds: number
  readonly imagePullSecrets?: ReadonlyArray<LocalObjectReference>
  readonly securityContext: PodSecurityContext
  readonly affinity?: Affinity
  readonly nodeSelector?: StringMap
  readonly tolerations?: ReadonlyArray<Toleration>
  readonly topologySpreadConstraints?: ReadonlyArray<TopologySpreadConstraint>
  readonly initContainers: ReadonlyArray<Container>
  readonly containers: ReadonlyArray<Container>
  readonly volumes: ReadonlyArray<Volume>
}

export interface PodTemplate {
  readonly metadata: TemplateMeta
  readonly spec: PodSpec
}

export interface PersistentVolumeClaimTemplate {
  readonly metadata: TemplateMeta & { readonly name: string }
  readonly spec: {
    readonly accessModes: ReadonlyArray<"ReadWriteOnce">
    readonly resources: { readonly requests: { readonly storage: string | number } }
    readonly storageClassName?: string
    readonly dataSource?: { readonly apiGroup: string; readonly kind: string; readonly name: string }
  }
}

export interface StatefulSet {
  readonly apiVersion: "apps/v1"
  readonly kind: "StatefulSet"
  readonly metadata: ObjectMeta
  readonly spec: {
    readonly replicas: number
    readonly selector: { readonly matchLabels: StringMap }
    readonly serviceName: string
    readonly podManagementPolicy: "OrderedReady" | "Parallel"
    readonly updateStrategy: { readonly type: "OnDelete" | "RollingUpdate" }
    readonly persistentVolumeClaimRetentionPolicy: StatefulSetPersistentVolumeClaimRetentionPolicy
    readonly template: PodTemplate
    readonly volumeClaimTemplates: ReadonlyArray<PersistentVolumeClaimTemplate>
  }
}

export interface ServicePort {
  readonly name: string
  readonly port: number
  readonly targetPort: number
  readonly protocol: "TCP"
}

export interface Service {
  readonly apiVersion: "v1"
  readonly kind: "Service"
  readonly metadata: ObjectMeta
  readonly spec: {
    readonly type: "ClusterIP"
    readonly clusterIP?: "None"
    readonly publishNotReadyAddresses?: boolean
    readonly selector: StringMap
    readonly ports: ReadonlyArray<ServicePort>
  }
}

export interface ConfigMap {
  readonly apiVersion: "v1"
  readonly kind: "ConfigMap"
  readonly metadata: ObjectMeta
  readonly data: StringMap
}

export interface ServiceAccount {
  readonly apiVersion: "v1"
  readonly kind: "ServiceAccount"
  readonly metadata: ObjectMeta
}

export interface PolicyRule {
  readonly apiGroups: ReadonlyArray<string>
  readonly resources: ReadonlyArray<string>
  readonly resourceNames?: ReadonlyArray<string>
  readonly verbs: ReadonlyArray<string>
}

export interface Role {
  readonly apiVersion: "rbac.authorization.k8s.io/v1"
  readonly kind: "Role"
  readonly metadata: ObjectMeta
  readonly rules: ReadonlyArray<PolicyRule>
}

export interface RoleBinding {
  readonly apiVersion: "rbac.authorization.k8s.io/v1"
  readonly kind: "RoleBinding"
  readonly metadata: ObjectMeta
  readonly roleRef: { readonly apiGroup: "rbac.authorization.k8s.io"; readonly kind: "Role"; readonly name: string }
  readonly subjects: ReadonlyArray<{
    readonly kind: "ServiceAccount"
    readonly name: string
    readonly namespace: string
  }>
}

export interface PodDisruptionBudget {
  readonly apiVersion: "policy/v1"
  readonly kind: "PodDisruptionBudget"
  readonly metadata: ObjectMeta
  readonly spec: {
    readonly selector: LabelSelector
    readonly minAvailable?: number | string
    readonly maxUnavailable?: number | string
  }
}

export interface NetworkPolicyPeer {
  readonly namespaceSelector?: LabelSelector
  readonly podSelector?: LabelSelector
}

export interface NetworkPolicyRule {
  readonly from?: ReadonlyArray<NetworkPolicyPeer>
  readonly ports: ReadonlyArray<{ readonly protocol: "TCP"; readonly port: number }>
}

export interface NetworkPolicy {
  readonly apiVersion: "networking.k8s.io/v1"
  readonly kind: "NetworkPolicy"
  readonly metadata: ObjectMeta
  readonly spec: {
    readonly podSelector: LabelSelector
    readonly policyTypes: ReadonlyArray<"Ingress">
    readonly ingress: ReadonlyArray<NetworkPolicyRule>
  }
}

/** Every child object of a DoltDB. */
export type ChildObject =
  | StatefulSet
  | Service
  | ConfigMap
  | ServiceAccount
  | Role
  | RoleBinding
  | PodDisruptionBudget
  | NetworkPolicy
