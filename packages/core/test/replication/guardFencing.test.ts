import { assert, describe, it } from "@effect/vitest"
import { OperatorMarginMillis } from "../../src/guard/GuardView.ts"
import { planReplication } from "../../src/replication/planReplication.ts"
import type { PrimaryTransition } from "../../src/replication/ReplicationObserved.ts"
import { cluster, deletions, observed, pod, promotions, standbySql, state, unreachable } from "./fixtures.ts"

const threshold = 5_000
const guardOn = { guardThresholdMillis: threshold }
const lost = (over: Parameters<typeof pod>[2] = {}) =>
  pod(0, unreachable, { ready: false, roleLabel: "primary", guarded: true, ...over })
const standbys = [pod(1, standbySql(1, 9_000)), pod(2, standbySql(1, 4_000))]
const failover = (over: Partial<PrimaryTransition> = {}): PrimaryTransition => ({
  kind: "Failover",
  from: 0,
  to: 2,
  epoch: 2,
  fromPodUid: "uid-0",
  startedAt: 100_000,
  fromPodGuarded: true,
  ...over
})

describe("failover timing with the isolation guard", () => {
  it("starting a failover from a guarded primary records it, deletes the pod, promotes no one", () => {
    const d = planReplication(
      observed([lost(), ...standbys], state({ primaryUnavailableSince: 96_000 }), guardOn, 100_000),
      cluster
    )
    assert.deepInclude(d.persistFirst?.transition ?? {}, { fromPodGuarded: true, to: 2 })
    assert.strictEqual(d.persistFirst?.transition?.fencingSince, undefined, "the clock starts once it is persisted")
    assert.deepStrictEqual(deletions(d.actions), ["db-0"])
    assert.deepStrictEqual(promotions(d.actions), [])
  })

  it("the first reconcile that reads the transition back starts the guard clock (persisted before any action)", () => {
    const d = planReplication(
      observed([lost(), ...standbys], state({ transition: failover() }), guardOn, 101_000),
      cluster
    )
    assert.strictEqual(d.persistFirst?.transition?.fencingSince, 101_000)
    assert.deepStrictEqual(promotions(d.actions), [])
    assert.strictEqual(d.requeueAfter?.millis, threshold + OperatorMarginMillis)
  })

  it("a pod object that is gone (new uid) is not enough: waits for the guard's deadline", () => {
    const t = failover({ fencingSince: 101_000 })
    const gone = pod(0, unreachable, { uid: "uid-0-new", ready: false, roleLabel: undefined })
    const early = planReplication(observed([gone, ...standbys], state({ transition: t }), guardOn, 104_000), cluster)
    assert.deepStrictEqual(promotions(early.actions), [])
    const late = 101_000 + threshold + OperatorMarginMillis
    const d = planReplication(observed([gone, ...standbys], state({ transition: t }), guardOn, late), cluster)
    assert.deepStrictEqual(promotions(d.actions), ["db-2@2"])
    assert.strictEqual(d.next.currentPrimaryPodIndex, 2)
  })

  it("does not trust the guard while another pod is out of reach too (it may follow the old primary on its node)", () => {
    const t = failover({ fencingSince: 101_000 })
    const stuck = lost({ deleting: true })
    const cutOffPeer = pod(1, unreachable, { ready: false })
    const late = 101_000 + threshold + OperatorMarginMillis + 10_000
    const d = planReplication(
      observed([stuck, cutOffPeer, standbys[1]!], state({ transition: t }), guardOn, late),
      cluster
    )
    assert.deepStrictEqual(promotions(d.actions), [], "the old primary's guard keeps serving while db-1 follows it")
    const gone = pod(0, unreachable, { uid: "uid-0-new", ready: false, roleLabel: undefined })
    const after = planReplication(
      observed([gone, cutOffPeer, standbys[1]!], state({ transition: t }), guardOn, late),
      cluster
    )
    assert.deepStrictEqual(promotions(after.actions), ["db-2@2"], "fenced once its pod is gone, as without the guard")
  })

  it("promotes after the deadline even when the pod could not be deleted (partitioned node, finalizer)", () => {
    const t = failover({ fencingSince: 101_000 })
    const stuck = lost({ deleting: true })
    const before = planReplication(
      observed([stuck, ...standbys], state({ transition: t }), guardOn, 101_000 + threshold),
      cluster
    )
    assert.deepStrictEqual(promotions(before.actions), [])
    const d = planReplication(
      observed([stuck, ...standbys], state({ transition: t }), guardOn, 101_000 + threshold + OperatorMarginMillis),
      cluster
    )
    assert.deepStrictEqual(
      deletions(d.actions),
      [],
      "no delete in front of the promotion (a failing delete would block it)"
    )
    assert.deepStrictEqual(promotions(d.actions), ["db-2@2"])
  })

  it("an old pod that answers as a standby (its guard demoted it) is fenced at once", () => {
    const t = failover({ fencingSince: 101_000 })
    const demoted = pod(0, standbySql(2, null), { guarded: true })
    const d = planReplication(observed([demoted, ...standbys], state({ transition: t }), guardOn, 102_000), cluster)
    assert.deepStrictEqual(promotions(d.actions), ["db-2@2"])
  })

  it("a pod without a running guard, or the guard off: fencing is the pod's deletion, as before", () => {
    const t = failover({ fromPodGuarded: undefined })
    const gone = pod(0, unreachable, { uid: "uid-0-new", ready: false, roleLabel: undefined })
    const d = planReplication(observed([gone, ...standbys], state({ transition: t }), guardOn, 101_000), cluster)
    assert.deepStrictEqual(promotions(d.actions), ["db-2@2"])
    const off = planReplication(observed([gone, ...standbys], state({ transition: failover() }), {}, 101_000), cluster)
    assert.deepStrictEqual(promotions(off.actions), ["db-2@2"])
  })

  it("the transition timeout leaves room for the guard's wait", () => {
    const t = failover({ fencingSince: 101_000, startedAt: 100_000 })
    const policy = { ...guardOn, guardThresholdMillis: 58_000 }
    const d = planReplication(
      observed([lost(), ...standbys], state({ transition: t }), policy, 100_000 + 61_000),
      cluster
    )
    assert.isFalse(d.actions.some((a) => a._tag === "Event" && a.reason === "SwitchoverTimedOut"))
  })
})
