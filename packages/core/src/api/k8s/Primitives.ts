/**
 * Kubernetes scalar types shared by the generated Kubernetes models and our own kinds.
 *
 * Hand-written: these are apimachinery "special" types (int-or-string, Quantity, Time, Duration) whose
 * OpenAPI shape is fixed by the API server rather than by a model, so no model library carries them in a
 * usable form. The CRD generator recognises them by their annotations.
 */
import { Schema } from "effect"

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

/** A 32-bit integer (`format: int32`). */
export const Int32 = Schema.Number.check(
  Schema.isInt({ expected: "an integer" }),
  Schema.isBetween({ minimum: INT32_MIN, maximum: INT32_MAX }, { expected: "a 32-bit integer" })
).annotate({ format: "int32" })

/** A 64-bit integer (`format: int64`); JavaScript numbers hold them exactly up to 2^53. */
export const Int64 = Schema.Number.check(Schema.isInt({ expected: "an integer" })).annotate({ format: "int64" })

/** An integer with no declared width (Go `int`). */
export const Integer = Schema.Number.check(Schema.isInt({ expected: "an integer" }))

/** A floating-point number (`format: double`). */
export const Double = Schema.Finite.annotate({ format: "double" })

/** intstr.IntOrString: an integer or a string (e.g. `1` or `"50%"`). */
export const IntOrString = Schema.Union([Integer, Schema.String]).annotate({
  "x-kubernetes-int-or-string": true
})
export type IntOrString = typeof IntOrString.Type

/** The resource.Quantity serialisation pattern, exactly as the API server publishes it. */
export const QuantityPattern =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/u

/** resource.Quantity: `"100Gi"`, `"500m"`, `2`. Integers are accepted like the API server accepts them. */
export const Quantity = Schema.Union([
  Integer,
  Schema.String.check(Schema.isPattern(QuantityPattern, { expected: 'a quantity such as "10Gi" or "500m"' }))
]).annotate({ "x-kubernetes-int-or-string": true })
export type Quantity = typeof Quantity.Type

/**
 * A quantity greater than zero: no sign, at least one non-zero digit in the mantissa, and an integer exponent
 * (the published pattern admits `1e.5`, which the API server's parser then refuses).
 */
export const PositiveQuantityPattern =
  /^\+?(([0-9]*[1-9][0-9]*(\.[0-9]*)?)|([0-9]*\.[0-9]*[1-9][0-9]*))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?[0-9]+))?$/u
export const PositiveQuantity = Schema.Union([
  Integer.check(Schema.isGreaterThan(0, { expected: "greater than zero" })),
  Schema.String.check(
    Schema.isPattern(PositiveQuantityPattern, { expected: 'a quantity greater than zero, such as "10Gi"' })
  )
]).annotate({ "x-kubernetes-int-or-string": true })

const daysIn = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31

/**
 * metav1.Time: an RFC 3339 timestamp (`format: date-time`, which the API server checks). The checks export an
 * empty JSON Schema fragment on purpose, so the CRD carries the reference's bare `format: date-time`; generation
 * (property tests) uses days 1-28 so every generated date exists.
 */
export const Time = Schema.String.check(
  Schema.isPattern(
    /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$/,
    {
      expected: "an RFC 3339 timestamp such as 2026-11-26T10:00:00Z",
      toJsonSchema: () => ({}),
      arbitraryConstraint: {
        patterns: [
          {
            source: "^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$",
            flags: ""
          }
        ]
      }
    }
  ),
  Schema.makeFilter((s: string) => Number(s.slice(8, 10)) <= daysIn(Number(s.slice(0, 4)), Number(s.slice(5, 7))), {
    expected: "a date that exists",
    toJsonSchema: () => ({})
  })
).annotate({ format: "date-time" })

/**
 * metav1.Duration: a Go duration string (`"30s"`, `"1m30s"`, `"1h"`). The CRD types it as a plain string
 * like the reference does; decoding checks the syntax so a typo fails with the field named.
 */
export const GoDurationPattern = /^([+-]?([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+|0)$/u
export const Duration = Schema.String.check(
  Schema.isPattern(GoDurationPattern, { expected: 'a duration such as "30s", "5m" or "1h30m"' })
)

/** A Go duration that is not negative (one pattern: a CRD node holds a single `pattern`). */
export const NonNegativeGoDurationPattern = /^(\+?([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+|0)$/u
export const NonNegativeDuration = Schema.String.check(
  Schema.isPattern(NonNegativeGoDurationPattern, {
    expected: 'a duration that is not negative, such as "30s", "5m" or "1h30m"'
  })
)

/**
 * The uniqueness `x-kubernetes-list-type: map` implies: no two items share the same values at `keys`. The CRD
 * expresses it with the list markers, so this check exports no JSON Schema of its own.
 */
export const uniqueBy = (keys: ReadonlyArray<string>) =>
  Schema.makeFilter<ReadonlyArray<Record<string, unknown>>>(
    (items) => {
      const seen = new Set<string>()
      for (const [i, item] of items.entries()) {
        const key = JSON.stringify(keys.map((k) => item[k]))
        if (seen.has(key)) return `item ${i} repeats ${keys.join(", ")} ${key}`
        seen.add(key)
      }
      return undefined
    },
    { toJsonSchema: () => ({}) }
  )
