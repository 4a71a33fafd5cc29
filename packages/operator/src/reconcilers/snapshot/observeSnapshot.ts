/**
 * Observe step of the Snapshot reconciler: the referenced DoltDB's pods as snapshot sources (Ready, claim Bound,
 * role label, and whether the primary reports each standby caught up), the VolumeSnapshots this Snapshot took, and
 * whether the VolumeSnapshot API and the snapshot class exist.
 */
import { Builders, DoltDBPlanner, Snapshots as SnapshotPlanner } from "@doltdb-op/core"
import type { Snapshot } from "@doltdb-op/core/api/Snapshot"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import {
  Kube,
  type KubeObject,
  PersistentVolumeClaims,
  Pods,
  VolumeSnapshotClasses,
  VolumeSnapshots
} from "@doltdb-op/core/services/Kube"
import { Clock, Effect, Option } from "effect"
import { doltTarget, readCredentials } from "../Credentials.ts"
import { foldStandbys } from "../doltdb/observeDoltDB.ts"
import { DoltDBs } from "../Resources.ts"

/** A standby whose replication lag the primary reports at most this is "caught up" for a snapshot. */
export const CaughtUpLagMillis = 5_000

const isReady = (pod: KubeObject): boolean =>
  ((pod.status as { conditions?: ReadonlyArray<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
    (c) => c.type === "Ready" && c.status === "True"
  )

const viewOf = (v: KubeObject): SnapshotPlanner.VolumeSnapshotView => {
  const status = (v.status ?? {}) as {
    readyToUse?: boolean
    restoreSize?: string | number
    creationTime?: string
    error?: { message?: string }
  }
  const scheduled = Date.parse(v.metadata.annotations?.[SnapshotPlanner.ScheduledTimeAnnotation] ?? "")
  return {
    name: v.metadata.name,
    claim:
      (v.spec as { source?: { persistentVolumeClaimName?: string } } | undefined)?.source?.persistentVolumeClaimName ??
      "",
    scheduledTime: Number.isNaN(scheduled) ? undefined : scheduled,
    readyToUse: status.readyToUse === true,
    restoreSize: status.restoreSize === undefined ? undefined : String(status.restoreSize),
    creationTime: status.creationTime,
    error: status.error?.message,
    deleting: v.metadata.deletionTimestamp !== undefined
  }
}

/** Standby remote (pod name) → caught up, as the primary reports it; empty when it cannot be asked. */
const caughtUpStandbys = (namespace: string, doltdb: string, primaryIP: string | undefined, port: number) =>
  Effect.gen(function* () {
    if (primaryIP === undefined) return new Set<string>()
    const dolt = yield* Dolt
    const credentials = yield* readCredentials(namespace, doltdb)
    const rows = yield* dolt.clusterStatus(doltTarget(primaryIP, port, credentials))
    return new Set(
      foldStandbys(rows)
        .filter((s) => s.errors === 0 && s.maxLagMillis !== undefined && s.maxLagMillis <= CaughtUpLagMillis)
        .map((s) => s.remote)
    )
  }).pipe(Effect.catch(() => Effect.succeed(new Set<string>())))

export const observeSnapshot = Effect.fn("Snapshot.observe")(function* (
  snapshot: SnapshotPlanner.SnapshotObserved["snapshot"]
) {
  const kube = yield* Kube
  const now = yield* Clock.currentTimeMillis
  const { name, namespace } = snapshot.metadata
  const listed = yield* kube
    .list(VolumeSnapshots, { namespace, labelSelector: `${SnapshotPlanner.SnapshotLabel}=${name}` })
    .pipe(
      Effect.map((l) => Option.some(l.items)),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.none<ReadonlyArray<KubeObject>>()))
    )
  const doltdbName = snapshot.spec.doltDBRef.name ?? ""
  const doltdbNamespace = snapshot.spec.doltDBRef.namespace ?? namespace
  const doltdb = yield* kube.get(DoltDBs, doltdbName, { namespace: doltdbNamespace }).pipe(
    Effect.map(Option.some),
    Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
  )

  // Cluster-scoped: without permission to read classes, assume the named one exists (the VolumeSnapshot's own
  // status then reports a wrong name).
  const classByName = (c: string, unreadable: boolean) =>
    kube.get(VolumeSnapshotClasses, c).pipe(
      Effect.as(true),
      Effect.catchTag("NotFound", () => Effect.succeed(false)),
      Effect.catchTag("Forbidden", () => Effect.succeed(unreadable))
    )
  const explicit = snapshot.spec.volumeSnapshotClassName
  const storageClass = Option.isSome(doltdb) ? doltdb.value.spec.storage.storageClassName : undefined
  const snapshotClass: SnapshotPlanner.SnapshotClass = Option.isNone(listed)
    ? { _tag: "DriverDefault" }
    : explicit !== undefined
      ? (yield* classByName(explicit, true))
        ? { _tag: "Named", name: explicit }
        : { _tag: "Missing", name: explicit }
      : storageClass !== undefined && (yield* classByName(storageClass, false))
        ? { _tag: "Named", name: storageClass }
        : { _tag: "DriverDefault" }

  let target: SnapshotPlanner.SnapshotDoltDB = { _tag: "NotFound", name: doltdbName }
  if (Option.isSome(doltdb) && doltdb.value.metadata.deletionTimestamp === undefined) {
    const db = doltdb.value
    const selector = `${Builders.NameLabel}=${doltdbName}`
    const pods = (yield* kube.list(Pods, { namespace: doltdbNamespace, labelSelector: selector })).items
    const claims = (yield* kube.list(PersistentVolumeClaims, { namespace: doltdbNamespace, labelSelector: selector }))
      .items
    const primary = pods.find((p) => p.metadata.labels?.[Builders.ClusterRoleLabel] === "primary")
    const caughtUp = yield* caughtUpStandbys(
      doltdbNamespace,
      doltdbName,
      (primary?.status as { podIP?: string } | undefined)?.podIP,
      db.spec.server.listener.port
    )
    const sources = Array.from({ length: db.spec.replicas }, (_, ordinal): SnapshotPlanner.SnapshotSource => {
      const podName = Builders.podName(doltdbName, ordinal)
      const claim = DoltDBPlanner.claimName(doltdbName, ordinal)
      const pod = pods.find((p) => p.metadata.name === podName)
      const pvc = claims.find((c) => c.metadata.name === claim)
      const role = pod?.metadata.labels?.[Builders.ClusterRoleLabel]
      return {
        ordinal,
        pod: podName,
        claim,
        available:
          pod !== undefined &&
          pod.metadata.deletionTimestamp === undefined &&
          isReady(pod) &&
          (pvc?.status as { phase?: string } | undefined)?.phase === "Bound",
        role: role === "primary" || role === "standby" ? role : undefined,
        caughtUp: role === "standby" && caughtUp.has(podName)
      }
    })
    target = { _tag: "Found", name: doltdbName, uid: db.metadata.uid, sources }
  }

  return {
    now,
    snapshot,
    api: Option.isSome(listed),
    snapshotClass,
    doltdb: target,
    volumeSnapshots: Option.getOrElse(listed, () => []).map(viewOf)
  } satisfies SnapshotPlanner.SnapshotObserved
})

export type { Snapshot }
