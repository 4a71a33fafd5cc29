/**
 * The simulated StatefulSet controller: pods `<sts>-<i>` and PVCs `<template>-<sts>-<i>`, OrderedReady vs Parallel
 * pod management, RollingUpdate with partition (highest ordinal first, one pod at a time, waiting for Ready) and
 * OnDelete, the PVC retention policy (whenDeleted / whenScaled), and status (replicas, readyReplicas,
 * currentRevision, updateRevision, ...) with a revision hash of the pod template in `controller-revision-hash`.
 *
 * Not modelled: ControllerRevision objects (revisions live in this controller's memory), minReadySeconds,
 * maxUnavailable, volumeClaimTemplate changes, `ordinals.start`, pod failure backoff.
 *
 * Adoption is modelled: a StatefulSet re-created after an orphaning delete takes back the pods its selector matches
 * that have no controller (what the storage resize relies on); the same template means the same revision, so
 * nothing restarts.
 */
import {
  type KubeObject,
  type KubeShape,
  LabelSelector,
  PersistentVolumeClaims,
  Pods,
  StatefulSets
} from "@doltdb-op/core/services/Kube"
import { Effect, Result } from "effect"
import type { ApiServerState } from "../memory/ApiServerState.ts"
import { revisionHash } from "./Worker.ts"

export const RevisionLabel = "controller-revision-hash"
export const PodNameLabel = "statefulset.kubernetes.io/pod-name"
export const PodIndexLabel = "apps.kubernetes.io/pod-index"
const manager = "statefulset-controller"

interface StatefulSetSpec {
  readonly replicas?: number
  readonly serviceName?: string
  readonly selector?: LabelSelector.LabelSelector
  readonly podManagementPolicy?: "OrderedReady" | "Parallel"
  readonly updateStrategy?: {
    readonly type?: "RollingUpdate" | "OnDelete"
    readonly rollingUpdate?: { readonly partition?: number }
  }
  readonly persistentVolumeClaimRetentionPolicy?: {
    readonly whenDeleted?: "Retain" | "Delete"
    readonly whenScaled?: "Retain" | "Delete"
  }
  readonly template: {
    readonly metadata?: { readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> }
    readonly spec: Record<string, unknown> & { readonly volumes?: ReadonlyArray<Record<string, unknown>> }
  }
  readonly volumeClaimTemplates?: ReadonlyArray<{
    readonly metadata: { readonly name: string; readonly labels?: Record<string, string> }
    readonly spec?: Record<string, unknown>
  }>
}

interface StatefulSetStatus {
  readonly currentRevision?: string
  readonly updateRevision?: string
}

