/**
 * The storage steps of the fault schedules (a small extension of `runSchedule`): grow `spec.storage.size` and
 * start a scheduled Snapshot, at any point of a schedule — during a failover, a rolling update, a partition. The
 * failover invariants must hold through them; at the end, every data claim and the claim template have the size the
 * spec asks for, and retention kept the Snapshot's VolumeSnapshots within `keep` (+1 in progress).
 */
import { compareQuantities, quantityValue } from "@doltdb-op/core/api/Quantity"
import { PersistentVolumeClaims, resource, StatefulSets, VolumeSnapshots } from "@doltdb-op/core/services/Kube"
import { InMemoryKube } from "@doltdb-op/k8s"
import { Clock, Effect } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import type * as Invariants from "../../src/simulate/Invariants.ts"

const rawSnapshots = resource({
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "Snapshot",
  plural: "snapshots",
  namespaced: true
})
const Keep = 2

export const edit = (kind: "growStorage" | "snapshotSchedule", name = "db", namespace = "default") =>
  Effect.gen(function* () {
    const api = (yield* InMemoryKube).system
    if (kind === "growStorage") {
      const db = yield* api.get(rawDoltDBs, name, { namespace })
      const size = (db.spec as { storage: { size: string } }).storage.size
      const next = `${Math.round((quantityValue(size) ?? 2 ** 30) / 2 ** 30) + 1}Gi`
      yield* api.mergePatch(rawDoltDBs, name, { spec: { storage: { size: next } } }, { namespace })
      return
    }
    yield* api.create(rawSnapshots, {
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "Snapshot",
      metadata: { name: `${name}-sim`, namespace },
      spec: { doltDBRef: { name }, frequencySchedule: "* * * * *", keep: Keep }
    })
  }).pipe(Effect.ignore)

export const converged = (name: string, namespace: string) =>
  Effect.gen(function* () {
    const api = (yield* InMemoryKube).system
    const at = yield* Clock.currentTimeMillis
    const out: Array<Invariants.Violation> = []
    const fail = (message: string) => out.push({ invariant: "NotConverged", at, message: `storage: ${message}` })
    const db = yield* api.get(rawDoltDBs, name, { namespace })
    const spec = db.spec as { replicas: number; storage: { size: string } }
    const want = spec.storage.size
    const sts = yield* api.get(StatefulSets, name, { namespace })
    const template = (
      sts.spec as { volumeClaimTemplates: ReadonlyArray<{ spec: { resources: { requests: { storage: string } } } }> }
    ).volumeClaimTemplates[0]?.spec.resources.requests.storage
    if (template === undefined || compareQuantities(template, want) !== 0)
      fail(`the claim template asks ${template}, the spec ${want}`)
    const claims = (yield* api.list(PersistentVolumeClaims, { namespace })).items
    for (let i = 0; i < spec.replicas; i++) {
      const claim = claims.find((c) => c.metadata.name === `dolt-data-${name}-${i}`)
      const capacity = (claim?.status as { capacity?: { storage?: string } } | undefined)?.capacity?.storage
      if (capacity === undefined || compareQuantities(capacity, want) !== 0)
        fail(`dolt-data-${name}-${i} has ${capacity}, the spec asks ${want}`)
    }
    const snapshots = (yield* api.list(VolumeSnapshots, { namespace })).items.filter(
      (v) => v.metadata.deletionTimestamp === undefined
    )
    if (snapshots.length > Keep + 1) fail(`${snapshots.length} VolumeSnapshots kept with keep ${Keep}`)
    return out
  }).pipe(Effect.orDie)
