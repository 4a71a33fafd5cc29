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
 * Field ownership lives in `ManagedFields.ts`, the stateless object rules in `ObjectRules.ts`; what stays here is
 * what needs the store (revisions, indexes, the event log, deletion and garbage collection).
 */
import {
  type DeleteOptions,
  type KubeError,
  type KubeObject,
  kubeError,
  LabelSelector
} from "@doltdb-op/core/services/Kube"
import { formatTime } from "@doltdb-op/core/services/kube/Resource"
import { Result } from "effect"
import { applyDefaults } from "./Defaults.ts"
import type { Json } from "./FieldSet.ts"
import { jsonEqual } from "./FieldSet.ts"
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
import {
  applyMergePatch,
  deepFreeze,
  invalidError,
  keptMetadata,
  mainPart,
  notFoundError,
  preconditionFailure,
  type Res,
  validateObject
} from "./ObjectRules.ts"
import { updateError } from "./UpdateRules.ts"

type JsonObject = Record<string, Json>

const storageClassRes: Res = {
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  plural: "storageclasses",
  namespaced: false,
  statusSubresource: false
}

interface Entry {
  readonly res: Res
  readonly key: string
  object: KubeObject
  managers: Managers
  /** A pod with a grace period: the kubelet finishes the deletion. */
  awaitingKubelet: boolean
}

export interface StoreEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED"
  readonly typeKey: string
  readonly namespace: string | undefined
  readonly object: KubeObject
  /** The version before this event (MODIFIED), so filtered watches can turn it into ADDED/DELETED. */
  readonly previous: KubeObject | undefined
  readonly resourceVersion: number
}

export type Listener = (event: StoreEvent) => void

export const typeKeyOf = (res: Pick<Res, "apiVersion" | "kind">): string => `${res.apiVersion}/${res.kind}`

const ownerUids = (o: KubeObject | undefined): ReadonlyArray<string> =>
  o?.metadata.ownerReferences?.map((r) => r.uid) ?? []

export interface ApiServerStateOptions {
  /** Events kept for watch resumption; older resourceVersions get 410 Gone. */
  readonly eventWindow?: number
}

export class ApiServerState {
  private revision = 0
  private counter = 0
  private clusterIPs = 0
  /**
   * Objects per type, and per namespace too: a namespaced list reads only its namespace (with hundreds of DoltDBs
   * each reconcile's label-selected lists otherwise scanned every object of the type: packages/operator/bench/scale.ts).
   */
  private readonly types = new Map<
    string,
    { readonly res: Res; readonly objects: Map<string, Entry>; readonly byNamespace: Map<string, Map<string, Entry>> }
  >()
  private readonly byUid = new Map<string, Entry>()
  private readonly dependents = new Map<string, Set<Entry>>()
  private log: Array<StoreEvent> = []
  private compactedThrough = 0
  private readonly eventWindow: number
  readonly listeners = new Set<Listener>()
  /** Writes committed, by verb (for benchmarks and "zero writes when converged" checks). */
  readonly writes = new Map<string, number>()

  constructor(options: ApiServerStateOptions = {}) {
    this.eventWindow = options.eventWindow ?? 10_000
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
    const type = this.types.get(typeKeyOf(res))
    const objects = namespace !== undefined && res.namespaced ? type?.byNamespace.get(namespace) : type?.objects
    if (objects !== undefined) for (const e of objects.values()) if (filter.success(e.object)) items.push(e.object)
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
    const labels = labelSelector === undefined ? Result.succeed([]) : LabelSelector.parse(labelSelector)
    if (Result.isFailure(labels)) return Result.fail(invalidError(verb, res, namespace, undefined, labels.failure))
    const fields = fieldSelector === undefined ? Result.succeed([]) : LabelSelector.parseFieldSelector(fieldSelector)
    if (Result.isFailure(fields)) return Result.fail(invalidError(verb, res, namespace, undefined, fields.failure))
    const ns = res.namespaced ? namespace : undefined
    const ls = labels.success
    const fs = fields.success
    return Result.succeed(
      (o) =>
        (ns === undefined || o.metadata.namespace === ns) &&
        LabelSelector.matches(ls, o.metadata.labels) &&
        LabelSelector.fieldsMatch(fs, o)
    )
  }

