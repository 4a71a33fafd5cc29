/** Children held by another object are never applied (taken over); the DoltDB says which and why, once. */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { childKey, type DoltDBObserved } from "../../src/doltdb/DoltDBObserved.ts"
import { ChildNotOwnedReason } from "../../src/doltdb/ForeignChildren.ts"
import { planDoltDB } from "../../src/doltdb/planDoltDB.ts"
import { Api, type Builders } from "../../src/index.ts"
import { defaultPolicy } from "../../src/replication/ReplicationObserved.ts"

const doltdb = Schema.decodeUnknownSync(Api.DoltDB)({
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "DoltDB",
  metadata: { name: "db", namespace: "ns", uid: "u-db", generation: 1, resourceVersion: "1" },
  spec: { engineVersion: "2.3.1", replicas: 1, storage: { size: "1Gi" }, serviceAccountName: "default" }
}) as Builders.IdentifiedDoltDB

const fresh = (overrides: Partial<DoltDBObserved> = {}): DoltDBObserved => ({
  now: 1_000_000,
  doltdb,
  children: new Map(),
  statefulSet: undefined,
  pods: [],
  defaults: {
    failoverDelayMillis: defaultPolicy.failoverDelayMillis,
    allowUnsafeFailover: false,
    caughtUpSlackMillis: defaultPolicy.caughtUpSlackMillis,
    maxSwitchoverLagMillis: defaultPolicy.maxSwitchoverLagMillis,
    transitionTimeoutMillis: defaultPolicy.transitionTimeoutMillis
  },
  ...overrides
})

const applied = (o: DoltDBObserved) =>
  planDoltDB(o).actions.flatMap((a) => (a._tag === "Apply" ? [childKey(a.object.kind, a.object.metadata.name)] : []))

describe("children the DoltDB does not own", () => {
  const foreign = [{ kind: "ServiceAccount", name: "default", owner: "not created by the operator" }]

  it("are not applied; everything else is", () => {
    assert.include(applied(fresh()), "ServiceAccount/default", "without the check the default SA would be taken over")
    const keys = applied(fresh({ foreignChildren: foreign }))
    assert.notInclude(keys, "ServiceAccount/default")
    assert.include(keys, "StatefulSet/db")
  })

  it("turn Ready False with a message naming the object, and one Warning event", () => {
    const plan = planDoltDB(fresh({ foreignChildren: foreign }))
    const ready = plan.status.conditions?.find((c) => c.type === "Ready")
    assert.strictEqual(ready?.reason, ChildNotOwnedReason)
    assert.include(ready?.message ?? "", "ServiceAccount default (not created by the operator)")
    assert.include(ready?.message ?? "", "spec.serviceAccountName")
    const events = plan.actions.filter((a) => a._tag === "Event" && a.reason === ChildNotOwnedReason)
    assert.strictEqual(events.length, 1)
    // Reported already: no second event on the next pass.
    const again = planDoltDB(fresh({ foreignChildren: foreign, doltdb: { ...doltdb, status: plan.status } }))
    assert.isFalse(again.actions.some((a) => a._tag === "Event" && a.reason === ChildNotOwnedReason))
  })
})
