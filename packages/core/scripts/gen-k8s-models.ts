/**
 * Generates packages/core/src/api/k8s/Models.generated.ts: Effect Schemas for the Kubernetes types our
 * kinds embed (Affinity, Toleration, Probe, ResourceRequirements, EnvVar, PodSecurityContext, ...).
 *
 * Source: the OpenAPI-generated models of @kubernetes/client-node (a root devDependency) (release-1.36 spec): `attributeTypeMap`
 * in each model's .js gives field names, types and integer formats; the .d.ts gives descriptions and which
 * fields are required. client-node types resource.Quantity as a plain string, so kubernetes-models' .d.ts
 * (which keeps the Quantity type name) tells us which fields are quantities. Both are read as files here,
 * at dev time only: core never imports them.
 *
 * Run: `npm run gen:crds` (regenerates this file and crds/), or `node packages/core/scripts/gen-k8s-models.ts`.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** The Kubernetes types our API embeds; their dependencies are pulled in automatically. */
export const roots = [
  "V1Affinity",
  "V1Toleration",
  "V1Probe",
  "V1ResourceRequirements",
  "V1EnvVar",
  "V1PodSecurityContext",
  "V1SecurityContext",
  "V1TopologySpreadConstraint",
  "V1LocalObjectReference",
  "V1StatefulSetPersistentVolumeClaimRetentionPolicy"
] as const

const here = dirname(fileURLToPath(import.meta.url))
export const modelsFile = join(here, "..", "src", "api", "k8s", "Models.generated.ts")

