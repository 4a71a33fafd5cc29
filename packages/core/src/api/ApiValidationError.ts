/**
 * The error every decode helper fails with: which kind, which object, and each problem with its field path.
 */
import { Schema, SchemaIssue } from "effect"

export const FieldIssue = Schema.Struct({
  /** Dotted field path, e.g. `spec.replication.primary.podIndex` or `spec.tolerations[0].key`. */
  path: Schema.String,
  message: Schema.String
})
export type FieldIssue = typeof FieldIssue.Type

export class ApiValidationError extends Schema.TaggedError<ApiValidationError>()("ApiValidationError", {
  kind: Schema.String,
  name: Schema.optionalKey(Schema.String),
  issues: Schema.Array(FieldIssue),
  message: Schema.String
}) {}

/** Renders a path the way kubectl does: `spec.tolerations[0].key`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((out, segment) => {
    if (typeof segment === "number") return `${out}[${segment}]`
    const key = String(segment)
    if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/u.test(key)) return out === "" ? key : `${out}.${key}`
    return `${out}[${JSON.stringify(key)}]`
  }, "")

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Flattens a schema issue into field issues with dotted paths. */
export const fieldIssues = (issue: SchemaIssue.Issue): ReadonlyArray<FieldIssue> =>
  formatter(issue).issues.map((i) => ({
    path: formatPath((i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))),
    message: i.message
  }))

export const makeApiValidationError = (
  kind: string,
  name: string | undefined,
  issues: ReadonlyArray<FieldIssue>
): ApiValidationError => {
  const where = name === undefined ? kind : `${kind} ${name}`
  const lines = issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`))
  return new ApiValidationError({
    kind,
    ...(name === undefined ? {} : { name }),
    issues,
    message: `invalid ${where}: ${lines.join("; ")}`
  })
}
