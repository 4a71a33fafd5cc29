/**
 * The few Lease operations leader election needs (client-go's `resourcelock.LeaseLock`): get, create, and an
 * update guarded by resourceVersion. Times are epoch milliseconds here; the Kube adapter converts them to and
 * from the API's MicroTime strings.
 *
 * `layerKube` adapts the `Kube` service; `layerMemory` is a small in-memory store for tests.
 */
import { Kube, type Lease, Leases } from "@doltdb-op/core/services/Kube"
import { formatMicroTime } from "@doltdb-op/core/services/kube/Resource"
import { Context, Effect, Layer, Schema } from "effect"

export const LeaseRef = Schema.Struct({ namespace: Schema.String, name: Schema.String })
export type LeaseRef = typeof LeaseRef.Type

export const LeaseRecord = Schema.Struct({
  /** Empty when released. */
  holderIdentity: Schema.String,
  leaseDurationSeconds: Schema.Number,
  acquireTime: Schema.optionalKey(Schema.Number),
  renewTime: Schema.optionalKey(Schema.Number),
  leaseTransitions: Schema.Number
})
export type LeaseRecord = typeof LeaseRecord.Type

export const VersionedLease = Schema.Struct({ record: LeaseRecord, resourceVersion: Schema.String })
export type VersionedLease = typeof VersionedLease.Type

export class LeaseNotFound extends Schema.TaggedError<LeaseNotFound>()("LeaseNotFound", { lease: LeaseRef }) {}
/** Created concurrently, or updated since the resourceVersion we hold. */
export class LeaseConflict extends Schema.TaggedError<LeaseConflict>()("LeaseConflict", { lease: LeaseRef }) {}
export class LeaseError extends Schema.TaggedError<LeaseError>()("LeaseError", {
  lease: LeaseRef,
  message: Schema.String,
  cause: Schema.optionalKey(Schema.Defect())
}) {}

export interface LeaseClientShape {
  readonly get: (lease: LeaseRef) => Effect.Effect<VersionedLease, LeaseNotFound | LeaseError>
  readonly create: (lease: LeaseRef, record: LeaseRecord) => Effect.Effect<VersionedLease, LeaseConflict | LeaseError>
  readonly update: (
    lease: LeaseRef,
    record: LeaseRecord,
    resourceVersion: string
  ) => Effect.Effect<VersionedLease, LeaseNotFound | LeaseConflict | LeaseError>
}

const keyOf = (lease: LeaseRef) => `${lease.namespace}/${lease.name}`

/** An in-memory lease store with resourceVersion semantics (one store per call; share it between candidates). */
export const makeMemory: Effect.Effect<LeaseClientShape> = Effect.sync(() => {
  const store = new Map<string, VersionedLease>()
  let version = 0
  const put = (lease: LeaseRef, record: LeaseRecord) => {
    const stored = { record, resourceVersion: String(++version) }
    store.set(keyOf(lease), stored)
    return stored
  }
  return {
    get: (lease) =>
      Effect.suspend(() => {
        const stored = store.get(keyOf(lease))
        return stored ? Effect.succeed(stored) : Effect.fail(new LeaseNotFound({ lease }))
      }),
    create: (lease, record) =>
      Effect.suspend(() =>
        store.has(keyOf(lease)) ? Effect.fail(new LeaseConflict({ lease })) : Effect.succeed(put(lease, record))
      ),
    update: (lease, record, resourceVersion) =>
      Effect.suspend((): Effect.Effect<VersionedLease, LeaseNotFound | LeaseConflict> => {
        const stored = store.get(keyOf(lease))
        if (!stored) return Effect.fail(new LeaseNotFound({ lease }))
        if (stored.resourceVersion !== resourceVersion) return Effect.fail(new LeaseConflict({ lease }))
        return Effect.succeed(put(lease, record))
      })
  }
})

const millisOf = (microTime: string | undefined) => {
  if (microTime === undefined) return undefined
  const parsed = Date.parse(microTime)
  return Number.isNaN(parsed) ? undefined : parsed
}

const fromLease = (lease: Lease): VersionedLease => {
  const spec = lease.spec ?? {}
  const acquireTime = millisOf(spec.acquireTime)
  const renewTime = millisOf(spec.renewTime)
  return {
    record: {
      holderIdentity: spec.holderIdentity ?? "",
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      leaseTransitions: spec.leaseTransitions ?? 0,
      ...(acquireTime === undefined ? {} : { acquireTime }),
      ...(renewTime === undefined ? {} : { renewTime })
    },
    resourceVersion: lease.metadata.resourceVersion ?? ""
  }
}

const toLease = (ref: LeaseRef, record: LeaseRecord, resourceVersion?: string): Lease => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: {
    name: ref.name,
    namespace: ref.namespace,
    ...(resourceVersion === undefined ? {} : { resourceVersion })
  },
  spec: {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
    ...(record.acquireTime === undefined ? {} : { acquireTime: formatMicroTime(record.acquireTime) }),
    ...(record.renewTime === undefined ? {} : { renewTime: formatMicroTime(record.renewTime) })
  }
})

export class LeaseClient extends Context.Service<LeaseClient, LeaseClientShape>()(
  "@doltdb-op/operator/runtime/LeaseClient"
) {
  static readonly layerMemory: Layer.Layer<LeaseClient> = Layer.effect(LeaseClient, makeMemory)

  /** Leases through the `Kube` service (`coordination.k8s.io/v1`). */
  static readonly layerKube: Layer.Layer<LeaseClient, never, Kube> = Layer.effect(
    LeaseClient,
    Effect.gen(function* () {
      const kube = yield* Kube
      const failure = (lease: LeaseRef) => (error: { readonly _tag: string; readonly message: string }) => {
        switch (error._tag) {
          case "NotFound":
            return new LeaseNotFound({ lease })
          case "Conflict":
          case "AlreadyExists":
            return new LeaseConflict({ lease })
          default:
            return new LeaseError({ lease, message: `${error._tag}: ${error.message}`, cause: error })
        }
      }
      return LeaseClient.of({
        get: (lease) =>
          kube.get(Leases, lease.name, { namespace: lease.namespace }).pipe(
            Effect.map(fromLease),
            Effect.mapError((error) => {
              const mapped = failure(lease)(error)
              return mapped._tag === "LeaseConflict" ? new LeaseError({ lease, message: error.message }) : mapped
            })
          ),
        create: (lease, record) =>
          kube.create(Leases, toLease(lease, record), { namespace: lease.namespace }).pipe(
            Effect.map(fromLease),
            Effect.mapError((error) => {
              const mapped = failure(lease)(error)
              return mapped._tag === "LeaseNotFound" ? new LeaseError({ lease, message: error.message }) : mapped
            })
          ),
        update: (lease, record, resourceVersion) =>
          kube
            .replace(Leases, toLease(lease, record, resourceVersion), { namespace: lease.namespace })
            .pipe(Effect.map(fromLease), Effect.mapError(failure(lease)))
      })
    })
  )
}
