/**
 * The in-memory API server's state machine: plain synchronous TypeScript, one instance per simulated cluster.
 * `InMemoryKube` wraps it into the `Kube` service (Effects, Clock, faults, watch streams).
 *
 * Semantics kept from kube-apiserver: one global resourceVersion (etcd revision) and 409 on stale writes,
 * `generation` bumped on spec changes only, status behind its subresource, server-side apply field ownership
 * (`FieldSet.ts`), finalizers + deletionTimestamp, graceful pod deletion awaiting the kubelet, ownerReference
 * garbage collection (background, foreground, orphan), label/field selectors, and an ordered event log that
 * watches resume from (410 once compacted).
 *
 * Objects are deep-frozen when written and shared afterwards: reads never copy, writes copy only what changes.
 * Field ownership lives in `ManagedFields.ts`, the stateless object rules in `ObjectRules.ts`, the indexes in
 * `ObjectIndex.ts`, the watch log in `EventLog.ts`; what stays here is the write path every verb shares (revisions,
 * validation, commit) and deletion with garbage collection, which writes through it.
 */
import { type DeleteOptions, type KubeError, type KubeObject, kubeError } from "@doltdb-op/core/services/Kube"
import { Result } from "effect"
import { applyDefaults } from "./Defaults.ts"
import { Deletion } from "./Deletion.ts"
import { EventLog, type Listener, type StoreEvent, typeKeyOf } from "./EventLog.ts"
import type { Json } from "./FieldSet.ts"
import { jsonEqual } from "./FieldSet.ts"
import { freshMetadata, Identities } from "./Identities.ts"
import {
  createdBy,
  describeConflicts,
  type Managers,
  renderManagers,
  type Scope,
  sameManagers,
  serverSideApply,
  updatedBy
} from "./ManagedFields.ts"
import { type Entry, ObjectIndex } from "./ObjectIndex.ts"
import {
  applyMergePatch,
  deepFreeze,
  keptMetadata,
  mainPart,
  notFoundError,
  preconditionFailure,
  type Res,
  validateObject
} from "./ObjectRules.ts"
import { selection } from "./Selection.ts"
import { updateError } from "./UpdateRules.ts"

export { type Listener, type StoreEvent, typeKeyOf } from "./EventLog.ts"

type JsonObject = Record<string, Json>

const storageClassRes: Res = {
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  plural: "storageclasses",
  namespaced: false,
  statusSubresource: false
}

export interface ApiServerStateOptions {
  /** Events kept for watch resumption; older resourceVersions get 410 Gone. */
  readonly eventWindow?: number
}

export class ApiServerState {
  private revision = 0
  private readonly identities = new Identities()
  private clusterIPs = 0
  private readonly index = new ObjectIndex()
  private readonly events: EventLog
  private readonly deletion = new Deletion({
    index: this.index,
    setMetadata: (entry, changes, verb, now) => this.setMetadata(entry, changes, verb, now),
    commitRemoval: (entry) => this.commitRemoval(entry)
  })
  /** Writes committed, by verb (for benchmarks and "zero writes when converged" checks). */
  readonly writes = new Map<string, number>()

  constructor(options: ApiServerStateOptions = {}) {
    this.events = new EventLog(options.eventWindow ?? 10_000)
  }

  /** Called with every committed change, in order (watches). */
  get listeners(): Set<Listener> {
    return this.events.listeners
  }

  get resourceVersion(): number {
    return this.revision
  }

  // --- reads ---

  get(res: Res, namespace: string | undefined, name: string): Result.Result<KubeObject, KubeError> {
    const entry = this.entry(res, namespace, name)
    if (entry === undefined) return Result.fail(notFoundError("get", res, namespace, name))
    return Result.succeed(entry.object)
  }

  list(
    res: Res,
    namespace: string | undefined,
    labelSelector?: string,
    fieldSelector?: string
  ): Result.Result<{ items: Array<KubeObject>; resourceVersion: string }, KubeError> {
    const filter = this.filter(res, namespace, labelSelector, fieldSelector, "list")
    if (Result.isFailure(filter)) return Result.fail(filter.failure)
    const items: Array<KubeObject> = []
    for (const e of this.index.objectsOf(res, namespace)) if (filter.success(e.object)) items.push(e.object)
    items.sort((a, b) => (objectKeyOf(a) < objectKeyOf(b) ? -1 : 1))
    return Result.succeed({ items, resourceVersion: String(this.revision) })
  }

