// The ack-writes wait for a standby that is down (AckWait.ts): lowered on the server being promoted while another
// standby is down, recorded before the change, restored once every standby replicates again.
import { assert, describe, it } from "@effect/vitest"
import { ShortAckWaitSeconds } from "../../src/replication/AckWait.ts"
import { planReplication, type ReplicationStep } from "../../src/replication/planReplication.ts"
import type { SqlView } from "../../src/replication/ReplicationObserved.ts"
import { cluster, observed, pod, primarySql, standbySql, state, unreachable } from "./fixtures.ts"

const ack = (sql: SqlView, seconds: number): SqlView =>
  sql._tag === "Reachable" ? { ...sql, ackWritesTimeoutSecs: seconds } : sql

/** The role changes and ack-wait changes, in plan order. */
const steps = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) =>
    a._tag === "AssumeRole"
      ? [`${a.target.pod}:${a.role}@${a.epoch}`]
      : a._tag === "SetAckWritesTimeout"
        ? [`${a.target.pod}:ack=${a.seconds}${a.bestEffort ? "?" : ""}`]
        : a._tag === "TransitionToStandby"
          ? [`${a.target.pod}:drain@${a.epoch}`]
          : a._tag === "Checkpoint"
            ? [`checkpoint${a.state.shortenedAckWait === undefined ? "" : `(ack ${a.state.shortenedAckWait.pod})`}`]
            : []
  )

const failover = { kind: "Failover", from: 0, to: 2, epoch: 2, fromPodUid: "uid-0", startedAt: 100_000 } as const

/** A failover whose old primary (0) is gone and fenced: promote 2 while 0 is down. */
const promoting = (seconds: number, s = state({ transition: failover, primaryUnavailableSince: 96_000 })) =>
  observed(
    [
      pod(0, unreachable, { uid: "uid-0-new", ready: false, roleLabel: undefined }),
      pod(1, ack(standbySql(1, 9_000), seconds)),
      pod(2, ack(standbySql(1, 5_000), seconds))
    ],
    s,
    {},
    101_000
  )

