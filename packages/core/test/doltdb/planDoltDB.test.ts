import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { parseGoDuration } from "../../src/api/GoDuration.ts"
import { childKey, type DoltDBObserved, type DoltDBPodView } from "../../src/doltdb/DoltDBObserved.ts"
import { PollMillis, planDoltDB, withAppliedHash } from "../../src/doltdb/planDoltDB.ts"
import { Api, Builders } from "../../src/index.ts"
import type { Action } from "../../src/plan/Action.ts"
import { defaultPolicy } from "../../src/replication/ReplicationObserved.ts"
import { pod, primarySql, standbySql, unreachable } from "../replication/fixtures.ts"

const decode = Schema.decodeUnknownSync(Api.DoltDB)

const manifest = (replicas: number, status?: Record<string, unknown>) =>
  decode({
    apiVersion: "k8s.dolthub.com/v1alpha",
    kind: "DoltDB",
    metadata: { name: "db", namespace: "ns", uid: "u-db", generation: 3, resourceVersion: "41" },
    spec: {
      engineVersion: "2.3.1",
      replicas,
      storage: { size: "1Gi" },
      replication: { enabled: replicas > 1 }
    },
    ...(status === undefined ? {} : { status })
  }) as Builders.IdentifiedDoltDB

const views = (pods: ReadonlyArray<ReturnType<typeof pod>>, revision = "rev-1"): ReadonlyArray<DoltDBPodView> =>
  pods.map((p) => ({ ...p, revision }))

/** Children as the API server has them after the operator applied `doltdb`'s desired state. */
const appliedChildren = (doltdb: Builders.IdentifiedDoltDB) =>
  new Map(
    Builders.buildDesiredState(doltdb).objects.map((c) => [childKey(c.kind, c.metadata.name), withAppliedHash(c).hash])
  )

const observed = (
  doltdb: Builders.IdentifiedDoltDB,
  pods: ReadonlyArray<DoltDBPodView>,
  overrides: Partial<DoltDBObserved> = {}
): DoltDBObserved => ({
  now: 1_000_000,
  doltdb,
  children: appliedChildren(doltdb),
  statefulSet: {
    replicas: doltdb.spec.replicas,
    readyReplicas: doltdb.spec.replicas,
    updateRevision: "rev-1",
    currentRevision: "rev-1"
  },
  pods,
  defaults: {
    failoverDelayMillis: defaultPolicy.failoverDelayMillis,
    allowUnsafeFailover: false,
    caughtUpSlackMillis: defaultPolicy.caughtUpSlackMillis,
    maxSwitchoverLagMillis: defaultPolicy.maxSwitchoverLagMillis,
    transitionTimeoutMillis: defaultPolicy.transitionTimeoutMillis
  },
  ...overrides
})

const writes = (actions: ReadonlyArray<Action>) => actions.filter((a) => a._tag !== "Event")

const healthyPods = () =>
  views([pod(0, primarySql(1, [{ remote: "db-1" }, { remote: "db-2" }])), pod(1, standbySql(1)), pod(2, standbySql(1))])

