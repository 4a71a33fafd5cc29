import { assert, describe, it } from "@effect/vitest"
import type { DatabaseSpec } from "../../src/api/Database.ts"
import {
  type DatabaseObserved,
  type DatabaseReads,
  type DatabaseResourceStatus,
  planDatabase
} from "../../src/sqlresources/planDatabase.ts"
import { Finalizers, type ParentDoltDB } from "../../src/sqlresources/SqlResource.ts"
import {
  conditionOf,
  databaseSpec,
  EARLIER,
  eventsOf,
  failure,
  finalizerOf,
  NOW,
  object,
  readyCondition,
  readyOf,
  seconds,
  sqlOf,
  statusWrites,
  tagsOf
} from "./fixtures.ts"

const finalizer = Finalizers.Database
const ready = (reads: DatabaseReads): ParentDoltDB<DatabaseReads> => ({ _tag: "Ready", reads })

/** The database exists with everything the spec asks for. */
const convergedReads = (spec: DatabaseSpec): DatabaseReads => ({
  databases: [spec.name, "other"],
  details: {
    branches: ["main", ...(spec.systemBranches ?? [])],
    committedIgnorePatterns: spec.doltIgnorePatterns ?? [],
    charset: spec.charset,
    collation: spec.collation
  }
})

const convergedStatus = (name = "app"): DatabaseResourceStatus => ({
  conditions: [
    readyCondition(),
    {
      type: "CharsetCollation",
      status: "True",
      observedGeneration: 1,
      lastTransitionTime: EARLIER,
      reason: "Matches",
      message: "charset and collation match the spec"
    }
  ],
  observedGeneration: 1,
  databaseName: name
})

const observed = (
  spec: DatabaseSpec,
  options: {
    readonly status?: DatabaseResourceStatus
    readonly parent?: ParentDoltDB<DatabaseReads>
    readonly meta?: Parameters<typeof object>[2]
    readonly lastFailure?: DatabaseObserved["lastFailure"]
  } = {}
): DatabaseObserved => ({
  now: NOW,
  database: object(spec, options.status, { finalizers: [finalizer], ...options.meta }),
  parent: options.parent ?? ready(convergedReads(spec)),
  lastFailure: options.lastFailure
})

const full = databaseSpec({ systemBranches: ["staging", "dev"], doltIgnorePatterns: ["tmp_*", "scratch"] })

describe("planDatabase: steady state", () => {
  it("a converged database: no SQL, no status write, same status object, a read-only drift check", () => {
    const o = observed(full, { status: convergedStatus() })
    const r = planDatabase(o)
    assert.deepStrictEqual(r.actions, [])
    assert.strictEqual(r.status, o.database.status)
    assert.strictEqual(r.requeueAfter?.millis, seconds(30))
  })

  const intervals = [
    ["spec.requeueInterval", "5m", seconds(300)],
    ["unparsable interval falls back to the default", "soon", seconds(30)],
    ["zero interval falls back to the default", "0", seconds(30)]
  ] as const
  for (const [name, interval, expected] of intervals) {
    it(`drift check period: ${name}`, () => {
      const spec = databaseSpec({ requeueInterval: interval })
      const r = planDatabase(observed(spec, { status: convergedStatus() }))
      assert.strictEqual(r.requeueAfter?.millis, expected)
    })
  }

  it("reaches a fixed point: feeding the returned status back produces no writes", () => {
    let status: DatabaseResourceStatus | undefined
    const writes: Array<number> = []
    for (let i = 0; i < 3; i++) {
      const r = planDatabase(observed(full, status === undefined ? {} : { status }))
      writes.push(r.actions.length)
      status = r.status
    }
    assert.deepStrictEqual(writes.slice(1), [0, 0])
  })

  it("a new generation rewrites observedGeneration but keeps lastTransitionTime", () => {
    const r = planDatabase(observed(full, { status: convergedStatus(), meta: { generation: 4 } }))
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.strictEqual(r.status.observedGeneration, 4)
    assert.strictEqual(readyOf(r.status)?.observedGeneration, 4)
    assert.strictEqual(readyOf(r.status)?.lastTransitionTime, EARLIER)
    assert.strictEqual(statusWrites(r.actions).length, 1)
  })
})

