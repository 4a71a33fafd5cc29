import { assert, describe, it } from "@effect/vitest"
import type { ReplicationStep } from "../../src/replication/Decision.ts"
import { planReplication } from "../../src/replication/planReplication.ts"
import type { PrimaryTransition } from "../../src/replication/ReplicationObserved.ts"
import { cluster, observed, pod, primarySql, standbySql, state, unreachable } from "./fixtures.ts"

const promotions = (actions: ReadonlyArray<ReplicationStep>) =>
  actions.flatMap((a) => (a._tag === "AssumeRole" && a.role === "primary" ? [`${a.target.pod}@${a.epoch}`] : []))

const failover: PrimaryTransition = {
  kind: "Failover",
  from: 0,
  to: 1,
  epoch: 2,
  fromPodUid: "uid-0",
  startedAt: 99_000
}

// Soak seed 50033: the pass that promoted the target did not record its completion (API errors, operator restart);
// the next pass found the target primary, judged it "not a promotable standby" and promoted another pod at the same
// epoch: both ended in detected_broken_config, and the cluster had no primary for good.
describe("resuming a failover whose target was already promoted", () => {
  it("keeps the promoted target, fences the old primary, and completes; no second primary at that epoch", () => {
    const pods = [pod(0, primarySql(1, [{ remote: "db-2" }])), pod(1, primarySql(2)), pod(2, standbySql(1))]
    const d = planReplication(observed(pods, state({ transition: failover })), cluster)
    assert.deepStrictEqual(promotions(d.actions), ["db-1@2"])
    const demoted = d.actions.flatMap((a) =>
      a._tag === "AssumeRole" && a.role === "standby" ? [`${a.target.pod}@${a.epoch}`] : []
    )
    assert.deepStrictEqual(demoted, ["db-0@2"], "the old primary is fenced first")
    assert.strictEqual(d.next.currentPrimaryPodIndex, 1)
    assert.strictEqual(d.next.transition, undefined)
  })

  it("a failover that must move to another pod does so at a new epoch", () => {
    const pods = [
      pod(0, unreachable, { uid: "uid-0-new", ready: false }),
      pod(1, unreachable, { ready: false }),
      pod(2, standbySql(1, 0))
    ]
    const d = planReplication(
      observed(pods, state({ transition: failover, primaryUnavailableSince: 99_000 }), { allowUnsafeFailover: true }),
      cluster
    )
    assert.deepStrictEqual(promotions(d.actions), ["db-2@3"])
    assert.deepInclude(d.persistFirst?.transition ?? {}, { to: 2, epoch: 3 })
  })
})
