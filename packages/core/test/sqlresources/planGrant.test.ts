import { assert, describe, it } from "@effect/vitest"
import type { GrantSpec } from "../../src/api/Grant.ts"
import {
  type AccountGrants,
  type AppliedGrant,
  type GrantObserved,
  type GrantReads,
  type GrantResourceStatus,
  grantAccountsToRead,
  planGrant
} from "../../src/sqlresources/planGrant.ts"
import { Finalizers, type ParentDoltDB } from "../../src/sqlresources/SqlResource.ts"
import {
  eventsOf,
  failure,
  finalizerOf,
  grantSpec,
  NOW,
  object,
  readyCondition,
  readyOf,
  seconds,
  sqlOf,
  statusWrites
} from "./fixtures.ts"

const finalizer = Finalizers.Grant
const bob = { name: "bob", host: "%" }

/** `SHOW GRANTS` of an account, in MySQL 8's format. */
const account = (name: string, lines: ReadonlyArray<string>, host = "%"): AccountGrants => ({
  account: { name, host },
  exists: true,
  lines: [`GRANT USAGE ON *.* TO \`${name}\`@\`${host}\``, ...lines.map((l) => grantLine(l, `\`${name}\`@\`${host}\``))]
})

/** `"SELECT ON x.* WITH GRANT OPTION"` -> `GRANT SELECT ON x.* TO <account> WITH GRANT OPTION`. */
const grantLine = (l: string, to: string) => {
  const option = " WITH GRANT OPTION"
  return l.endsWith(option) ? `GRANT ${l.slice(0, -option.length)} TO ${to}${option}` : `GRANT ${l} TO ${to}`
}
const ready = (...accounts: ReadonlyArray<AccountGrants>): ParentDoltDB<GrantReads> => ({
  _tag: "Ready",
  reads: { accounts }
})

const applied = (overrides: Partial<AppliedGrant> = {}): AppliedGrant => ({
  username: "bob",
  host: "%",
  database: "app",
  table: "*",
  privileges: ["INSERT", "SELECT"],
  grantOption: false,
  ...overrides
})

const statusWith = (a: AppliedGrant): GrantResourceStatus => ({
  conditions: [readyCondition()],
  observedGeneration: 1,
  applied: a
})

const observed = (
  spec: GrantSpec,
  options: {
    readonly status?: GrantResourceStatus
    readonly parent?: ParentDoltDB<GrantReads>
    readonly meta?: Parameters<typeof object>[2]
    readonly lastFailure?: GrantObserved["lastFailure"]
  } = {}
): GrantObserved => ({
  now: NOW,
  grant: object(spec, options.status, { name: "bob-app", finalizers: [finalizer], ...options.meta }),
  parent: options.parent ?? ready(account("bob", ["SELECT, INSERT ON `app`.*"])),
  lastFailure: options.lastFailure
})

/** One reconcile per row: spec, what this Grant granted, what the account holds -> SQL, and what it then owns. */
interface Row {
  readonly name: string
  readonly spec: Partial<GrantSpec>
  readonly applied: AppliedGrant | undefined
  readonly held: ReadonlyArray<string>
  readonly sql: ReadonlyArray<string>
  readonly owns: Pick<AppliedGrant, "privileges" | "grantOption">
  /** Nothing to write at all (no SQL, no status change). */
  readonly converged?: true
}

