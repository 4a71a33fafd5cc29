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
            ? [
                `checkpoint${a.state.shortenedAckWaits === undefined ? "" : `(ack ${a.state.shortenedAckWaits.map((w) => w.pod).join(",")})`}`
              ]
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
    assert.deepStrictEqual(d.persistFirst?.shortenedAckWaits, [{ pod: 2, seconds: 10 }])
    assert.deepStrictEqual(d.persistFirst?.transition, failover, "the transition is still recorded")
    assert.deepStrictEqual(d.next.shortenedAckWaits, [{ pod: 2, seconds: 10 }])
    assert.strictEqual(d.next.currentPrimaryPodIndex, 2)
  })

  it("never with asynchronous replication, nor when the wait is already as short", () => {
    for (const seconds of [0, 1]) {
      const d = planReplication(promoting(seconds), cluster)
      assert.deepStrictEqual(steps(d.actions), ["db-2:primary@2"])
      assert.isUndefined(d.persistFirst)
      assert.isUndefined(d.next.shortenedAckWaits)
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
    assert.deepStrictEqual(d.next.shortenedAckWaits, [{ pod: 2, seconds: 10 }])
  })

  it("not at a switchover with every standby up", () => {
    const pods = [
      pod(0, ack(primarySql(1, [{ remote: "db-1" }, { remote: "db-2" }]), 10)),
      pod(1, ack(standbySql(1), 10)),
      pod(2, ack(standbySql(1), 10))
    ]
    const d = planReplication(observed(pods, state(), { desiredPrimary: 1 }), cluster)
    assert.deepStrictEqual(steps(d.actions), ["db-0:drain@2", "checkpoint", "db-1:primary@2"])
    assert.isUndefined(d.next.shortenedAckWaits)
  })

  it("a switchover while a third standby is down lowers it after the drain's checkpoint, which records it", () => {
    const pods = [
      pod(0, ack(primarySql(1, [{ remote: "db-1" }, { remote: "db-2", lag: undefined, errors: 1 }]), 10)),
      pod(1, ack(standbySql(1), 10)),
      pod(2, unreachable, { ready: false })
    ]
    const d = planReplication(observed(pods, state(), { desiredPrimary: 1 }), cluster)
    assert.deepStrictEqual(steps(d.actions), ["db-0:drain@2", "checkpoint(ack 1)", "db-1:ack=1?", "db-1:primary@2"])
    assert.deepStrictEqual(d.next.shortenedAckWaits, [{ pod: 1, seconds: 10 }])
  })

  it("stays lowered while a standby is down or not replicating yet", () => {
    const lowered = state({
      currentPrimaryPodIndex: 2,
      replicationEpoch: 2,
      shortenedAckWaits: [{ pod: 2, seconds: 10 }]
    })
    const down = [
      pod(0, unreachable, { ready: false }),
      pod(1, ack(standbySql(2), 10)),
      pod(2, ack(primarySql(2, [{ remote: "db-0", lag: undefined, errors: 1 }, { remote: "db-1" }]), 1))
    ]
    const d = planReplication(observed(down, lowered, { desiredPrimary: 0 }), cluster)
    assert.deepStrictEqual(steps(d.actions), [])
    assert.deepStrictEqual(d.next.shortenedAckWaits, [{ pod: 2, seconds: 10 }])
    const back = [
      pod(0, ack(standbySql(2), 10)),
      pod(1, ack(standbySql(2), 10)),
      pod(2, ack(primarySql(2, [{ remote: "db-0", lag: undefined }, { remote: "db-1" }]), 1))
    ]
    const e = planReplication(observed(back, lowered, { desiredPrimary: 0 }), cluster)
    assert.deepStrictEqual(steps(e.actions), [], "db-0 answers but has not received a push yet")
  })

  it("is restored (not best effort) once every standby replicates, and the record goes", () => {
    const lowered = state({
      currentPrimaryPodIndex: 2,
      replicationEpoch: 2,
      shortenedAckWaits: [{ pod: 2, seconds: 10 }]
    })
    const pods = [
      pod(0, ack(standbySql(2), 10)),
      pod(1, ack(standbySql(2), 10)),
      pod(2, ack(primarySql(2, [{ remote: "db-0", lag: 40 }, { remote: "db-1" }]), 1))
    ]
    const d = planReplication(observed(pods, lowered, { desiredPrimary: 0 }), cluster)
    assert.deepStrictEqual(steps(d.actions), ["db-2:ack=10"])
    assert.isUndefined(d.next.shortenedAckWaits)
  })

  it("a server that restarted since (its configured wait is back) needs no restore", () => {
    const lowered = state({
      currentPrimaryPodIndex: 2,
      replicationEpoch: 2,
      shortenedAckWaits: [{ pod: 2, seconds: 10 }]
    })
    const pods = [
      pod(0, unreachable, { ready: false }),
      pod(1, ack(standbySql(2), 10)),
      pod(2, ack(primarySql(2, [{ remote: "db-1" }]), 10))
    ]
    const d = planReplication(observed(pods, lowered, { desiredPrimary: 0 }), cluster)
    assert.deepStrictEqual(steps(d.actions), [])
    assert.isUndefined(d.next.shortenedAckWaits)
  })

  it("a lowered server that is no longer the primary is restored at once, standby or not", () => {
    const lowered = state({
      currentPrimaryPodIndex: 1,
      replicationEpoch: 3,
      shortenedAckWaits: [{ pod: 2, seconds: 10 }]
    })
    const pods = [
      pod(0, unreachable, { ready: false }),
      pod(1, ack(primarySql(3, [{ remote: "db-2" }]), 10)),
      pod(2, ack(standbySql(3), 1))
    ]
    const d = planReplication(observed(pods, lowered, { desiredPrimary: 0 }), cluster)
    assert.deepStrictEqual(steps(d.actions), ["db-2:ack=10"])
    assert.isUndefined(d.next.shortenedAckWaits)
  })
})

