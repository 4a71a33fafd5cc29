import { assert, describe, it } from "@effect/vitest"
import type { RolloutObserved } from "../../src/replication/planRollout.ts"
import { planRollout } from "../../src/replication/planRollout.ts"
import { healthy3, pod, primarySql } from "./fixtures.ts"

const rollout = (revisions: ReadonlyArray<string>, overrides: Partial<RolloutObserved> = {}): RolloutObserved => {
  const pods = healthy3()
  return {
    strategy: "ReplicasFirstPrimaryLast",
    replicationEnabled: true,
    replicas: 3,
    updateRevision: "new",
    pods: pods.map((p, i) => ({ pod: p, revision: revisions[i] })),
    primary: 0,
    transitionInFlight: false,
    standbys: [
      { remote: "db-1", databases: 1, maxLagMillis: 0, errors: 0 },
      { remote: "db-2", databases: 1, maxLagMillis: 0, errors: 0 }
    ],
    maxLagMillis: 5_000,
    ...overrides
  }
}

const step = (o: RolloutObserved) => {
  const s = planRollout(o)
  return s._tag === "DeletePod"
    ? `delete ${s.pod.name}`
    : s._tag === "SwitchoverFirst"
      ? `switchover ${s.target}`
      : s._tag
}

describe("planRollout (ReplicasFirstPrimaryLast)", () => {
  it("updates standbys first, highest ordinal first, one at a time", () => {
    assert.strictEqual(step(rollout(["old", "old", "old"])), "delete db-2")
    assert.strictEqual(step(rollout(["old", "old", "new"])), "delete db-1")
  })

  it("waits for an updated standby to catch up before the next one", () => {
    const o = rollout(["old", "old", "new"], {
      standbys: [
        { remote: "db-1", databases: 1, maxLagMillis: 0, errors: 0 },
        { remote: "db-2", databases: 1, maxLagMillis: undefined, errors: 0 }
      ]
    })
    const s = planRollout(o)
    assert.strictEqual(s._tag, "Wait")
    assert.match(s._tag === "Wait" ? s.reason : "", /db-2 to catch up/)
  })

  it("switches the primary over to the most caught-up updated standby before touching it; never deletes the primary", () => {
    const o = rollout(["old", "new", "new"], {
      standbys: [
        { remote: "db-1", databases: 1, maxLagMillis: 300, errors: 0 },
        { remote: "db-2", databases: 1, maxLagMillis: 0, errors: 0 }
      ]
    })
    assert.strictEqual(step(o), "switchover 2")
    // After the switchover, the old primary is a stale standby and goes.
    const after = rollout(["old", "new", "new"], { primary: 2 })
    assert.strictEqual(step(after), "delete db-0")
  })

  it("waits while any member is not ready, or a primary change is in flight", () => {
    const notReady = rollout(["old", "old", "old"])
    const pods = notReady.pods.map((p, i) => (i === 1 ? { ...p, pod: { ...p.pod, ready: false } } : p))
    assert.strictEqual(step({ ...notReady, pods }), "Wait")
    assert.strictEqual(step(rollout(["old", "old", "old"], { transitionInFlight: true })), "Wait")
  })

  it("keeps one caught-up standby while another restarts", () => {
    const o = rollout(["new", "old", "old"], {
      standbys: [
        { remote: "db-1", databases: 1, maxLagMillis: 0, errors: 1 },
        { remote: "db-2", databases: 1, maxLagMillis: 0, errors: 1 }
      ]
    })
    assert.strictEqual(step(o), "Wait")
  })

  it("is done when every pod runs the update revision, and leaves other strategies to the StatefulSet controller", () => {
    assert.strictEqual(step(rollout(["new", "new", "new"])), "UpToDate")
    assert.strictEqual(step(rollout(["old", "old", "old"], { strategy: "RollingUpdate" })), "NotManaged")
    assert.strictEqual(step(rollout(["old", "old", "old"], { strategy: "Never" })), "NotManaged")
  })

  it("without replication, deletes the single stale pod", () => {
    const o: RolloutObserved = {
      ...rollout([]),
      replicationEnabled: false,
      replicas: 1,
      pods: [{ pod: pod(0, primarySql(1)), revision: "old" }],
      standbys: []
    }
    assert.strictEqual(step(o), "delete db-0")
  })

  it("restarts pods that started with an older peer list, standbys first, even at the update revision", () => {
    const o = rollout(["new", "new", "new"])
    const pods = o.pods.map((p) => ({ ...p, needsRestart: p.pod.ordinal !== 2 }))
    assert.strictEqual(step({ ...o, pods }), "delete db-1")
  })

  it("a new standby the primary does not push to yet does not block switching the primary over", () => {
    // db-2 joined after a scale-up: db-0 (primary, old peer list) has no rows for it.
    const o = rollout(["new", "new", "new"], {
      standbys: [{ remote: "db-1", databases: 1, maxLagMillis: 0, errors: 0 }]
    })
    const pods = o.pods.map((p) => ({ ...p, needsRestart: p.pod.ordinal === 0 }))
    assert.strictEqual(step({ ...o, pods }), "switchover 1")
  })

  it("ignores pods above the desired replica count (scale-down removes them)", () => {
    const o = rollout(["new", "new", "old"], { replicas: 2 })
    assert.strictEqual(step(o), "UpToDate")
  })
})