  /** Events of this type after `resourceVersion`, in order; Gone when the log no longer reaches back that far. */
  eventsSince(res: Res, resourceVersion: number): Result.Result<ReadonlyArray<StoreEvent>, KubeError> {
    if (resourceVersion < this.compactedThrough) {
      return Result.fail(
        kubeError(
          "Gone",
          { verb: "watch", kind: res.kind },
          `too old resource version: ${resourceVersion} (${this.compactedThrough})`
        )
      )
    }
    const typeKey = typeKeyOf(res)
    return Result.succeed(this.log.filter((e) => e.resourceVersion > resourceVersion && e.typeKey === typeKey))
  }

  /** Every change still in the watch log, in commit order (a run's digest: two runs made the same writes). */
  get history(): ReadonlyArray<StoreEvent> {
    return this.log
  }

  /** Forget all events so far: resuming from any current resourceVersion gets 410 (for tests). */
  compact(): void {
    this.compactedThrough = this.revision
    this.log = []
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
      name = `${input.metadata.generateName}${this.suffix()}`
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
    this.deleteEntry(entry, options.propagationPolicy ?? "Background", options.gracePeriodSeconds, now)
    return Result.succeed(undefined)
  }

  // --- internals ---

  private refusedUpdate(entry: Entry, next: KubeObject): KubeError | undefined {
    return updateError(entry.res, entry.object, next, (name) => {
      const found = this.entry(storageClassRes, undefined, name)
      return found?.object
    })
  }

  private deleteEntry(
    entry: Entry,
    policy: "Background" | "Foreground" | "Orphan",
    gracePeriodSeconds: number | undefined,
    now: number
  ): void {
    const o = entry.object
    const spec = o.spec as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined
    const isPod = entry.res.kind === "Pod" && entry.res.apiVersion === "v1"
    const grace = gracePeriodSeconds ?? spec?.terminationGracePeriodSeconds ?? 30
    if (o.metadata.deletionTimestamp !== undefined) {
      // already terminating: a zero grace period from the kubelet (or a force delete) finishes a pod
      if (isPod && entry.awaitingKubelet && grace === 0) {
        entry.awaitingKubelet = false
        if ((o.metadata.finalizers ?? []).length === 0) this.finalize(entry, now)
      }
      return
    }
    const uid = o.metadata.uid ?? ""
    const hasDependents = (this.dependents.get(uid)?.size ?? 0) > 0
    if (policy === "Orphan" && hasDependents) {
      for (const d of [...(this.dependents.get(uid) ?? [])]) {
        const refs = (d.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid)
        this.setMetadata(d, { ownerReferences: refs.length === 0 ? undefined : refs }, "gc", now)
      }
    }
    const finalizers = [...(o.metadata.finalizers ?? [])]
    if (policy === "Foreground" && hasDependents && !finalizers.includes("foregroundDeletion")) {
      finalizers.push("foregroundDeletion")
    }
    entry.awaitingKubelet = isPod && spec?.nodeName !== undefined && spec.nodeName !== "" && grace > 0
    if (finalizers.length === 0 && !entry.awaitingKubelet) {
      this.finalize(entry, now)
      return
    }
    const deletionTimestamp = formatTime(now + (entry.awaitingKubelet ? grace * 1000 : 0))
    this.setMetadata(
      entry,
      {
        deletionTimestamp,
        deletionGracePeriodSeconds: entry.awaitingKubelet ? grace : 0,
        finalizers: finalizers.length === 0 ? undefined : finalizers
      },
      "delete",
      now
    )
    if (policy === "Foreground" && hasDependents) {
      for (const d of [...(this.dependents.get(uid) ?? [])]) this.deleteEntry(d, "Background", undefined, now)
      this.checkForeground(uid, now)
    }
  }

  private checkForeground(ownerUid: string, now: number): void {
    const owner = this.byUid.get(ownerUid)
    if (owner === undefined || !(owner.object.metadata.finalizers ?? []).includes("foregroundDeletion")) return
    if ((this.dependents.get(ownerUid)?.size ?? 0) > 0) return
    const finalizers = (owner.object.metadata.finalizers ?? []).filter((f) => f !== "foregroundDeletion")
    this.setMetadata(owner, { finalizers: finalizers.length === 0 ? undefined : finalizers }, "gc", now)
  }

