import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Snapshot } from "../../src/api/Snapshot.ts"
import type { Action } from "../../src/plan/Action.ts"
import { pickSources, planSnapshot, volumeSnapshotName } from "../../src/snapshot/planSnapshot.ts"
import type { SnapshotObserved, SnapshotSource, VolumeSnapshotView } from "../../src/snapshot/SnapshotObserved.ts"

const decode = Schema.decodeUnknownSync(Snapshot)
const T0 = Date.parse("2026-12-06T10:00:00Z")
const minute = 60_000

const snapshot = (spec: Record<string, unknown> = {}, status?: Record<string, unknown>) =>
  decode({
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "Snapshot",
    metadata: {
      name: "nightly",
      namespace: "ns",
      uid: "u-snap",
      generation: 1,
      creationTimestamp: "2026-12-06T10:00:00Z"
    },
    spec: { frequencySchedule: "* * * * *", doltDBRef: { name: "db" }, ...spec },
    ...(status === undefined ? {} : { status })
  }) as SnapshotObserved["snapshot"]

const source = (ordinal: number, role: SnapshotSource["role"], more: Partial<SnapshotSource> = {}): SnapshotSource => ({
  ordinal,
  pod: `db-${ordinal}`,
  claim: `dolt-data-db-${ordinal}`,
  available: true,
  role,
  caughtUp: role === "standby",
  ...more
})

const cluster = [source(0, "primary"), source(1, "standby"), source(2, "standby")]

const observed = (
  now: number,
  snap: SnapshotObserved["snapshot"],
  volumeSnapshots: ReadonlyArray<VolumeSnapshotView> = [],
  more: Partial<SnapshotObserved> = {}
): SnapshotObserved => ({
  now,
  snapshot: snap,
  api: true,
  snapshotClass: { _tag: "DriverDefault" },
  doltdb: { _tag: "Found", name: "db", uid: "u-db", sources: cluster },
  volumeSnapshots,
  ...more
})

const applied = (actions: ReadonlyArray<Action>) =>
  actions.flatMap((a) => (a._tag === "Apply" && a.object.kind === "VolumeSnapshot" ? [a.object] : []))
const deleted = (actions: ReadonlyArray<Action>) => actions.flatMap((a) => (a._tag === "Delete" ? [a.ref.name] : []))
const ready = (plan: {
  status: { conditions?: ReadonlyArray<{ type: string; status: string; reason: string; message: string }> }
}) => plan.status.conditions?.find((c) => c.type === "Ready")

const vs = (time: number, readyToUse: boolean, more: Partial<VolumeSnapshotView> = {}): VolumeSnapshotView => ({
  name: volumeSnapshotName("nightly", time, undefined),
  claim: "dolt-data-db-1",
  scheduledTime: time,
  readyToUse,
  deleting: false,
  ...more
})

describe("pickSources", () => {
  it("one caught-up standby, the lowest ordinal", () => {
    assert.deepStrictEqual(
      pickSources(cluster, false).map((s) => s.pod),
      ["db-1"]
    )
  })
  it("the primary when no standby is caught up or available", () => {
    const lagging = [
      source(0, "primary"),
      source(1, "standby", { caughtUp: false }),
      source(2, "standby", { available: false })
    ]
    assert.deepStrictEqual(
      pickSources(lagging, false).map((s) => s.pod),
      ["db-0"]
    )
  })
  it("every available replica with everyReplica", () => {
    assert.deepStrictEqual(
      pickSources([...cluster.slice(0, 2), source(2, "standby", { available: false })], true).map((s) => s.pod),
      ["db-0", "db-1"]
    )
  })
  it("a standalone server; nothing when no pod is ready", () => {
    assert.deepStrictEqual(
      pickSources([source(0, undefined)], false).map((s) => s.pod),
      ["db-0"]
    )
    assert.deepStrictEqual(pickSources([source(0, "primary", { available: false })], false), [])
  })
})

