/**
 * A small stand-in for the API server's CRD validation, for tests: structural defaulting and OpenAPI
 * validation with ajv (unknown fields are errors, like `kubectl apply --validate=strict`), then the
 * `x-kubernetes-validations` CEL rules with @marcbachmann/cel-js (plus the Kubernetes `quantity()` library).
 */
import { Environment } from "@marcbachmann/cel-js"
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv"
import addFormats from "ajv-formats"
import { Api } from "../../src/index.ts"

type Json = unknown
type Node = Record<string, unknown>
const isNode = (u: unknown): u is Node => typeof u === "object" && u !== null && !Array.isArray(u)

/** Closes every object with declared properties, as pruning + strict field validation do. */
const strict = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(strict)
  if (!isNode(schema)) return schema
  const out: Node = {}
  for (const [key, value] of Object.entries(schema)) {
    out[key] =
      key === "default" || key === "x-kubernetes-validations"
        ? value
        : key === "properties"
          ? Object.fromEntries(Object.entries(value as Node).map(([k, v]) => [k, strict(v)]))
          : strict(value)
  }
  if (
    out.type === "object" &&
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    out["x-kubernetes-preserve-unknown-fields"] !== true
  )
    out.additionalProperties = false
  return out
}

const ajv = new Ajv({ strict: true, allErrors: true, useDefaults: true, strictTypes: false })
addFormats.default(ajv, ["date-time"])
ajv.addFormat("int32", {
  type: "number",
  validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31
})
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) })
ajv.addVocabulary([
  "x-kubernetes-validations",
  "x-kubernetes-int-or-string",
  "x-kubernetes-map-type",
  "x-kubernetes-list-type",
  "x-kubernetes-preserve-unknown-fields"
])
// a keyed list (`x-kubernetes-list-type: map`) holds at most one item per key, as the API server enforces
ajv.addKeyword({
  keyword: "x-kubernetes-list-map-keys",
  type: "array",
  errors: false,
  validate: (keys: ReadonlyArray<string>, items: ReadonlyArray<Record<string, unknown>>) =>
    new Set(items.map((item) => JSON.stringify(keys.map((k) => item[k])))).size === items.length
})

const validators = new Map<string, { readonly validate: ValidateFunction; readonly schema: Node }>()
const validatorOf = (kind: string) => {
  const cached = validators.get(kind)
  if (cached !== undefined) return cached
  const info = Api.kindInfo(kind)
  if (info === undefined) throw new Error(`unknown kind ${kind}`)
  const schema = Api.openApiSchemaOf(info) as Node
  const entry = { validate: ajv.compile(strict(schema) as Node), schema }
  validators.set(kind, entry)
  return entry
}

export interface Violation {
  readonly path: string
  readonly message: string
}

const dotted = (pointer: string, extra?: string): string => {
  const segments = pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
  if (extra !== undefined) segments.push(extra)
  return Api.formatPath(segments.map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s)))
}

const ajvViolation = (e: ErrorObject): Violation => {
  const params = e.params as { readonly additionalProperty?: string; readonly missingProperty?: string }
  return {
    path: dotted(e.instancePath, params.additionalProperty ?? params.missingProperty),
    message: e.message ?? e.keyword
  }
}

class Quantity {
  readonly value: number
  constructor(value: number) {
    this.value = value
  }
}

const cel = new Environment({ unlistedVariablesAreDyn: true })
  .registerType("Quantity", Quantity)
  .registerFunction("quantity(string): Quantity", (s: string) => {
    const value = Api.quantityValue(s)
    if (value === undefined) throw new Error(`invalid quantity ${s}`)
    return new Quantity(value)
  })
  .registerFunction({
    name: "compareTo",
    receiverType: "Quantity",
    returnType: "int",
    handler: (a: Quantity, b: Quantity) => BigInt(Math.sign(a.value - b.value)),
    params: [{ name: "other", type: "Quantity" }]
  })

/** CEL sees integers as int64 (BigInt here); JSON numbers with a fraction stay doubles. */
const toCel = (value: Json): unknown => {
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : value
  if (Array.isArray(value)) return value.map(toCel)
  if (isNode(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]))
  return value
}

const celViolations = (
  schema: Node,
  value: Json,
  old: Json,
  path: ReadonlyArray<string | number>
): Array<Violation> => {
  const out: Array<Violation> = []
  const rules = (schema["x-kubernetes-validations"] ?? []) as ReadonlyArray<Api.CelRule>
  for (const rule of rules) {
    const transition = /\boldSelf\b/.test(rule.rule)
    if (transition && old === undefined) continue
    const ok = cel.evaluate(rule.rule, { self: toCel(value), ...(transition ? { oldSelf: toCel(old) } : {}) })
    if (ok !== true) {
      const extra = (rule.fieldPath ?? "").split(".").filter((s) => s !== "")
      out.push({ path: Api.formatPath([...path, ...extra]), message: rule.message })
    }
  }
  const properties = schema.properties as Record<string, Node> | undefined
  if (properties !== undefined && isNode(value)) {
    for (const [key, child] of Object.entries(properties)) {
      if (value[key] === undefined) continue
      out.push(...celViolations(child, value[key], isNode(old) ? old[key] : undefined, [...path, key]))
    }
  }
  if (isNode(schema.items) && Array.isArray(value)) {
    value.forEach((item, i) => {
      // like the API server, list items are correlated with the old list only for map lists; ours have no rules
      out.push(...celViolations(schema.items as Node, item, undefined, [...path, i]))
    })
  }
  return out
}

/** What the API server would store (defaulted) and every violation it would report, for a create or update. */
export const admit = (
  object: Json,
  old?: Json
): { readonly stored: Json; readonly violations: ReadonlyArray<Violation> } => {
  const kind = isNode(object) && typeof object.kind === "string" ? object.kind : ""
  const { validate, schema } = validatorOf(kind)
  const stored = structuredClone(object)
  const valid = validate(stored)
  const violations = valid ? [] : (validate.errors ?? []).map(ajvViolation)
  const celErrors = valid ? celViolations(schema, stored, old, []) : []
  return { stored, violations: [...violations, ...celErrors] }
}
