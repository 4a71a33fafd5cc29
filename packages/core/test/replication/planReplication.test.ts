import { assert, describe, it } from "@effect/vitest"
import { planReplication, type ReplicationStep, RoleLabel } from "../../src/replication/planReplication.ts"
import { HandOverMillis } from "../../src/replication/planTransition.ts"
import { brokenSql, cluster, healthy3, observed, pod, primarySql, standbySql, state, unreachable } from "./fixtures.ts"

const roleChanges = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) =>
    a._tag === "AssumeRole"
      ? [`${a.target.pod}:${a.role}@${a.epoch}`]
      : a._tag === "TransitionToStandby"
        ? [`${a.target.pod}:drain@${a.epoch}`]
        : []
  )
const labels = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) =>
    a._tag === "Apply" && a.object.kind === "Pod"
      ? [`${a.object.metadata.name}=${(a.object.metadata.labels as Record<string, string>)[RoleLabel]}`]
      : []
  )
const deletes = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) => (a._tag === "Delete" ? [`${a.ref.name}/${a.ref.uid}`] : []))

describe("planReplication", () => {
  it("bootstrap: adopts the one primary the servers report and labels every pod", () => {
    const pods = healthy3().map((p) => ({ ...p, roleLabel: undefined }))
    const d = planReplication(
      observed(pods, state({ currentPrimaryPodIndex: undefined, replicationEpoch: undefined })),
      cluster
    )
    assert.strictEqual(d.next.currentPrimaryPodIndex, 0)
    assert.strictEqual(d.next.replicationEpoch, 1)
    assert.deepStrictEqual(labels(d.actions), ["db-0=primary", "db-1=standby", "db-2=standby"])
    assert.deepStrictEqual(roleChanges(d.actions), [])
  })

  it("bootstrap: waits while no server is primary yet, without role changes", () => {
    const pods = [pod(0, unreachable), pod(1, standbySql(1)), pod(2, standbySql(1))]
    const d = planReplication(
      observed(pods, state({ currentPrimaryPodIndex: undefined, replicationEpoch: undefined })),
      cluster
    )
    assert.strictEqual(d.next.currentPrimaryPodIndex, undefined)
    assert.deepStrictEqual(roleChanges(d.actions), [])
    assert.isDefined(d.requeueAfter, "looks again for a primary")
  })

  it("converged cluster: no actions at all (zero writes)", () => {
    const o = observed(healthy3(), state())
    const d = planReplication(o, cluster)
    assert.deepStrictEqual(d.actions, [])
    assert.deepStrictEqual(d.next, o.state)
    assert.strictEqual(d.persistFirst, undefined)
    assert.strictEqual(d.primarySwitched.status, "True")
  })

  it("switchover: records the transition first, drains the old primary requiring the target, then promotes", () => {
    const d = planReplication(observed(healthy3(), state(), { desiredPrimary: 2 }), cluster)
    assert.deepStrictEqual(d.persistFirst?.transition, {
      kind: "Switchover",
      from: 0,
      to: 2,
      epoch: 2,
      fromPodUid: "uid-0",
      startedAt: 100_000
    })
    assert.deepStrictEqual(roleChanges(d.actions), ["db-0:drain@2", "db-2:primary@2"])
    const drain = d.actions.find((a) => a._tag === "TransitionToStandby")
    assert.deepStrictEqual(drain?._tag === "TransitionToStandby" ? drain.requireCaughtUp : [], ["db-2"])
    // Traffic leaves the old primary before it is drained; the new one is labelled only after promotion.
    const order = d.actions.map((a) =>
      a._tag === "Apply"
        ? labels([a])[0]
        : a._tag === "AssumeRole" || a._tag === "TransitionToStandby"
          ? roleChanges([a])[0]
          : a._tag
    )
    assert.isBelow(order.indexOf("db-0=standby"), order.indexOf("db-0:drain@2"))
    assert.isBelow(order.indexOf("db-2:primary@2"), order.indexOf("db-2=primary"))
    assert.deepStrictEqual(d.next, { ...state(), currentPrimaryPodIndex: 2, replicationEpoch: 2, primaryRequest: 2 })
  })

  it("switchover: refused before touching the primary when the target lags or is not replicating", () => {
    const lagging = [
      pod(0, primarySql(1, [{ remote: "db-1", lag: 60_000 }, { remote: "db-2" }])),
      pod(1, standbySql(1)),
      pod(2, standbySql(1))
    ]
    const d = planReplication(observed(lagging, state(), { desiredPrimary: 1 }), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), [])
    assert.strictEqual(d.persistFirst, undefined)
    assert.strictEqual(d.blocked?.reason, "SwitchoverBlocked")
    assert.match(d.blocked?.message ?? "", /lags 60000ms/)

    const erroring = [
      pod(0, primarySql(1, [{ remote: "db-1", errors: 1 }, { remote: "db-2" }])),
      pod(1, standbySql(1)),
      pod(2, standbySql(1))
    ]
    const e = planReplication(observed(erroring, state(), { desiredPrimary: 1 }), cluster)
    assert.deepStrictEqual(roleChanges(e.actions), [])
    assert.match(e.blocked?.message ?? "", /not replicating/)
  })

  it("failover: the first unavailability only starts the debounce", () => {
    const pods = [pod(0, unreachable, { ready: false }), pod(1, standbySql(1)), pod(2, standbySql(1))]
    const d = planReplication(observed(pods, state(), {}, 100_000), cluster)
    assert.strictEqual(d.next.primaryUnavailableSince, 100_000)
    assert.deepStrictEqual(roleChanges(d.actions), [])
    assert.deepStrictEqual(deletes(d.actions), [])
    assert.strictEqual(d.requeueAfter?.millis, 3_000)
  })

  it("failover: a primary that recovers within the delay clears the debounce without a role change", () => {
    const d = planReplication(observed(healthy3(), state({ primaryUnavailableSince: 99_000 })), cluster)
    assert.strictEqual(d.next.primaryUnavailableSince, undefined)
    assert.deepStrictEqual(roleChanges(d.actions), [])
  })

  it("failover: after the delay, fences the unreachable primary by deleting its pod before promoting anyone", () => {
    const pods = [
      pod(0, unreachable, { ready: false, roleLabel: "primary" }),
      pod(1, standbySql(1, 9_000)),
      pod(2, standbySql(1, 4_000)) // fresher: heard from the primary more recently
    ]
    const d = planReplication(observed(pods, state({ primaryUnavailableSince: 96_000 }), {}, 100_000), cluster)
    assert.deepStrictEqual(d.persistFirst?.transition?.to, 2)
    assert.strictEqual(d.persistFirst?.transition?.epoch, 2)
    assert.deepStrictEqual(deletes(d.actions), ["db-0/uid-0"])
    assert.deepStrictEqual(roleChanges(d.actions), [], "no promotion while the old primary may still serve")
    assert.include(labels(d.actions), "db-0=standby")
  })

  it("failover: once the old pod is gone (new uid), promotes the chosen standby and completes", () => {
    const transition = { kind: "Failover", from: 0, to: 2, epoch: 2, fromPodUid: "uid-0", startedAt: 100_000 } as const
    const pods = [
      pod(0, unreachable, { uid: "uid-0-new", ready: false, roleLabel: undefined }),
      pod(1, standbySql(1, 9_000)),
      pod(2, standbySql(1, 5_000))
    ]
    const d = planReplication(
      observed(pods, state({ transition, primaryUnavailableSince: 96_000 }), {}, 101_000),
      cluster
    )
    assert.deepStrictEqual(roleChanges(d.actions), ["db-2:primary@2"])
    assert.deepStrictEqual(d.next, {
      currentPrimaryPodIndex: 2,
      replicationEpoch: 2,
      transition: undefined,
      primaryUnavailableSince: undefined,
      primaryRequest: 0 // a failover does not honour (or rewrite) the user's request
    })
    assert.includeMembers(labels(d.actions), ["db-2=primary", "db-0=standby"])
  })

  it("failover: a reachable old primary is demoted at the new epoch before the promotion", () => {
    const transition = { kind: "Failover", from: 0, to: 1, epoch: 5, fromPodUid: "uid-0", startedAt: 100_000 } as const
    const pods = [pod(0, primarySql(4)), pod(1, standbySql(4))]
    const d = planReplication(observed(pods, state({ replicationEpoch: 4, transition }), {}, 100_500), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), ["db-0:standby@5", "db-1:primary@5"])
  })

  it("failover of a terminating primary: its hand-over gets 12 s, then its pod is force-deleted before anyone is promoted", () => {
    const transition = { kind: "Failover", from: 0, to: 1, epoch: 5, fromPodUid: "uid-0", startedAt: 100_000 } as const
    const s = state({ replicationEpoch: 4, transition })
    // Unreachable (SIGTERM closed its listener, or the preStop's demotion killed connections): wait, no delete yet.
    const closing = [
      pod(0, unreachable, { deleting: true, ready: false }),
      pod(1, standbySql(4)),
      pod(2, standbySql(4))
    ]
    const early = planReplication(observed(closing, s, {}, 100_000 + HandOverMillis - 1), cluster)
    assert.deepStrictEqual(deletes(early.actions), [])
    assert.deepStrictEqual(roleChanges(early.actions), [])
    const late = planReplication(observed(closing, s, {}, 100_000 + HandOverMillis), cluster)
    assert.deepStrictEqual(deletes(late.actions), ["db-0/uid-0"])
    assert.deepStrictEqual(roleChanges(late.actions), [], "no promotion while the old pod exists")
    assert.isTrue(late.actions.some((a) => a._tag === "Delete" && a.gracePeriodSeconds === 0))
    // Still primary (its graceful demotion keeps failing): demoted gracefully first, then fenced by force.
    const stuck = [pod(0, primarySql(4), { deleting: true }), pod(1, standbySql(4)), pod(2, standbySql(4))]
    const first = planReplication(observed(stuck, s, {}, 100_500), cluster)
    assert.deepStrictEqual(roleChanges(first.actions), ["db-0:standby@5", "db-1:primary@5"])
    assert.deepStrictEqual(deletes(first.actions), [])
    const after = planReplication(observed(stuck, s, {}, 100_000 + HandOverMillis), cluster)
    assert.deepStrictEqual(deletes(after.actions), ["db-0/uid-0"])
    assert.deepStrictEqual(roleChanges(after.actions), [])
    // A primary that is not terminating and answers is never deleted within the window either.
    const alive = [pod(0, primarySql(4)), pod(1, standbySql(4)), pod(2, standbySql(4))]
    assert.deepStrictEqual(deletes(planReplication(observed(alive, s, {}, 100_500), cluster).actions), [])
  })

  it("failover: refuses when no standby is provably caught up, unless the user opted in", () => {
    const pods = [pod(0, unreachable, { ready: false }), pod(1, standbySql(1, 600_000)), pod(2, standbySql(1, null))]
    const s = state({ primaryUnavailableSince: 90_000 })
    const refused = planReplication(observed(pods, s, {}, 100_000), cluster)
    assert.strictEqual(refused.blocked?.reason, "FailoverBlocked")
    assert.match(refused.blocked?.message ?? "", /no standby is provably caught up/)
    assert.deepStrictEqual(roleChanges(refused.actions), [])
    assert.deepStrictEqual(deletes(refused.actions), [])
    const unsafe = planReplication(observed(pods, s, { allowUnsafeFailover: true }, 100_000), cluster)
    assert.strictEqual(unsafe.persistFirst?.transition?.to, 1, "the freshest standby, never the one that heard nothing")
  })

  it("failover: the old primary, demoted by its preStop above every other epoch, is promoted back when no one else is provably caught up", () => {
    const pods = [pod(0, standbySql(2, null)), pod(1, standbySql(1, null)), pod(2, standbySql(1, null))]
    const d = planReplication(observed(pods, state({ replicationEpoch: 1, primaryUnavailableSince: 90_000 })), cluster)
    assert.strictEqual(d.persistFirst?.transition?.to, 0)
    assert.strictEqual(d.persistFirst?.transition?.epoch, 3)
    // Not when the status records an epoch as high as its own: someone may have been promoted there.
    const e = planReplication(observed(pods, state({ replicationEpoch: 2, primaryUnavailableSince: 90_000 })), cluster)
    assert.strictEqual(e.blocked?.reason, "FailoverBlocked")
  })

  it("failover: disabled automatic failover reports instead of acting", () => {
    const pods = [pod(0, unreachable, { ready: false }), pod(1, standbySql(1))]
    const d = planReplication(observed(pods, state(), { automaticFailover: false }), cluster)
    assert.strictEqual(d.blocked?.reason, "PrimaryUnavailable")
    // Says why: the operator's read of the server failed (issue #13's refused TLS reads looked like a dead primary).
    assert.match(d.blocked?.message ?? "", /primary db-0 is unavailable \(unreachable: connect ECONNREFUSED\)/)
    assert.deepStrictEqual(roleChanges(d.actions), [])
  })

  it("a primary below another primary's epoch is stale: demoted at the current epoch, no new epoch, no warning", () => {
    const pods = [pod(0, primarySql(3)), pod(1, primarySql(2)), pod(2, standbySql(3))]
    const d = planReplication(observed(pods, state({ currentPrimaryPodIndex: 1, replicationEpoch: 2 })), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), ["db-1:standby@3"])
    assert.strictEqual(d.next.currentPrimaryPodIndex, 0)
    assert.strictEqual(d.next.replicationEpoch, 3)
    assert.isFalse(d.actions.some((a) => a._tag === "Event" && a.type === "Warning"))
    // Labels move before the roles do, so writes are not routed to the demoted server meanwhile.
    assert.isBelow(
      d.actions.findIndex((a) => a._tag === "Apply"),
      d.actions.findIndex((a) => a._tag === "AssumeRole")
    )
  })

  it("split brain: two primaries at one epoch, one kept and both moved above every epoch seen", () => {
    const pods = [pod(0, primarySql(3)), pod(1, primarySql(3)), pod(2, standbySql(3))]
    const d = planReplication(observed(pods, state({ currentPrimaryPodIndex: 1, replicationEpoch: 3 })), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), ["db-0:standby@4", "db-1:primary@4"])
    assert.strictEqual(d.next.currentPrimaryPodIndex, 1)
    assert.strictEqual(d.next.replicationEpoch, 4)
    // Labels move before the roles do, so writes are not routed to the demoted server meanwhile.
    assert.isBelow(
      d.actions.findIndex((a) => a._tag === "Apply"),
      d.actions.findIndex((a) => a._tag === "AssumeRole")
    )
  })

  it("detected_broken_config: keeps the status primary and restarts replication at a higher epoch", () => {
    const pods = [pod(0, brokenSql(2)), pod(1, brokenSql(2)), pod(2, standbySql(2))]
    const d = planReplication(observed(pods, state({ currentPrimaryPodIndex: 1, replicationEpoch: 2 })), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), ["db-0:standby@3", "db-1:primary@3"])
  })

  it("a resumed switchover whose promotion already happened only finishes the bookkeeping", () => {
    const transition = {
      kind: "Switchover",
      from: 0,
      to: 1,
      epoch: 2,
      fromPodUid: "uid-0",
      startedAt: 100_000
    } as const
    const pods = [pod(0, standbySql(2)), pod(1, primarySql(2, [{ remote: "db-0" }])), pod(2, standbySql(2))]
    const d = planReplication(observed(pods, state({ transition }), { desiredPrimary: 1 }, 100_200), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), [])
    assert.strictEqual(d.next.currentPrimaryPodIndex, 1)
    assert.strictEqual(d.next.transition, undefined)
  })

  it("a switchover whose drain failed (old primary back at the old epoch) drains again", () => {
    const transition = {
      kind: "Switchover",
      from: 0,
      to: 1,
      epoch: 2,
      fromPodUid: "uid-0",
      startedAt: 100_000
    } as const
    const pods = healthy3(1)
    const d = planReplication(observed(pods, state({ transition }), { desiredPrimary: 1 }, 101_000), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), ["db-0:drain@2", "db-1:primary@2"])
  })

  it("a transition past its deadline is abandoned with a warning, never forced", () => {
    const transition = { kind: "Switchover", from: 0, to: 1, epoch: 2, fromPodUid: "uid-0", startedAt: 0 } as const
    const d = planReplication(observed(healthy3(1), state({ transition }), { desiredPrimary: 1 }, 100_000), cluster)
    assert.strictEqual(d.next.transition, undefined)
    assert.strictEqual(d.blocked?.reason, "SwitchoverTimedOut")
    assert.deepStrictEqual(roleChanges(d.actions), [])
  })

  it("a returning stale primary with an older epoch is demoted, not adopted", () => {
    const pods = [pod(0, primarySql(3, [{ remote: "db-1" }])), pod(1, primarySql(1)), pod(2, standbySql(3))]
    const d = planReplication(observed(pods, state({ replicationEpoch: 3 })), cluster)
    assert.strictEqual(d.next.currentPrimaryPodIndex, 0)
    assert.deepStrictEqual(roleChanges(d.actions), ["db-1:standby@3"])
  })

  it("a failover does not switch back: the request is an edge, not a level", () => {
    // After a failover moved the primary to 2, spec.podIndex still says 0, which was already honoured.
    const pods = [
      pod(0, standbySql(2)),
      pod(1, standbySql(2)),
      pod(2, primarySql(2, [{ remote: "db-0" }, { remote: "db-1" }]))
    ]
    const d = planReplication(
      observed(pods, state({ currentPrimaryPodIndex: 2, replicationEpoch: 2, primaryRequest: 0 })),
      cluster
    )
    assert.deepStrictEqual(roleChanges(d.actions), [])
    assert.deepStrictEqual(d.actions, [])
    // The user then asks for 1: that is a new request.
    const e = planReplication(
      observed(pods, state({ currentPrimaryPodIndex: 2, replicationEpoch: 2, primaryRequest: 0 }), {
        desiredPrimary: 1
      }),
      cluster
    )
    assert.deepStrictEqual(roleChanges(e.actions), ["db-2:drain@3", "db-1:primary@3"])
  })

  it("scale-down below the primary's ordinal first moves the primary into the kept range", () => {
    // db-2 is the primary, and the StatefulSet must keep 3 replicas until it is not.
    const pods = [
      pod(0, standbySql(1)),
      pod(1, standbySql(1)),
      pod(2, primarySql(1, [{ remote: "db-0" }, { remote: "db-1" }]))
    ]
    const e = planReplication(
      observed(pods, state({ currentPrimaryPodIndex: 2 }), { replicas: 2, desiredPrimary: 0 }),
      cluster
    )
    assert.strictEqual(e.minStatefulSetReplicas, 3)
    assert.deepStrictEqual(roleChanges(e.actions), ["db-2:drain@2", "db-0:primary@2"])
    assert.strictEqual(e.next.currentPrimaryPodIndex, 0)
    assert.strictEqual(e.minStatefulSetReplicas, 3, "held until the next reconcile observes the new primary")
  })

  it("epochs never go down and the plan never writes a DoltDB (the user's spec)", () => {
    const cases = [
      observed(healthy3(7), state({ replicationEpoch: 9 })),
      observed(
        [pod(0, unreachable), pod(1, standbySql(3))],
        state({ replicationEpoch: 9, primaryUnavailableSince: 0 })
      ),
      observed([pod(0, primarySql(2)), pod(1, primarySql(2))], state({ replicationEpoch: 5 }))
    ]
    for (const o of cases) {
      const d = planReplication(o, cluster)
      assert.isAtLeast(d.next.replicationEpoch ?? 0, 9 - (o === cases[2] ? 4 : 0))
      for (const a of d.actions) {
        if (a._tag === "AssumeRole" || a._tag === "TransitionToStandby") assert.isAbove(a.epoch, 2)
        if (a._tag === "Apply") assert.notStrictEqual(a.object.kind, "DoltDB")
      }
    }
  })
})