const rows: ReadonlyArray<Row> = [
  {
    name: "grants only what is missing; a privilege someone else granted is not ours",
    spec: {},
    applied: undefined,
    held: ["SELECT ON `app`.*"],
    sql: ["GRANT INSERT ON app.* TO 'bob'@'%'"],
    owns: { privileges: ["INSERT"], grantOption: false }
  },
  {
    name: "converged: nothing to do",
    spec: {},
    applied: applied(),
    held: ["SELECT, INSERT ON `app`.*"],
    sql: [],
    owns: { privileges: ["INSERT", "SELECT"], grantOption: false },
    converged: true
  },
  {
    name: "a privilege dropped from the spec that we granted is revoked",
    spec: { privileges: ["SELECT"] },
    applied: applied(),
    held: ["SELECT, INSERT ON `app`.*"],
    sql: ["REVOKE INSERT ON app.* FROM 'bob'@'%'"],
    owns: { privileges: ["SELECT"], grantOption: false }
  },
  {
    name: "privileges someone else granted are never revoked",
    spec: { privileges: ["SELECT"] },
    applied: applied({ privileges: ["SELECT"] }),
    held: ["SELECT, DELETE ON `app`.*"],
    sql: [],
    owns: { privileges: ["SELECT"], grantOption: false },
    converged: true
  },
  {
    name: "ours, revoked behind our back, still in the spec: granted again",
    spec: {},
    applied: applied(),
    held: ["SELECT ON `app`.*"],
    sql: ["GRANT INSERT ON app.* TO 'bob'@'%'"],
    owns: { privileges: ["INSERT", "SELECT"], grantOption: false }
  },
  {
    name: "ours, already gone, dropped from the spec: just forgotten",
    spec: { privileges: ["SELECT"] },
    applied: applied(),
    held: ["SELECT ON `app`.*"],
    sql: [],
    owns: { privileges: ["SELECT"], grantOption: false }
  },
  {
    name: "grant option turned on",
    spec: { grantOption: true },
    applied: applied(),
    held: ["SELECT, INSERT ON `app`.*"],
    sql: ["GRANT USAGE ON app.* TO 'bob'@'%' WITH GRANT OPTION"],
    owns: { privileges: ["INSERT", "SELECT"], grantOption: true }
  },
  {
    name: "grant option turned on together with a new privilege: one statement",
    spec: { privileges: ["SELECT", "INSERT", "UPDATE"], grantOption: true },
    applied: applied(),
    held: ["SELECT, INSERT ON `app`.*"],
    sql: ["GRANT UPDATE ON app.* TO 'bob'@'%' WITH GRANT OPTION"],
    owns: { privileges: ["INSERT", "SELECT", "UPDATE"], grantOption: true }
  },
  {
    name: "GRANT OPTION listed as a privilege means grantOption",
    spec: { privileges: ["SELECT", "INSERT", "grant option"] },
    applied: applied({ grantOption: true }),
    held: ["SELECT, INSERT ON `app`.* WITH GRANT OPTION"],
    sql: [],
    owns: { privileges: ["INSERT", "SELECT"], grantOption: true },
    converged: true
  },
  {
    name: "grant option turned off: revoked when we granted it",
    spec: {},
    applied: applied({ grantOption: true }),
    held: ["SELECT, INSERT ON `app`.* WITH GRANT OPTION"],
    sql: ["REVOKE GRANT OPTION ON app.* FROM 'bob'@'%'"],
    owns: { privileges: ["INSERT", "SELECT"], grantOption: false }
  },
  {
    name: "grant option someone else granted is left alone",
    spec: {},
    applied: applied(),
    held: ["SELECT, INSERT ON `app`.* WITH GRANT OPTION"],
    sql: [],
    owns: { privileges: ["INSERT", "SELECT"], grantOption: false },
    converged: true
  },
  {
    name: "ALL PRIVILEGES when the account has a partial set",
    spec: { privileges: ["ALL"] },
    applied: undefined,
    held: ["SELECT ON `app`.*"],
    sql: ["GRANT ALL PRIVILEGES ON app.* TO 'bob'@'%'"],
    owns: { privileges: ["ALL PRIVILEGES"], grantOption: false }
  },
  {
    name: "ALL PRIVILEGES shown expanded (Dolt) is converged",
    spec: { privileges: ["ALL PRIVILEGES"] },
    applied: applied({ privileges: ["ALL PRIVILEGES"] }),
    held: ["SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, TRIGGER ON `app`.*"],
    sql: [],
    owns: { privileges: ["ALL PRIVILEGES"], grantOption: false },
    converged: true
  },
  {
    name: "narrowing our ALL to SELECT: revoke ALL first, then grant SELECT",
    spec: { privileges: ["SELECT"] },
    applied: applied({ privileges: ["ALL PRIVILEGES"] }),
    held: ["ALL PRIVILEGES ON `app`.*"],
    sql: ["REVOKE ALL PRIVILEGES ON app.* FROM 'bob'@'%'", "GRANT SELECT ON app.* TO 'bob'@'%'"],
    owns: { privileges: ["SELECT"], grantOption: false }
  },
  {
    name: "widening our SELECT to ALL keeps nothing to revoke",
    spec: { privileges: ["ALL"] },
    applied: applied({ privileges: ["SELECT"] }),
    held: ["SELECT ON `app`.*"],
    sql: ["GRANT ALL PRIVILEGES ON app.* TO 'bob'@'%'"],
    owns: { privileges: ["ALL PRIVILEGES"], grantOption: false }
  },
  {
    name: "a table-level grant",
    spec: { table: "orders", privileges: ["SELECT"] },
    applied: undefined,
    held: ["SELECT ON `app`.*"],
    sql: ["GRANT SELECT ON app.orders TO 'bob'@'%'"],
    owns: { privileges: ["SELECT"], grantOption: false }
  },
  {
    name: "moved to another database: ours revoked at the old level, granted at the new",
    spec: { database: "shop" },
    applied: applied(),
    held: ["SELECT, INSERT ON `app`.*"],
    sql: ["REVOKE INSERT, SELECT ON app.* FROM 'bob'@'%'", "GRANT INSERT, SELECT ON shop.* TO 'bob'@'%'"],
    owns: { privileges: ["INSERT", "SELECT"], grantOption: false }
  }
]

