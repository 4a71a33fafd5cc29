/**
 * Every rendered object is a valid Kubernetes object of its kind:
 * - kubernetes-models validates types, required fields, enums and formats against the Kubernetes OpenAPI schema;
 * - it does not reject unknown fields, so the test also walks each object along @kubernetes/client-node's model
 *   attribute maps and fails on any field the API server would drop or reject (a typo such as
 *   `publishNotReadyAddress` would otherwise pass unnoticed).
 */

import { assert, describe, it } from "@effect/vitest"
import * as k8s from "@kubernetes/client-node"
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet"
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy"
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget"
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role"
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding"
import { ConfigMap } from "kubernetes-models/v1/ConfigMap"
import { Service } from "kubernetes-models/v1/Service"
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount"
import { Builders } from "../../src/index.ts"
import { decoded, everyOption, type Manifest, scenarios, standalone, twoReplicas, withSpec } from "./fixtures.ts"

const validators: Record<Builders.ChildObject["kind"], (object: unknown) => void> = {
  StatefulSet: (o) => new StatefulSet(o as never).validate(),
  Service: (o) => new Service(o as never).validate(),
  ConfigMap: (o) => new ConfigMap(o as never).validate(),
  ServiceAccount: (o) => new ServiceAccount(o as never).validate(),
  Role: (o) => new Role(o as never).validate(),
  RoleBinding: (o) => new RoleBinding(o as never).validate(),
  PodDisruptionBudget: (o) => new PodDisruptionBudget(o as never).validate(),
  NetworkPolicy: (o) => new NetworkPolicy(o as never).validate()
}

const modelNames: Record<Builders.ChildObject["kind"], string> = {
  StatefulSet: "V1StatefulSet",
  Service: "V1Service",
  ConfigMap: "V1ConfigMap",
  ServiceAccount: "V1ServiceAccount",
  Role: "V1Role",
  RoleBinding: "V1RoleBinding",
  PodDisruptionBudget: "V1PodDisruptionBudget",
  NetworkPolicy: "V1NetworkPolicy"
}

interface Attribute {
  readonly baseName: string
  readonly type: string
}
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => ReadonlyArray<Attribute> } | undefined>

/** Paths of fields that the client-node model of `type` does not know. */
const unknownFields = (value: unknown, type: string, path: string): ReadonlyArray<string> => {
  const array = /^Array<(.+)>$/u.exec(type)
  if (array !== null) {
    return Array.isArray(value) ? value.flatMap((item, i) => unknownFields(item, array[1]!, `${path}[${i}]`)) : []
  }
  const map = /^\{ \[key: string\]: (.+); \}$/u.exec(type)
  if (map !== null) {
    return Object.entries(value as object).flatMap(([key, item]) => unknownFields(item, map[1]!, `${path}.${key}`))
  }
  const attributes = models[type]?.getAttributeTypeMap?.()
  if (attributes === undefined || typeof value !== "object" || value === null) return []
  return Object.entries(value).flatMap(([key, item]) => {
    const attribute = attributes.find((a) => a.baseName === key)
    return attribute === undefined ? [`${path}.${key}`] : unknownFields(item, attribute.type, `${path}.${key}`)
  })
}

const cases: Record<string, Manifest> = {
  ...scenarios,
  "standalone on 1.57.2 with metrics and MCP": withSpec(standalone, {
    engineVersion: "1.57.2",
    server: { metrics: { enabled: true }, mcpServer: {} }
  }),
  "replicated on an unknown engine": withSpec(twoReplicas, { engineVersion: "latest" }),
  "replicated with the isolation guard": withSpec(twoReplicas, {
    replication: { enabled: true, guard: { enabled: true, threshold: "7s" } }
  }),
  "updateStrategy Never, percentage budget": withSpec(everyOption, {
    updateStrategy: "Never",
    podDisruptionBudget: { minAvailable: "60%" }
  }),
  "replicated with TLS required (a user Secret)": withSpec(twoReplicas, {
    tls: { enabled: true, requireSecureTransport: true, serverCertSecretRef: { name: "pair-cert" } }
  }),
  "a NetworkPolicy with SQL sources": withSpec(everyOption, {
    networkPolicy: {
      enabled: true,
      sqlFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "doltdb-operator" } } }]
    }
  }),
  "a NetworkPolicy open to SQL clients": withSpec(twoReplicas, { networkPolicy: { enabled: true } }),
  "five replicas, OnDelete, probes with defaults": withSpec(twoReplicas, {
    replicas: 5,
    updateStrategy: "OnDelete",
    probes: {}
  })
}

describe("rendered objects validate against the Kubernetes schema of their kind", () => {
  for (const [name, manifest] of Object.entries(cases)) {
    it(name, () => {
      const { objects } = Builders.buildDesiredState(decoded(manifest))
      assert.isAbove(objects.length, 4)
      for (const object of objects) {
        const where = `${object.kind} ${object.metadata.name}`
        assert.doesNotThrow(() => validators[object.kind](object), undefined, where)
        assert.deepStrictEqual(unknownFields(object, modelNames[object.kind], object.kind), [], where)
      }
    })
  }

  it("the unknown-field check catches a misspelt field", () => {
    const service = Builders.buildInternalService(decoded(twoReplicas))
    const misspelt = { ...service, spec: { ...service.spec, publishNotReadyAddress: true } }
    assert.deepStrictEqual(unknownFields(misspelt, "V1Service", "Service"), ["Service.spec.publishNotReadyAddress"])
  })

  it("kubernetes-models catches a wrongly typed field", () => {
    const service = Builders.buildInternalService(decoded(twoReplicas))
    const broken = { ...service, spec: { ...service.spec, ports: [{ name: "x", port: "3306" }] } }
    assert.throws(() => validators.Service(broken))
  })
})
