import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { childKey, type DoltDBObserved, type DoltDBPodView } from "../../src/doltdb/DoltDBObserved.ts"
import { planDoltDB, withAppliedHash } from "../../src/doltdb/planDoltDB.ts"
import { planStorage, type StorageInput, storageSituation } from "../../src/doltdb/storage/planStorage.ts"
import type { ClaimView, StorageObserved } from "../../src/doltdb/storage/StorageObserved.ts"
import { Api, Builders } from "../../src/index.ts"
import type { Action } from "../../src/plan/Action.ts"
import { defaultPolicy } from "../../src/replication/ReplicationObserved.ts"
import { pod, primarySql, standbySql } from "../replication/fixtures.ts"

const decode = Schema.decodeUnknownSync(Api.DoltDB)

const storageSpec = (size: string, extra: Record<string, unknown> = {}) =>
  decode({
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "DoltDB",
    metadata: { name: "db", namespace: "ns" },
    spec: { engineVersion: "2.3.1", replicas: 3, storage: { size, ...extra } }
  }).spec.storage

const claim = (ordinal: number, requested: string, capacity = requested, more: Partial<ClaimView> = {}): ClaimView => ({
  name: `dolt-data-db-${ordinal}`,
  ordinal,
  requested,
  capacity,
  bound: true,
  storageClassName: "standard",
  conditions: [],
  ...more
})

const observedStorage = (
  templateSize: string | undefined,
  claims: ReadonlyArray<ClaimView>,
  more: Partial<StorageObserved> = {}
): StorageObserved => ({
  claimTemplate:
    templateSize === undefined
      ? undefined
      : { size: templateSize, storageClassName: undefined, volumeSnapshot: undefined },
  statefulSetUid: "sts-uid",
  statefulSetDeleting: false,
  claims,
  expandable: new Map([["standard", true]]),
  ...more
})

const input = (size: string, observed: StorageObserved, more: Partial<StorageInput> = {}): StorageInput => ({
  storage: storageSpec(size),
  observed,
  replicas: 3,
  readyReplicas: 3,
  resizing: false,
  ...more
})

const three = (req: string, cap = req) => [0, 1, 2].map((i) => claim(i, req, cap))

describe("storageSituation", () => {
  const cases: ReadonlyArray<readonly [string, StorageInput, string]> = [
    ["nothing observed", { ...input("1Gi", observedStorage("1Gi", [])), observed: undefined }, "Unobserved"],
    ["a new DoltDB (no StatefulSet, no claim)", input("1Gi", observedStorage(undefined, [])), "Unobserved"],
    ["sizes agree", input("1Gi", observedStorage("1Gi", three("1Gi"))), "Settled"],
    ["a larger size", input("2Gi", observedStorage("1Gi", three("1Gi"))), "Resize"],
    ["the same size in another unit", input("1024Mi", observedStorage("1Gi", three("1Gi"))), "Settled"],
    ["a smaller size", input("512Mi", observedStorage("1Gi", three("1Gi"))), "ShrinkRefused"],
    [
      "a different storage class",
      {
        ...input("1Gi", observedStorage("1Gi", three("1Gi"))),
        storage: storageSpec("1Gi", { storageClassName: "fast" })
      },
      "ClassChangeRefused"
    ],
    [
      "a class without allowVolumeExpansion",
      input("2Gi", observedStorage("1Gi", three("1Gi"), { expandable: new Map([["standard", false]]) })),
      "NotExpandable"
    ],
    [
      "a class that could not be read is tried",
      input("2Gi", observedStorage("1Gi", three("1Gi"), { expandable: new Map() })),
      "Resize"
    ],
    [
      "the StatefulSet is being deleted",
      input("2Gi", observedStorage("1Gi", three("2Gi"), { statefulSetDeleting: true })),
      "Recreating"
    ],
    [
      "template re-created, one claim not patched yet (crash between steps)",
      input("2Gi", observedStorage("2Gi", [claim(0, "2Gi"), claim(1, "1Gi"), claim(2, "2Gi")])),
      "Resize"
    ],
    [
      "patched, a volume still growing",
      input("2Gi", observedStorage("2Gi", [claim(0, "2Gi"), claim(1, "2Gi", "1Gi"), claim(2, "2Gi")]), {
        resizing: true
      }),
      "Waiting"
    ],
    [
      "capacity reached but FileSystemResizePending",
      input(
        "2Gi",
        observedStorage("2Gi", [
          claim(0, "2Gi", "2Gi", { conditions: ["FileSystemResizePending"] }),
          claim(1, "2Gi"),
          claim(2, "2Gi")
        ]),
        { resizing: true }
      ),
      "Waiting"
    ],
    [
      "volumes done, a replica not ready",
      input("2Gi", observedStorage("2Gi", three("2Gi")), { resizing: true, readyReplicas: 2 }),
      "Waiting"
    ],
    [
      "the StatefulSet gone after the orphaning delete",
      input("2Gi", observedStorage(undefined, three("2Gi")), { resizing: true }),
      "Waiting"
    ],
    [
      "volumes done and replicas ready",
      input("2Gi", observedStorage("2Gi", three("2Gi")), { resizing: true }),
      "Settled"
    ],
    [
      "waitForVolumeResize false: growing volumes are not waited for",
      {
        ...input("2Gi", observedStorage("2Gi", [claim(0, "2Gi", "1Gi"), claim(1, "2Gi"), claim(2, "2Gi")]), {
          resizing: true
        }),
        storage: storageSpec("2Gi", { waitForVolumeResize: false })
      },
      "Settled"
    ],
    [
      "resizeInUseVolumes false: only the template changes",
      {
        ...input("2Gi", observedStorage("1Gi", three("1Gi"))),
        storage: storageSpec("2Gi", { resizeInUseVolumes: false })
      },
      "Resize"
    ],
    [
      "resizeInUseVolumes false, template done: old claims stay as they are",
      {
        ...input("2Gi", observedStorage("2Gi", three("1Gi")), { resizing: true }),
        storage: storageSpec("2Gi", { resizeInUseVolumes: false })
      },
      "Settled"
    ]
  ]
  for (const [name, i, expected] of cases)
    it(name, () => {
      assert.strictEqual(storageSituation(i)._tag, expected)
    })
})

