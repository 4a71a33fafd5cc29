/**
 * An aborted switchover: the transition ends even when the status write that said so is lost, and the request is
 * re-attempted with a growing delay.
 */
import { assert, describe, it } from "@effect/vitest"
import { planReplication, type ReplicationStep } from "../../src/replication/planReplication.ts"
import type { PrimaryTransition } from "../../src/replication/ReplicationObserved.ts"
import { MaxRetryMillis, retryDelayMillis } from "../../src/replication/SwitchoverBackoff.ts"
import { cluster, healthy3, observed, pod, primarySql, standbySql, state, unreachable, warnings } from "./fixtures.ts"

const roleChanges = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) =>
    a._tag === "AssumeRole"
      ? [`${a.target.pod}:${a.role}@${a.epoch}`]
      : a._tag === "TransitionToStandby"
        ? [`${a.target.pod}:drain@${a.epoch}`]
        : []
  )

const toOne: PrimaryTransition = {
  kind: "Switchover",
  from: 0,
  to: 1,
  epoch: 2,
  fromPodUid: "uid-0",
  startedAt: 100_000
}

describe("an aborted switchover", () => {
  it("the drained old primary is put back higher, the request stays pending with a back-off, Ready is False", () => {
    const pods = [pod(0, standbySql(2)), pod(1, standbySql(1)), pod(2, standbySql(1))]
    const d = planReplication(observed(pods, state({ transition: toOne }), { desiredPrimary: 1 }, 101_000), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), ["db-0:primary@3"])
    assert.deepStrictEqual(warnings(d.actions), ["SwitchoverAborted"])
    assert.strictEqual(d.next.transition, undefined)
    assert.strictEqual(d.next.primaryRequest, 0, "the request is not honoured, so it stays pending")
    assert.deepStrictEqual(d.next.switchoverBackoff, { to: 1, attempts: 1, retryAt: 101_000 + 5_000 })
    assert.strictEqual(d.blocked?.reason, "SwitchoverAborted")
    assert.strictEqual(d.primarySwitched.status, "False")
  })

  it("soak seed 4243: the abort's status write was lost; the old primary serves above the transition's epoch", () => {
    // Before: the recorded transition drained db-0 at epoch 2 while it was primary at 3, failing for good.
    const pods = [
      pod(0, primarySql(3, [{ remote: "db-1" }, { remote: "db-2" }])),
      pod(1, standbySql(3)),
      pod(2, standbySql(3))
    ]
    const d = planReplication(observed(pods, state({ transition: toOne }), { desiredPrimary: 1 }, 101_500), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), [])
    assert.strictEqual(d.next.transition, undefined)
    assert.strictEqual(d.next.currentPrimaryPodIndex, 0)
    assert.strictEqual(d.next.replicationEpoch, 3)
    assert.deepStrictEqual(d.next.switchoverBackoff, { to: 1, attempts: 1, retryAt: 101_500 + 5_000 })
    assert.strictEqual(d.blocked?.reason, "SwitchoverAborted")
  })

  it("the same with the podIndex edited back to the primary: nothing pending, Ready", () => {
    const pods = [
      pod(0, primarySql(3, [{ remote: "db-1" }, { remote: "db-2" }])),
      pod(1, standbySql(3)),
      pod(2, standbySql(3))
    ]
    const d = planReplication(observed(pods, state({ transition: toOne }), { desiredPrimary: 0 }, 101_500), cluster)
    assert.strictEqual(d.next.transition, undefined)
    assert.strictEqual(d.blocked, undefined)
    assert.strictEqual(d.primarySwitched.status, "True")
  })

  it("the rolling update's switchover waits for the back-off too (seed 20261127 run 322)", () => {
    // It asks only once no transition is recorded, i.e. after the abort: the back-off must still be there.
    const o = observed(
      healthy3(3),
      state({ replicationEpoch: 3, switchoverBackoff: { to: 1, attempts: 1, retryAt: 105_000 } })
    )
    const d = planReplication({ ...o, switchoverRequest: 1 }, cluster)
    assert.strictEqual(d.persistFirst, undefined)
    assert.deepStrictEqual(roleChanges(d.actions), [])
    assert.strictEqual(d.blocked?.reason, "SwitchoverAborted")
    const later = planReplication({ ...o, now: 105_000, switchoverRequest: 1 }, cluster)
    assert.strictEqual(later.persistFirst?.transition?.to, 1)
  })

  it("the back-off ends when its delay passed with nothing pending", () => {
    const b = { to: 1, attempts: 2, retryAt: 105_000 }
    const kept = planReplication(observed(healthy3(3), state({ replicationEpoch: 3, switchoverBackoff: b })), cluster)
    assert.deepStrictEqual(kept.next.switchoverBackoff, b)
    const over = planReplication(
      observed(healthy3(3), state({ replicationEpoch: 3, switchoverBackoff: b }), {}, 105_000),
      cluster
    )
    assert.strictEqual(over.next.switchoverBackoff, undefined)
  })

  it("superseded and then the re-promoted primary lost: a debounced failover, never a step at the old epoch", () => {
    const pods = [pod(0, unreachable), pod(1, standbySql(3)), pod(2, standbySql(3))]
    const d = planReplication(observed(pods, state({ transition: toOne }), { desiredPrimary: 1 }, 101_500), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), [])
    assert.strictEqual(d.next.transition, undefined)
    assert.strictEqual(d.blocked?.reason, "PrimaryUnavailable")
    assert.strictEqual(d.next.primaryUnavailableSince, 101_500)
  })

  it("is re-attempted only once its delay has passed, then doubles up to the cap", () => {
    const backoff = { to: 1, attempts: 2, retryAt: 120_000 }
    const early = planReplication(
      observed(healthy3(3), state({ replicationEpoch: 3, switchoverBackoff: backoff }), { desiredPrimary: 1 }, 119_000),
      cluster
    )
    assert.strictEqual(early.persistFirst, undefined)
    assert.deepStrictEqual(roleChanges(early.actions), [])
    assert.strictEqual(early.blocked?.reason, "SwitchoverAborted")
    assert.include(early.blocked?.message ?? "", "2 times in a row")
    assert.strictEqual(early.requeueAfter?.millis, 1_000)
    const due = planReplication(
      observed(healthy3(3), state({ replicationEpoch: 3, switchoverBackoff: backoff }), { desiredPrimary: 1 }, 120_000),
      cluster
    )
    assert.strictEqual(due.persistFirst?.transition?.to, 1)
    assert.deepStrictEqual(roleChanges(due.actions), ["db-0:drain@4", "db-1:primary@4"])
    assert.deepStrictEqual([1, 2, 3, 4, 5, 9].map(retryDelayMillis), [5_000, 10_000, 20_000, 30_000, 30_000, 30_000])
    assert.strictEqual(MaxRetryMillis, 30_000)
  })

  it("a second abort towards the same index doubles the delay; towards another index it starts over", () => {
    const pods = [pod(0, standbySql(4)), pod(1, standbySql(3)), pod(2, standbySql(3))]
    const t = { ...toOne, epoch: 4, startedAt: 199_000 }
    const again = planReplication(
      observed(
        pods,
        state({ transition: t, switchoverBackoff: { to: 1, attempts: 1, retryAt: 0 } }),
        { desiredPrimary: 1 },
        200_000
      ),
      cluster
    )
    assert.deepStrictEqual(again.next.switchoverBackoff, { to: 1, attempts: 2, retryAt: 210_000 })
    const other = planReplication(
      observed(
        pods,
        state({ transition: t, switchoverBackoff: { to: 2, attempts: 3, retryAt: 0 } }),
        { desiredPrimary: 1 },
        200_000
      ),
      cluster
    )
    assert.deepStrictEqual(other.next.switchoverBackoff, { to: 1, attempts: 1, retryAt: 205_000 })
  })

  it("a new podIndex is not held by another index's back-off; reaching the index ends it", () => {
    const backoff = { to: 1, attempts: 3, retryAt: 500_000 }
    const d = planReplication(
      observed(healthy3(3), state({ replicationEpoch: 3, switchoverBackoff: backoff }), { desiredPrimary: 2 }, 200_000),
      cluster
    )
    assert.strictEqual(d.persistFirst?.transition?.to, 2)
    const done = [
      pod(0, standbySql(4)),
      pod(1, primarySql(4, [{ remote: "db-0" }, { remote: "db-2" }])),
      pod(2, standbySql(4))
    ]
    const completed = planReplication(
      observed(
        done,
        state({
          transition: { ...toOne, epoch: 4, targetConfirmed: true },
          switchoverBackoff: { ...backoff, retryAt: 0 }
        }),
        { desiredPrimary: 1 },
        200_000
      ),
      cluster
    )
    assert.strictEqual(completed.next.currentPrimaryPodIndex, 1)
    assert.strictEqual(completed.next.switchoverBackoff, undefined)
  })
})
