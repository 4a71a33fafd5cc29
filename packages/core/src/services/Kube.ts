/**
 * The Kube service: everything the operator asks of the Kubernetes API server, typed through resource descriptors
 * (`Resource<A>`). Planners and the controller runtime depend on this tag only; the layers live in
 * `@doltdb-op/k8s` (`KubeLive` on client-node, `InMemoryKube` with API-server semantics for tests and simulation),
 * so the runtime never knows which one is underneath.
 *
 * Failures are the tagged errors of `kube/Errors.ts`, mapped once inside each layer.
 */
import { Context, type Duration, type Effect, type Stream } from "effect"
import type { KubeError } from "./kube/Errors.ts"
import type { KubeObject, ObjectMeta, OwnerReference, Resource } from "./kube/Resource.ts"

export * from "./kube/Errors.ts"
export * as LabelSelector from "./kube/LabelSelector.ts"
export * from "./kube/Resource.ts"

export interface NamespaceOption {
  /** Required for namespaced kinds; ignored for cluster-scoped ones. */
  readonly namespace?: string
}

export interface ListOptions extends NamespaceOption {
  /** String form, e.g. `app.kubernetes.io/name=db,k8s.dolthub.com/cluster-role in (primary)`. */
  readonly labelSelector?: string
  /** Equality on dotted paths, e.g. `metadata.name=db-0`, `status.phase!=Running`. */
  readonly fieldSelector?: string
}

export interface ListResult<A> {
  readonly items: ReadonlyArray<A>
  /** The collection's resourceVersion: start a watch from here to miss nothing. */
  readonly resourceVersion: string
}

export interface WatchOptions extends ListOptions {
  /**
   * Resume after this resourceVersion (events newer than it are delivered in order). Absent: the current objects
   * arrive first as ADDED events. Fails with `Gone` when it is older than the server keeps.
   */
  readonly resourceVersion?: string
  /** Ask the server to end the watch after this long (the live layer passes `timeoutSeconds`). */
  readonly timeout?: Duration.Input
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED"

export interface WatchEvent<A> {
  readonly type: WatchEventType
  readonly object: A
  readonly resourceVersion: string
}

/**
 * What an informer stream emits: a `SYNC` with the complete current state (first, and after every relist, so the
 * consumer replaces its cache and notices deletions it missed), then the watch events that follow it.
 */
export type InformerEvent<A> =
  | { readonly type: "SYNC"; readonly items: ReadonlyArray<A>; readonly resourceVersion: string }
  | WatchEvent<A>

export interface InformerOptions extends ListOptions {
  /** Backoff after a failed list/watch: exponential from `min`, capped at `max`, jittered. */
  readonly backoff?: { readonly min?: Duration.Input; readonly max?: Duration.Input }
  /** End each watch after this long and resume (guards against silently stalled watches). Default 5 minutes. */
  readonly watchTimeout?: Duration.Input
}

export interface WriteOptions extends NamespaceOption {
  /** Recorded in managedFields as an `Update` by this manager. */
  readonly fieldManager?: string
}

/** A partial object for server-side apply: identity plus only the fields this manager owns. */
export interface ApplyConfig {
  readonly apiVersion: string
  readonly kind: string
  /** `name` (and `namespace` for namespaced kinds) identify the object; labels, annotations, owners are applied. */
  readonly metadata: ObjectMeta
  readonly [field: string]: unknown
}

export interface ApplyOptions {
  readonly fieldManager: string
  /** Take fields owned by other managers instead of failing with `Conflict`. Use only for fields we own. */
  readonly force?: boolean
}

export interface PatchOptions extends WriteOptions {
  /** Optimistic concurrency: fail with `Conflict` unless the object is still at this resourceVersion. */
  readonly resourceVersion?: string
}

export interface DeleteOptions extends NamespaceOption {
  readonly propagationPolicy?: "Background" | "Foreground" | "Orphan"
  readonly gracePeriodSeconds?: number
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string }
}

/** An `events.k8s.io/v1` Event; the layer fills name, namespace, eventTime and the reporting fields' defaults. */
export interface EventInput {
  readonly regarding: Pick<OwnerReference, "apiVersion" | "kind" | "name" | "uid"> & { readonly namespace?: string }
  readonly type: "Normal" | "Warning"
  /** CamelCase, e.g. `FailoverStarted`. */
  readonly reason: string
  /** What was done, e.g. `Promote`. */
  readonly action: string
  readonly note: string
  readonly reportingController: string
  readonly reportingInstance: string
}

export interface KubeShape {
  readonly get: <A>(res: Resource<A>, name: string, options?: NamespaceOption) => Effect.Effect<A, KubeError>
  readonly list: <A>(res: Resource<A>, options?: ListOptions) => Effect.Effect<ListResult<A>, KubeError>
  /** One watch connection; ends when the server ends it. Prefer `informer` in controllers. */
  readonly watch: <A>(res: Resource<A>, options?: WatchOptions) => Stream.Stream<WatchEvent<A>, KubeError>
  /**
   * List + watch that never fails: it relists after `Gone`, resumes from the last resourceVersion after a dropped
   * connection or an error, with backoff, and emits a `SYNC` after every relist.
   */
  readonly informer: <A>(res: Resource<A>, options?: InformerOptions) => Stream.Stream<InformerEvent<A>>
  readonly create: <A>(res: Resource<A>, object: A, options?: WriteOptions) => Effect.Effect<A, KubeError>
  /** PUT: fails with `Conflict` when `metadata.resourceVersion` is stale. Status is ignored where it is a subresource. */
  readonly replace: <A>(res: Resource<A>, object: A, options?: WriteOptions) => Effect.Effect<A, KubeError>
  /** Server-side apply (creates when absent). */
  readonly apply: <A>(res: Resource<A>, config: ApplyConfig, options: ApplyOptions) => Effect.Effect<A, KubeError>
  /** JSON merge patch (RFC 7386) of the main resource. */
  readonly mergePatch: <A>(
    res: Resource<A>,
    name: string,
    patch: Readonly<Record<string, unknown>>,
    options?: PatchOptions
  ) => Effect.Effect<A, KubeError>
  /** Merge patch of the status subresource with `{ status }` as the body. */
  readonly patchStatus: <A>(
    res: Resource<A>,
    name: string,
    status: unknown,
    options?: PatchOptions
  ) => Effect.Effect<A, KubeError>
  readonly delete: <A>(res: Resource<A>, name: string, options?: DeleteOptions) => Effect.Effect<void, KubeError>
  readonly emitEvent: (event: EventInput) => Effect.Effect<void, KubeError>
}

export class Kube extends Context.Service<Kube, KubeShape>()("@doltdb-op/core/services/Kube") {}

/** The namespace/name key controllers queue work under. */
export const objectKey = (object: KubeObject): string =>
  object.metadata.namespace === undefined
    ? object.metadata.name
    : `${object.metadata.namespace}/${object.metadata.name}`