describe("planStorage", () => {
  it("a resize patches every smaller claim, then deletes the StatefulSet orphaning its pods, and holds its apply", () => {
    const plan = planStorage(input("2Gi", observedStorage("1Gi", [claim(0, "1Gi"), claim(1, "2Gi"), claim(2, "1Gi")])))
    assert.deepStrictEqual(plan.steps, [
      { _tag: "PatchClaim", claim: "dolt-data-db-0", size: "2Gi" },
      { _tag: "PatchClaim", claim: "dolt-data-db-2", size: "2Gi" },
      { _tag: "OrphanStatefulSet", uid: "sts-uid" }
    ])
    assert.isTrue(plan.holdStatefulSet)
    assert.strictEqual(plan.condition?.reason, "ResizingStorage")
    assert.strictEqual(plan.ready?.reason, "ResizingStorage")
  })

  it("resizeInUseVolumes false: no claim patch, only the re-creation", () => {
    const plan = planStorage({
      ...input("2Gi", observedStorage("1Gi", three("1Gi"))),
      storage: storageSpec("2Gi", { resizeInUseVolumes: false })
    })
    assert.deepStrictEqual(plan.steps, [{ _tag: "OrphanStatefulSet", uid: "sts-uid" }])
  })

  it("refusals keep the StatefulSet's template, say how to migrate, and do not requeue", () => {
    const shrink = planStorage(input("512Mi", observedStorage("1Gi", three("1Gi"))))
    assert.strictEqual(shrink.storage.size, "1Gi")
    assert.match(shrink.warning?.message ?? "", /cannot decrease storage size from '1Gi' to '512Mi'/)
    assert.isUndefined(shrink.requeueMillis)
    const cls = planStorage({
      ...input("1Gi", observedStorage("1Gi", three("1Gi"))),
      storage: storageSpec("1Gi", { storageClassName: "fast" })
    })
    assert.isUndefined(cls.storage.storageClassName)
    assert.match(cls.condition?.message ?? "", /bootstrap\.from\.volumeSnapshot/)
    const fixed = planStorage(
      input("2Gi", observedStorage("1Gi", three("1Gi"), { expandable: new Map([["standard", false]]) }))
    )
    assert.strictEqual(fixed.condition?.reason, "StorageNotExpandable")
    assert.match(fixed.condition?.message ?? "", /StorageClass 'standard' does not set allowVolumeExpansion/)
    assert.strictEqual(fixed.storage.size, "1Gi")
    assert.deepStrictEqual(fixed.steps, [])
    assert.isUndefined(fixed.requeueMillis)
  })

  it("a finished resize reports StorageResized True; a DoltDB that never resized gets no condition", () => {
    assert.strictEqual(
      planStorage(input("2Gi", observedStorage("2Gi", three("2Gi")), { resizing: true })).condition?.reason,
      "StorageResized"
    )
    assert.isUndefined(planStorage(input("2Gi", observedStorage("2Gi", three("2Gi")))).condition)
  })
})

