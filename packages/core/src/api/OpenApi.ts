/**
 * Effect Schema -> structural OpenAPI v3 schema, as a CRD's `openAPIV3Schema` needs it.
 *
 * Built on `Schema.toJsonSchemaDocument` (draft 2020-12) plus a post-processor for what CRDs require:
 * `$ref`s inlined, check `allOf`s flattened into their node, `const` as `enum`, no `additionalProperties: true`
 * next to `properties`, the int-or-string shape the API server expects, and no JSON-number safety bounds.
 */
import { Schema } from "effect"

export type OpenApiSchema = { readonly [key: string]: unknown }
type Node = Record<string, unknown>

const SAFE = 9007199254740991
const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

const isNode = (u: unknown): u is Node => typeof u === "object" && u !== null && !Array.isArray(u)

/** Merges `b` into `a` as an intersection (both sets of keywords hold). */
const intersect = (a: Node, b: Node): Node => {
  const out: Node = { ...a }
  for (const [key, value] of Object.entries(b)) {
    const current = out[key]
    if (current === undefined) out[key] = value
    else if (key === "minimum" || key === "minLength" || key === "minItems" || key === "minProperties")
      out[key] = Math.max(current as number, value as number)
    else if (key === "maximum" || key === "maxLength" || key === "maxItems" || key === "maxProperties")
      out[key] = Math.min(current as number, value as number)
    else if (key === "x-kubernetes-validations")
      out[key] = [...(current as ReadonlyArray<unknown>), ...(value as ReadonlyArray<unknown>)]
    else if (key === "required") out[key] = [...new Set([...(current as Array<string>), ...(value as Array<string>)])]
    else out[key] = value
  }
  return out
}

const dropNoiseBounds = (n: Node): Node => {
  const out = { ...n }
  if (out.minimum === -SAFE || (out.format === "int32" && out.minimum === INT32_MIN)) delete out.minimum
  if (out.maximum === SAFE || (out.format === "int32" && out.maximum === INT32_MAX)) delete out.maximum
  return out
}

const intOrString = (n: Node): Node => {
  const branches = Array.isArray(n.anyOf) ? (n.anyOf as ReadonlyArray<Node>) : []
  const pattern = branches.find((b) => b.type === "string")?.pattern
  const { anyOf: _, type: __, ...rest } = n
  return {
    ...rest,
    anyOf: [{ type: "integer" }, { type: "string" }],
    ...(pattern === undefined ? {} : { pattern }),
    "x-kubernetes-int-or-string": true
  }
}

const convert = (node: unknown, definitions: Record<string, unknown>, typeNames: boolean): unknown => {
  if (Array.isArray(node)) return node.map((item) => convert(item, definitions, typeNames))
  if (!isNode(node)) return node
  let n: Node = node
  while (typeof n.$ref === "string") {
    const { $ref, ...rest } = n
    const target = definitions[($ref as string).split("/").pop()!]
    if (!isNode(target)) throw new Error(`unresolved $ref ${String($ref)}`)
    n = { ...target, ...rest }
  }
  if (Array.isArray(n.allOf)) {
    const { allOf, ...rest } = n
    n = (allOf as ReadonlyArray<unknown>).reduce<Node>(
      (acc, part) => intersect(acc, convert(part, definitions, typeNames) as Node),
      rest
    )
  }
  const out: Node = {}
  for (const [key, value] of Object.entries(n)) {
    if (key === "$schema" || key === "$defs" || key === "title" || key === "examples") continue
    if (key === TypeNameKey && !typeNames) continue
    if (key === "additionalProperties" && (value === true || (isNode(value) && Object.keys(value).length === 0)))
      continue
    if (key === "const") {
      out.enum = [value]
      continue
    }
    if (key === "pattern" && typeof value === "string") {
      out.pattern = value.replace(/\\\//g, "/")
      continue
    }
    out[key] =
      key === "properties" || key === "default" || key === "x-kubernetes-validations"
        ? key === "properties"
          ? Object.fromEntries(Object.entries(value as Node).map(([k, v]) => [k, convert(v, definitions, typeNames)]))
          : value
        : convert(value, definitions, typeNames)
  }
  if (out["x-kubernetes-int-or-string"] === true) return intOrString(out)
  if (Array.isArray(out.anyOf) && (out.anyOf as ReadonlyArray<Node>).every((b) => Array.isArray(b.enum))) {
    // a union of literals: one string enum
    const { anyOf, ...rest } = out
    return { type: "string", ...rest, enum: (anyOf as ReadonlyArray<Node>).flatMap((b) => b.enum as Array<unknown>) }
  }
  return dropNoiseBounds(out)
}

/** Annotation naming an embedded Kubernetes type (set by the generated models), for documentation only. */
export const TypeNameKey = "x-doltdb-type"

/**
 * The structural OpenAPI v3 schema of `schema`'s encoded (wire) form. With `typeNames`, nodes of embedded
 * Kubernetes types keep their `x-doltdb-type` name (for the API reference; a CRD must not carry it).
 */
export const toOpenApi = (schema: Schema.Top, options?: { readonly typeNames?: boolean }): OpenApiSchema => {
  const document = Schema.toJsonSchemaDocument(schema, {
    includeAnnotationKey: (key) => key.startsWith("x-kubernetes-") || key === "format" || key === TypeNameKey
  })
  return convert(
    document.schema,
    document.definitions as Record<string, unknown>,
    options?.typeNames === true
  ) as OpenApiSchema
}
