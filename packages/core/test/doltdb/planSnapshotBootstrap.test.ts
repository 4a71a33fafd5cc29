import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { planSnapshotBootstrap, snapshotBootstrapSituation } from "../../src/doltdb/bootstrap/planSnapshotBootstrap.ts"
import type { DoltDBObserved, DoltDBPodView } from "../../src/doltdb/DoltDBObserved.ts"
import { Api, type Builders } from "../../src/index.ts"
import { defaultPolicy } from "../../src/replication/ReplicationObserved.ts"
import { pod, primarySql, standbySql, unreachable } from "../replication/fixtures.ts"

const decode = Schema.decodeUnknownSync(Api.DoltDB)

const doltdb = (spec: Record<string, unknown>, status?: Record<string, unknown>) =>
  decode({
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "DoltDB",
    metadata: { name: "db", namespace: "ns", uid: "u-db" },
    spec: { engineVersion: "2.3.1", replicas: 3, storage: { size: "1Gi" }, replication: { enabled: true }, ...spec },
    ...(status === undefined ? {} : { status })
  }) as Builders.IdentifiedDoltDB

const fromSnapshot = { bootstrap: { from: { volumeSnapshot: "snap-1" } } }

const observed = (d: Builders.IdentifiedDoltDB, pods: ReadonlyArray<ReturnType<typeof pod>>): DoltDBObserved => ({
  now: 1_000,
  doltdb: d,
  children: new Map(),
  statefulSet: undefined,
  pods: pods.map((p): DoltDBPodView => ({ ...p, revision: "r" })),
  defaults: {
    failoverDelayMillis: defaultPolicy.failoverDelayMillis,
    allowUnsafeFailover: false,
    caughtUpSlackMillis: defaultPolicy.caughtUpSlackMillis,
    maxSwitchoverLagMillis: defaultPolicy.maxSwitchoverLagMillis,
    transitionTimeoutMillis: defaultPolicy.transitionTimeoutMillis
  }
})

const standbys = (epoch: number) => [pod(0, standbySql(epoch)), pod(1, standbySql(epoch)), pod(2, standbySql(epoch))]

describe("snapshotBootstrapSituation", () => {
  it("restored from a standby's snapshot (every pod standby, no primary recorded): promote the desired primary above the snapshot's epoch", () => {
    const s = snapshotBootstrapSituation(observed(doltdb(fromSnapshot), standbys(7)))
    assert.deepStrictEqual(s, { _tag: "PromoteRestoredStandby", ordinal: 0, epoch: 8 })
    const actions = planSnapshotBootstrap(observed(doltdb(fromSnapshot), standbys(7)))
    assert.deepStrictEqual(
      actions.map((a) => (a._tag === "AssumeRole" ? `${a.target.pod} ${a.role}@${a.epoch}` : a._tag)),
      ["db-0 primary@8", "Event"]
    )
  })
  it("the reference's storage.volumeSnapshot counts too, and spec.replication.primary.podIndex is honoured", () => {
    const d = doltdb({
      storage: { size: "1Gi", volumeSnapshot: "snap-1" },
      replication: { enabled: true, primary: { podIndex: 2 } }
    })
    assert.deepStrictEqual(snapshotBootstrapSituation(observed(d, standbys(3))), {
      _tag: "PromoteRestoredStandby",
      ordinal: 2,
      epoch: 4
    })
  })
  const none: ReadonlyArray<readonly [string, DoltDBObserved]> = [
    ["not bootstrapped from a snapshot", observed(doltdb({}), standbys(1))],
    [
      "a primary was recorded (an existing cluster)",
      observed(doltdb(fromSnapshot, { currentPrimaryPodIndex: 1 }), standbys(2))
    ],
    [
      "a pod is a primary (snapshot of a primary: the repair handles it)",
      observed(doltdb(fromSnapshot), [pod(0, primarySql(2)), pod(1, standbySql(2)), pod(2, standbySql(2))])
    ],
    [
      "a pod is unreachable (it may be a primary)",
      observed(doltdb(fromSnapshot), [pod(0, standbySql(2)), pod(1, standbySql(2)), pod(2, unreachable)])
    ],
    ["not every pod exists yet", observed(doltdb(fromSnapshot), standbys(2).slice(0, 2))],
    [
      "standalone",
      observed(doltdb({ ...fromSnapshot, replicas: 1, replication: { enabled: false } }), [pod(0, standbySql(1))])
    ]
  ]
  for (const [name, o] of none)
    it(`nothing when ${name}`, () => {
      assert.strictEqual(snapshotBootstrapSituation(o)._tag, "NotApplicable")
    })
})