describe("planDatabase: creation and drift", () => {
  it("creates a missing database, commits ignore patterns before creating branches, then adds the finalizer", () => {
    const r = planDatabase({ ...observed(full), database: object(full), parent: ready({ databases: [] }) })
    assert.deepStrictEqual(sqlOf(r.actions), [
      "CREATE DATABASE app",
      "committing dolt_ignore patterns tmp_*, scratch in app",
      "creating branches staging, dev in app"
    ])
    const create = r.actions.find((a) => a._tag === "Sql")
    assert.deepStrictEqual(create?._tag === "Sql" ? create.op : undefined, {
      _tag: "CreateDatabase",
      name: "app",
      charset: "utf8mb4",
      collation: "utf8mb4_0900_bin"
    })
    const tags = tagsOf(r.actions)
    assert.isAbove(tags.indexOf("SetFinalizer"), tags.lastIndexOf("Sql:EnsureBranches"))
    assert.isTrue(finalizerOf(r.actions))
    assert.strictEqual(r.status.databaseName, "app")
    assert.deepStrictEqual(readyOf(r.status), {
      type: "Ready",
      status: "True",
      observedGeneration: 1,
      lastTransitionTime: "2026-11-26T12:00:00Z",
      reason: "Created",
      message: "Created"
    })
    assert.include(eventsOf(r.actions), "Normal Created: created database app")
  })

  it("records the database it is about to create before CREATE DATABASE, guarded by the observed resourceVersion", () => {
    const r = planDatabase(observed(full, { parent: ready({ databases: [] }) }))
    const writes = statusWrites(r.actions)
    assert.deepStrictEqual(
      writes.map((a) => a.resourceVersion),
      ["100", undefined]
    )
    assert.strictEqual((writes[0]?.status as DatabaseResourceStatus | undefined)?.databaseName, "app")
    assert.deepStrictEqual(tagsOf(r.actions).slice(0, 2), ["PatchStatus", "Sql:CreateDatabase"])
  })

  const drift: ReadonlyArray<readonly [string, Partial<NonNullable<DatabaseReads["details"]>>, ReadonlyArray<string>]> =
    [
      ["a missing branch", { branches: ["main", "dev"] }, ["creating branches staging in app"]],
      [
        "a missing ignore pattern",
        { committedIgnorePatterns: ["tmp_*"] },
        ["committing dolt_ignore patterns scratch in app"]
      ],
      [
        "an uncommitted ignore pattern counts as missing",
        { committedIgnorePatterns: [] },
        ["committing dolt_ignore patterns tmp_*, scratch in app"]
      ]
    ]
  for (const [name, details, expected] of drift) {
    it(`repairs only the drift: ${name}`, () => {
      const base = convergedReads(full)
      const reads: DatabaseReads = { ...base, details: { ...base.details!, ...details } }
      const r = planDatabase(observed(full, { status: convergedStatus(), parent: ready(reads) }))
      assert.deepStrictEqual(sqlOf(r.actions), expected)
      assert.deepStrictEqual(statusWrites(r.actions), [])
    })
  }

  it("re-creates a database dropped behind its back", () => {
    const r = planDatabase(observed(full, { status: convergedStatus(), parent: ready({ databases: ["other"] }) }))
    assert.strictEqual(sqlOf(r.actions)[0], "CREATE DATABASE app")
    assert.include(eventsOf(r.actions), "Normal Created: re-created missing database app")
  })

  it("finds the database case-insensitively", () => {
    const r = planDatabase(
      observed(full, { status: convergedStatus(), parent: ready({ ...convergedReads(full), databases: ["APP"] }) })
    )
    assert.deepStrictEqual(sqlOf(r.actions), [])
  })

  it("reports a charset/collation change instead of ignoring it, and runs no ALTER", () => {
    const spec = databaseSpec({ charset: "latin1", collation: "latin1_swedish_ci" })
    const reads = convergedReads(databaseSpec())
    const r = planDatabase(observed(spec, { status: convergedStatus(), parent: ready(reads) }))
    assert.deepStrictEqual(sqlOf(r.actions), [])
    const c = conditionOf(r.status, "CharsetCollation")
    assert.strictEqual(c?.status, "False")
    assert.strictEqual(c?.reason, "ChangeNotApplied")
    assert.include(c?.message ?? "", "latin1")
    assert.strictEqual(readyOf(r.status)?.status, "True")
  })
})