/**
 * Two failovers in a row (e2e, 13.36 s): the first lowered the wait on db-2 and its restore was still pending (db-0
 * not replicating yet) when db-2 was killed too. With one record at a time the next primary kept the user's 10 s.
 */
const second = { kind: "Failover", from: 2, to: 1, epoch: 3, fromPodUid: "uid-2", startedAt: 200_000 } as const

/** State after the first failover (0 -> 2, lowered on 2) with db-2 lost and the second failover (2 -> 1) recorded. */
const secondFailover = (records: ReadonlyArray<{ pod: number; seconds: number }>) =>
  state({
    currentPrimaryPodIndex: 2,
    replicationEpoch: 2,
    primaryRequest: 0,
    transition: second,
    primaryUnavailableSince: 196_000,
    shortenedAckWaits: records
  })

const promotingSecond = (db1: SqlView, db2: SqlView, records = [{ pod: 2, seconds: 10 }]) =>
  observed(
    [pod(0, ack(standbySql(2, null), 10)), pod(1, db1), pod(2, db2, { uid: "uid-2-new", ready: false })],
    secondFailover(records),
    {},
    201_000
  )

describe("two failovers in a row, the first one's lowered wait still pending", () => {
  it("the first failover leaves a pending record while db-0 does not replicate yet", () => {
    const first = planReplication(promoting(10), cluster)
    const after = planReplication(
      observed(
        [
          pod(0, ack(standbySql(2, null), 10)),
          pod(1, ack(standbySql(2), 10)),
          pod(2, ack(primarySql(2, [{ remote: "db-0", lag: undefined, errors: 1 }, { remote: "db-1" }]), 1))
        ],
        first.next,
        {},
        150_000
      ),
      cluster
    )
    assert.deepStrictEqual(steps(after.actions), [])
    assert.deepStrictEqual(after.next.shortenedAckWaits, [{ pod: 2, seconds: 10 }])
  })

  // db-2's process: killed and not back, restarted with its configured 10 s, or (fenced, still running) at 1 s.
  for (const [what, db2] of [
    ["unreachable", unreachable],
    ["back with its configured wait", ack(standbySql(3, null), 10)],
    ["answering with the lowered wait", ack(standbySql(3, null), 1)]
  ] as const)
    it(`the next promotion lowers the new primary too, recorded first, db-2 ${what}`, () => {
      const d = planReplication(promotingSecond(ack(standbySql(2, 400), 10), db2), cluster)
      assert.deepStrictEqual(steps(d.actions), ["db-1:ack=1?", "db-1:primary@3"])
      const both = [
        { pod: 2, seconds: 10 },
        { pod: 1, seconds: 10 }
      ]
      assert.deepStrictEqual(d.persistFirst?.shortenedAckWaits, both, "persisted before the SET and the promotion")
      assert.deepStrictEqual(d.persistFirst?.transition, second)
      assert.deepStrictEqual(d.next.shortenedAckWaits, both)
      assert.strictEqual(d.next.currentPrimaryPodIndex, 1)
    })

  it("resumed after a crash between the SET and the promotion: promotes, no second record or event", () => {
    const records = [
      { pod: 2, seconds: 10 },
      { pod: 1, seconds: 10 }
    ]
    const d = planReplication(promotingSecond(ack(standbySql(2, 400), 1), unreachable, records), cluster)
    assert.deepStrictEqual(steps(d.actions), ["db-1:primary@3"])
    assert.isFalse(d.actions.some((a) => a._tag === "Event" && a.reason === "AckWaitShortened"))
    assert.deepStrictEqual(d.next.shortenedAckWaits, records)
  })

  it("a stale record for the new primary itself (restarted since) is replaced, not duplicated", () => {
    const d = planReplication(
      promotingSecond(ack(standbySql(2, 400), 10), unreachable, [
        { pod: 1, seconds: 5 },
        { pod: 2, seconds: 10 }
      ]),
      cluster
    )
    assert.deepStrictEqual(steps(d.actions), ["db-1:ack=1?", "db-1:primary@3"])
    assert.deepStrictEqual(d.next.shortenedAckWaits, [
      { pod: 2, seconds: 10 },
      { pod: 1, seconds: 10 }
    ])
  })

  const both = state({
    currentPrimaryPodIndex: 1,
    replicationEpoch: 3,
    primaryRequest: 0,
    shortenedAckWaits: [
      { pod: 2, seconds: 10 },
      { pod: 1, seconds: 10 }
    ]
  })
  const serving = (standbys: Parameters<typeof primarySql>[1]) => ack(primarySql(3, standbys), 1)
  const restoring: ReadonlyArray<
    readonly [string, SqlView, Parameters<typeof primarySql>[1], ReadonlyArray<string>, ReadonlyArray<number>]
  > = [
    // db-2's record: dropped (its restart brought 10 back), kept (unreachable), restored (a standby at 1 s) at once;
    // db-1's (the primary): kept until every standby replicates.
    ["db-2 down", unreachable, [{ remote: "db-0" }, { remote: "db-2", lag: undefined, errors: 1 }], [], [2, 1]],
    [
      "db-2 restarted, not replicating",
      ack(standbySql(3, null), 10),
      [{ remote: "db-0" }, { remote: "db-2", lag: undefined }],
      [],
      [1]
    ],
    [
      "db-2 lowered, not replicating",
      ack(standbySql(3, null), 1),
      [{ remote: "db-0" }, { remote: "db-2", lag: undefined }],
      ["db-2:ack=10"],
      [1]
    ],
    [
      "db-2 restarted, replicating",
      ack(standbySql(3), 10),
      [{ remote: "db-0" }, { remote: "db-2", lag: 30 }],
      ["db-1:ack=10"],
      []
    ],
    [
      "db-2 lowered, replicating",
      ack(standbySql(3), 1),
      [{ remote: "db-0" }, { remote: "db-2", lag: 30 }],
      ["db-2:ack=10", "db-1:ack=10"],
      []
    ]
  ]
  for (const [what, db2, standbys, expected, left] of restoring)
    it(`each record is restored on its own: ${what}`, () => {
      const pods = [
        pod(0, ack(standbySql(3), 10)),
        pod(1, serving(standbys)),
        pod(2, db2, { ready: db2._tag === "Reachable" })
      ]
      const d = planReplication(observed(pods, both, { desiredPrimary: 0 }), cluster)
      assert.deepStrictEqual(steps(d.actions), expected)
      assert.deepStrictEqual(
        (d.next.shortenedAckWaits ?? []).map((w) => w.pod),
        left
      )
    })
})