const findPackage = (name: string): string => {
  let dir = here
  for (;;) {
    const candidate = join(dir, "node_modules", name)
    if (existsSync(join(candidate, "package.json"))) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find ${name} in any node_modules above ${here}`)
    dir = parent
  }
}

interface Attribute {
  readonly name: string
  readonly baseName: string
  readonly type: string
  readonly format: string
}

interface Field {
  readonly name: string
  readonly optional: boolean
  readonly description: string | undefined
}

interface Model {
  readonly name: string
  readonly description: string | undefined
  readonly attributes: ReadonlyArray<Attribute>
  readonly fields: ReadonlyMap<string, Field>
}

const unescapeDoc = (s: string): string => s.replace(/\\(['"\\])/g, "$1").trim()

const docText = (lines: ReadonlyArray<string>): string | undefined => {
  const text = lines
    .map((l) => l.replace(/^\s*\/?\*+\/?\s?/, "").replace(/\*\/\s*$/, ""))
    .join("\n")
    .trim()
  return text === "" ? undefined : unescapeDoc(text)
}

const parseDts = (source: string): { description: string | undefined; fields: Map<string, Field> } => {
  const lines = source.split("\n")
  const fields = new Map<string, Field>()
  let description: string | undefined
  let doc: Array<string> = []
  let inDoc = false
  for (const line of lines) {
    const trimmed = line.trim()
    if (trimmed.startsWith("/**")) {
      inDoc = true
      doc = [trimmed]
      if (trimmed.endsWith("*/") && trimmed.length > 3) inDoc = false
      continue
    }
    if (inDoc) {
      doc.push(trimmed)
      if (trimmed.endsWith("*/")) inDoc = false
      continue
    }
    if (trimmed.startsWith("export declare class")) {
      description = docText(doc)
      doc = []
      continue
    }
    const field = /^'([^']+)'(\?)?:/.exec(trimmed)
    if (field !== null) {
      const name = field[1]!
      fields.set(name, { name, optional: field[2] === "?", description: docText(doc) })
    }
    doc = []
  }
  return { description, fields }
}

const parseAttributes = (source: string, name: string): ReadonlyArray<Attribute> => {
  const match = new RegExp(`${name}\\.attributeTypeMap = (\\[[\\s\\S]*?\\n\\]);`).exec(source)
  if (match === null) throw new Error(`no attributeTypeMap in ${name}.js`)
  return JSON.parse(match[1]!) as ReadonlyArray<Attribute>
}

const clientModels = () => join(findPackage("@kubernetes/client-node"), "dist", "gen", "models")

const loadModel = (name: string): Model => {
  const dir = clientModels()
  const dts = parseDts(readFileSync(join(dir, `${name}.d.ts`), "utf8"))
  const attributes = parseAttributes(readFileSync(join(dir, `${name}.js`), "utf8"), name)
  return { name, description: dts.description, attributes, fields: dts.fields }
}

/** Fields kubernetes-models types as resource.Quantity (client-node flattens them to string). */
const quantityFields = (model: string): ReadonlySet<string> => {
  const base = findPackage("kubernetes-models")
  const short = refName(model)
  const file = ["v1", "apps/v1"].map((d) => join(base, d, `${short}.d.ts`)).find((f) => existsSync(f))
  if (file === undefined) return new Set()
  const source = readFileSync(file, "utf8")
  const body = source.slice(source.indexOf("export interface"), source.indexOf("export declare class"))
  const out = new Set<string>()
  const re = /"([^"]+)"\??:\s*([^;]*(?:\{[^}]*\})?[^;]*);/g
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    if (m[2]!.includes("Quantity")) out.add(m[1]!)
  }
  return out
}

const modelType = /^(?:[A-Z][a-z]+)*V1[A-Z][A-Za-z0-9]*$/
const refName = (type: string): string => type.replace(/^(?:[A-Z][a-z]+)*V1/, "")

const referencedModels = (type: string): Array<string> =>
  [...type.matchAll(/\b(?:[A-Z][a-z]+)*V1[A-Z][A-Za-z0-9]*/g)].map((m) => m[0])

const typeExpr = (attr: Attribute, quantity: boolean): string => {
  const go = (type: string): string => {
    const array = /^Array<(.+)>$/.exec(type)
    if (array !== null) return `Schema.Array(${go(array[1]!)})`
    const record = /^\{ \[key: string\]: (.+); \}$/.exec(type)
    if (record !== null) return `Schema.Record(Schema.String, ${go(record[1]!)})`
    switch (type) {
      case "string":
        if (quantity) return "Quantity"
        return attr.format === "date-time" ? "Time" : "Schema.String"
      case "number":
        return attr.format === "int32"
          ? "Int32"
          : attr.format === "int64"
            ? "Int64"
            : attr.format === "double"
              ? "Double"
              : "Integer"
      case "boolean":
        return "Schema.Boolean"
      case "Date":
        return "Time"
      case "IntOrString":
        return "IntOrString"
      default:
        if (modelType.test(type)) return refName(type)
        throw new Error(`unsupported type ${type} for ${attr.name}`)
    }
  }
  return go(attr.type)
}

/**
 * Server-side-apply markers of the upstream Go types (`+structType=atomic`, `+listType=map`), which the reference
 * CRD carries. Hand-written because neither model package keeps them; lists without a marker are atomic for CRDs
 * anyway, so only atomic structs and keyed lists need listing. Checked against the reference's CRD YAML.
 */
const atomicStructs: ReadonlySet<string> = new Set([
  "V1LocalObjectReference",
  "V1NodeSelector",
  "V1NodeSelectorTerm",
  "V1LabelSelector",
  "V1SecretKeySelector",
  "V1ConfigMapKeySelector",
  "V1ObjectFieldSelector",
  "V1ResourceFieldSelector"
])
const keyedLists: Readonly<Record<string, ReadonlyArray<string>>> = { "V1ResourceRequirements.claims": ["name"] }

const annotateDescription = (expr: string, description: string | undefined, extra = ""): string =>
  description === undefined && extra === ""
    ? expr
    : `${expr}.annotate({ ${[description === undefined ? "" : `description: ${JSON.stringify(description)}`, extra].filter((x) => x !== "").join(", ")} })`

export const renderModels = (): string => {
  const models = new Map<string, Model>()
  const order: Array<string> = []
  const visit = (name: string): void => {
    if (models.has(name)) return
    const model = loadModel(name)
    models.set(name, model)
    for (const attr of model.attributes) for (const dep of referencedModels(attr.type)) visit(dep)
    order.push(name)
  }
  for (const root of roots) visit(root)

  const names = new Set<string>()
  const out: Array<string> = [
    "// Generated by packages/core/scripts/gen-k8s-models.ts from @kubernetes/client-node and kubernetes-models.",
    "// Do not edit: run `npm run gen:crds`. A test fails when this file is stale.",
    'import { Schema } from "effect"',
    "__PRIMITIVES__",
    ""
  ]
  for (const name of order) {
    const model = models.get(name)!
    const short = refName(name)
    if (names.has(short)) throw new Error(`name collision: ${short}`)
    names.add(short)
    const quantities = quantityFields(name)
    const fieldLines = model.attributes.map((attr) => {
      const field = model.fields.get(attr.name)
      const dep = referencedModels(attr.type)[0]
      const description = field?.description ?? (dep === undefined ? undefined : models.get(dep)?.description)
      const keys = keyedLists[`${name}.${attr.name}`]
      const listMarkers =
        keys === undefined
          ? ""
          : `"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ${JSON.stringify(keys)}`
      const base = typeExpr(attr, quantities.has(attr.name))
      const unique = keys === undefined ? base : `${base}.check(uniqueBy(${JSON.stringify(keys)}))`
      const expr = annotateDescription(unique, description, listMarkers)
      const key = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(attr.baseName) ? attr.baseName : JSON.stringify(attr.baseName)
      return field?.optional === false ? `  ${key}: ${expr},` : `  ${key}: Schema.optionalKey(${expr}),`
    })
    if (model.description !== undefined) out.push(`/** ${model.description.replace(/\*\//g, "*\\/")} */`)
    out.push(`export const ${short} = Schema.Struct({`)
    out.push(...fieldLines)
    const modelAnnotations = [
      model.description === undefined ? "" : `description: ${JSON.stringify(model.description)}`,
      atomicStructs.has(name) ? `"x-kubernetes-map-type": "atomic"` : "",
      // names the Kubernetes type in the generated API reference (docs/api-reference.md); not part of the CRD
      `"x-doltdb-type": ${JSON.stringify(short)}`
    ].filter((x) => x !== "")
    out.push(modelAnnotations.length === 0 ? "})" : `}).annotate({ ${modelAnnotations.join(", ")} })`)
    out.push(`export type ${short} = typeof ${short}.Type`, "")
  }
  const body = out.join("\n")
  const used = ["Double", "Int32", "Int64", "Integer", "IntOrString", "Quantity", "Time", "uniqueBy"].filter((p) =>
    new RegExp(`[(:,] ?${p}[.),(]`).test(body.replace("__PRIMITIVES__", ""))
  )
  return `${body.replace("__PRIMITIVES__", `import { ${used.join(", ")} } from "./Primitives.ts"`).trimEnd()}\n`
}

if (import.meta.main) {
  writeFileSync(modelsFile, renderModels())
  console.log(`wrote ${modelsFile}`)
}