// --- through planDoltDB ---

const manifest = (size: string, status?: Record<string, unknown>) =>
  decode({
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "DoltDB",
    metadata: { name: "db", namespace: "ns", uid: "u-db", generation: 3, resourceVersion: "41" },
    spec: { engineVersion: "2.3.1", replicas: 3, storage: { size }, replication: { enabled: true } },
    ...(status === undefined ? {} : { status })
  }) as Builders.IdentifiedDoltDB

const healthyPods = (): ReadonlyArray<DoltDBPodView> =>
  [pod(0, primarySql(1, [{ remote: "db-1" }, { remote: "db-2" }])), pod(1, standbySql(1)), pod(2, standbySql(1))].map(
    (p) => ({ ...p, revision: "rev-1" })
  )

const observed = (
  doltdb: Builders.IdentifiedDoltDB,
  applied: Builders.IdentifiedDoltDB,
  storage: StorageObserved
): DoltDBObserved => ({
  now: 1_000_000,
  doltdb,
  children: new Map(
    Builders.buildDesiredState(applied).objects.map((c) => [childKey(c.kind, c.metadata.name), withAppliedHash(c).hash])
  ),
  statefulSet: { replicas: 3, readyReplicas: 3, updateRevision: "rev-1", currentRevision: "rev-1" },
  pods: healthyPods(),
  defaults: {
    failoverDelayMillis: defaultPolicy.failoverDelayMillis,
    allowUnsafeFailover: false,
    caughtUpSlackMillis: defaultPolicy.caughtUpSlackMillis,
    maxSwitchoverLagMillis: defaultPolicy.maxSwitchoverLagMillis,
    transitionTimeoutMillis: defaultPolicy.transitionTimeoutMillis
  },
  storage
})

const tags = (actions: ReadonlyArray<Action>) =>
  actions.flatMap((a) =>
    a._tag === "Apply"
      ? [`Apply ${a.object.kind}/${a.object.metadata.name}`]
      : a._tag === "Delete"
        ? [`Delete ${a.ref.kind}/${a.ref.name} ${a.propagationPolicy ?? ""}`.trim()]
        : a._tag === "Event"
          ? [`Event ${a.reason}`]
          : []
  )