  /** Removes the object for good, then collects its dependents and unblocks foreground owners. */
  private finalize(entry: Entry, now: number): void {
    const type = this.types.get(typeKeyOf(entry.res))
    if (type?.objects.get(entry.key) !== entry) return
    type.objects.delete(entry.key)
    const namespace = entry.object.metadata.namespace ?? ""
    const inNamespace = type.byNamespace.get(namespace)
    inNamespace?.delete(entry.key)
    if (inNamespace?.size === 0) type.byNamespace.delete(namespace)
    const uid = entry.object.metadata.uid ?? ""
    this.byUid.delete(uid)
    for (const owner of ownerUids(entry.object)) this.dependents.get(owner)?.delete(entry)
    const deleted = deepFreeze({
      ...entry.object,
      metadata: { ...entry.object.metadata, resourceVersion: String(++this.revision) }
    })
    this.count("delete")
    this.emit("DELETED", entry.res, deleted)
    // background GC: dependents without any remaining owner go too; dangling references are dropped
    const deps = this.dependents.get(uid)
    this.dependents.delete(uid)
    for (const d of deps ?? []) {
      const live = (d.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid && this.byUid.has(r.uid))
      if (live.length === 0) this.deleteEntry(d, "Background", undefined, now)
      else this.setMetadata(d, { ownerReferences: live }, "gc", now)
    }
    for (const owner of ownerUids(entry.object)) this.checkForeground(owner, now)
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
    const before = ownerUids(old)
    const after = ownerUids(object)
    for (const u of before) if (!after.includes(u)) this.dependents.get(u)?.delete(entry)
    for (const u of after) this.indexDependent(u, entry)
    entry.object = object
    entry.managers = managers
    this.count(verb)
    this.emit("MODIFIED", entry.res, object, old)
    if (
      object.metadata.deletionTimestamp !== undefined &&
      (object.metadata.finalizers ?? []).length === 0 &&
      !entry.awaitingKubelet
    ) {
      this.finalize(entry, now)
    }
    return object
  }

  private insert(res: Res, object: KubeObject, managers: Managers, verb: string): KubeObject {
    const typeKey = typeKeyOf(res)
    let type = this.types.get(typeKey)
    if (type === undefined) {
      type = { res, objects: new Map(), byNamespace: new Map() }
      this.types.set(typeKey, type)
    }
    const frozen = deepFreeze({
      ...object,
      apiVersion: res.apiVersion,
      kind: res.kind,
      metadata: { ...object.metadata, resourceVersion: String(++this.revision) }
    }) as KubeObject
    const key = `${frozen.metadata.namespace ?? ""}/${frozen.metadata.name}`
    const entry: Entry = { res, key, object: frozen, managers, awaitingKubelet: false }
    type.objects.set(key, entry)
    const namespace = frozen.metadata.namespace ?? ""
    let inNamespace = type.byNamespace.get(namespace)
    if (inNamespace === undefined) {
      inNamespace = new Map()
      type.byNamespace.set(namespace, inNamespace)
    }
    inNamespace.set(key, entry)
    this.byUid.set(frozen.metadata.uid ?? "", entry)
    for (const u of ownerUids(frozen)) this.indexDependent(u, entry)
    this.count(verb)
    this.emit("ADDED", res, frozen)
    return frozen
  }

  private indexDependent(ownerUid: string, entry: Entry): void {
    let set = this.dependents.get(ownerUid)
    if (set === undefined) {
      set = new Set()
      this.dependents.set(ownerUid, set)
    }
    set.add(entry)
  }

  private emit(type: StoreEvent["type"], res: Res, object: KubeObject, previous?: KubeObject): void {
    const event: StoreEvent = {
      type,
      typeKey: typeKeyOf(res),
      namespace: object.metadata.namespace,
      object,
      previous,
      resourceVersion: this.revision
    }
    this.log.push(event)
    if (this.log.length > this.eventWindow * 2) {
      const dropped = this.log.length - this.eventWindow
      this.compactedThrough = this.log[dropped - 1]!.resourceVersion
      this.log = this.log.slice(dropped)
    }
    for (const l of this.listeners) l(event)
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
    const {
      deletionTimestamp: _d,
      deletionGracePeriodSeconds: _g,
      managedFields: _m,
      resourceVersion: _r,
      ...rest
    } = metadata
    const n = ++this.counter
    return {
      ...rest,
      name,
      ...(namespace === undefined ? {} : { namespace }),
      uid: `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`,
      generation: 1,
      creationTimestamp: formatTime(now)
    }
  }

  private suffix(): string {
    const alphabet = "bcdfghjklmnpqrstvwxz2456789"
    let n = ++this.counter * 2654435761
    let out = ""
    for (let i = 0; i < 5; i++) {
      out += alphabet[n % alphabet.length]
      n = Math.floor(n / alphabet.length)
    }
    return out
  }

  private entry(res: Res, namespace: string | undefined, name: string): Entry | undefined {
    return this.types.get(typeKeyOf(res))?.objects.get(`${res.namespaced ? (namespace ?? "") : ""}/${name}`)
  }
}

const objectKeyOf = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`