export const isPodReady = (pod: KubeObject): boolean => {
  const conditions = (pod.status as { conditions?: ReadonlyArray<{ type: string; status: string }> } | undefined)
    ?.conditions
  return (
    pod.metadata.deletionTimestamp === undefined &&
    (conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  )
}

const isRunning = (pod: KubeObject) => (pod.status as { phase?: string } | undefined)?.phase === "Running"

export const ordinalOf = (stsName: string, podName: string): number | undefined => {
  if (!podName.startsWith(`${stsName}-`)) return undefined
  const rest = podName.slice(stsName.length + 1)
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined
}

/** Revision hashes of stored (frozen, so unchanging) templates: the controller hashes the template on every sync. */
const templateHashes = new WeakMap<object, string>()

export const revisionOf = (sts: KubeObject): string => {
  const template = (sts.spec as StatefulSetSpec).template
  if (typeof template !== "object" || template === null || !Object.isFrozen(template))
    return `${sts.metadata.name}-${revisionHash(template)}`
  let hash = templateHashes.get(template)
  if (hash === undefined) {
    hash = revisionHash(template)
    templateHashes.set(template, hash)
  }
  return `${sts.metadata.name}-${hash}`
}

export const makeStatefulSetController = (state: ApiServerState, kube: KubeShape) => {
  // revision name -> template, so pods below a partition keep getting the old template (ControllerRevisions)
  const revisions = new Map<string, StatefulSetSpec["template"]>()

  const ownedPods = (sts: KubeObject): Map<number, KubeObject> => {
    const out = new Map<number, KubeObject>()
    const listed = state.list(Pods, sts.metadata.namespace)
    if (Result.isFailure(listed)) return out
    for (const pod of listed.success.items) {
      const owner = pod.metadata.ownerReferences?.find((r) => r.controller === true)
      if (owner?.uid !== sts.metadata.uid) continue
      const ordinal = ordinalOf(sts.metadata.name, pod.metadata.name)
      if (ordinal !== undefined) out.set(ordinal, pod)
    }
    return out
  }

  /** Orphaned pods of this StatefulSet (selector match, no controller, `<sts>-<ordinal>`) get it as controller. */
  const adoptOrphans = (sts: KubeObject, spec: StatefulSetSpec) =>
    Effect.gen(function* () {
      const listed = state.list(Pods, sts.metadata.namespace)
      if (Result.isFailure(listed)) return
      const parsed = LabelSelector.fromLabelSelector(spec.selector ?? {})
      if (Result.isFailure(parsed)) return
      const selector = parsed.success
      for (const pod of listed.success.items) {
        if (pod.metadata.deletionTimestamp !== undefined) continue
        if (pod.metadata.ownerReferences?.some((r) => r.controller === true)) continue
        if (ordinalOf(sts.metadata.name, pod.metadata.name) === undefined) continue
        if (!LabelSelector.matches(selector, pod.metadata.labels)) continue
        yield* kube
          .mergePatch(
            Pods,
            pod.metadata.name,
            {
              metadata: {
                ownerReferences: [
                  ...(pod.metadata.ownerReferences ?? []),
                  {
                    apiVersion: "apps/v1",
                    kind: "StatefulSet",
                    name: sts.metadata.name,
                    uid: sts.metadata.uid!,
                    controller: true,
                    blockOwnerDeletion: true
                  }
                ]
              }
            },
            { namespace: sts.metadata.namespace!, fieldManager: manager }
          )
          .pipe(Effect.catchTag("NotFound", () => Effect.void))
      }
    })

  const podFor = (sts: KubeObject, spec: StatefulSetSpec, ordinal: number, revision: string): KubeObject => {
    const template = revisions.get(revision) ?? spec.template
    const name = `${sts.metadata.name}-${ordinal}`
    const claimVolumes = (spec.volumeClaimTemplates ?? []).map((t) => ({
      name: t.metadata.name,
      persistentVolumeClaim: { claimName: `${t.metadata.name}-${name}` }
    }))
    const volumes = [
      ...(template.spec.volumes ?? []).filter((v) => !claimVolumes.some((c) => c.name === v.name)),
      ...claimVolumes
    ]
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: sts.metadata.namespace!,
        labels: {
          ...(template.metadata?.labels ?? {}),
          [PodNameLabel]: name,
          [PodIndexLabel]: String(ordinal),
          [RevisionLabel]: revision
        },
        ...(template.metadata?.annotations === undefined ? {} : { annotations: template.metadata.annotations }),
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            name: sts.metadata.name,
            uid: sts.metadata.uid!,
            controller: true,
            blockOwnerDeletion: true
          }
        ]
      },
      spec: {
        ...template.spec,
        volumes,
        hostname: name,
        ...(spec.serviceName === undefined ? {} : { subdomain: spec.serviceName })
      }
    }
  }

  const ensureClaims = (sts: KubeObject, spec: StatefulSetSpec, ordinal: number) =>
    Effect.forEach(
      spec.volumeClaimTemplates ?? [],
      (t) =>
        Effect.gen(function* () {
          const name = `${t.metadata.name}-${sts.metadata.name}-${ordinal}`
          if (Result.isSuccess(state.get(PersistentVolumeClaims, sts.metadata.namespace, name))) return
          const selectorLabels = spec.selector?.matchLabels ?? {}
          const whenDeleted = spec.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? "Retain"
          yield* kube.create(
            PersistentVolumeClaims,
            {
              apiVersion: "v1",
              kind: "PersistentVolumeClaim",
              metadata: {
                name,
                namespace: sts.metadata.namespace!,
                labels: { ...(t.metadata.labels ?? {}), ...selectorLabels },
                ...(whenDeleted === "Delete"
                  ? {
                      ownerReferences: [
                        {
                          apiVersion: "apps/v1",
                          kind: "StatefulSet",
                          name: sts.metadata.name,
                          uid: sts.metadata.uid!,
                          blockOwnerDeletion: true
                        }
                      ]
                    }
                  : {})
              },
              spec: t.spec ?? {}
            },
            { fieldManager: manager }
          )
          // no provisioner to wait for: claims bind at once
          yield* kube.patchStatus(
            PersistentVolumeClaims,
            name,
            { phase: "Bound", capacity: (t.spec?.resources as { requests?: unknown } | undefined)?.requests ?? {} },
            { namespace: sts.metadata.namespace!, fieldManager: "persistentvolume-controller" }
          )
        }),
      { discard: true }
    )

  const reconcile = Effect.fnUntraced(function* (key: string) {
    const [namespace, name] = key.split("/") as [string, string]
    const got = state.get(StatefulSets, namespace, name)
    if (Result.isFailure(got)) return
    const sts = got.success
    if (sts.metadata.deletionTimestamp !== undefined) return
    const spec = sts.spec as StatefulSetSpec
    yield* adoptOrphans(sts, spec)
    const status = (sts.status ?? {}) as StatefulSetStatus
    const replicas = spec.replicas ?? 1
    const updateRevision = revisionOf(sts)
    revisions.set(updateRevision, spec.template)
    let currentRevision = status.currentRevision ?? updateRevision
    const rolling = (spec.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate"
    const partition = rolling ? (spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0
    const parallel = spec.podManagementPolicy === "Parallel"
    const pods = ownedPods(sts)
    const revisionFor = (ordinal: number) =>
      rolling && ordinal < partition && revisions.has(currentRevision) ? currentRevision : updateRevision

    // create missing pods (OrderedReady: the lowest one, once every predecessor is Running and Ready)
    for (let i = 0; i < replicas; i++) {
      if (pods.has(i)) continue
      if (!parallel) {
        let predecessorsReady = true
        for (let j = 0; j < i; j++) {
          const p = pods.get(j)
          if (p === undefined || !isRunning(p) || !isPodReady(p)) predecessorsReady = false
        }
        if (!predecessorsReady) break
      }
      yield* ensureClaims(sts, spec, i)
      const pod = yield* kube.create(Pods, podFor(sts, spec, i, revisionFor(i)), { fieldManager: manager })
      pods.set(i, pod)
      if (!parallel) break
    }

    // scale down: highest ordinal first (OrderedReady: one at a time, when the rest is healthy)
    const condemned = [...pods.keys()].filter((i) => i >= replicas).sort((a, b) => b - a)
    const healthy = [...pods.entries()].filter(([i]) => i < replicas).every(([, p]) => isRunning(p) && isPodReady(p))
    for (const i of condemned) {
      const pod = pods.get(i)!
      if (pod.metadata.deletionTimestamp !== undefined) {
        if (!parallel) break
        continue
      }
      if (!parallel && !healthy) break
      yield* kube.delete(Pods, pod.metadata.name, { namespace }).pipe(Effect.catchTag("NotFound", () => Effect.void))
      if (spec.persistentVolumeClaimRetentionPolicy?.whenScaled === "Delete") {
        for (const t of spec.volumeClaimTemplates ?? []) {
          yield* kube
            .delete(PersistentVolumeClaims, `${t.metadata.name}-${pod.metadata.name}`, { namespace })
            .pipe(Effect.catchTag("NotFound", () => Effect.void))
        }
      }
      if (!parallel) break
    }

    // rolling update: highest ordinal >= partition first, one at a time, only when every pod is Ready
    const live = [...pods.entries()].filter(([i]) => i < replicas)
    if (rolling && live.length === replicas && live.every(([, p]) => isRunning(p) && isPodReady(p))) {
      const stale = live
        .filter(([i, p]) => i >= partition && p.metadata.labels?.[RevisionLabel] !== updateRevision)
        .sort(([a], [b]) => b - a)[0]
      if (stale !== undefined) {
        yield* kube
          .delete(Pods, stale[1].metadata.name, { namespace })
          .pipe(Effect.catchTag("NotFound", () => Effect.void))
      }
    }

    // status
    const inRange = [...pods.entries()].filter(([i]) => i < replicas).map(([, p]) => p)
    const all = [...pods.values()]
    const revisionCount = (rev: string) => all.filter((p) => p.metadata.labels?.[RevisionLabel] === rev).length
    const updatedReplicas = revisionCount(updateRevision)
    if (updatedReplicas === replicas && inRange.length === replicas && inRange.every((p) => isPodReady(p))) {
      currentRevision = updateRevision
    }
    const readyReplicas = all.filter(isPodReady).length
    yield* kube.patchStatus(
      StatefulSets,
      name,
      {
        observedGeneration: sts.metadata.generation ?? 1,
        replicas: all.length,
        readyReplicas,
        availableReplicas: readyReplicas,
        currentReplicas: revisionCount(currentRevision),
        updatedReplicas,
        currentRevision,
        updateRevision,
        collisionCount: 0
      },
      { namespace, fieldManager: manager }
    )
  })

  /** The StatefulSet keys an object change concerns. */
  const keysFor = (object: KubeObject): ReadonlyArray<string> => {
    if (object.kind === "StatefulSet") return [`${object.metadata.namespace}/${object.metadata.name}`]
    if (object.kind === "Pod") {
      const owner = object.metadata.ownerReferences?.find((r) => r.controller === true && r.kind === "StatefulSet")
      return owner === undefined ? [] : [`${object.metadata.namespace}/${owner.name}`]
    }
    return []
  }

  return { reconcile, keysFor }
}

/** Label selector of a StatefulSet (for callers matching its pods). */
export const selectorOf = (sts: KubeObject) =>
  LabelSelector.fromLabelSelector((sts.spec as StatefulSetSpec).selector ?? {})