describe("planGrant: privileges", () => {
  for (const row of rows) {
    it(row.name, () => {
      const spec = grantSpec(row.spec)
      const status = row.applied === undefined ? undefined : statusWith(row.applied)
      // A Grant without status.applied is a new one here (no finalizer yet, so nothing is adopted).
      const r = planGrant(
        observed(spec, {
          ...(status === undefined ? { meta: { finalizers: [] } } : { status }),
          parent: ready(account("bob", row.held))
        })
      )
      assert.deepStrictEqual(sqlOf(r.actions), row.sql)
      assert.deepStrictEqual(
        { privileges: r.status.applied?.privileges, grantOption: r.status.applied?.grantOption },
        row.owns
      )
      assert.strictEqual(r.actions.length === 0, row.converged === true)
    })
  }

  it("a converged grant returns the same status object and only a drift-check requeue", () => {
    const o = observed(grantSpec(), { status: statusWith(applied()) })
    const r = planGrant(o)
    assert.strictEqual(r.status, o.grant.status)
    assert.deepStrictEqual(r.actions, [])
    assert.strictEqual(r.requeueAfter?.millis, seconds(30))
  })

  it("moved to another account: revokes ours from the old account, grants to the new one", () => {
    const spec = grantSpec({ username: "alice" })
    assert.deepStrictEqual(grantAccountsToRead(object(spec, statusWith(applied()))), [
      { name: "alice", host: "%" },
      bob
    ])
    const r = planGrant(
      observed(spec, {
        status: statusWith(applied()),
        parent: ready(account("bob", ["SELECT, INSERT ON `app`.*"]), account("alice", []))
      })
    )
    assert.deepStrictEqual(sqlOf(r.actions), [
      "REVOKE INSERT, SELECT ON app.* FROM 'bob'@'%'",
      "GRANT INSERT, SELECT ON app.* TO 'alice'@'%'"
    ])
    assert.strictEqual(r.status.applied?.username, "alice")
    assert.deepStrictEqual(
      eventsOf(r.actions).map((e) => e.split(":")[0]),
      ["Normal PrivilegesRevoked", "Normal PrivilegesGranted"]
    )
  })

  it("the account is found by spec.username/host, whatever the Grant or User objects are called", () => {
    const spec = grantSpec({ username: "svc", host: "10.0.0.%" })
    const r = planGrant(observed(spec, { parent: ready(account("svc", [], "10.0.0.%")) }))
    assert.deepStrictEqual(sqlOf(r.actions), ["GRANT INSERT, SELECT ON app.* TO 'svc'@'10.0.0.%'"])
  })

  it("the account does not exist yet: Ready False UserNotFound, no SQL, waits", () => {
    const r = planGrant(observed(grantSpec(), { parent: ready() }))
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.strictEqual(readyOf(r.status)?.reason, "UserNotFound")
    assert.include(readyOf(r.status)?.message ?? "", "'bob'@'%'")
    assert.strictEqual(r.requeueAfter?.millis, seconds(1))
    assert.isUndefined(finalizerOf(r.actions))
  })

  it("a privilege outside the allow-list: Ready False InvalidPrivilege naming it, no SQL", () => {
    const r = planGrant(observed(grantSpec({ privileges: ["SELECT", "SELECT ON *.* TO x; --"] })))
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.strictEqual(readyOf(r.status)?.reason, "InvalidPrivilege")
    assert.include(readyOf(r.status)?.message ?? "", "SELECT ON *.* TO x; --")
  })

  it("a table without a database is an invalid spec", () => {
    const r = planGrant(observed(grantSpec({ database: "*", table: "t" })))
    assert.strictEqual(readyOf(r.status)?.reason, "InvalidSpec")
  })

  const failures = [
    ["the server rejects the GRANT", "DoltSqlError", "GrantRejected", "privileges TRIGGER rejected"],
    ["the admin lacks the privilege", "DoltAccessDenied", "GrantRejected", "privileges TRIGGER rejected"],
    ["the primary is unreachable", "DoltUnreachable", "Failed", "GRANT TRIGGER ON app.* TO 'bob'@'%' failed"]
  ] as const
  for (const [name, error, reason, message] of failures) {
    it(`${name}: Ready False ${reason} naming the privilege, retried`, () => {
      const op = {
        _tag: "Grant",
        name: "bob",
        host: "%",
        privileges: ["TRIGGER"],
        database: "app",
        table: "*",
        grantOption: false
      } as const
      const spec = grantSpec({ privileges: ["SELECT", "INSERT", "TRIGGER"] })
      const r = planGrant(observed(spec, { status: statusWith(applied()), lastFailure: failure(op, error, "no") }))
      const failed = statusWrites(r.actions)[0]?.status as GrantResourceStatus | undefined
      assert.strictEqual(readyOf(failed)?.reason, reason)
      assert.include(readyOf(failed)?.message ?? "", message)
      assert.deepStrictEqual(sqlOf(r.actions), ["GRANT TRIGGER ON app.* TO 'bob'@'%'"])
    })
  }
})