describe("planDatabase: rename", () => {
  const renamed = databaseSpec({ name: "app2" })

  it("creates the new database and retains the old one (no DROP), saying so", () => {
    const r = planDatabase(observed(renamed, { status: convergedStatus("app"), parent: ready({ databases: ["app"] }) }))
    assert.deepStrictEqual(sqlOf(r.actions), ["CREATE DATABASE app2"])
    assert.strictEqual(r.status.databaseName, "app2")
    assert.deepStrictEqual(r.status.retainedDatabases, ["app"])
    assert.strictEqual(conditionOf(r.status, "PreviousDatabasesRetained")?.status, "True")
    assert.include(
      eventsOf(r.actions),
      "Normal DatabaseRetained: database app left in place after spec.name changed to app2"
    )
  })

  it("renaming back makes the old database current again", () => {
    const status: DatabaseResourceStatus = { ...convergedStatus("app2"), retainedDatabases: ["app"] }
    const r = planDatabase(observed(databaseSpec(), { status, parent: ready(convergedReads(databaseSpec())) }))
    assert.strictEqual(r.status.databaseName, "app")
    assert.isUndefined(r.status.retainedDatabases)
    assert.deepStrictEqual(sqlOf(r.actions), [])
  })

  it("forgets a retained database someone else dropped", () => {
    const status: DatabaseResourceStatus = { ...convergedStatus("app"), retainedDatabases: ["gone"] }
    const r = planDatabase(observed(databaseSpec(), { status }))
    assert.isUndefined(r.status.retainedDatabases)
    assert.isUndefined(conditionOf(r.status, "PreviousDatabasesRetained"))
  })
})

