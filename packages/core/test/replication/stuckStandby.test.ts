/**
 * A standby that keeps refusing the serving primary's credentials (Dolt's key fetch stuck on a re-created peer's
 * previous address, e2e figures runs 6 and 7) is restarted: only for a refusal of credentials, only past the bound,
 * only while the operator reaches it at the primary's epoch, and at most once per bound of its process's life.
 */
import { assert, describe, it } from "@effect/vitest"
import { planReplication } from "../../src/replication/planReplication.ts"
import type { PodView, SqlView, StandbyReplication } from "../../src/replication/ReplicationObserved.ts"
import { StuckStandbyMillis } from "../../src/replication/StuckStandby.ts"
import { cluster, deletions, observed, pod, standbySql, state, unreachable, warnings } from "./fixtures.ts"

const now = 100_000
const refusing: StandbyReplication = { remote: "db-1", databases: 1, maxLagMillis: 9_000, errors: 1, refused: true }
const caughtUp: StandbyReplication = { remote: "db-2", databases: 1, maxLagMillis: 0, errors: 0 }

const primary = (standbys: ReadonlyArray<StandbyReplication>): SqlView => ({
  _tag: "Reachable",
  role: "primary",
  epoch: 1,
  databases: ["app"],
  standbys,
  staleness: []
})

/** db-1 has not been reported caught up since `behindSince`; its server started at `startedAt`. */
const plan = (options: {
  readonly behindSince?: number
  readonly startedAt?: number | undefined
  readonly db1?: StandbyReplication
  readonly db1Sql?: SqlView
  readonly db1Pod?: Partial<PodView>
  readonly db2Pod?: Partial<PodView>
}) => {
  const pods = [
    pod(0, primary([options.db1 ?? refusing, caughtUp])),
    pod(1, options.db1Sql ?? standbySql(1, null), {
      serverStartedAt: "startedAt" in options ? options.startedAt : 10_000,
      ...options.db1Pod
    }),
    pod(2, standbySql(1, 0), { serverStartedAt: 10_000, ...options.db2Pod })
  ]
  const evidence = {
    primary: 0,
    epoch: 1,
    databases: ["app"],
    standbys: [
      { pod: "db-1", caughtUp: false, since: options.behindSince ?? now - StuckStandbyMillis - 10_000 },
      { pod: "db-2", caughtUp: true, since: 20_000 }
    ]
  }
  return planReplication(observed(pods, state({ evidence }), {}, now), cluster)
}

describe("a standby that refuses the primary's credentials", () => {
  it("is restarted past the bound, with a Warning naming it and why; the caught-up standby is left alone", () => {
    const decision = plan({})
    assert.deepStrictEqual(deletions(decision.actions), ["db-1"])
    assert.deepStrictEqual(warnings(decision.actions), ["StandbyRestarted"])
    const restart = decision.actions.find((a) => a._tag === "Delete")
    assert.strictEqual(restart?._tag === "Delete" ? restart.ref.uid : undefined, "uid-1")
    // graceful: a standby's shutdown loses nothing and needs no force
    assert.strictEqual(restart?._tag === "Delete" ? restart.gracePeriodSeconds : 0, undefined)
    const warning = decision.actions.find((a) => a._tag === "Event")
    assert.include(warning?._tag === "Event" ? warning.message : "", "standby db-1 has refused primary db-0's")
    // nothing else changes: the primary stays, no transition starts
    assert.strictEqual(decision.persistFirst, undefined)
    assert.strictEqual(decision.next.currentPrimaryPodIndex, 0)
  })

  it("comes after the role labels: a restart that fails never holds up routing", () => {
    const actions = plan({ db2Pod: { roleLabel: undefined } }).actions
    const label = actions.findIndex((a) => a._tag === "Apply" && a.object.metadata.name === "db-2")
    const restart = actions.findIndex((a) => a._tag === "Delete")
    assert.isAtLeast(label, 0, "db-2's missing role label is not applied")
    assert.isAbove(restart, label)
  })

  it("is left alone within the bound", () => {
    assert.deepStrictEqual(deletions(plan({ behindSince: now - StuckStandbyMillis + 1_000 }).actions), [])
  })

  it("is restarted at most once per bound of its process's life (or not at all while its start is unknown)", () => {
    assert.deepStrictEqual(deletions(plan({ startedAt: now - StuckStandbyMillis + 1_000 }).actions), [])
    assert.deepStrictEqual(deletions(plan({ startedAt: undefined }).actions), [])
  })

  it("only for a refusal of credentials: a standby the primary cannot reach is not restarted", () => {
    const unavailable: StandbyReplication = { remote: "db-1", databases: 1, maxLagMillis: 9_000, errors: 1 }
    assert.deepStrictEqual(deletions(plan({ db1: unavailable }).actions), [])
  })

  it("only while the operator reaches it as a standby at the primary's epoch", () => {
    assert.deepStrictEqual(deletions(plan({ db1Sql: unreachable }).actions), [])
    assert.deepStrictEqual(deletions(plan({ db1Sql: standbySql(0, null) }).actions), [])
    assert.deepStrictEqual(deletions(plan({ db1Pod: { deleting: true } }).actions), [])
  })
})
