import { assert, describe, it } from "@effect/vitest"
import { planReplication } from "../../src/replication/planReplication.ts"
import { RecreatedQuietMillis } from "../../src/replication/RecreatedPod.ts"
import {
  cluster,
  deletions,
  demotions,
  failover0to1,
  observed,
  pod,
  primarySql,
  promotions,
  standbySql,
  state,
  unreachable,
  warnings
} from "./fixtures.ts"

// The failover fenced the unreachable old primary by deleting its pod (uid-0); the StatefulSet re-created it
// (uid-0-new), and its server boots with the role persisted on its volume: primary@1 (soak seed 97014).
const failover = failover0to1
const standbys = [pod(1, standbySql(1, 0)), pod(2, standbySql(1, 0))]
const plan = (recreated: ReturnType<typeof pod>, now = 100_000) =>
  planReplication(
    observed(
      [recreated, ...standbys],
      state({ transition: failover, primaryUnavailableSince: 96_000 }),
      { allowUnsafeFailover: true },
      now
    ),
    cluster
  )

describe("fencing by deletion: the old primary's pod re-created", () => {
  it("not started yet: the deletion fenced it, the target is promoted", () => {
    const d = plan(pod(0, unreachable, { uid: "uid-0-new", ready: false, serverStarted: false }))
    assert.deepStrictEqual(promotions(d.actions), ["db-1@2"])
  })

  it("started but unreachable: nothing is promoted and it is not deleted again", () => {
    for (const recreated of [
      pod(0, unreachable, { uid: "uid-0-new", ready: false, serverStarted: true }),
      pod(0, unreachable, { uid: "uid-0-new", ready: true })
    ]) {
      const d = plan(recreated)
      assert.deepStrictEqual(promotions(d.actions), [])
      assert.deepStrictEqual(deletions(d.actions), [])
      assert.strictEqual(d.next.transition?.to, 1, "the transition stays in flight")
      assert.isDefined(d.requeueAfter)
      assert.deepStrictEqual(warnings(d.actions), [], "quiet while a re-created server may still be opening")
      assert.isUndefined(d.blocked)
    }
  })

  it("still unreachable past the quiet period: a Warning FailoverBlocked and a False condition say why", () => {
    const d = plan(
      pod(0, unreachable, { uid: "uid-0-new", ready: true, serverStarted: true }),
      failover.startedAt + RecreatedQuietMillis
    )
    assert.deepStrictEqual(promotions(d.actions), [])
    assert.deepStrictEqual(warnings(d.actions), ["FailoverBlocked"])
    assert.strictEqual(d.blocked?.reason, "FailoverBlocked")
    assert.include(d.blocked?.message ?? "", "db-0 was re-created")
  })

  it("answering as a primary at its old epoch: demoted at the new epoch, then the target is promoted", () => {
    const d = plan(pod(0, primarySql(1), { uid: "uid-0-new", serverStarted: true }))
    assert.deepStrictEqual(demotions(d.actions), ["db-0@2"])
    assert.deepStrictEqual(promotions(d.actions), ["db-1@2"])
    const order = d.actions.map((a) => (a._tag === "AssumeRole" ? `${a.role}:${a.target.pod}` : a._tag))
    assert.isBelow(order.indexOf("standby:db-0"), order.indexOf("primary:db-1"), "fence before promote")
  })

  it("answering as a standby: fenced, the target is promoted", () => {
    const d = plan(pod(0, standbySql(1, 0), { uid: "uid-0-new", serverStarted: true }))
    assert.deepStrictEqual(promotions(d.actions), ["db-1@2"])
  })

  it("the target already promoted by a pass whose completion was lost: completes, demoting it if it answers", () => {
    const promoted = [pod(1, primarySql(2)), pod(2, standbySql(1, 0))]
    const resume = (recreated: ReturnType<typeof pod>) =>
      planReplication(
        observed([recreated, ...promoted], state({ transition: failover, primaryUnavailableSince: 96_000 }), {
          allowUnsafeFailover: true
        }),
        cluster
      )
    const silent = resume(pod(0, unreachable, { uid: "uid-0-new", ready: true, serverStarted: true }))
    assert.strictEqual(silent.next.transition, undefined, "no wait that cannot undo the promotion")
    assert.strictEqual(silent.next.currentPrimaryPodIndex, 1)
    assert.deepStrictEqual(promotions(silent.actions), [])
    const answering = resume(pod(0, primarySql(1), { uid: "uid-0-new", serverStarted: true }))
    assert.strictEqual(answering.next.transition, undefined)
    assert.deepStrictEqual(demotions(answering.actions), ["db-0@2"])
  })

  it("the pod of the same uid, unreachable: deleted (the first fence), nothing promoted", () => {
    const d = plan(pod(0, unreachable, { ready: false, serverStarted: true }))
    assert.deepStrictEqual(deletions(d.actions), ["db-0"])
    assert.deepStrictEqual(promotions(d.actions), [])
  })
})