describe("planDatabase: parent and failures", () => {
  it("a missing DoltDB: Ready False DoltDBNotFound naming namespace/name, no SQL", () => {
    const r = planDatabase(observed(full, { status: convergedStatus(), parent: { _tag: "Missing" } }))
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.strictEqual(readyOf(r.status)?.reason, "DoltDBNotFound")
    assert.include(readyOf(r.status)?.message ?? "", "ns/dolt")
    assert.strictEqual(r.requeueAfter?.millis, seconds(1))
  })

  it("a DoltDB in another namespace is addressed there", () => {
    const spec = databaseSpec({ doltDBRef: { name: "dolt", namespace: "db" } })
    const r = planDatabase(observed(spec, { parent: ready({ databases: [] }) }))
    const sql = r.actions.find((a) => a._tag === "Sql")
    assert.deepStrictEqual(sql?._tag === "Sql" ? sql.cluster : undefined, { namespace: "db", name: "dolt" })
  })

  it("a DoltDB whose primary does not serve: waits with a growing backoff hint, status written once", () => {
    const parent = { _tag: "NotReady", reason: "primary dolt-0 is not ready" } as const
    const first = planDatabase(observed(full, { status: convergedStatus(), parent }))
    assert.strictEqual(readyOf(first.status)?.reason, "DoltDBNotReady")
    assert.include(readyOf(first.status)?.message ?? "", "primary dolt-0 is not ready")
    assert.deepStrictEqual(sqlOf(first.actions), [])
    const later = planDatabase({ ...observed(full, { status: first.status, parent }), now: NOW + seconds(40) })
    assert.deepStrictEqual(later.actions, [])
    assert.strictEqual(later.requeueAfter?.millis, seconds(20))
    const capped = planDatabase({ ...observed(full, { status: first.status, parent }), now: NOW + seconds(3600) })
    assert.strictEqual(capped.requeueAfter?.millis, seconds(60))
  })

  it("spec.retryInterval replaces the backoff hint", () => {
    const spec = databaseSpec({ retryInterval: "7s" })
    const r = planDatabase(observed(spec, { parent: { _tag: "NotReady", reason: "x" } }))
    assert.strictEqual(r.requeueAfter?.millis, seconds(7))
  })

  it("an unnamed DoltDB reference is an invalid spec", () => {
    const r = planDatabase(observed(databaseSpec({ doltDBRef: {} })))
    assert.strictEqual(readyOf(r.status)?.reason, "InvalidSpec")
    assert.deepStrictEqual(sqlOf(r.actions), [])
  })

  const invalid = [
    ["database name", databaseSpec({ name: "app-1" }), "spec.name"],
    ["branch name", databaseSpec({ systemBranches: ["a..b"] }), "spec.systemBranches"],
    ["charset", databaseSpec({ charset: "utf8'; DROP" }), "spec.charset"]
  ] as const
  for (const [name, spec, field] of invalid) {
    it(`an invalid ${name}: Ready False InvalidSpec naming ${field}, no SQL`, () => {
      const r = planDatabase(observed(spec, { parent: ready({ databases: [] }) }))
      assert.deepStrictEqual(sqlOf(r.actions), [])
      assert.strictEqual(readyOf(r.status)?.reason, "InvalidSpec")
      assert.include(readyOf(r.status)?.message ?? "", field)
    })
  }

  it("after a failed statement: records Ready False first, warns once, retries, and ends Ready", () => {
    const lastFailure = failure({ _tag: "CreateDatabase", name: "app" }, "DoltReadOnly", "database is read only")
    const r = planDatabase(observed(full, { lastFailure, parent: ready({ databases: [] }) }))
    const tags = tagsOf(r.actions)
    assert.deepStrictEqual(tags.slice(0, 3), ["PatchStatus", "Event:Failed", "Sql:CreateDatabase"])
    const [failed, done] = statusWrites(r.actions)
    const failedReady = readyOf(failed?.status as DatabaseResourceStatus | undefined)
    assert.strictEqual(failedReady?.reason, "Failed")
    assert.strictEqual(failedReady?.message, "CREATE DATABASE app failed: database is read only")
    assert.strictEqual(failed?.resourceVersion, "100")
    assert.isUndefined(done?.resourceVersion)
    assert.strictEqual(readyOf(r.status)?.status, "True")
    assert.isUndefined(r.requeueAfter)
  })

  it("a repeated failure does not rewrite the status or warn again; retryInterval schedules the retry", () => {
    const lastFailure = failure({ _tag: "CreateDatabase", name: "app" }, "DoltReadOnly", "database is read only")
    const spec = databaseSpec({ retryInterval: "10s" })
    const first = planDatabase(observed(spec, { lastFailure, parent: ready({ databases: [] }) }))
    const failedStatus = statusWrites(first.actions)[0]?.status as DatabaseResourceStatus
    const again = planDatabase(observed(spec, { status: failedStatus, lastFailure, parent: ready({ databases: [] }) }))
    assert.deepStrictEqual(tagsOf(again.actions).slice(0, 2), ["Sql:CreateDatabase", "Event:Created"])
    assert.strictEqual(again.requeueAfter?.millis, seconds(10))
  })
})