  /** A predicate for watch/list filtering, or Invalid when a selector does not parse. */
  filter(
    res: Res,
    namespace: string | undefined,
    labelSelector: string | undefined,
    fieldSelector: string | undefined,
    verb: string
  ): Result.Result<(o: KubeObject) => boolean, KubeError> {
    return selection(res, namespace, labelSelector, fieldSelector, verb)
  }

  /** Events of this type after `resourceVersion`, in order; Gone when the log no longer reaches back that far. */
  eventsSince(res: Res, resourceVersion: number): Result.Result<ReadonlyArray<StoreEvent>, KubeError> {
    return this.events.since(res, resourceVersion)
  }

  /** Every change still in the watch log, in commit order (a run's digest: two runs made the same writes). */
  get history(): ReadonlyArray<StoreEvent> {
    return this.events.history
  }

  /** Forget all events so far: resuming from any current resourceVersion gets 410 (for tests). */
  compact(): void {
    this.events.compact(this.revision)
  }

  managedFields(res: Res, namespace: string | undefined, name: string): ReturnType<typeof renderManagers> {
    const entry = this.entry(res, namespace, name)
    return entry === undefined ? [] : renderManagers(entry.managers)
  }

  // --- writes ---

  create(res: Res, input: KubeObject, manager: string, now: number): Result.Result<KubeObject, KubeError> {
    const namespace = res.namespaced ? input.metadata.namespace : undefined
    let name = input.metadata.name
    if ((name === undefined || name === "") && input.metadata.generateName !== undefined) {
      name = `${input.metadata.generateName}${this.identities.nextSuffix()}`
    }
    const bad = validateObject("create", res, input, namespace, name)
    if (bad !== undefined) return Result.fail(bad)
    if (this.entry(res, namespace, name) !== undefined) {
      return Result.fail(
        kubeError(
          "AlreadyExists",
          { verb: "create", kind: res.kind, namespace, name },
          `${res.kind} "${name}" already exists`
        )
      )
    }
    const { status: _status, metadata, ...rest } = input
    const object: Record<string, unknown> = {
      ...rest,
      ...(res.statusSubresource || _status === undefined ? {} : { status: _status }),
      metadata: this.freshMetadata(metadata, name, namespace, now)
    }
    const created = this.defaults(object as unknown as KubeObject, undefined)
    const managers = createdBy(created as unknown as JsonObject, manager, "Update")
    return Result.succeed(this.insert(res, created, managers, "create"))
  }

  replace(res: Res, input: KubeObject, manager: string, now: number): Result.Result<KubeObject, KubeError> {
    const namespace = res.namespaced ? input.metadata.namespace : undefined
    const name = input.metadata.name
    const bad = validateObject("replace", res, input, namespace, name)
    if (bad !== undefined) return Result.fail(bad)
    const entry = this.entry(res, namespace, name)
    if (entry === undefined) return Result.fail(notFoundError("replace", res, namespace, name))
    const stale = preconditionFailure(
      "replace",
      entry.res,
      entry.object,
      input.metadata.resourceVersion,
      input.metadata.uid
    )
    if (stale !== undefined) return Result.fail(stale)
    const old = entry.object
    const next: Record<string, unknown> = { ...mainPart(input, res), apiVersion: old.apiVersion, kind: old.kind }
    if (res.statusSubresource && old.status !== undefined) next.status = old.status
    next.metadata = keptMetadata(old, input.metadata)
    const defaulted = this.defaults(next as KubeObject, old)
    const refused = this.refusedUpdate(entry, defaulted)
    if (refused !== undefined) return Result.fail(refused)
    return Result.succeed(this.update(entry, defaulted, manager, "main", "replace", now))
  }

