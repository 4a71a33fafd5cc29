/**
 * Building blocks shared by the 7 kinds: object metadata, status conditions, references and defaults.
 */
import { Effect, Schema } from "effect"
import { Int64, NonNegativeDuration, Time } from "./k8s/Primitives.ts"

/**
 * Makes a key optional on the wire and fills `value` when it is absent. The `default` annotation sits on the
 * inner schema so the CRD generator emits it (annotations on the wrapper are not visible there).
 */
export const withDefault =
  <S extends Schema.Top>(value: S["Encoded"]) =>
  (schema: S) => {
    const annotated: S["Rebuild"] = schema.annotate({ default: value })
    return Schema.withDecodingDefaultKey<S["Rebuild"]>(Effect.succeed(value))(annotated)
  }

/** An object whose every field has a default: absent means "all defaults". */
export const defaulted = <S extends Schema.Top>(schema: S) => withDefault<S>({} as S["Encoded"])(schema)

/**
 * The subset of metav1.ObjectMeta the operator reads, typed; every other metadata field (managedFields,
 * ownerReferences, ...) is kept as is so that decoding never drops anything the API server sent.
 */
export const ObjectMeta = Schema.StructWithRest(
  Schema.Struct({
    name: Schema.optionalKey(Schema.String),
    generateName: Schema.optionalKey(Schema.String),
    namespace: Schema.optionalKey(Schema.String),
    uid: Schema.optionalKey(Schema.String),
    resourceVersion: Schema.optionalKey(Schema.String),
    generation: Schema.optionalKey(Int64),
    creationTimestamp: Schema.optionalKey(Time),
    deletionTimestamp: Schema.optionalKey(Time),
    labels: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
    annotations: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
    finalizers: Schema.optionalKey(Schema.Array(Schema.String))
  }),
  [Schema.Record(Schema.String, Schema.Unknown)]
).annotate({ description: "Standard object metadata." })
export type ObjectMeta = typeof ObjectMeta.Type

/** metav1.Condition, with the validation markers controller-gen emits for it. */
export const Condition = Schema.Struct({
  type: Schema.String.check(
    Schema.isMaxLength(316),
    Schema.isPattern(
      /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/u
    )
  ).annotate({ description: "type of condition in CamelCase or in foo.example.com/CamelCase." }),
  status: Schema.Literals(["True", "False", "Unknown"]).annotate({
    description: "status of the condition, one of True, False, Unknown."
  }),
  observedGeneration: Schema.optionalKey(
    Int64.check(Schema.isGreaterThanOrEqualTo(0)).annotate({
      description:
        "observedGeneration represents the .metadata.generation that the condition was set based upon. For instance, if .metadata.generation is currently 12, but the .status.conditions[x].observedGeneration is 9, the condition is out of date with respect to the current state of the instance."
    })
  ),
  lastTransitionTime: Time.annotate({
    description:
      "lastTransitionTime is the last time the condition transitioned from one status to another. This should be when the underlying condition changed.  If that is not known, then using the time when the API field changed is acceptable."
  }),
  reason: Schema.String.check(
    Schema.isMinLength(1),
    Schema.isMaxLength(1024),
    Schema.isPattern(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/u)
  ).annotate({
    description:
      "reason contains a programmatic identifier indicating the reason for the condition's last transition. Producers of specific condition types may define expected values and meanings for this field, and whether the values are considered a guaranteed API. The value should be a CamelCase string. This field may not be empty."
  }),
  message: Schema.String.check(Schema.isMaxLength(32768)).annotate({
    description:
      "message is a human readable message indicating details about the transition. This may be an empty string."
  })
}).annotate({ description: "Condition contains details for one aspect of the current state of this API Resource." })
export type Condition = typeof Condition.Type

/** A list of conditions, as every kind's status carries. */
export const Conditions = Schema.Array(Condition)