describe("planDatabase: deletion", () => {
  const gone = (millisAgo: number, meta = {}) => ({
    deletionTimestamp: new Date(NOW - millisAgo).toISOString(),
    finalizers: [finalizer],
    ...meta
  })

  it("without our finalizer: nothing at all", () => {
    const r = planDatabase(observed(full, { status: convergedStatus(), meta: { ...gone(0), finalizers: [] } }))
    assert.deepStrictEqual(r.actions, [])
  })

  it("cleanupPolicy Delete: drops the recorded database and the retained ones that exist, then releases", () => {
    const status: DatabaseResourceStatus = { ...convergedStatus("app"), retainedDatabases: ["old", "vanished"] }
    const r = planDatabase(
      observed(full, { status, meta: gone(0), parent: ready({ databases: ["app", "old", "unrelated"] }) })
    )
    assert.deepStrictEqual(sqlOf(r.actions), ["DROP DATABASE app", "DROP DATABASE old"])
    assert.deepStrictEqual(tagsOf(r.actions).slice(-1), ["SetFinalizer"])
    assert.isFalse(finalizerOf(r.actions))
  })

  it("drops the database it recorded, not a renamed spec.name it never created", () => {
    const r = planDatabase(
      observed(databaseSpec({ name: "app2" }), {
        status: convergedStatus("app"),
        meta: gone(0),
        parent: ready({ databases: ["app", "app2"] })
      })
    )
    assert.deepStrictEqual(sqlOf(r.actions), ["DROP DATABASE app"])
  })

  it("a finalizer without status.databaseName drops nothing: a spec (and a finalizer) can name anyone's database", () => {
    const r = planDatabase(observed(full, { meta: gone(0), parent: ready({ databases: ["app"] }) }))
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.isFalse(finalizerOf(r.actions))
  })

  it("an already dropped database: release without SQL", () => {
    const r = planDatabase(
      observed(full, { status: convergedStatus(), meta: gone(0), parent: ready({ databases: [] }) })
    )
    assert.deepStrictEqual(tagsOf(r.actions), ["SetFinalizer"])
  })

  it("cleanupPolicy Skip: release without SQL, with an event", () => {
    const r = planDatabase(
      observed(databaseSpec({ cleanupPolicy: "Skip" }), { status: convergedStatus(), meta: gone(0) })
    )
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.deepStrictEqual(eventsOf(r.actions), [
      "Normal CleanupSkipped: cleanupPolicy Skip: database app left in place"
    ])
    assert.isFalse(finalizerOf(r.actions))
  })

  it("the DoltDB is gone: release without SQL", () => {
    const r = planDatabase(observed(full, { status: convergedStatus(), meta: gone(0), parent: { _tag: "Missing" } }))
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.isFalse(finalizerOf(r.actions))
  })

  it("the DoltDB is unreachable: waits (Ready False), no earlier than the deadline", () => {
    const parent = { _tag: "NotReady", reason: "primary down" } as const
    const r = planDatabase(observed(full, { status: convergedStatus(), meta: gone(seconds(590)), parent }))
    assert.isUndefined(finalizerOf(r.actions))
    assert.strictEqual(readyOf(r.status)?.reason, "DoltDBNotReady")
    assert.isAtMost(r.requeueAfter?.millis ?? Infinity, seconds(10))
  })

  it("the DoltDB stays unreachable for 10 minutes: release with a Warning naming what was left", () => {
    const parent = { _tag: "NotReady", reason: "primary down" } as const
    const r = planDatabase(observed(full, { status: convergedStatus(), meta: gone(seconds(600)), parent }))
    assert.isFalse(finalizerOf(r.actions))
    assert.deepStrictEqual(
      eventsOf(r.actions).map((e) => e.split(":")[0]),
      ["Warning CleanupAbandoned"]
    )
    assert.include(eventsOf(r.actions)[0] ?? "", "database app left behind")
  })

  it("a failing DROP is retried (status says why) until the deadline, then abandoned", () => {
    const lastFailure = failure({ _tag: "DropDatabase", name: "app" }, "DoltAccessDenied", "denied")
    const parent = ready({ databases: ["app"] })
    const early = planDatabase(
      observed(full, { status: convergedStatus(), meta: gone(seconds(60)), parent, lastFailure })
    )
    assert.deepStrictEqual(tagsOf(early.actions), [
      "PatchStatus",
      "Event:Failed",
      "Sql:DropDatabase",
      "Event:Dropped",
      "SetFinalizer"
    ])
    assert.strictEqual(readyOf(early.status)?.reason, "Failed")
    const late = planDatabase(
      observed(full, { status: convergedStatus(), meta: gone(seconds(601)), parent, lastFailure })
    )
    assert.deepStrictEqual(tagsOf(late.actions), ["Event:CleanupAbandoned", "SetFinalizer"])
  })
})