describe("planDoltDB with storage", () => {
  const converged = () => {
    const base = manifest("1Gi")
    const first = planDoltDB(observed(base, base, observedStorage("1Gi", three("1Gi"))))
    return { ...base, status: first.status }
  }

  it("growing spec.storage.size: claims patched, StatefulSet orphan-deleted and not re-applied in the same pass; no pod deleted, no role change", () => {
    const before = converged()
    const after = { ...before, spec: { ...before.spec, storage: { ...before.spec.storage, size: "2Gi" } } }
    const plan = planDoltDB(observed(after, before, observedStorage("1Gi", three("1Gi"))))
    assert.deepStrictEqual(tags(plan.actions), [
      "Apply PersistentVolumeClaim/dolt-data-db-0",
      "Apply PersistentVolumeClaim/dolt-data-db-1",
      "Apply PersistentVolumeClaim/dolt-data-db-2",
      "Delete StatefulSet/db Orphan",
      "Event ResizingStorage"
    ])
    assert.isFalse(plan.actions.some((a) => a._tag === "AssumeRole" || (a._tag === "Delete" && a.ref.kind === "Pod")))
    const ready = plan.status.conditions?.find((c) => c.type === "Ready")
    assert.strictEqual(ready?.reason, "ResizingStorage")
    assert.strictEqual(plan.status.conditions?.find((c) => c.type === "StorageResized")?.status, "False")
  })

  it("once the StatefulSet is gone it is re-created with the new claim template; then waits; then StorageResized", () => {
    const before = converged()
    const grown = { ...before, spec: { ...before.spec, storage: { ...before.spec.storage, size: "2Gi" } } }
    const first = planDoltDB(observed(grown, before, observedStorage("1Gi", three("1Gi"))))
    const afterFirst = { ...grown, status: first.status }
    const children = observed(afterFirst, before, observedStorage(undefined, three("2Gi", "1Gi")))
    const without = new Map(children.children)
    without.delete(childKey("StatefulSet", "db"))
    const second = planDoltDB({ ...children, children: without, statefulSet: undefined })
    const sts = second.actions.find((a) => a._tag === "Apply" && a.object.kind === "StatefulSet")
    assert.isDefined(sts)
    const template = (
      sts as unknown as {
        object: {
          spec: { volumeClaimTemplates: ReadonlyArray<{ spec: { resources: { requests: { storage: string } } } }> }
        }
      }
    ).object.spec.volumeClaimTemplates[0]
    assert.strictEqual(template?.spec.resources.requests.storage, "2Gi")
    assert.strictEqual(second.status.conditions?.find((c) => c.type === "StorageResized")?.reason, "WaitStorageResize")
    const afterSecond = { ...afterFirst, status: second.status }
    const third = planDoltDB(observed(afterSecond, grown, observedStorage("2Gi", three("2Gi"))))
    assert.strictEqual(third.status.conditions?.find((c) => c.type === "StorageResized")?.reason, "StorageResized")
    assert.strictEqual(third.status.conditions?.find((c) => c.type === "Ready")?.status, "True")
    // and then nothing more to write
    const fourth = planDoltDB(
      observed({ ...afterSecond, status: third.status }, grown, observedStorage("2Gi", three("2Gi")))
    )
    assert.deepStrictEqual(fourth.actions, [])
    assert.isDefined(fourth.requeueAfter)
  })

  it("waiting on a growing volume writes status once, not on every poll", () => {
    const before = converged()
    const grown = { ...before, spec: { ...before.spec, storage: { ...before.spec.storage, size: "2Gi" } } }
    const growing = observedStorage("2Gi", [
      claim(0, "2Gi", "1Gi", { conditions: ["Resizing"] }),
      claim(1, "2Gi"),
      claim(2, "2Gi")
    ])
    const resizing = {
      ...grown,
      status: {
        ...grown.status,
        conditions: [
          ...(grown.status?.conditions ?? []),
          {
            type: "StorageResized",
            status: "False" as const,
            reason: "ResizingStorage",
            message: "Resizing storage",
            lastTransitionTime: "2026-01-01T00:00:00Z"
          }
        ]
      }
    }
    const first = planDoltDB(observed(resizing, grown, growing))
    assert.isTrue(first.actions.some((a) => a._tag === "PatchStatus"))
    const second = planDoltDB(observed({ ...resizing, status: first.status }, grown, growing))
    assert.isFalse(
      second.actions.some((a) => a._tag === "PatchStatus"),
      JSON.stringify(second.actions)
    )
    assert.isDefined(second.requeueAfter)
  })

  it("a refused class change keeps the StatefulSet appliable (pod template changes still roll) and warns once", () => {
    const before = converged()
    const changed = {
      ...before,
      spec: {
        ...before.spec,
        podAnnotations: { a: "b" },
        storage: { ...before.spec.storage, storageClassName: "fast" }
      }
    }
    const plan = planDoltDB(observed(changed, before, observedStorage("1Gi", three("1Gi"))))
    const sts = plan.actions.find((a) => a._tag === "Apply" && a.object.kind === "StatefulSet")
    const templates = (
      sts as
        | { object: { spec: { volumeClaimTemplates: ReadonlyArray<{ spec: Record<string, unknown> }> } } }
        | undefined
    )?.object.spec.volumeClaimTemplates
    assert.isDefined(templates?.[0], "the StatefulSet is applied for the pod template change")
    assert.isUndefined(templates?.[0]?.spec.storageClassName)
    assert.deepStrictEqual(
      plan.actions.filter((a) => a._tag === "Event").map((a) => (a._tag === "Event" ? a.reason : "")),
      ["StorageClassChangeRefused"]
    )
    const again = planDoltDB(
      observed({ ...changed, status: plan.status }, before, observedStorage("1Gi", three("1Gi")))
    )
    assert.isFalse(again.actions.some((a) => a._tag === "Event"))
  })
})