describe("planDoltDB", () => {
  it("a new DoltDB: applies every child in order and writes a first status", () => {
    const doltdb = manifest(3)
    const plan = planDoltDB(observed(doltdb, [], { children: new Map(), statefulSet: undefined }))
    const kinds = plan.actions.filter((a) => a._tag === "Apply").map((a) => (a._tag === "Apply" ? a.object.kind : ""))
    assert.deepStrictEqual(kinds, [
      "ServiceAccount",
      "Role",
      "RoleBinding",
      "ConfigMap",
      "Service",
      "Service",
      "Service",
      "StatefulSet",
      "PodDisruptionBudget"
    ])
    assert.strictEqual(plan.status.conditions?.find((c) => c.type === "Ready")?.status, "False")
    assert.strictEqual(plan.status.observedGeneration, 3)
    assert.isTrue(plan.actions.some((a) => a._tag === "PatchStatus"))
  })

  it("podManagementPolicy: Parallel for a new StatefulSet; an existing one keeps its own (immutable)", () => {
    const doltdb = manifest(3)
    const policyApplied = (o: DoltDBObserved) =>
      planDoltDB(o)
        .actions.flatMap((a) => (a._tag === "Apply" && a.object.kind === "StatefulSet" ? [a.object] : []))
        .map((sts) => (sts as unknown as { spec: { podManagementPolicy: string } }).spec.podManagementPolicy)
    assert.deepStrictEqual(policyApplied(observed(doltdb, [], { children: new Map(), statefulSet: undefined })), [
      "Parallel"
    ])
    // A StatefulSet the reference operator created (OrderedReady), adopted: the applied one stays OrderedReady.
    const adopted = observed(doltdb, healthyPods(), {
      children: new Map(),
      statefulSet: {
        replicas: 3,
        readyReplicas: 3,
        updateRevision: "rev-1",
        currentRevision: "rev-1",
        podManagementPolicy: "OrderedReady"
      }
    })
    assert.deepStrictEqual(policyApplied(adopted), ["OrderedReady"])
    // Applied as OrderedReady and still so: nothing to apply (no hash change from the new default).
    const kept = Builders.buildDesiredState(doltdb, { podManagementPolicy: "OrderedReady" }).objects.map(
      (c) => [childKey(c.kind, c.metadata.name), withAppliedHash(c).hash] as const
    )
    assert.deepStrictEqual(policyApplied({ ...adopted, children: new Map(kept) }), [])
  })

  it("a converged cluster: zero API writes (no apply, no label, no status patch), only a polling requeue", () => {
    const doltdb0 = manifest(3)
    const first = planDoltDB(observed(doltdb0, healthyPods()))
    // Feed the status back as the API server would have stored it, then plan again.
    const doltdb = { ...doltdb0, status: first.status }
    const second = planDoltDB(observed(doltdb, healthyPods()))
    assert.deepStrictEqual(writes(second.actions), [])
    assert.deepStrictEqual(second.actions, [])
    assert.strictEqual(second.requeueAfter?.millis, PollMillis)
    assert.strictEqual(second.status.conditions?.find((c) => c.type === "Ready")?.status, "True")
    assert.strictEqual(second.status.currentPrimary, "db-0")
    assert.deepStrictEqual(second.status.replicationStatus, { "db-0": "primary", "db-1": "standby", "db-2": "standby" })
  })

  it("a changed spec re-applies only the children whose configuration changed", () => {
    const fresh = manifest(3)
    const before = { ...fresh, status: planDoltDB(observed(fresh, healthyPods())).status }
    const after = { ...before, spec: { ...before.spec, podAnnotations: { "example.com/x": "y" } } }
    const plan = planDoltDB(observed(after, healthyPods(), { children: appliedChildren(before) }))
    const applied = plan.actions.flatMap((a) =>
      a._tag === "Apply" ? [`${a.object.kind}/${a.object.metadata.name}`] : []
    )
    assert.deepStrictEqual(applied, ["StatefulSet/db"])
  })

  it("a switchover writes intent to status before any role change, and points db-primary at the new primary", () => {
    const base = manifest(3)
    const first = planDoltDB(observed(base, healthyPods()))
    const doltdb = {
      ...base,
      spec: {
        ...base.spec,
        replication: { ...base.spec.replication, primary: { ...base.spec.replication.primary, podIndex: 1 } }
      },
      status: first.status
    }
    const plan = planDoltDB(observed(doltdb, healthyPods()))
    const tags = plan.actions.map((a) => a._tag)
    const intent = tags.indexOf("PatchStatus")
    assert.isBelow(intent, tags.indexOf("TransitionToStandby"))
    const intentStatus = plan.actions[intent]
    assert.strictEqual(intentStatus?._tag === "PatchStatus" ? intentStatus.resourceVersion : undefined, "41")
    const service = plan.actions.find((a) => a._tag === "Apply" && a.object.metadata.name === "db-primary")
    const selector =
      service?._tag === "Apply" ? (service.object.spec as { selector: Record<string, string> }).selector : {}
    assert.strictEqual(selector["statefulset.kubernetes.io/pod-name"], "db-1")
    assert.isBelow(tags.indexOf("AssumeRole"), plan.actions.indexOf(service!))
    assert.strictEqual(plan.status.currentPrimaryPodIndex, 1)
    assert.strictEqual(plan.status.replicationEpoch, 2)
    assert.strictEqual(plan.status.primaryRequest, 1)
    // The user's spec is never written: no action targets the DoltDB except its status.
    for (const a of plan.actions) if (a._tag === "Apply") assert.notStrictEqual(a.object.kind, "DoltDB")
  })

  it("a lost primary: debounce first (status records when), no role change", () => {
    const base = manifest(3)
    const first = planDoltDB(observed(base, healthyPods()))
    const doltdb = { ...base, status: first.status }
    const pods = views([
      pod(0, unreachable, { ready: false, roleLabel: "primary" }),
      pod(1, standbySql(1)),
      pod(2, standbySql(1))
    ])
    const plan = planDoltDB(
      observed(doltdb, pods, {
        statefulSet: { replicas: 3, readyReplicas: 2, updateRevision: "rev-1", currentRevision: "rev-1" }
      })
    )
    assert.isFalse(plan.actions.some((a) => a._tag === "AssumeRole" || a._tag === "Delete"))
    assert.isDefined(plan.status.primaryUnavailableSince)
    // The failover delay (3 s) or the server poll (2 s), whichever comes first.
    assert.strictEqual(plan.requeueAfter?.millis, 2_000)
  })

  it("a lost primary's time is recorded before any child apply (a child the API keeps refusing cannot stop the clock)", () => {
    const base = manifest(3)
    const doltdb = { ...base, status: planDoltDB(observed(base, healthyPods())).status }
    const pods = views([
      pod(0, unreachable, { ready: false, roleLabel: "primary" }),
      pod(1, standbySql(1)),
      pod(2, standbySql(1))
    ])
    // The PodDisruptionBudget is missing, so this pass applies it; the API server may refuse it on every pass.
    const children = new Map(appliedChildren(doltdb))
    children.delete(childKey("PodDisruptionBudget", "db-pdb"))
    const plan = planDoltDB(observed(doltdb, pods, { children }))
    const budget = plan.actions.findIndex((a) => a._tag === "Apply" && a.object.kind === "PodDisruptionBudget")
    const recorded = plan.actions.findIndex(
      (a) => a._tag === "PatchStatus" && a.status.primaryUnavailableSince !== undefined
    )
    assert.isAtLeast(budget, 0)
    assert.isAtLeast(recorded, 0)
    assert.isBelow(recorded, budget)
  })

  it("a persisting block is announced by one Warning Event, not one per poll", () => {
    const base = manifest(3)
    const doltdb = { ...base, status: planDoltDB(observed(base, healthyPods())).status }
    const lost = views([
      pod(0, unreachable, { ready: false, roleLabel: "primary" }),
      pod(1, standbySql(1, 900_000)),
      pod(2, standbySql(1, null))
    ])
    const sts = { replicas: 3, readyReplicas: 2, updateRevision: "rev-1", currentRevision: "rev-1" }
    const first = planDoltDB(observed(doltdb, lost, { statefulSet: sts }))
    const second = planDoltDB(observed({ ...doltdb, status: first.status }, lost, { statefulSet: sts, now: 1_010_000 }))
    const third = planDoltDB(observed({ ...doltdb, status: second.status }, lost, { statefulSet: sts, now: 1_012_000 }))
    const warnings = (p: typeof first) =>
      p.actions.filter((a) => a._tag === "Event" && a.reason === "FailoverBlocked").length
    assert.strictEqual(second.status.conditions?.find((c) => c.type === "Ready")?.reason, "FailoverBlocked")
    assert.strictEqual(warnings(second), 1)
    assert.strictEqual(warnings(third), 0)
    // Every refusal is visible: its Warning must be written (a failure fails the plan before the status patch that
    // records the condition, so the next pass announces it again), and it comes before that patch.
    const announced = second.actions.findIndex((a) => a._tag === "Event" && a.reason === "FailoverBlocked")
    assert.strictEqual((second.actions[announced] as { required?: boolean }).required, true)
    assert.isBelow(announced, second.actions.map((a) => a._tag).lastIndexOf("PatchStatus"))
  })

  it("a rolling update deletes one stale standby at a time and never the primary", () => {
    const base = manifest(3)
    const first = planDoltDB(observed(base, healthyPods()))
    const doltdb = { ...base, status: first.status }
    const pods = healthyPods()
    const plan = planDoltDB(
      observed(
        doltdb,
        pods.map((p) => ({ ...p, revision: "rev-1" })),
        {
          statefulSet: { replicas: 3, readyReplicas: 3, updateRevision: "rev-2", currentRevision: "rev-1" }
        }
      )
    )
    const deletes = plan.actions.flatMap((a) => (a._tag === "Delete" ? [a.ref.name] : []))
    assert.deepStrictEqual(deletes, ["db-2"])
  })

  it("a scale-up records the new peer list and restarts the pods that started before it, one standby at a time", () => {
    const base = manifest(3)
    const converged = { ...base, status: planDoltDB(observed(base, healthyPods())).status }
    assert.strictEqual(converged.status.mesh?.replicas, 3)
    const grown = { ...converged, spec: { ...converged.spec, replicas: 4 } }
    const old = healthyPods().map((p) => ({ ...p, createdAt: 500_000 }))
    const pods = [...old, { ...pod(3, standbySql(1, null)), revision: "rev-1", createdAt: 1_000_500 }]
    const first = planDoltDB(observed(grown, pods, { now: 1_000_000 }))
    assert.strictEqual(first.status.mesh?.replicas, 4)
    assert.strictEqual(first.status.mesh?.since, "1970-01-01T00:16:40Z")
    const second = planDoltDB(
      observed({ ...grown, status: first.status }, pods, {
        now: 1_001_000,
        statefulSet: { replicas: 4, readyReplicas: 4, updateRevision: "rev-1", currentRevision: "rev-1" }
      })
    )
    const deletes = second.actions.flatMap((a) => (a._tag === "Delete" ? [a.ref.name] : []))
    assert.deepStrictEqual(deletes, ["db-2"], "the newest-ordinal old standby, never the primary")
  })

  it("standalone: no replication actions, the standalone Service, status without replication state", () => {
    const doltdb = manifest(1)
    const plan = planDoltDB(observed(doltdb, views([pod(0, unreachable)])))
    assert.isFalse(plan.actions.some((a) => a._tag === "AssumeRole"))
    assert.strictEqual(plan.status.replicationStatus, undefined)
    assert.strictEqual(plan.status.currentPrimary, "db-0")
  })

  it("turning replication off deletes the primary and reader Services", () => {
    const doltdb = manifest(1)
    const children = new Map([...appliedChildren(manifest(3)), ...appliedChildren(doltdb)])
    const plan = planDoltDB(observed(doltdb, views([pod(0, unreachable)]), { children }))
    const deleted = plan.actions.flatMap((a) => (a._tag === "Delete" ? [`${a.ref.kind}/${a.ref.name}`] : []))
    assert.includeMembers(deleted, ["Service/db-primary", "Service/db-reader", "PodDisruptionBudget/db-pdb"])
  })

  it("unreadable credentials never look like a lost primary: no failover, a clear condition", () => {
    const base = manifest(3)
    const doltdb = { ...base, status: planDoltDB(observed(base, healthyPods())).status }
    const pods = views([pod(0, unreachable), pod(1, unreachable), pod(2, unreachable)])
    const plan = planDoltDB(
      observed(doltdb, pods, { sqlUnavailable: "Secret ns/db-credentials not found", now: 9_000_000 })
    )
    assert.isFalse(plan.actions.some((a) => a._tag === "AssumeRole" || a._tag === "Delete"))
    assert.strictEqual(plan.status.primaryUnavailableSince, undefined)
    const ready = plan.status.conditions?.find((c) => c.type === "Ready")
    assert.strictEqual(ready?.reason, "SqlUnavailable")
    assert.match(ready?.message ?? "", /db-credentials/)
  })

  it("parses Go durations", () => {
    assert.strictEqual(parseGoDuration("3s"), 3000)
    assert.strictEqual(parseGoDuration("1m30s"), 90_000)
    assert.strictEqual(parseGoDuration("250ms"), 250)
    assert.strictEqual(parseGoDuration("0"), 0)
  })
})
