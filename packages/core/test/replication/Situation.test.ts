/**
 * `classify`, table-tested: each observed cluster names exactly one situation, and the order of the rules decides
 * when several could apply (a recorded transition first, then several writable servers, then routing).
 */
import { assert, describe, it } from "@effect/vitest"
import type { PodView, ReplicationState, SqlView } from "../../src/replication/ReplicationObserved.ts"
import { classify } from "../../src/replication/Situation.ts"
import { brokenSql, observed, pod, primarySql, standbySql, state, unreachable } from "./fixtures.ts"

const switchover = (overrides: Partial<NonNullable<ReplicationState["transition"]>> = {}) =>
  ({ kind: "Switchover", from: 0, to: 1, epoch: 2, fromPodUid: "uid-0", startedAt: 90_000, ...overrides }) as const

interface Row {
  readonly name: string
  readonly pods: ReadonlyArray<PodView>
  readonly state?: Partial<ReplicationState>
  readonly situation: string
  /** The situation's own fields that identify the pods it is about. */
  readonly about?: Record<string, unknown>
}

const rows: ReadonlyArray<Row> = [
  {
    name: "nothing recorded, no server primary yet",
    pods: [pod(0, standbySql(0)), pod(1, unreachable)],
    state: { currentPrimaryPodIndex: undefined, replicationEpoch: undefined, primaryRequest: undefined },
    situation: "Bootstrapping"
  },
  {
    name: "nothing recorded, one server primary",
    pods: [pod(0, primarySql(1)), pod(1, standbySql(1))],
    state: { currentPrimaryPodIndex: undefined, replicationEpoch: undefined, primaryRequest: undefined },
    situation: "Adopt",
    about: { primary: 0 }
  },
  {
    name: "the recorded primary serves",
    pods: [pod(0, primarySql(1)), pod(1, standbySql(1)), pod(2, standbySql(1))],
    situation: "Healthy",
    about: { primary: 0 }
  },
  {
    name: "the recorded primary serves without a cluster configuration (replication just enabled)",
    pods: [pod(0, { ...primarySql(0), clustered: false } as SqlView), pod(1, unreachable)],
    state: { replicationEpoch: 0 },
    situation: "ReplicationStarting",
    about: { primary: 0 }
  },
  {
    name: "the recorded primary is unreachable",
    pods: [pod(0, unreachable), pod(1, standbySql(1))],
    situation: "PrimaryLost",
    about: { primary: 0, handedOver: false }
  },
  {
    name: "the recorded primary's pod is missing (debounced like any loss)",
    pods: [pod(0, unreachable, { exists: false, uid: undefined }), pod(1, standbySql(1))],
    situation: "PrimaryLost",
    about: { primary: 0, handedOver: false }
  },
  {
    name: "the recorded primary's pod is being deleted (its preStop hands over)",
    pods: [pod(0, primarySql(1), { deleting: true }), pod(1, standbySql(1))],
    situation: "PrimaryLost",
    about: { primary: 0, handedOver: true }
  },
  {
    name: "the recorded primary stepped down above the recorded epoch",
    pods: [pod(0, standbySql(2)), pod(1, standbySql(2))],
    situation: "PrimaryLost",
    about: { primary: 0, handedOver: true }
  },
  {
    name: "another server is primary at or above the recorded epoch and the recorded one does not serve",
    pods: [pod(0, unreachable), pod(1, primarySql(2))],
    situation: "FollowServers",
    about: { primary: 1 }
  },
  {
    name: "another server is primary below the recorded epoch",
    pods: [pod(0, unreachable), pod(1, primarySql(1))],
    state: { replicationEpoch: 3 },
    situation: "StalePrimaryReturned",
    about: { top: 1, stale: [1] }
  },
  {
    name: "two primaries at different epochs",
    pods: [pod(0, primarySql(3)), pod(1, primarySql(2)), pod(2, standbySql(3))],
    state: { replicationEpoch: 3 },
    situation: "StalePrimaryReturned",
    about: { top: 0, stale: [1] }
  },
  {
    name: "two primaries at one epoch",
    pods: [pod(0, primarySql(2)), pod(1, primarySql(2))],
    state: { replicationEpoch: 2 },
    situation: "SplitBrain",
    about: { primaries: [0, 1], broken: [] }
  },
  {
    name: "a server in detected_broken_config",
    pods: [pod(0, primarySql(2)), pod(1, brokenSql(2))],
    state: { replicationEpoch: 2 },
    situation: "SplitBrain",
    about: { primaries: [0], broken: [1] }
  },
  {
    name: "a transition recorded, whatever the servers say",
    pods: [pod(0, primarySql(1)), pod(1, primarySql(1))],
    state: { transition: switchover() },
    situation: "InTransition"
  },
  {
    name: "a transition recorded, but a server is above its epoch (the operator moved past it)",
    pods: [pod(0, primarySql(3)), pod(1, standbySql(3))],
    state: { transition: switchover(), replicationEpoch: 3 },
    situation: "TransitionSuperseded",
    about: { remaining: "Healthy" }
  }
]

/** The situation's pod fields as ordinals, `remaining` as its tag. */
const aboutOf = (situation: ReturnType<typeof classify>, keys: ReadonlyArray<string>) => {
  const fields = situation as unknown as Record<string, unknown>
  return Object.fromEntries(
    keys.map((k) => {
      const v = fields[k]
      if (Array.isArray(v)) return [k, v.map((p: PodView) => p.ordinal)]
      if (k === "remaining") return [k, (v as { _tag: string })._tag]
      if (typeof v === "object" && v !== null && "ordinal" in v) return [k, (v as PodView).ordinal]
      return [k, v]
    })
  )
}

describe("classify", () => {
  for (const row of rows)
    it(`${row.name}: ${row.situation}`, () => {
      const situation = classify(observed(row.pods, state(row.state)))
      assert.strictEqual(situation._tag, row.situation)
      if (row.about !== undefined) assert.deepStrictEqual(aboutOf(situation, Object.keys(row.about)), row.about)
    })

  it("every situation has a row", () => {
    const named = new Set(rows.map((r) => r.situation))
    for (const tag of [
      "InTransition",
      "TransitionSuperseded",
      "SplitBrain",
      "StalePrimaryReturned",
      "Bootstrapping",
      "Adopt",
      "FollowServers",
      "ReplicationStarting",
      "Healthy",
      "PrimaryLost"
    ])
      assert.isTrue(named.has(tag), tag)
  })
})