/** Reference to a DoltDB; an empty namespace means the referring object's namespace. */
export const DoltDBRef = Schema.Struct({
  name: Schema.optionalKey(Schema.String.annotate({ description: "Name of the DoltDB." })),
  namespace: Schema.optionalKey(
    Schema.String.annotate({ description: "Namespace of the DoltDB; defaults to the referring object's namespace." })
  )
}).annotate({ description: "DoltDBRef is a reference to a DoltDB object." })
export type DoltDBRef = typeof DoltDBRef.Type

/** A key of a Secret in the referring object's namespace (atomic). */
export const SecretKeySelector = Schema.Struct({
  name: Schema.optionalKey(Schema.String.annotate({ description: "Name of the Secret." })),
  key: Schema.String.annotate({ description: "The key of the Secret to select from." })
}).annotate({
  description: "SecretKeySelector selects a key of a Secret.",
  "x-kubernetes-map-type": "atomic"
})
export type SecretKeySelector = typeof SecretKeySelector.Type

/** The SQLTemplate fields the reference inlines into Database, User and Grant. */
export const SqlTemplateFields = {
  requeueInterval: Schema.optionalKey(
    NonNegativeDuration.annotate({
      description: "RequeueInterval is the period after which a successful resource is re-checked."
    })
  ),
  retryInterval: Schema.optionalKey(
    NonNegativeDuration.annotate({
      description: "RetryInterval is the period after which a failed resource is retried."
    })
  ),
  cleanupPolicy: Schema.Literals(["Skip", "Delete"])
    .annotate({
      description:
        "CleanupPolicy says whether the SQL object is dropped when the resource is deleted (Delete) or left in place (Skip)."
    })
    .pipe(withDefault("Delete")),
  adopt: Schema.optionalKey(
    Schema.Boolean.annotate({
      description:
        "Adopt lets this object take over a database, an account or privileges that already exist (it then alters and, under cleanupPolicy Delete, drops them). Default false: an existing one is left alone and reported. Honoured only for objects in the DoltDB's own namespace."
    })
  )
}

/** The DoltDB a reference points at: an empty namespace means the referring object's own namespace. */
export const resolveDoltDBRef = (
  ref: DoltDBRef,
  ownNamespace: string
): { readonly name: string | undefined; readonly namespace: string } => ({
  name: ref.name === "" ? undefined : ref.name,
  namespace: ref.namespace === undefined || ref.namespace === "" ? ownNamespace : ref.namespace
})

/** A MySQL/Dolt identifier as the reference accepts it (database names, backup database lists). */
export const SqlName = Schema.String.check(
  Schema.isMaxLength(80),
  Schema.isPattern(/^[a-zA-Z0-9_]+$/u, { expected: "a name of letters, digits and underscores" })
)

/** `status.conditions` only, the status of Database, User, Grant and Snapshot. */
export const ConditionsStatus = (description: string) =>
  Schema.Struct({
    conditions: Schema.optionalKey(Conditions.annotate({ description: "Conditions of the object." }))
  }).annotate({ description })

/**
 * The status of the SQL resources: conditions, the generation they were computed from, and what the operator
 * created (so it drops, revokes or rotates exactly that, and never touches what it did not create).
 */
export const SqlResourceStatus = <F extends Schema.Struct.Fields>(description: string, fields: F) =>
  Schema.Struct({
    conditions: Schema.optionalKey(Conditions.annotate({ description: "Conditions of the object." })),
    observedGeneration: Schema.optionalKey(
      Int64.check(Schema.isGreaterThanOrEqualTo(0)).annotate({
        description: "ObservedGeneration is the metadata.generation the status was computed from."
      })
    ),
    ...fields
  }).annotate({ description })

/** A SQL account (`'name'@'host'`) as recorded in status. */
export const SqlAccount = Schema.Struct({
  name: Schema.String.annotate({ description: "User name." }),
  host: Schema.String.annotate({ description: "Host (lower-cased)." })
}).annotate({ description: "A SQL account." })
