import { assert, describe, it } from "@effect/vitest"
import { planReplication } from "../../src/replication/planReplication.ts"
import type { PrimaryTransition } from "../../src/replication/ReplicationObserved.ts"
import {
  brokenSql,
  cluster,
  deletions,
  failover0to1,
  observed,
  pod,
  primarySql,
  promotions,
  standbySql,
  state,
  unreachable
} from "./fixtures.ts"

const failover: PrimaryTransition = failover0to1

// Soak seed 50033: the pass that promoted the target did not record its completion (API errors, operator restart);
// the next pass found the target primary, judged it "not a promotable standby" and promoted another pod at the same
// epoch: both ended in detected_broken_config, and the cluster had no primary for good.
describe("resuming a failover whose target was already promoted", () => {
  it("keeps the promoted target, fences the old primary, and completes; no second primary at that epoch", () => {
    const pods = [pod(0, primarySql(1, [{ remote: "db-2" }])), pod(1, primarySql(2)), pod(2, standbySql(1))]
    const d = planReplication(observed(pods, state({ transition: failover })), cluster)
    assert.deepStrictEqual(promotions(d.actions), ["db-1@2"])
    const demoted = d.actions.flatMap((a) =>
      a._tag === "AssumeRole" && a.role === "standby" ? [`${a.target.pod}@${a.epoch}`] : []
    )
    assert.deepStrictEqual(demoted, ["db-0@2"], "the old primary is fenced first")
    assert.strictEqual(d.next.currentPrimaryPodIndex, 1)
    assert.strictEqual(d.next.transition, undefined)
  })

  it("a failover that must move to another pod does so at a new epoch", () => {
    const pods = [
      pod(0, unreachable, { uid: "uid-0-new", ready: false }),
      pod(1, brokenSql(1), { ready: false }),
      pod(2, standbySql(1, 0))
    ]
    const d = planReplication(
      observed(pods, state({ transition: failover, primaryUnavailableSince: 99_000 }), { allowUnsafeFailover: true }),
      cluster
    )
    assert.deepStrictEqual(promotions(d.actions), ["db-2@3"])
    assert.deepInclude(d.persistFirst?.transition ?? {}, { to: 2, epoch: 3 })
  })
})

// The target became unreachable after a pass that may have promoted it (its completion never recorded): promoting
// another pod at a higher epoch would leave two writable primaries for clients that still reach the first.
describe("a failover's target given up while it may be primary", () => {
  const gone = [pod(0, unreachable, { uid: "uid-0-new", ready: false })]
  const input = (pods: ReadonlyArray<ReturnType<typeof pod>>, t: PrimaryTransition, now = 100_000, guard = false) =>
    observed(
      pods,
      state({ transition: t, primaryUnavailableSince: 99_000 }),
      { allowUnsafeFailover: true, ...(guard ? { guardThresholdMillis: 5_000 } : {}) },
      now
    )

  it("is fenced first: its pod is deleted, the fence recorded before the delete, nothing promoted", () => {
    const pods = [...gone, pod(1, unreachable, { ready: false }), pod(2, standbySql(1, 0))]
    const d = planReplication(input(pods, failover), cluster)
    assert.deepStrictEqual(promotions(d.actions), [])
    assert.deepStrictEqual(deletions(d.actions), ["db-1"])
    assert.deepInclude(d.persistFirst?.transition ?? {}, { to: 1, epoch: 2, abandonedTargetUid: "uid-1" })
  })

  it("stays fenced while that pod (that uid) exists, and past the transition timeout", () => {
    const t = { ...failover, abandonedTargetUid: "uid-1", abandonedTargetSince: 100_000 }
    const pods = [...gone, pod(1, unreachable, { ready: false }), pod(2, standbySql(1, 0))]
    for (const now of [101_000, 500_000]) {
      const d = planReplication(input(pods, t, now), cluster)
      assert.deepStrictEqual(promotions(d.actions), [], `at ${now}`)
      assert.deepStrictEqual(deletions(d.actions), ["db-1"], `at ${now}`)
      assert.strictEqual(d.next.transition?.abandonedTargetUid, "uid-1")
    }
  })

  it("once its pod is gone (recreated with a new uid), another pod is promoted at a new epoch", () => {
    const t = { ...failover, abandonedTargetUid: "uid-1", abandonedTargetSince: 100_000 }
    const pods = [...gone, pod(1, unreachable, { uid: "uid-1-new", ready: false }), pod(2, standbySql(1, 0))]
    const d = planReplication(input(pods, t, 101_000), cluster)
    assert.deepStrictEqual(promotions(d.actions), ["db-2@3"])
    assert.strictEqual(d.persistFirst?.transition?.abandonedTargetUid, undefined)
  })

  it("with the isolation guard, its threshold must pass too: a gone pod object proves nothing", () => {
    const t = { ...failover, abandonedTargetUid: "uid-1", abandonedTargetSince: 100_000 }
    const pods = [
      ...gone,
      pod(1, unreachable, { exists: false, uid: undefined, ready: false }),
      pod(2, standbySql(1, 0))
    ]
    const early = planReplication(input(pods, t, 106_000, true), cluster)
    assert.deepStrictEqual(promotions(early.actions), [])
    const late = planReplication(input(pods, t, 107_000, true), cluster)
    assert.deepStrictEqual(promotions(late.actions), ["db-2@3"])
  })

  it("is not waited for when it answers as a standby, or when a switchover never confirmed it", () => {
    const answering = [...gone, pod(1, standbySql(1, 0), { ready: false }), pod(2, standbySql(1, 0))]
    const t = { ...failover, abandonedTargetUid: "uid-1", abandonedTargetSince: 100_000 }
    assert.deepStrictEqual(promotions(planReplication(input(answering, t), cluster).actions).length, 1)
    const switchover: PrimaryTransition = { ...failover, kind: "Switchover" }
    const pods = [pod(0, unreachable, { exists: false, uid: undefined }), pod(1, unreachable), pod(2, standbySql(1, 0))]
    const d = planReplication(input(pods, switchover), cluster)
    assert.deepStrictEqual(deletions(d.actions), [])
  })
})
