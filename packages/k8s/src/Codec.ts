/**
 * Decoding and encoding through a resource's Schema, shared by both layers. A single-object read or write fails
 * with `Invalid` naming the field. In lists and watches an object that does not decode is skipped with a warning:
 * one bad custom resource must not stop every controller watching its kind (the reconciler that `get`s it sees the
 * error and reports it).
 */
import { type KubeError, type KubeObject, kubeError, type Resource } from "@doltdb-op/core/services/Kube"
import { Effect, Option, Schema } from "effect"

/**
 * Decodings of frozen objects, by schema. The in-memory API server stores frozen objects and hands the same one to
 * every reader (informers, gets, lists, watches) until it changes; decoding it again each time was the simulation's
 * largest single cost. A frozen object cannot change, so its decoding is shared; live JSON is never frozen.
 */
const decodedFrozen = new WeakMap<object, WeakMap<object, unknown>>()

const frozenCacheFor = (schema: object): WeakMap<object, unknown> => {
  let cache = decodedFrozen.get(schema)
  if (cache === undefined) {
    cache = new WeakMap()
    decodedFrozen.set(schema, cache)
  }
  return cache
}

export const decoderFor = <A>(res: Resource<A>, verb: string): ((json: unknown) => Effect.Effect<A, KubeError>) => {
  const schema = res.schema
  if (schema === undefined) return (json) => Effect.succeed(json as A)
  const decode = Schema.decodeUnknownEffect(schema)
  const cache = frozenCacheFor(schema)
  return (json) => {
    const frozen = json !== null && typeof json === "object" && Object.isFrozen(json)
    if (frozen && cache.has(json)) return Effect.succeed(cache.get(json) as A)
    return decode(json).pipe(
      Effect.map((a) => {
        if (frozen) cache.set(json, a)
        return a
      }),
      Effect.mapError((e) => {
        const meta = (json as Partial<KubeObject> | null)?.metadata
        return kubeError(
          "Invalid",
          { verb, kind: res.kind, namespace: meta?.namespace, name: meta?.name },
          `decoding ${res.kind}: ${e.message}`,
          e
        )
      })
    )
  }
}

export const encoderFor = <A>(res: Resource<A>, verb: string): ((a: A) => Effect.Effect<KubeObject, KubeError>) => {
  const schema = res.schema
  if (schema === undefined) return (a) => Effect.succeed(a as unknown as KubeObject)
  const encode = Schema.encodeUnknownEffect(schema)
  return (a) =>
    encode(a).pipe(
      Effect.map((json) => json as KubeObject),
      Effect.mapError((e) => kubeError("Invalid", { verb, kind: res.kind }, `encoding ${res.kind}: ${e.message}`, e))
    )
}

/** Decodes what decodes; logs and drops the rest. */
export const decodeOrSkip = <A>(res: Resource<A>, verb: string) => {
  const decode = decoderFor(res, verb)
  return (json: unknown): Effect.Effect<Option.Option<A>> =>
    decode(json).pipe(
      Effect.map(Option.some),
      Effect.catch((error) =>
        Effect.logWarning(`skipping a ${res.kind} that does not decode: ${error.message}`).pipe(
          Effect.as(Option.none())
        )
      )
    )
}

export const decodeItems =
  <A>(res: Resource<A>, verb: string) =>
  (items: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>> => {
    if (res.schema === undefined) return Effect.succeed(items as ReadonlyArray<A>)
    const decode = decodeOrSkip(res, verb)
    return Effect.forEach(items, decode).pipe(Effect.map((decoded) => decoded.flatMap((o) => Option.toArray(o))))
  }
