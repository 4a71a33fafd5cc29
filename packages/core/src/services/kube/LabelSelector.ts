/**
 * Label selectors: the string form of list/watch requests (`app=db,tier in (a,b),!legacy`) and the structured
 * form of specs (`matchLabels` + `matchExpressions`). Both compile to the same requirements, matched in memory
 * by the in-memory API server and the simulated controllers. Hand-written because no effect-only library parses
 * Kubernetes selectors; the grammar is apimachinery's `labels.Parse`.
 */
import { Result } from "effect"

export type Operator = "In" | "NotIn" | "Exists" | "DoesNotExist"

export interface Requirement {
  readonly key: string
  readonly operator: Operator
  readonly values: ReadonlyArray<string>
}

/** A parsed selector: all requirements must hold. Empty selects everything. */
export type Selector = ReadonlyArray<Requirement>

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>
  readonly matchExpressions?: ReadonlyArray<{
    readonly key: string
    readonly operator: string
    readonly values?: ReadonlyArray<string>
  }>
}

export const everything: Selector = []

const requirementMatches = (r: Requirement, labels: Readonly<Record<string, string>> | undefined): boolean => {
  const has = labels !== undefined && Object.hasOwn(labels, r.key)
  switch (r.operator) {
    case "Exists":
      return has
    case "DoesNotExist":
      return !has
    case "In":
      return has && r.values.includes(labels[r.key]!)
    case "NotIn":
      return !has || !r.values.includes(labels[r.key]!)
  }
}

export const matches = (selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean => {
  for (const r of selector) if (!requirementMatches(r, labels)) return false
  return true
}

/** Structured selector (a StatefulSet's or PDB's `selector`) to requirements. */
export const fromLabelSelector = (selector: LabelSelector): Result.Result<Selector, string> => {
  const out: Array<Requirement> = []
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    out.push({ key, operator: "In", values: [value] })
  }
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator !== "In" && e.operator !== "NotIn" && e.operator !== "Exists" && e.operator !== "DoesNotExist") {
      return Result.fail(`matchExpressions: unknown operator "${e.operator}" for key "${e.key}"`)
    }
    out.push({ key: e.key, operator: e.operator, values: e.values ?? [] })
  }
  return Result.succeed(out)
}

/** Equality selector from a label map (a Service's `spec.selector`). */
export const fromMap = (labels: Readonly<Record<string, string>>): Selector =>
  Object.entries(labels).map(([key, value]) => ({ key, operator: "In" as const, values: [value] }))

/** The wire format, as `labelSelector=` takes it. */
export const format = (selector: Selector): string =>
  selector
    .map((r) => {
      switch (r.operator) {
        case "Exists":
          return r.key
        case "DoesNotExist":
          return `!${r.key}`
        case "In":
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(",")})`
        default:
          return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(",")})`
      }
    })
    .join(",")

const keyPattern =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const valuePattern = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/

/** Splits on commas that are not inside parentheses. */
const splitTerms = (input: string): Array<string> => {
  const terms: Array<string> = []
  let depth = 0
  let start = 0
  for (let i = 0; i < input.length; i++) {
    const c = input[i]
    if (c === "(") depth++
    else if (c === ")") depth--
    else if (c === "," && depth === 0) {
      terms.push(input.slice(start, i))
      start = i + 1
    }
  }
  terms.push(input.slice(start))
  return terms.map((t) => t.trim()).filter((t) => t.length > 0)
}

const checkKey = (key: string, term: string): string | undefined =>
  keyPattern.test(key) ? undefined : `invalid label key "${key}" in selector term "${term}"`

const checkValue = (value: string, term: string): string | undefined =>
  valuePattern.test(value) && value.length <= 63
    ? undefined
    : `invalid label value "${value}" in selector term "${term}"`

/** Parsed selectors by text: controllers list with the same few selectors on every pass. Bounded. */
const parsed = new Map<string, Result.Result<Selector, string>>()

/** Parses the string form; the error names the offending term. */
export const parse = (input: string): Result.Result<Selector, string> => {
  const known = parsed.get(input)
  if (known !== undefined) return known
  const result = parseTerms(input)
  if (parsed.size >= 1_024) parsed.clear()
  parsed.set(input, result)
  return result
}

const parseTerms = (input: string): Result.Result<Selector, string> => {
  const out: Array<Requirement> = []
  for (const term of splitTerms(input)) {
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term)
    if (set !== null) {
      const key = set[1]!
      const values = set[3]!
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v.length > 0)
      const bad = checkKey(key, term) ?? values.map((v) => checkValue(v, term)).find((e) => e !== undefined)
      if (bad !== undefined) return Result.fail(bad)
      out.push({ key, operator: set[2] === "in" ? "In" : "NotIn", values })
      continue
    }
    const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term)
    if (eq !== null) {
      const key = eq[1]!
      const value = eq[3]!
      const bad = checkKey(key, term) ?? checkValue(value, term)
      if (bad !== undefined) return Result.fail(bad)
      out.push({ key, operator: eq[2] === "!=" ? "NotIn" : "In", values: [value] })
      continue
    }
    const exists = /^(!?)\s*([^\s=!(),]+)$/.exec(term)
    if (exists !== null) {
      const key = exists[2]!
      const bad = checkKey(key, term)
      if (bad !== undefined) return Result.fail(bad)
      out.push({ key, operator: exists[1] === "!" ? "DoesNotExist" : "Exists", values: [] })
      continue
    }
    return Result.fail(`cannot parse label selector term "${term}"`)
  }
  return Result.succeed(out)
}

// --- field selectors (`metadata.name=x,status.phase!=Running`): equality only, like the API server ---

export interface FieldRequirement {
  readonly path: ReadonlyArray<string>
  readonly equal: boolean
  readonly value: string
}

export const parseFieldSelector = (input: string): Result.Result<ReadonlyArray<FieldRequirement>, string> => {
  const out: Array<FieldRequirement> = []
  for (const term of splitTerms(input)) {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(term)
    if (m === null) return Result.fail(`cannot parse field selector term "${term}"`)
    out.push({ path: m[1]!.split("."), equal: m[2] !== "!=", value: m[3]!.trim() })
  }
  return Result.succeed(out)
}

export const fieldsMatch = (selector: ReadonlyArray<FieldRequirement>, object: unknown): boolean => {
  for (const r of selector) {
    let v: unknown = object
    for (const p of r.path) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[p] : undefined
    const s = v === undefined || v === null ? "" : String(v)
    if ((s === r.value) !== r.equal) return false
  }
  return true
}
