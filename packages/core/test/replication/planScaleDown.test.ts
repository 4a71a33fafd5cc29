import { assert, describe, it } from "@effect/vitest"
import { planReplication, type ReplicationStep } from "../../src/replication/planReplication.ts"
import { keptForPrimaryPeers, planScaleDown, ScaleDownPrepareMillis } from "../../src/replication/planScaleDown.ts"
import type { PodView, ReplicationObserved } from "../../src/replication/ReplicationObserved.ts"
import { classify } from "../../src/replication/Situation.ts"
import { cluster, observed, pod, primarySql, standbySql, state } from "./fixtures.ts"

const roleChanges = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) =>
    a._tag === "AssumeRole"
      ? [`${a.target.pod}:${a.role}@${a.epoch}`]
      : a._tag === "TransitionToStandby"
        ? [`${a.target.pod}:drain@${a.epoch}`]
        : []
  )

/** db-2 primary at epoch 2 (moved there by a switchover), replicas now 2: db-2 goes away. */
const leaving = (
  older: ReadonlyArray<number> | undefined,
  opts: { desiredPrimary?: number; since?: number; now?: number; pods?: ReadonlyArray<PodView> } = {}
): ReplicationObserved => {
  const pods = opts.pods ?? [
    pod(0, standbySql(2)),
    pod(1, standbySql(2)),
    pod(2, primarySql(2, [{ remote: "db-0" }, { remote: "db-1" }]))
  ]
  const base = observed(
    pods,
    state({ currentPrimaryPodIndex: 2, replicationEpoch: 2, primaryRequest: 2 }),
    { replicas: 2, desiredPrimary: opts.desiredPrimary ?? 0 },
    opts.now ?? 100_000
  )
  return older === undefined ? base : { ...base, olderPeerList: { ordinals: older, since: opts.since ?? 95_000 } }
}

describe("planScaleDown (the primary's pod is removed by a scale-down)", () => {
  it("is its own situation: a serving primary at or above replicas", () => {
    assert.strictEqual(classify(leaving([0, 1]))._tag, "PrimaryLeaving")
    const stays = observed([pod(0, primarySql(1, [{ remote: "db-1" }])), pod(1, standbySql(1))], state(), {
      replicas: 2
    })
    assert.strictEqual(classify(stays)._tag, "Healthy")
  })

  const table: ReadonlyArray<{
    readonly name: string
    readonly o: ReplicationObserved
    readonly step: ReturnType<typeof planScaleDown>["_tag"]
    readonly target: number
    readonly late?: boolean
  }> = [
    {
      name: "the target still has the old peer list: wait for its restart",
      o: leaving([0, 1]),
      step: "AwaitTargetRestart",
      target: 0
    },
    { name: "the target restarted (another pod has not): switch over", o: leaving([1]), step: "SwitchOver", target: 0 },
    { name: "every pod that stays restarted: switch over", o: leaving([]), step: "SwitchOver", target: 0 },
    {
      name: "podIndex names a pod that stays: that is the target",
      o: leaving([0], { desiredPrimary: 1 }),
      step: "SwitchOver",
      target: 1
    },
    {
      name: "podIndex out of range (unchanged 2): pod 0",
      o: leaving([0], { desiredPrimary: 2 }),
      step: "AwaitTargetRestart",
      target: 0
    },
    {
      name: "the target restarted but is not ready yet: wait quietly",
      o: leaving([], {
        pods: [
          pod(0, standbySql(2), { ready: false }),
          pod(1, standbySql(2)),
          pod(2, primarySql(2, [{ remote: "db-0" }, { remote: "db-1" }]))
        ]
      }),
      step: "AwaitTargetRestart",
      target: 0
    },
    {
      name: "the rolling update is stuck past the bound: switch over anyway, said so",
      o: leaving([0, 1], { since: 100_000 - ScaleDownPrepareMillis }),
      step: "SwitchOver",
      target: 0,
      late: true
    },
    {
      name: "the operator does not restart pods (updateStrategy): switch over at once",
      o: leaving(undefined),
      step: "SwitchOver",
      target: 0
    }
  ]
  for (const c of table)
    it(c.name, () => {
      const step = planScaleDown(c.o, 2)
      assert.strictEqual(step._tag, c.step)
      assert.strictEqual(step.target, c.target)
      assert.strictEqual(step._tag === "SwitchOver" && step.late !== undefined, c.late === true)
    })

  it("waiting: no role change, the StatefulSet keeps the primary's pod, PrimarySwitched says why", () => {
    const d = planReplication(leaving([0, 1]), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), [])
    assert.strictEqual(d.persistFirst, undefined)
    assert.strictEqual(d.minStatefulSetReplicas, 3)
    assert.strictEqual(d.primarySwitched.status, "False")
    assert.include(d.primarySwitched.message, "db-0 restarts with the new peer list")
    assert.isDefined(d.requeueAfter)
  })

  it("once the target restarted: one switchover to it, fenced (drained) before it is promoted, one epoch up", () => {
    const d = planReplication(leaving([]), cluster)
    assert.strictEqual(d.persistFirst?.transition?.kind, "Switchover")
    assert.deepStrictEqual(roleChanges(d.actions), ["db-2:drain@3", "db-0:primary@3"])
    assert.strictEqual(d.next.currentPrimaryPodIndex, 0)
    assert.strictEqual(d.minStatefulSetReplicas, 3, "held until the next reconcile observes the new primary")
  })

  it("past the bound: the switchover goes ahead with a Warning", () => {
    const d = planReplication(leaving([0, 1], { since: 100_000 - ScaleDownPrepareMillis }), cluster)
    assert.deepStrictEqual(roleChanges(d.actions), ["db-2:drain@3", "db-0:primary@3"])
    assert.isTrue(d.actions.some((a) => a._tag === "Event" && a.reason === "ScaleDownTargetNotRestarted"))
  })
})

describe("keptForPrimaryPeers (a scale-down whose primary stays)", () => {
  const base = {
    now: 100_000,
    replicas: 2,
    statefulSetReplicas: 3,
    primary: { ordinal: 0, createdAt: 1_000 },
    peerListSince: 95_000
  }
  const table: ReadonlyArray<readonly [string, Parameters<typeof keptForPrimaryPeers>[0], number]> = [
    ["the primary still lists the removed pod: kept", base, 3],
    [
      "the primary moved to a pod restarted with the new list: released",
      { ...base, primary: { ordinal: 1, createdAt: 96_000 } },
      2
    ],
    ["the primary itself restarted since: released", { ...base, primary: { ordinal: 0, createdAt: 96_000 } }, 2],
    [
      "the primary is on a removed pod (PrimaryLeaving holds it): nothing more",
      { ...base, primary: { ordinal: 2, createdAt: 1_000 } },
      2
    ],
    ["the operator does not restart pods: released", { ...base, peerListSince: undefined }, 2],
    ["past the bound (the rolling update is stuck): released", { ...base, now: 95_000 + ScaleDownPrepareMillis }, 2],
    ["no primary: released", { ...base, primary: undefined }, 2],
    ["a scale-up: the larger spec wins", { ...base, replicas: 4 }, 4]
  ]
  for (const [name, input, kept] of table) it(name, () => assert.strictEqual(keptForPrimaryPeers(input), kept))
})
