/**
 * Decode and encode helpers for the kinds: strict decoding (unknown fields are errors, like
 * `kubectl apply --validate=strict` against the CRD), failures as `ApiValidationError` naming the field.
 */
import { Effect, Schema } from "effect"
import { type ApiValidationError, fieldIssues, makeApiValidationError } from "./ApiValidationError.ts"

const nameOf = (u: unknown): string | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const metadata = (u as { readonly metadata?: unknown }).metadata
  if (typeof metadata !== "object" || metadata === null) return undefined
  const name = (metadata as { readonly name?: unknown }).name
  return typeof name === "string" ? name : undefined
}

const options = { onExcessProperty: "error", errors: "all" } as const

/** `decode(u)`: an Effect of the decoded (defaulted) object, or `ApiValidationError` naming each bad field. */
export const makeDecoder = <S extends Schema.Codec<unknown, unknown>>(kind: string, schema: S) => {
  const decode = Schema.decodeUnknownEffect(schema, options)
  return (u: unknown): Effect.Effect<S["Type"], ApiValidationError> =>
    decode(u).pipe(
      Effect.mapError((error) => makeApiValidationError(kind, nameOf(u), fieldIssues(error.issue)))
    ) as Effect.Effect<S["Type"], ApiValidationError>
}

/** `encode(a)`: the wire form (defaults written out), or `ApiValidationError`. */
export const makeEncoder = <S extends Schema.Codec<unknown, unknown>>(kind: string, schema: S) => {
  const encode = Schema.encodeUnknownEffect(schema, options)
  return (a: S["Type"]): Effect.Effect<S["Encoded"], ApiValidationError> =>
    encode(a).pipe(
      Effect.mapError((error) => makeApiValidationError(kind, nameOf(a), fieldIssues(error.issue)))
    ) as Effect.Effect<S["Encoded"], ApiValidationError>
}

/** Like `makeEncoder`, for generic callers holding an `unknown` (the value is checked while encoding). */
export const makeUnknownEncoder = <S extends Schema.Codec<unknown, unknown>>(kind: string, schema: S) => {
  const encode = Schema.encodeUnknownEffect(schema, options)
  return (a: unknown): Effect.Effect<S["Encoded"], ApiValidationError> =>
    encode(a).pipe(
      Effect.mapError((error) => makeApiValidationError(kind, nameOf(a), fieldIssues(error.issue)))
    ) as Effect.Effect<S["Encoded"], ApiValidationError>
}
