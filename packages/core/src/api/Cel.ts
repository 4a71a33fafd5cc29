/**
 * CEL validation rules (`x-kubernetes-validations`) attached to schemas.
 *
 * A rule is declared once, next to the schema it guards, with both its CEL text (emitted into the CRD, so the
 * API server enforces it) and, for rules that look only at the new object, the same invariant as a TypeScript
 * predicate (run by the Effect decoder, so the operator and tests enforce it too). Transition rules (those
 * using `oldSelf`) have no predicate here: they are checked by the kind's `validate...Update` function.
 */
import { Schema } from "effect"

/** One entry of `x-kubernetes-validations`, as the API server reads it. */
export interface CelRule {
  readonly rule: string
  readonly message: string
  /** JSONPath-like path of the field the error is reported on, relative to the node (e.g. `.replicas`). */
  readonly fieldPath?: string
  readonly reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate"
}

/** A CEL rule plus the same invariant for the Effect decoder. */
export interface Invariant<A> {
  readonly cel: CelRule
  /** `true` when `value` satisfies the rule; absent for transition rules (they need `oldSelf`). */
  readonly holds?: (value: A) => boolean
}

const pathOf = (fieldPath: string | undefined): ReadonlyArray<string> =>
  fieldPath === undefined ? [] : fieldPath.split(".").filter((segment) => segment !== "")

/**
 * Attaches invariants to a schema: their CEL text goes into the `x-kubernetes-validations` annotation (read by
 * the CRD generator) and their predicates become decoding checks that report at the rule's `fieldPath`.
 */
export const withInvariants =
  <A>(invariants: ReadonlyArray<Invariant<A>>) =>
  <S extends Schema.Top & { readonly Type: A }>(self: S): S["Rebuild"] => {
    const annotated = self.annotate({ "x-kubernetes-validations": invariants.map((i) => i.cel) })
    const checks = invariants.flatMap((invariant) => {
      const holds = invariant.holds
      if (holds === undefined) return []
      return [
        Schema.makeFilter<A>((value) =>
          holds(value) ? undefined : { path: pathOf(invariant.cel.fieldPath), issue: invariant.cel.message }
        )
      ]
    })
    const [first, ...rest] = checks
    return (
      first === undefined ? annotated : annotated.check(first as never, ...(rest as Array<never>))
    ) as S["Rebuild"]
  }

/** The CEL rules attached to a schema node (empty when none). */
export const celRulesOf = (schema: Schema.Top): ReadonlyArray<CelRule> => {
  const rules = schema.ast.annotations?.["x-kubernetes-validations"]
  return Array.isArray(rules) ? (rules as ReadonlyArray<CelRule>) : []
}
