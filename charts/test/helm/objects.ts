/**
 * The objects `helm template` renders: parsed, each validated against its kind's schema (kubernetes-models and
 * @kubernetes-models/prometheus-operator), and reduced for golden files. A kind without a model fails the test,
 * so a new template brings its validator along.
 */
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor"
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule"
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor"
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition"
import { Deployment } from "kubernetes-models/apps/v1/Deployment"
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget"
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole"
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding"
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role"
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding"
import { ConfigMap } from "kubernetes-models/v1/ConfigMap"
import { Service } from "kubernetes-models/v1/Service"
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount"
import { parseAllDocuments, stringify } from "yaml"

export interface KubeObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown }
  readonly [key: string]: unknown
}

// biome-ignore lint/suspicious/noExplicitAny: each model takes its own kind's data
const models: Record<string, new (data: any) => { validate(): void }> = {
  "v1/ServiceAccount": ServiceAccount,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "apps/v1/Deployment": Deployment,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": CustomResourceDefinition,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1/PodMonitor": PodMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule
}

/** The documents of a `helm template` output (empty documents dropped). */
export const parseObjects = (text: string): ReadonlyArray<KubeObject> =>
  parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`unparsable YAML: ${doc.errors[0]?.message}`)
      return doc.toJS() as KubeObject | null
    })
    .filter((o): o is KubeObject => o !== null)

/** Throws naming the object when its kind has no model or it breaks its kind's schema. */
export const validateObject = (object: KubeObject): void => {
  const id = `${object.apiVersion}/${object.kind}`
  const Model = models[id]
  if (Model === undefined) throw new Error(`${id} ${object.metadata?.name}: no schema to validate this kind against`)
  try {
    new Model(object).validate()
  } catch (error) {
    throw new Error(`${id} ${object.metadata.name}: ${(error as Error).message}`)
  }
}

export const key = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`

/**
 * Golden form: objects in a stable order, with the parts other files own replaced by a pointer (a CRD's spec is
 * crds/, the operator's rules are generated into files/; each is compared to its source separately), so
 * a schema or RBAC change does not touch the golden files.
 */
export const golden = (objects: ReadonlyArray<KubeObject>, operatorRoleName: string): string =>
  [...objects]
    .sort((a, b) => key(a).localeCompare(key(b)))
    .map((o) => {
      if (o.kind === "CustomResourceDefinition") return { ...o, spec: `<crds/ ${o.metadata.name}>` }
      if ((o.kind === "ClusterRole" || o.kind === "Role") && o.metadata.name === operatorRoleName)
        return { ...o, rules: "<files/operator-rules.yaml>" }
      if (o.kind === "Role" && o.metadata.name === `${operatorRoleName}-leader-election`)
        return { ...o, rules: "<files/leader-election-rules.yaml>" }
      return o
    })
    .map((o) => `---\n${stringify(o, { lineWidth: 0 })}`)
    .join("")