describe("the ack-writes wait for a standby that is down", () => {
  it("a failover with the old primary down lowers the wait on the new primary before promoting it, recorded first", () => {
    const d = planReplication(promoting(10), cluster)
    assert.deepStrictEqual(steps(d.actions), [`db-2:ack=${ShortAckWaitSeconds}?`, "db-2:primary@2"])
    assert.deepStrictEqual(d.persistFirst?.shortenedAckWait, { pod: 2, seconds: 10 })
    assert.deepStrictEqual(d.persistFirst?.transition, failover, "the transition is still recorded")
    assert.deepStrictEqual(d.next.shortenedAckWait, { pod: 2, seconds: 10 })
    assert.strictEqual(d.next.currentPrimaryPodIndex, 2)
  })

  it("never with asynchronous replication, nor when the wait is already as short", () => {
    for (const seconds of [0, 1]) {
      const d = planReplication(promoting(seconds), cluster)
      assert.deepStrictEqual(steps(d.actions), ["db-2:primary@2"])
      assert.isUndefined(d.persistFirst)
      assert.isUndefined(d.next.shortenedAckWait)
    }
  })

  it("a failover whose old primary already answers again (restarted, demoted) still lowers it: it is not replicating yet", () => {
    const d = planReplication(
      observed(
        [pod(0, ack(standbySql(2, 100), 10)), pod(1, ack(standbySql(1, 900), 10)), pod(2, ack(standbySql(1, 500), 10))],
        state({ transition: failover, primaryUnavailableSince: 96_000 }),
        {},
        101_000
      ),
      cluster
    )
    assert.deepStrictEqual(steps(d.actions), ["db-2:ack=1?", "db-2:primary@2"])
    assert.deepStrictEqual(d.next.shortenedAckWait, { pod: 2, seconds: 10 })
  })

  it("not at a switchover with every standby up", () => {
    const pods = [
      pod(0, ack(primarySql(1, [{ remote: "db-1" }, { remote: "db-2" }]), 10)),
      pod(1, ack(standbySql(1), 10)),
      pod(2, ack(standbySql(1), 10))
    ]
    const d = planReplication(observed(pods, state(), { desiredPrimary: 1 }), cluster)
    assert.deepStrictEqual(steps(d.actions), ["db-0:drain@2", "checkpoint", "db-1:primary@2"])
    assert.isUndefined(d.next.shortenedAckWait)
  })

  it("a switchover while a third standby is down lowers it after the drain's checkpoint, which records it", () => {
    const pods = [
      pod(0, ack(primarySql(1, [{ remote: "db-1" }, { remote: "db-2", lag: undefined, errors: 1 }]), 10)),
      pod(1, ack(standbySql(1), 10)),
      pod(2, unreachable, { ready: false })
    ]
    const d = planReplication(observed(pods, state(), { desiredPrimary: 1 }), cluster)
    assert.deepStrictEqual(steps(d.actions), ["db-0:drain@2", "checkpoint(ack 1)", "db-1:ack=1?", "db-1:primary@2"])
    assert.deepStrictEqual(d.next.shortenedAckWait, { pod: 1, seconds: 10 })
  })

  it("stays lowered while a standby is down or not replicating yet", () => {
    const lowered = state({ currentPrimaryPodIndex: 2, replicationEpoch: 2, shortenedAckWait: { pod: 2, seconds: 10 } })
    const down = [
      pod(0, unreachable, { ready: false }),
      pod(1, ack(standbySql(2), 10)),
      pod(2, ack(primarySql(2, [{ remote: "db-0", lag: undefined, errors: 1 }, { remote: "db-1" }]), 1))
    ]
    const d = planReplication(observed(down, lowered, { desiredPrimary: 0 }), cluster)
    assert.deepStrictEqual(steps(d.actions), [])
    assert.deepStrictEqual(d.next.shortenedAckWait, { pod: 2, seconds: 10 })
    const back = [
      pod(0, ack(standbySql(2), 10)),
      pod(1, ack(standbySql(2), 10)),
      pod(2, ack(primarySql(2, [{ remote: "db-0", lag: undefined }, { remote: "db-1" }]), 1))
    ]
    const e = planReplication(observed(back, lowered, { desiredPrimary: 0 }), cluster)
    assert.deepStrictEqual(steps(e.actions), [], "db-0 answers but has not received a push yet")
  })

  it("is restored (not best effort) once every standby replicates, and the record goes", () => {
    const lowered = state({ currentPrimaryPodIndex: 2, replicationEpoch: 2, shortenedAckWait: { pod: 2, seconds: 10 } })
    const pods = [
      pod(0, ack(standbySql(2), 10)),
      pod(1, ack(standbySql(2), 10)),
      pod(2, ack(primarySql(2, [{ remote: "db-0", lag: 40 }, { remote: "db-1" }]), 1))
    ]
    const d = planReplication(observed(pods, lowered, { desiredPrimary: 0 }), cluster)
    assert.deepStrictEqual(steps(d.actions), ["db-2:ack=10"])
    assert.isUndefined(d.next.shortenedAckWait)
  })

  it("a server that restarted since (its configured wait is back) needs no restore", () => {
    const lowered = state({ currentPrimaryPodIndex: 2, replicationEpoch: 2, shortenedAckWait: { pod: 2, seconds: 10 } })
    const pods = [
      pod(0, unreachable, { ready: false }),
      pod(1, ack(standbySql(2), 10)),
      pod(2, ack(primarySql(2, [{ remote: "db-1" }]), 10))
    ]
    const d = planReplication(observed(pods, lowered, { desiredPrimary: 0 }), cluster)
    assert.deepStrictEqual(steps(d.actions), [])
    assert.isUndefined(d.next.shortenedAckWait)
  })

  it("a lowered server that is no longer the primary is restored, standby or not; a later promotion waits for that", () => {
    const lowered = state({ currentPrimaryPodIndex: 1, replicationEpoch: 3, shortenedAckWait: { pod: 2, seconds: 10 } })
    const pods = [
      pod(0, unreachable, { ready: false }),
      pod(1, ack(primarySql(3, [{ remote: "db-2" }]), 10)),
      pod(2, ack(standbySql(3), 1))
    ]
    const d = planReplication(observed(pods, lowered, { desiredPrimary: 0 }), cluster)
    assert.deepStrictEqual(steps(d.actions), ["db-2:ack=10"])
    assert.isUndefined(d.next.shortenedAckWait)
    // Promoting 1 while 2 still holds the record: no second record, the user's wait applies.
    const t = { ...failover, from: 0, to: 1 }
    const p = planReplication(
      observed(
        [
          pod(0, unreachable, { uid: "uid-0-new", ready: false }),
          pod(1, ack(standbySql(1, 500), 10)),
          pod(2, unreachable)
        ],
        state({ transition: t, primaryUnavailableSince: 96_000, shortenedAckWait: { pod: 2, seconds: 10 } }),
        {},
        101_000
      ),
      cluster
    )
    assert.deepStrictEqual(steps(p.actions), ["db-1:primary@2"])
    assert.deepStrictEqual(p.next.shortenedAckWait, { pod: 2, seconds: 10 })
  })
})
