// The lowered ack-writes waits as the status carries them: one record per pod in `shortenedAckWaits`; the single
// `shortenedAckWait` earlier versions wrote is read as one more record and dropped at the next write.
import { assert, describe, it } from "@effect/vitest"
import type { DoltDBStatus } from "../../src/api/DoltDB.ts"
import { replicationStateOf, withReplicationState } from "../../src/doltdb/replicationStatus.ts"

describe("status.shortenedAckWaits", () => {
  it("reads the legacy single record as one of the list, unless the list has a newer one for its pod", () => {
    const legacy: DoltDBStatus = { shortenedAckWait: { podIndex: 2, seconds: 10 } }
    assert.deepStrictEqual(replicationStateOf(legacy).shortenedAckWaits, [{ pod: 2, seconds: 10 }])
    const both: DoltDBStatus = {
      shortenedAckWait: { podIndex: 2, seconds: 10 },
      shortenedAckWaits: [
        { podIndex: 1, seconds: 8 },
        { podIndex: 2, seconds: 5 }
      ]
    }
    assert.deepStrictEqual(replicationStateOf(both).shortenedAckWaits, [
      { pod: 1, seconds: 8 },
      { pod: 2, seconds: 5 }
    ])
    assert.isUndefined(replicationStateOf({}).shortenedAckWaits)
  })

  it("writes the list only, and no key once every record is gone", () => {
    const status: DoltDBStatus = { shortenedAckWait: { podIndex: 2, seconds: 10 } }
    const state = replicationStateOf(status)
    const written = withReplicationState(
      status,
      {
        ...state,
        shortenedAckWaits: [
          { pod: 2, seconds: 10 },
          { pod: 1, seconds: 10 }
        ]
      },
      "db"
    )
    assert.isUndefined(written.shortenedAckWait)
    assert.deepStrictEqual(written.shortenedAckWaits, [
      { podIndex: 2, seconds: 10 },
      { podIndex: 1, seconds: 10 }
    ])
    assert.deepStrictEqual(replicationStateOf(written).shortenedAckWaits, [
      { pod: 2, seconds: 10 },
      { pod: 1, seconds: 10 }
    ])
    const { shortenedAckWaits: _, ...cleared } = replicationStateOf(written)
    const empty = withReplicationState(written, cleared, "db")
    assert.isUndefined(empty.shortenedAckWaits)
    assert.isUndefined(empty.shortenedAckWait)
  })
})
