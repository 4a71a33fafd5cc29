/**
 * Deletion as the API server does it: finalizers and deletionTimestamp, graceful pod deletion awaiting the kubelet,
 * and ownerReference garbage collection (background, foreground, orphan). It writes through the store's commit path.
 */
import { formatTime } from "@doltdb-op/core/services/kube/Resource"
import { type Entry, type ObjectIndex, ownerUids } from "./ObjectIndex.ts"

/** What deletion needs of the API server's store. */
export interface DeletionStore {
  readonly index: ObjectIndex
  /** Commits a metadata change (`undefined` removes a field). */
  readonly setMetadata: (entry: Entry, changes: Record<string, unknown>, verb: string, now: number) => void
  /** Commits the removal of an entry already taken out of the index. */
  readonly commitRemoval: (entry: Entry) => void
}

export class Deletion {
  private readonly store: DeletionStore

  constructor(store: DeletionStore) {
    this.store = store
  }

  delete(
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
    const hasDependents = this.store.index.dependentsOf(uid).size > 0
    if (policy === "Orphan" && hasDependents) {
      for (const d of [...this.store.index.dependentsOf(uid)]) {
        const refs = (d.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid)
        this.store.setMetadata(d, { ownerReferences: refs.length === 0 ? undefined : refs }, "gc", now)
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
    this.store.setMetadata(
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
      for (const d of [...this.store.index.dependentsOf(uid)]) this.delete(d, "Background", undefined, now)
      this.checkForeground(uid, now)
    }
  }

  private checkForeground(ownerUid: string, now: number): void {
    const owner = this.store.index.byUidOf(ownerUid)
    if (owner === undefined || !(owner.object.metadata.finalizers ?? []).includes("foregroundDeletion")) return
    if (this.store.index.dependentsOf(ownerUid).size > 0) return
    const finalizers = (owner.object.metadata.finalizers ?? []).filter((f) => f !== "foregroundDeletion")
    this.store.setMetadata(owner, { finalizers: finalizers.length === 0 ? undefined : finalizers }, "gc", now)
  }

  /** Removes the object for good, then collects its dependents and unblocks foreground owners. */
  finalize(entry: Entry, now: number): void {
    if (!this.store.index.remove(entry)) return
    const uid = entry.object.metadata.uid ?? ""
    this.store.commitRemoval(entry)
    // background GC: dependents without any remaining owner go too; dangling references are dropped
    for (const d of this.store.index.takeDependents(uid)) {
      const live = (d.object.metadata.ownerReferences ?? []).filter(
        (r) => r.uid !== uid && this.store.index.hasUid(r.uid)
      )
      if (live.length === 0) this.delete(d, "Background", undefined, now)
      else this.store.setMetadata(d, { ownerReferences: live }, "gc", now)
    }
    for (const owner of ownerUids(entry.object)) this.checkForeground(owner, now)
  }
}