  apply(
    res: Res,
    config: KubeObject,
    options: { readonly fieldManager: string; readonly force?: boolean },
    now: number
  ): Result.Result<KubeObject, KubeError> {
    const namespace = res.namespaced ? config.metadata.namespace : undefined
    const name = config.metadata.name
    const bad = validateObject("apply", res, config, namespace, name)
    if (bad !== undefined) return Result.fail(bad)
    const { status: _ignored, ...applied } = config
    const scoped = (res.statusSubresource ? applied : config) as unknown as JsonObject
    const entry = this.entry(res, namespace, name)
    if (entry === undefined) {
      const created = { ...scoped, metadata: this.freshMetadata(config.metadata, name, namespace, now) }
      const managers = createdBy(scoped, options.fieldManager, "Apply")
      return Result.succeed(
        this.insert(res, this.defaults(created as unknown as KubeObject, undefined), managers, "apply")
      )
    }
    const stale = preconditionFailure(
      "apply",
      entry.res,
      entry.object,
      config.metadata.resourceVersion,
      config.metadata.uid
    )
    if (stale !== undefined) return Result.fail(stale)
    const applied_ = serverSideApply(
      entry.object as unknown as JsonObject,
      scoped,
      entry.managers,
      options.fieldManager,
      options.force === true
    )
    if (Result.isFailure(applied_)) {
      return Result.fail(
        kubeError("Conflict", { verb: "apply", kind: res.kind, namespace, name }, describeConflicts(applied_.failure))
      )
    }
    const { object, managers } = applied_.success
    const defaulted = this.defaults(object as unknown as KubeObject, entry.object)
    const refused = this.refusedUpdate(entry, defaulted)
    if (refused !== undefined) return Result.fail(refused)
    return Result.succeed(this.commitUpdate(entry, defaulted, managers, "apply", now))
  }

  mergePatch(
    res: Res,
    namespace: string | undefined,
    name: string,
    patch: Json,
    options: { readonly manager: string; readonly resourceVersion?: string | undefined; readonly scope: Scope },
    now: number
  ): Result.Result<KubeObject, KubeError> {
    const verb = options.scope === "status" ? "patchStatus" : "patch"
    const ns = res.namespaced ? namespace : undefined
    const entry = this.entry(res, ns, name)
    if (entry === undefined) return Result.fail(notFoundError(verb, res, ns, name))
    const patchMeta = (patch as JsonObject | null)?.metadata as JsonObject | undefined
    const rv = options.resourceVersion ?? (patchMeta?.resourceVersion as string | undefined)
    const stale = preconditionFailure(verb, entry.res, entry.object, rv, patchMeta?.uid as string | undefined)
    if (stale !== undefined) return Result.fail(stale)
    const old = entry.object as unknown as JsonObject
    let next: JsonObject
    if (options.scope === "status") {
      const status = (patch as JsonObject).status
      next = { ...old }
      const merged = status === undefined ? old.status : applyMergePatch(old.status, status)
      if (merged === null || merged === undefined) delete next.status
      else next.status = merged
    } else {
      const { status: _ignored, ...rest } = patch as JsonObject
      next = applyMergePatch(old, res.statusSubresource ? rest : (patch as JsonObject)) as JsonObject
      next.metadata = keptMetadata(entry.object, next.metadata as unknown as KubeObject["metadata"]) as unknown as Json
      next = this.defaults(next as unknown as KubeObject, entry.object) as unknown as JsonObject
      const refused = this.refusedUpdate(entry, next as unknown as KubeObject)
      if (refused !== undefined) return Result.fail(refused)
    }
    return Result.succeed(this.update(entry, next as unknown as KubeObject, options.manager, options.scope, verb, now))
  }

  delete(
    res: Res,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions,
    now: number
  ): Result.Result<void, KubeError> {
    const ns = res.namespaced ? namespace : undefined
    const entry = this.entry(res, ns, name)
    if (entry === undefined) return Result.fail(notFoundError("delete", res, ns, name))
    const stale = preconditionFailure(
      "delete",
      entry.res,
      entry.object,
      options.preconditions?.resourceVersion,
      options.preconditions?.uid
    )
    if (stale !== undefined) return Result.fail(stale)
    this.deletion.delete(entry, options.propagationPolicy ?? "Background", options.gracePeriodSeconds, now)
    return Result.succeed(undefined)
  }

  // --- internals ---

  private refusedUpdate(entry: Entry, next: KubeObject): KubeError | undefined {
    return updateError(entry.res, entry.object, next, (name) => {
      const found = this.entry(storageClassRes, undefined, name)
      return found?.object
    })
  }