describe("planSnapshot", () => {
  it("before the first fire: nothing taken, next fire in status and a requeue at it", () => {
    const plan = planSnapshot(observed(T0 + 20_000, snapshot()))
    assert.deepStrictEqual(applied(plan.actions), [])
    assert.strictEqual(plan.status.nextScheduleTime, "2026-12-06T10:01:00Z")
    assert.strictEqual(ready(plan)?.reason, "Scheduled")
    assert.strictEqual(plan.requeueAfter?.millis, 40_000)
  })

  it("a fire: one VolumeSnapshot of the caught-up standby, named by its scheduled time, labelled, no class when none is set", () => {
    const plan = planSnapshot(observed(T0 + minute + 500, snapshot()))
    const [object, ...rest] = applied(plan.actions)
    assert.deepStrictEqual(rest, [])
    assert.strictEqual(object?.metadata.name, "nightly-20261206100100")
    assert.deepStrictEqual(object?.spec, { source: { persistentVolumeClaimName: "dolt-data-db-1" } })
    assert.strictEqual(object?.metadata.labels?.["k8s.dolthub.com/snapshot" as never], "nightly")
    assert.isUndefined(object?.metadata.ownerReferences, "kept when the Snapshot is deleted (deletionPolicy Retain)")
    assert.strictEqual(plan.status.lastScheduleTime, "2026-12-06T10:01:00Z")
    assert.strictEqual(plan.status.nextScheduleTime, "2026-12-06T10:02:00Z")
    assert.deepStrictEqual(
      plan.status.snapshots?.map((s) => [s.name, s.readyToUse]),
      [["nightly-20261206100100", false]]
    )
  })

  it("the same plan again after a crash re-applies the same name (no second snapshot); a fire already recorded is not re-taken", () => {
    const first = planSnapshot(observed(T0 + minute + 500, snapshot()))
    const again = planSnapshot(observed(T0 + minute + 900, snapshot()))
    assert.deepStrictEqual(
      applied(again.actions).map((o) => o.metadata.name),
      applied(first.actions).map((o) => o.metadata.name)
    )
    const recorded = planSnapshot(observed(T0 + minute + 900, snapshot({}, first.status), [vs(T0 + minute, false)]))
    assert.deepStrictEqual(applied(recorded.actions), [])
  })

  it("missed fires (operator down for 10 minutes) are taken once, at the latest scheduled time", () => {
    const plan = planSnapshot(
      observed(T0 + 10 * minute + 5_000, snapshot({}, { lastScheduleTime: "2026-12-06T10:00:00Z" }))
    )
    assert.deepStrictEqual(
      applied(plan.actions).map((o) => o.metadata.name),
      ["nightly-20261206101000"]
    )
  })

  it("everyReplica: one VolumeSnapshot per available replica, suffixed by ordinal; the class when named", () => {
    const plan = planSnapshot(
      observed(T0 + minute, snapshot({ everyReplica: true }), [], {
        snapshotClass: { _tag: "Named", name: "csi-snap" }
      })
    )
    const objects = applied(plan.actions)
    assert.deepStrictEqual(
      objects.map((o) => o.metadata.name),
      ["nightly-20261206100100-0", "nightly-20261206100100-1", "nightly-20261206100100-2"]
    )
    assert.isTrue(
      objects.every((o) => (o.spec as { volumeSnapshotClassName?: string }).volumeSnapshotClassName === "csi-snap")
    )
  })

  it("keep 2 after 4 ready fires: the 2 oldest are deleted; an unready newer round is kept without counting", () => {
    const s = snapshot({ keep: 2 }, { lastScheduleTime: "2026-12-06T10:04:00Z" })
    const four = [4, 3, 2, 1].map((i) => vs(T0 + i * minute, true))
    const plan = planSnapshot(observed(T0 + 4 * minute + 10_000, s, four))
    assert.deepStrictEqual(deleted(plan.actions), ["nightly-20261206100200", "nightly-20261206100100"])
    assert.deepStrictEqual(
      plan.status.snapshots?.map((r) => r.name),
      ["nightly-20261206100400", "nightly-20261206100300"]
    )
    const withPending = [vs(T0 + 5 * minute, false), ...four]
    const later = planSnapshot(
      observed(
        T0 + 5 * minute + 10_000,
        { ...s, status: { ...s.status, lastScheduleTime: "2026-12-06T10:05:00Z" } },
        withPending
      )
    )
    assert.deepStrictEqual(deleted(later.actions), ["nightly-20261206100200", "nightly-20261206100100"])
  })

  it("maxAge deletes old rounds but never the newest ready one", () => {
    const s = snapshot({ maxAge: "2m" }, { lastScheduleTime: "2026-12-06T10:04:00Z" })
    const plan = planSnapshot(
      observed(T0 + 4 * minute + 10_000, s, [
        vs(T0 + 4 * minute, false),
        vs(T0 + 3 * minute, true),
        vs(T0 + minute, true)
      ])
    )
    assert.deepStrictEqual(deleted(plan.actions), ["nightly-20261206100100"])
    const stale = planSnapshot(observed(T0 + 60 * minute, s, [vs(T0 + 3 * minute, true), vs(T0 + minute, true)]))
    assert.deepStrictEqual(deleted(stale.actions), ["nightly-20261206100100"])
  })

  it("failures are conditions plus one Warning event, not crashes", () => {
    const noApi = planSnapshot(observed(T0 + minute, snapshot(), [], { api: false }))
    assert.strictEqual(ready(noApi)?.reason, "VolumeSnapshotAPIMissing")
    assert.deepStrictEqual(applied(noApi.actions), [])
    assert.isTrue(noApi.actions.some((a) => a._tag === "Event" && a.type === "Warning"))
    const again = planSnapshot(observed(T0 + 2 * minute, snapshot({}, noApi.status), [], { api: false }))
    assert.isFalse(
      again.actions.some((a) => a._tag === "Event"),
      "the warning is not repeated"
    )

    const noClass = planSnapshot(
      observed(T0 + minute, snapshot({ volumeSnapshotClassName: "nope" }), [], {
        snapshotClass: { _tag: "Missing", name: "nope" }
      })
    )
    assert.strictEqual(ready(noClass)?.reason, "VolumeSnapshotClassNotFound")
    assert.match(ready(noClass)?.message ?? "", /'nope'/)
    assert.deepStrictEqual(applied(noClass.actions), [])

    const badCron = planSnapshot(observed(T0 + minute, snapshot({ frequencySchedule: "every minute" })))
    assert.strictEqual(ready(badCron)?.reason, "InvalidSchedule")
    assert.match(ready(badCron)?.message ?? "", /frequencySchedule/)

    const noDb = planSnapshot(observed(T0 + minute, snapshot(), [], { doltdb: { _tag: "NotFound", name: "db" } }))
    assert.strictEqual(ready(noDb)?.reason, "DoltDBNotFound")

    const failedVs = planSnapshot(
      observed(T0 + minute + 10_000, snapshot({}, { lastScheduleTime: "2026-12-06T10:01:00Z" }), [
        vs(T0 + minute, false, { error: "Failed to create snapshot content" })
      ])
    )
    assert.strictEqual(ready(failedVs)?.reason, "SnapshotFailed")
    assert.match(ready(failedVs)?.message ?? "", /Failed to create snapshot content/)
    assert.strictEqual(failedVs.status.snapshots?.[0]?.error, "Failed to create snapshot content")

    const noPod = planSnapshot(
      observed(T0 + minute, snapshot(), [], {
        doltdb: { _tag: "Found", name: "db", uid: "u", sources: [source(0, "primary", { available: false })] }
      })
    )
    assert.strictEqual(ready(noPod)?.reason, "NoVolumeToSnapshot")
    assert.isUndefined(noPod.status.lastScheduleTime, "the fire is retried, not skipped")
  })

  it("deletionPolicy Delete: the VolumeSnapshots are owned by the Snapshot (the garbage collector deletes them with it)", () => {
    const plan = planSnapshot(observed(T0 + minute, snapshot({ deletionPolicy: "Delete" })))
    assert.deepStrictEqual(applied(plan.actions)[0]?.metadata.ownerReferences, [
      {
        apiVersion: "k8s.dolthub.com/v1alpha",
        kind: "Snapshot",
        name: "nightly",
        uid: "u-snap",
        blockOwnerDeletion: true
      }
    ])
  })

  it("ready rounds: lastSuccessfulTime, and a converged Snapshot writes nothing", () => {
    const s = snapshot({}, { lastScheduleTime: "2026-12-06T10:01:00Z" })
    const first = planSnapshot(observed(T0 + minute + 10_000, s, [vs(T0 + minute, true, { restoreSize: "1Gi" })]))
    assert.strictEqual(first.status.lastSuccessfulTime, "2026-12-06T10:01:00Z")
    assert.strictEqual(first.status.snapshots?.[0]?.restoreSize, "1Gi")
    const second = planSnapshot(
      observed(T0 + minute + 20_000, { ...s, status: first.status }, [vs(T0 + minute, true, { restoreSize: "1Gi" })])
    )
    assert.deepStrictEqual(second.actions, [])
    assert.isDefined(second.requeueAfter, "the next fire is still scheduled")
  })

  it("descriptors as the reference's CronJob accepts them: @every 15s fires every 15 s, @hourly once an hour", () => {
    const every = snapshot({ frequencySchedule: "@every 15s" })
    assert.deepStrictEqual(applied(planSnapshot(observed(T0 + 14_000, every)).actions), [])
    const first = planSnapshot(observed(T0 + 15_000, every))
    assert.deepStrictEqual(
      applied(first.actions).map((o) => o.metadata.name),
      [volumeSnapshotName("nightly", T0 + 15_000, undefined)]
    )
    assert.strictEqual(first.status.lastScheduleTime, "2026-12-06T10:00:15Z")
    assert.strictEqual(first.status.nextScheduleTime, "2026-12-06T10:00:30Z")
    // Late by 20 s: one catch-up fire at the latest due time, the next in whole periods from it.
    const late = planSnapshot(
      observed(T0 + 50_000, snapshot({ frequencySchedule: "@every 15s" }, { lastScheduleTime: "2026-12-06T10:00:15Z" }))
    )
    assert.deepStrictEqual(
      applied(late.actions).map((o) => o.metadata.name),
      [volumeSnapshotName("nightly", T0 + 45_000, undefined)]
    )
    assert.strictEqual(late.status.nextScheduleTime, "2026-12-06T10:01:00Z")
    const hourly = planSnapshot(observed(T0 + minute, snapshot({ frequencySchedule: "@hourly" })))
    assert.deepStrictEqual(applied(hourly.actions), [])
    assert.strictEqual(hourly.status.nextScheduleTime, "2026-12-06T11:00:00Z")
    const sixFields = planSnapshot(observed(T0 + minute, snapshot({ frequencySchedule: "*/15 * * * * *" })))
    assert.strictEqual(ready(sixFields)?.reason, "InvalidSchedule")
    assert.match(ready(sixFields)?.message ?? "", /5 fields/)
  })
})