describe("planGrant: adoption and deletion", () => {
  const deleted = { deletionTimestamp: new Date(NOW).toISOString(), finalizers: [finalizer] }

  it("spec.adopt (e.g. a Grant the reference operator made) takes over the spec's held privileges", () => {
    const r = planGrant(
      observed(grantSpec({ adopt: true }), { parent: ready(account("bob", ["SELECT, INSERT, DELETE ON `app`.*"])) })
    )
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.deepStrictEqual(r.status.applied?.privileges, ["INSERT", "SELECT"])
  })

  it("a finalizer alone adopts nothing: privileges someone else granted are not this Grant's", () => {
    const r = planGrant(observed(grantSpec(), { parent: ready(account("bob", ["SELECT, INSERT, DELETE ON `app`.*"])) }))
    assert.deepStrictEqual(r.status.applied?.privileges, [])
    const gone = planGrant(
      observed(grantSpec(), { meta: deleted, parent: ready(account("bob", ["SELECT ON `app`.*"])) })
    )
    assert.deepStrictEqual(sqlOf(gone.actions), [])
  })

  it("a new Grant (no finalizer yet) does not adopt what it finds", () => {
    const r = planGrant(
      observed(grantSpec(), { meta: { finalizers: [] }, parent: ready(account("bob", ["SELECT, INSERT ON `app`.*"])) })
    )
    assert.deepStrictEqual(r.status.applied?.privileges, [])
    assert.isTrue(finalizerOf(r.actions))
  })

  it("deletion revokes only what this Grant granted and the account still holds", () => {
    const r = planGrant(
      observed(grantSpec(), {
        status: statusWith(applied({ privileges: ["INSERT", "UPDATE"], grantOption: true })),
        meta: deleted,
        parent: ready(account("bob", ["SELECT, INSERT ON `app`.* WITH GRANT OPTION"]))
      })
    )
    assert.deepStrictEqual(sqlOf(r.actions), ["REVOKE INSERT, GRANT OPTION ON app.* FROM 'bob'@'%'"])
    assert.isFalse(finalizerOf(r.actions))
  })

  it("deletion of an adopted Grant revokes the spec's privileges the account holds", () => {
    const r = planGrant(
      observed(grantSpec({ adopt: true }), { meta: deleted, parent: ready(account("bob", ["SELECT ON `app`.*"])) })
    )
    assert.deepStrictEqual(sqlOf(r.actions), ["REVOKE SELECT ON app.* FROM 'bob'@'%'"])
  })

  it("deletion after the account was dropped: release without SQL", () => {
    const r = planGrant(observed(grantSpec(), { status: statusWith(applied()), meta: deleted, parent: ready() }))
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.isFalse(finalizerOf(r.actions))
  })

  it("deletion revokes at the recorded target even when the spec moved since", () => {
    const r = planGrant(
      observed(grantSpec({ database: "shop" }), {
        status: statusWith(applied()),
        meta: deleted,
        parent: ready(account("bob", ["SELECT, INSERT ON `app`.*"]))
      })
    )
    assert.deepStrictEqual(sqlOf(r.actions), ["REVOKE INSERT, SELECT ON app.* FROM 'bob'@'%'"])
  })
})
