/**
 * Block-style YAML for the Dolt sql-server configs stored in the ConfigMap.
 *
 * Hand-written because core depends on `effect` only (the operator uses the `yaml` package for everything else).
 * It only needs the shapes a Dolt config has: nested maps, lists of maps, strings, finite numbers and booleans.
 * Strings that YAML 1.1 (Dolt reads its config with go-yaml v2) could read as anything but the same string are
 * written double-quoted with JSON escapes, which are valid YAML double-quoted escapes; the tests parse the output
 * back with the `yaml` package.
 *
 * A map value that is exactly one `${VAR}` placeholder is written as a literal block scalar (`|2-` and the
 * placeholder on the next line): Dolt (>= 1.79.3) pastes the variable's value into the text before parsing it,
 * and a block scalar takes that value verbatim whatever it contains (quotes, backslashes, `: `, ` #`, leading
 * spaces); only a newline would end it. Any quoted form breaks on some character (`'` or `"` and `\`). Checked
 * against Dolt 1.86.4 with an MCP password of ` s3'cr\et: #x"`.
 */

export type YamlValue = string | number | boolean | ReadonlyArray<YamlValue> | { readonly [key: string]: YamlValue }

// Plain scalars we emit unquoted: identifier-like text that no YAML 1.1 resolver turns into a bool, null or number.
const plainPattern = /^[A-Za-z_][A-Za-z0-9_./-]*$/u
const yaml11Keywords = /^(?:y|n|yes|no|on|off|true|false|null)$/iu
/** Exactly one `${VAR}` placeholder, as Dolt's config expansion reads it. */
export const placeholderPattern = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/u
// An exponent alone (`e5`): some YAML 1.1 float resolvers read it as a number.
const exponentLike = /^[eE][-+]?[0-9]/u

const scalar = (value: string | number | boolean): string => {
  if (typeof value === "boolean") return value ? "true" : "false"
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} to a Dolt config`)
    return Object.is(value, -0) ? "-0" : String(value)
  }
  if (plainPattern.test(value) && !yaml11Keywords.test(value) && !exponentLike.test(value)) return value
  return JSON.stringify(value)
}

const isList = (value: YamlValue): value is ReadonlyArray<YamlValue> => Array.isArray(value)
const isMap = (value: YamlValue): value is { readonly [key: string]: YamlValue } =>
  typeof value === "object" && !Array.isArray(value)

const isEmpty = (value: YamlValue): boolean =>
  isList(value) ? value.length === 0 : isMap(value) ? Object.keys(value).length === 0 : false

const lines = (value: YamlValue, indent: string): ReadonlyArray<string> => {
  if (isList(value)) {
    return value.flatMap((item) => {
      if (typeof item !== "object" || isEmpty(item)) return [`${indent}- ${inline(item)}`]
      // The first line of a nested block goes after the dash; the rest keeps the item's indentation.
      const [first, ...rest] = lines(item, `${indent}  `)
      return [`${indent}- ${first!.slice(indent.length + 2)}`, ...rest]
    })
  }
  if (isMap(value)) {
    return Object.entries(value).flatMap(([key, item]) =>
      typeof item === "string" && placeholderPattern.test(item)
        ? [`${indent}${scalar(key)}: |2-`, `${indent}  ${item}`]
        : typeof item !== "object" || isEmpty(item)
          ? [`${indent}${scalar(key)}: ${inline(item)}`]
          : [`${indent}${scalar(key)}:`, ...lines(item, `${indent}  `)]
    )
  }
  return [`${indent}${inline(value)}`]
}

const inline = (value: YamlValue): string => (isList(value) ? "[]" : isMap(value) ? "{}" : scalar(value))

/** Renders a map as a YAML document (trailing newline included). */
export const toYaml = (value: { readonly [key: string]: YamlValue }): string =>
  isEmpty(value) ? "{}\n" : `${lines(value, "").join("\n")}\n`
