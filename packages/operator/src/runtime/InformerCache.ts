/**
 * Reads from the informers' caches (controller-runtime's cache-backed client): the Manager's watch sources already
 * receive every object of the kinds a controller watches, so a reconcile's `list` or `get` of such a kind is
 * answered from memory instead of the API server. Without it, one operator polling 500 DoltDBs every 2 s
 * sends ~200 label-selected lists per second (see docs/benchmarks.md).
 *
 * Rules that keep it safe:
 * - Only `list` is served, only for the exact `Resource` descriptor a source watches (same decoding), only once that
 *   source's informer has synced, and only when that source covers the request: no label selector of its own and
 *   all namespaces or the requested one. Anything else (gets, field selectors, other kinds) goes to the API server.
 * - The cache is updated before the event's keys are queued, so a reconcile triggered by an event sees at least
 *   that event's state. A cache may lag the server (as controller-runtime's does): reconcilers are level-triggered,
 *   writes carry resourceVersions or uid preconditions, and an old view only delays an action (a pod still listed
 *   after its deletion keeps a promotion waiting; it never makes a deleted pod look present again after its
 *   DELETED event).
 * - One cache per leadership term (created by the Manager with the controllers' scope), nothing carried over.
 */
import {
  type InformerEvent,
  type KubeError,
  type KubeObject,
  type KubeShape,
  LabelSelector,
  type ListOptions,
  type ListResult,
  type Resource
} from "@doltdb-op/core/services/Kube"
import { Context, Effect, Result } from "effect"

interface Scope {
  readonly namespace: string | undefined
  readonly labelSelector: string | undefined
  /** Whether `get` of this kind is answered too (the controllers' own kinds; see `register`). */
  readonly gets: boolean
  synced: boolean
}

interface Store {
  readonly scopes: Array<Scope>
  /** `namespace/name` → object. */
  readonly objects: Map<string, unknown>
  /** namespace → name → object (a namespaced list scans one namespace, not the whole kind). */
  readonly byNamespace: Map<string, Map<string, unknown>>
  /** `namespace/name` → its DELETED event's object, so a late event of a second informer cannot revive it (bounded). */
  readonly deleted: Map<string, unknown>
  resourceVersion: string
}

const MaxTombstones = 10_000

const keyOf = (o: unknown) => {
  const meta = (o as KubeObject).metadata
  return `${meta.namespace ?? ""}/${meta.name}`
}

/** Newer-or-equal by resourceVersion when both are numbers (etcd's and the in-memory server's are). */
const notOlder = (incoming: unknown, current: unknown) => {
  const a = (incoming as KubeObject).metadata.resourceVersion
  const b = (current as KubeObject | undefined)?.metadata.resourceVersion
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return true
  return BigInt(a) >= BigInt(b)
}

export interface InformerCacheShape {
  /** Register a source's informer; returns the handler its events go through before their keys are queued. */
  readonly register: <A>(
    res: Resource<A>,
    scope: {
      readonly namespace?: string | undefined
      readonly labelSelector?: string | undefined
      /**
       * Answer `get`s of this kind too: for a controller's own kind (the object a reconcile starts from). Other
       * kinds' gets stay with the server, where they are rare (a pod the SQL controllers look up every 30 s).
       */
      readonly gets?: boolean | undefined
    }
  ) => (event: InformerEvent<A>) => void
  /** `base` with `list` and `get` answered from the cache where the rules above allow. */
  readonly client: (base: KubeShape) => KubeShape
  /** Lists answered from memory so far (benchmarks and tests). */
  readonly hits: () => number
}

export class InformerCache extends Context.Service<InformerCache, InformerCacheShape>()(
  "@doltdb-op/operator/runtime/InformerCache"
) {}