  /** Commits an object's removal: a new revision and its DELETED event. */
  private commitRemoval(entry: Entry): void {
    const deleted = deepFreeze({
      ...entry.object,
      metadata: { ...entry.object.metadata, resourceVersion: String(++this.revision) }
    })
    this.count("delete")
    this.emit("DELETED", entry.res, deleted)
  }

  private setMetadata(entry: Entry, changes: Record<string, unknown>, verb: string, now: number): void {
    const metadata: Record<string, unknown> = { ...entry.object.metadata }
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) delete metadata[k]
      else metadata[k] = v
    }
    this.commitUpdate(entry, { ...entry.object, metadata } as unknown as KubeObject, entry.managers, verb, now)
  }

  private update(entry: Entry, next: KubeObject, manager: string, scope: Scope, verb: string, now: number): KubeObject {
    const managers = updatedBy(
      entry.object as unknown as JsonObject,
      next as unknown as JsonObject,
      entry.managers,
      manager,
      scope
    )
    return this.commitUpdate(entry, next, managers, verb, now)
  }

  /** Commits a new version unless nothing changed (like the API server: a no-op write is not a write). */
  private commitUpdate(entry: Entry, next: KubeObject, managers: Managers, verb: string, now: number): KubeObject {
    const old = entry.object
    const { resourceVersion: _r, ...oldMeta } = old.metadata
    const { resourceVersion: _n, ...newMeta } = next.metadata
    const sameObject = jsonEqual(
      { ...old, metadata: oldMeta } as unknown as Json,
      { ...next, metadata: newMeta } as unknown as Json
    )
    if (sameObject && sameManagers(entry.managers, managers)) return old
    let generation = old.metadata.generation ?? 1
    if (!jsonEqual(mainPart(old, entry.res), mainPart(next, entry.res))) generation++
    else if (old.metadata.deletionTimestamp === undefined && next.metadata.deletionTimestamp !== undefined) generation++
    const object = deepFreeze({
      ...next,
      metadata: { ...next.metadata, generation, resourceVersion: String(++this.revision) }
    }) as KubeObject
    this.index.reindexOwners(entry, old, object)
    entry.object = object
    entry.managers = managers
    this.count(verb)
    this.emit("MODIFIED", entry.res, object, old)
    if (
      object.metadata.deletionTimestamp !== undefined &&
      (object.metadata.finalizers ?? []).length === 0 &&
      !entry.awaitingKubelet
    ) {
      this.deletion.finalize(entry, now)
    }
    return object
  }

  private insert(res: Res, object: KubeObject, managers: Managers, verb: string): KubeObject {
    const frozen = deepFreeze({
      ...object,
      apiVersion: res.apiVersion,
      kind: res.kind,
      metadata: { ...object.metadata, resourceVersion: String(++this.revision) }
    }) as KubeObject
    const key = `${frozen.metadata.namespace ?? ""}/${frozen.metadata.name}`
    this.index.add({ res, key, object: frozen, managers, awaitingKubelet: false })
    this.count(verb)
    this.emit("ADDED", res, frozen)
    return frozen
  }

  private emit(type: StoreEvent["type"], res: Res, object: KubeObject, previous?: KubeObject): void {
    this.events.append({
      type,
      typeKey: typeKeyOf(res),
      namespace: object.metadata.namespace,
      object,
      previous,
      resourceVersion: this.revision
    })
  }

  /** Defaulting as the API server does it; Service cluster IPs come from 10.96.0.0/16 in order. */
  private defaults(object: KubeObject, previous: KubeObject | undefined): KubeObject {
    return applyDefaults(object, previous, () => {
      const n = ++this.clusterIPs
      return `10.96.${Math.floor(n / 250) % 256}.${(n % 250) + 1}`
    })
  }

  private count(verb: string): void {
    this.writes.set(verb, (this.writes.get(verb) ?? 0) + 1)
  }

  private freshMetadata(
    metadata: KubeObject["metadata"],
    name: string,
    namespace: string | undefined,
    now: number
  ): KubeObject["metadata"] {
    return freshMetadata(metadata, name, namespace, this.identities.nextUid(), now)
  }

  private entry(res: Res, namespace: string | undefined, name: string): Entry | undefined {
    return this.index.entry(res, namespace, name)
  }
}

const objectKeyOf = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`
