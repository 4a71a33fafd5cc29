/**
 * The CustomResourceDefinitions of the 7 kinds, built from the schemas (plain JSON values; the gen:crds
 * script writes them as YAML to crds/).
 */
import { Group, Version } from "./Group.ts"
import { Category, type KindInfo, kinds } from "./Kinds.ts"
import { type OpenApiSchema, toOpenApi } from "./OpenApi.ts"

const apiVersionDescription =
  "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
const kindDescription =
  "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"

/** The `openAPIV3Schema` of a kind. */
export const openApiSchemaOf = (info: KindInfo): OpenApiSchema => ({
  description: info.description,
  type: "object",
  properties: {
    apiVersion: { description: apiVersionDescription, type: "string" },
    kind: { description: kindDescription, type: "string" },
    // the API server forbids anything but `type` here (and name/generateName constraints)
    metadata: { type: "object" },
    spec: toOpenApi(info.spec),
    status: toOpenApi(info.status)
  },
  required: ["spec"],
  // The root may check metadata.name (the only metadata CEL sees there); the decoder runs the same check.
  ...(info.name === undefined
    ? {}
    : {
        "x-kubernetes-validations": [
          {
            rule: `!has(self.metadata.name) || self.metadata.name.size() <= ${info.name.maxLength} && self.metadata.name.matches('${info.name.pattern.source}')`,
            message: info.name.message
          }
        ]
      })
})

/** The CRD of a kind, as an `apiextensions.k8s.io/v1` object. */
export const crdOf = (info: KindInfo) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: {
    name: `${info.plural}.${Group}`,
    labels: { "app.kubernetes.io/name": "doltdb-operator", "app.kubernetes.io/part-of": "doltdb-operator" }
  },
  spec: {
    group: Group,
    names: {
      kind: info.kind,
      listKind: `${info.kind}List`,
      plural: info.plural,
      singular: info.singular,
      shortNames: [...info.shortNames],
      categories: [Category]
    },
    scope: "Namespaced",
    versions: [
      {
        name: Version,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: info.printerColumns.map((c) => ({ ...c })),
        schema: { openAPIV3Schema: openApiSchemaOf(info) }
      }
    ]
  }
})
export type Crd = ReturnType<typeof crdOf>

/** The CRDs of all 7 kinds, in table order. */
export const crds = (): ReadonlyArray<Crd> => kinds.map(crdOf)

/** The file name of a CRD under crds/: `<group>_<plural>.yaml`, the controller-gen convention. */
export const crdFileName = (info: KindInfo): string => `${Group}_${info.plural}.yaml`