export const make = (): InformerCacheShape => {
  const stores = new Map<Resource<unknown>, Store>()
  let hits = 0
  /**
   * Read your writes: `apiVersion/kind/namespace/name` → the resourceVersion our last write returned. An object the
   * cache holds at an older version is read from the server instead (events of different kinds arrive through
   * different informers, so a pod event can trigger a reconcile before the DoltDB's own status write reached the
   * cache; without this, that reconcile would patch with a stale resourceVersion and conflict).
   */
  const written = new Map<string, bigint | "deleted">()
  const writtenKey = (res: Resource<unknown>, namespace: string | undefined, name: string) =>
    `${res.apiVersion}/${res.kind}/${res.namespaced ? (namespace ?? "") : ""}/${name}`
  const rvOf = (o: unknown): bigint | undefined => {
    const rv = (o as KubeObject | undefined)?.metadata?.resourceVersion
    return rv !== undefined && /^\d+$/.test(rv) ? BigInt(rv) : undefined
  }
  /** Whether the cache's copy is at least as new as our last write of it. */
  const fresh = (res: Resource<unknown>, cached: unknown) => {
    const meta = (cached as KubeObject).metadata
    const key = writtenKey(res, meta.namespace, meta.name)
    const mine = written.get(key)
    if (mine === undefined) return true
    const rv = rvOf(cached)
    if (mine === "deleted" || rv === undefined || rv < mine) return false
    written.delete(key)
    return true
  }
  const remember = (res: Resource<unknown>, namespace: string | undefined, name: string, result: unknown) => {
    const rv = rvOf(result)
    const key = writtenKey(res, namespace, name)
    if (rv === undefined) written.delete(key)
    else written.set(key, rv)
  }

  /** The store when a synced, unselected source of exactly `res` covers `namespace`. */
  const covering = (res: Resource<unknown>, namespace: string | undefined, get = false) => {
    const store = stores.get(res)
    const covered = store?.scopes.some(
      (s) =>
        s.synced &&
        (!get || s.gets) &&
        s.labelSelector === undefined &&
        (s.namespace === undefined || (namespace !== undefined && s.namespace === namespace))
    )
    return covered === true ? store : undefined
  }

  const serve = <A>(res: Resource<A>, options: ListOptions): ListResult<A> | undefined => {
    if (options.fieldSelector !== undefined) return undefined
    const store = covering(res as Resource<unknown>, options.namespace)
    if (store === undefined) return undefined
    let selector: LabelSelector.Selector = LabelSelector.everything
    if (options.labelSelector !== undefined) {
      const parsed = LabelSelector.parse(options.labelSelector)
      if (Result.isFailure(parsed)) return undefined
      selector = parsed.success
    }
    const items: Array<A> = []
    const candidates =
      res.namespaced && options.namespace !== undefined
        ? (store.byNamespace.get(options.namespace)?.values() ?? [])
        : store.objects.values()
    for (const o of candidates) {
      const meta = (o as KubeObject).metadata
      if (!LabelSelector.matches(selector, meta.labels)) continue
      if (!fresh(res as Resource<unknown>, o)) return undefined
      items.push(o as A)
    }
    hits++
    return { items, resourceVersion: store.resourceVersion }
  }

  return {
    register: (res, options) => {
      let store = stores.get(res as Resource<unknown>)
      if (store === undefined) {
        store = { scopes: [], objects: new Map(), byNamespace: new Map(), deleted: new Map(), resourceVersion: "0" }
        stores.set(res as Resource<unknown>, store)
      }
      const scope: Scope = {
        namespace: options.namespace,
        labelSelector: options.labelSelector,
        gets: options.gets === true,
        synced: false
      }
      const s = store
      s.scopes.push(scope)
      const inScope = (o: unknown) =>
        scope.namespace === undefined || (o as KubeObject).metadata.namespace === scope.namespace
      const put = (key: string, o: unknown) => {
        const meta = (o as KubeObject).metadata
        s.objects.set(key, o)
        const ns = meta.namespace ?? ""
        const names = s.byNamespace.get(ns) ?? new Map<string, unknown>()
        s.byNamespace.set(ns, names)
        names.set(meta.name, o)
      }
      const remove = (key: string) => {
        const o = s.objects.get(key)
        if (o === undefined) return
        const meta = (o as KubeObject).metadata
        s.objects.delete(key)
        const names = s.byNamespace.get(meta.namespace ?? "")
        names?.delete(meta.name)
        if (names?.size === 0) s.byNamespace.delete(meta.namespace ?? "")
      }
      return (event) => {
        // A source with its own label selector sees only part of the kind: it never feeds (or answers) lists.
        if (scope.labelSelector !== undefined) return
        if (event.type === "SYNC") {
          for (const [k, o] of s.objects) if (inScope(o)) remove(k)
          for (const o of event.items) put(keyOf(o), o)
          s.resourceVersion = event.resourceVersion
          scope.synced = true
          return
        }
        const key = keyOf(event.object)
        if (!notOlder(event.object, s.objects.get(key) ?? s.deleted.get(key))) return
        if (event.type === "DELETED") {
          remove(key)
          s.deleted.set(key, event.object)
          if (s.deleted.size > MaxTombstones) s.deleted.delete(s.deleted.keys().next().value as string)
        } else {
          put(key, event.object)
          s.deleted.delete(key)
        }
        s.resourceVersion = event.resourceVersion
      }
    },
    client: (base) => {
      type Res = Resource<unknown>
      const track =
        (res: Res, namespace: string | undefined, name: string | undefined) =>
        <A>(write: Effect.Effect<A, KubeError>): Effect.Effect<A, KubeError> =>
          name === undefined
            ? write
            : Effect.tap(write, (result) => Effect.sync(() => remember(res, namespace, name, result)))
      const nsOf = (o: unknown) => (o as KubeObject).metadata?.namespace
      const nameOf = (o: unknown) => (o as KubeObject).metadata?.name as string | undefined
      return {
        ...base,
        // A cache miss may be an object created a moment ago: ask the server rather than answer NotFound.
        get: (res, name, options = {}) => {
          const found = covering(res as Res, options.namespace, true)?.objects.get(
            `${res.namespaced ? (options.namespace ?? "") : ""}/${name}`
          )
          if (found === undefined || !fresh(res as Res, found)) return base.get(res, name, options)
          hits++
          return Effect.succeed(found as never)
        },
        list: (res, options = {}) => {
          const cached = serve(res, options)
          return cached === undefined ? base.list(res, options) : Effect.succeed(cached)
        },
        create: (res, object, options) =>
          track(res as Res, options?.namespace ?? nsOf(object), nameOf(object))(base.create(res, object, options)),
        replace: (res, object, options) =>
          track(res as Res, options?.namespace ?? nsOf(object), nameOf(object))(base.replace(res, object, options)),
        apply: (res, config, options) =>
          track(res as Res, config.metadata.namespace, config.metadata.name)(base.apply(res, config, options)),
        mergePatch: (res, name, patch, options) =>
          track(res as Res, options?.namespace, name)(base.mergePatch(res, name, patch, options)),
        patchStatus: (res, name, status, options) =>
          track(res as Res, options?.namespace, name)(base.patchStatus(res, name, status, options)),
        delete: (res, name, options) =>
          Effect.tap(base.delete(res, name, options), () =>
            Effect.sync(() => written.set(writtenKey(res as Res, options?.namespace, name), "deleted"))
          )
      }
    },
    hits: () => hits
  }
}
