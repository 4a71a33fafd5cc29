/**
 * The in-memory API server's stored objects and their indexes: by type (and namespace, so a namespaced list reads
 * only its namespace: with hundreds of DoltDBs each reconcile's label-selected lists otherwise scanned every object of
 * the type, packages/operator/bench/scale.ts), by uid, and by owner (for garbage collection).
 */
import type { KubeObject } from "@doltdb-op/core/services/Kube"
import { typeKeyOf } from "./EventLog.ts"
import type { Managers } from "./ManagedFields.ts"
import type { Res } from "./ObjectRules.ts"

export interface Entry {
  readonly res: Res
  readonly key: string
  object: KubeObject
  managers: Managers
  /** A pod with a grace period: the kubelet finishes the deletion. */
  awaitingKubelet: boolean
}

export const ownerUids = (o: KubeObject | undefined): ReadonlyArray<string> =>
  o?.metadata.ownerReferences?.map((r) => r.uid) ?? []

interface TypeIndex {
  readonly res: Res
  readonly objects: Map<string, Entry>
  readonly byNamespace: Map<string, Map<string, Entry>>
}

export class ObjectIndex {
  private readonly types = new Map<string, TypeIndex>()
  private readonly byUid = new Map<string, Entry>()
  private readonly dependents = new Map<string, Set<Entry>>()

  entry(res: Res, namespace: string | undefined, name: string): Entry | undefined {
    return this.types.get(typeKeyOf(res))?.objects.get(`${res.namespaced ? (namespace ?? "") : ""}/${name}`)
  }

  byUidOf(uid: string): Entry | undefined {
    return this.byUid.get(uid)
  }

  hasUid(uid: string): boolean {
    return this.byUid.has(uid)
  }

  /** The objects of `res`'s type, only `namespace`'s when given for a namespaced type. */
  objectsOf(res: Res, namespace: string | undefined): Iterable<Entry> {
    const type = this.types.get(typeKeyOf(res))
    const objects = namespace !== undefined && res.namespaced ? type?.byNamespace.get(namespace) : type?.objects
    return objects?.values() ?? []
  }

  add(entry: Entry): void {
    const typeKey = typeKeyOf(entry.res)
    let type = this.types.get(typeKey)
    if (type === undefined) {
      type = { res: entry.res, objects: new Map(), byNamespace: new Map() }
      this.types.set(typeKey, type)
    }
    type.objects.set(entry.key, entry)
    const namespace = entry.object.metadata.namespace ?? ""
    let inNamespace = type.byNamespace.get(namespace)
    if (inNamespace === undefined) {
      inNamespace = new Map()
      type.byNamespace.set(namespace, inNamespace)
    }
    inNamespace.set(entry.key, entry)
    this.byUid.set(entry.object.metadata.uid ?? "", entry)
    for (const u of ownerUids(entry.object)) this.indexDependent(u, entry)
  }

  /** Removes `entry`; false when it is no longer the stored one. Its own dependents stay indexed (`takeDependents`). */
  remove(entry: Entry): boolean {
    const type = this.types.get(typeKeyOf(entry.res))
    if (type?.objects.get(entry.key) !== entry) return false
    type.objects.delete(entry.key)
    const namespace = entry.object.metadata.namespace ?? ""
    const inNamespace = type.byNamespace.get(namespace)
    inNamespace?.delete(entry.key)
    if (inNamespace?.size === 0) type.byNamespace.delete(namespace)
    const uid = entry.object.metadata.uid ?? ""
    this.byUid.delete(uid)
    for (const owner of ownerUids(entry.object)) this.dependents.get(owner)?.delete(entry)
    return true
  }

  /** The dependents of a removed owner, no longer indexed under it. */
  takeDependents(ownerUid: string): ReadonlySet<Entry> {
    const deps = this.dependents.get(ownerUid)
    this.dependents.delete(ownerUid)
    return deps ?? new Set()
  }

  /** Re-indexes `entry`'s owners after its ownerReferences changed from `before`'s. */
  reindexOwners(entry: Entry, before: KubeObject, after: KubeObject): void {
    const was = ownerUids(before)
    const now = ownerUids(after)
    for (const u of was) if (!now.includes(u)) this.dependents.get(u)?.delete(entry)
    for (const u of now) this.indexDependent(u, entry)
  }

  /** The objects that name `ownerUid` as an owner. */
  dependentsOf(ownerUid: string): ReadonlySet<Entry> {
    return this.dependents.get(ownerUid) ?? new Set()
  }

  private indexDependent(ownerUid: string, entry: Entry): void {
    let set = this.dependents.get(ownerUid)
    if (set === undefined) {
      set = new Set()
      this.dependents.set(ownerUid, set)
    }
    set.add(entry)
  }
}
