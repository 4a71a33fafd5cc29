/**
 * Tenant isolation in the SQL-resource planners: each attack of issue 13 §1, as the planner sees it.
 * (The in-memory end-to-end versions are in packages/operator/test/inmemory/Tenancy.test.ts.)
 */
import { assert, describe, it } from "@effect/vitest"
import { type DatabaseReads, planDatabase } from "../../src/sqlresources/planDatabase.ts"
import { type AccountGrants, type GrantReads, planGrant } from "../../src/sqlresources/planGrant.ts"
import { planUser, type UserReads } from "../../src/sqlresources/planUser.ts"
import { Finalizers, type ParentDoltDB, ReadyReason } from "../../src/sqlresources/SqlResource.ts"
import { referenceAccess, reservedAccountNames } from "../../src/sqlresources/Tenancy.ts"
import { databaseSpec, eventsOf, finalizerOf, grantSpec, NOW, object, readyOf, sqlOf, userSpec } from "./fixtures.ts"

const refused: ParentDoltDB<never> = {
  _tag: "Refused",
  reason: "DoltDB prod/db does not allow SQL resources from namespace tenant"
}
const inTenant = (kind: keyof typeof Finalizers, extra = {}) => ({
  namespace: "tenant",
  finalizers: [Finalizers[kind]],
  ...extra
})
const prodRef = { name: "db", namespace: "prod" }
const deleting = { deletionTimestamp: new Date(NOW).toISOString() }
const reserved = reservedAccountNames("admin")

describe("referenceAccess", () => {
  it("own namespace always; another only when the DoltDB lists it", () => {
    assert.deepStrictEqual(referenceAccess("prod", "db", { namespace: "prod" }), { _tag: "Own" })
    assert.deepStrictEqual(referenceAccess("team", "db", { namespace: "prod", allowedNamespaces: ["team"] }), {
      _tag: "Tenant"
    })
    const r = referenceAccess("tenant", "db", { namespace: "prod", allowedNamespaces: ["team"] })
    assert.strictEqual(r._tag, "Refused")
    assert.include(r._tag === "Refused" ? r.reason : "", "spec.tenancy.allowedNamespaces")
  })

  it("reserves Dolt's accounts and the admin account", () => {
    assert.deepStrictEqual([...reserved].sort(), ["__dolt_local_user__", "admin", "root"])
  })
})

describe("cross-namespace reference not allowed by the DoltDB", () => {
  it("a User naming prod/db's admin account from another namespace: no SQL, Ready False, a Warning", () => {
    const r = planUser({
      now: NOW,
      user: object(userSpec({ doltDBRef: prodRef, name: "admin" }), {}, inTenant("User")),
      secret: { _tag: "Present", resourceVersion: "1", keys: ["password"] },
      parent: refused
    })
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.strictEqual(readyOf(r.status)?.reason, ReadyReason.NamespaceNotAllowed)
    assert.match(eventsOf(r.actions)[0] ?? "", /^Warning NamespaceNotAllowed: DoltDB prod\/db does not allow/u)
  })

  it("deleting a Database whose status claims a database of a refused DoltDB drops nothing", () => {
    const r = planDatabase({
      now: NOW,
      database: object(
        databaseSpec({ doltDBRef: prodRef, name: "orders" }),
        { databaseName: "orders" },
        inTenant("Database", deleting)
      ),
      parent: refused
    })
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.isFalse(finalizerOf(r.actions))
    assert.match(eventsOf(r.actions)[0] ?? "", /^Warning CleanupRefused/u)
  })

  it("a Grant from a refused namespace runs nothing", () => {
    const r = planGrant({
      now: NOW,
      grant: object(grantSpec({ doltDBRef: prodRef, database: "*" }), {}, inTenant("Grant")),
      parent: refused
    })
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.strictEqual(readyOf(r.status)?.reason, ReadyReason.NamespaceNotAllowed)
  })
})

describe("the admin account and Dolt's own accounts are never managed", () => {
  const users: ParentDoltDB<UserReads> = {
    _tag: "Ready",
    reads: { existingAccounts: [{ name: "admin", host: "%" }], reservedNames: reserved }
  }
  for (const name of ["admin", "root", "__dolt_local_user__"])
    it(`a User named ${name} in the DoltDB's own namespace: no ALTER USER`, () => {
      const r = planUser({
        now: NOW,
        user: object(userSpec({ name, adopt: true }), {}, { finalizers: [Finalizers.User] }),
        secret: { _tag: "Present", resourceVersion: "1", keys: ["password"] },
        parent: users
      })
      assert.deepStrictEqual(sqlOf(r.actions), [])
      assert.strictEqual(readyOf(r.status)?.reason, ReadyReason.ReservedAccount)
    })

  it("even a status claiming the admin account does not drop it on deletion", () => {
    const r = planUser({
      now: NOW,
      user: object(
        userSpec({ name: "admin" }),
        { account: { name: "admin", host: "%" } },
        {
          finalizers: [Finalizers.User],
          ...deleting
        }
      ),
      secret: { _tag: "Missing" },
      parent: users
    })
    assert.deepStrictEqual(sqlOf(r.actions), [])
  })

  it("a Grant to the admin account changes nothing", () => {
    const grants: ParentDoltDB<GrantReads> = {
      _tag: "Ready",
      reads: {
        accounts: [{ account: { name: "admin", host: "%" }, exists: true, lines: [] }],
        reservedNames: reserved
      }
    }
    const r = planGrant({
      now: NOW,
      grant: object(grantSpec({ username: "admin" }), {}, { finalizers: [Finalizers.Grant] }),
      parent: grants
    })
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.strictEqual(readyOf(r.status)?.reason, ReadyReason.ReservedAccount)
  })
})

describe("only what the object created: adoption needs spec.adopt, from the DoltDB's namespace", () => {
  const orders: ParentDoltDB<DatabaseReads> = { _tag: "Ready", reads: { databases: ["orders"] } }
  const database = (meta: Parameters<typeof object>[2], adopt?: boolean) =>
    planDatabase({
      now: NOW,
      database: object(
        databaseSpec({ name: "orders", doltDBRef: { name: "db", namespace: "prod" }, ...(adopt ? { adopt } : {}) }),
        {},
        { finalizers: [Finalizers.Database], ...meta }
      ),
      parent: orders
    })

  it("an existing database is not taken over (and so never dropped) without spec.adopt", () => {
    const r = database({ namespace: "prod" })
    assert.strictEqual(readyOf(r.status)?.reason, ReadyReason.AlreadyExists)
    assert.isUndefined(r.status.databaseName)
    assert.include(readyOf(r.status)?.message ?? "", "spec.adopt")
  })

  it("spec.adopt in the DoltDB's namespace takes it over", () => {
    const r = database({ namespace: "prod" }, true)
    assert.strictEqual(r.status.databaseName, "orders")
    assert.include(eventsOf(r.actions), "Normal Adopted: adopted existing database orders (spec.adopt)")
  })

  it("a tenant namespace never adopts, even with spec.adopt", () => {
    const r = database({ namespace: "tenant" }, true)
    assert.strictEqual(readyOf(r.status)?.reason, ReadyReason.AlreadyExists)
    assert.isUndefined(r.status.databaseName)
  })

  it("an existing account is not altered without spec.adopt", () => {
    const r = planUser({
      now: NOW,
      user: object(userSpec({ name: "app" }), {}, { finalizers: [Finalizers.User] }),
      secret: { _tag: "Present", resourceVersion: "1", keys: ["password"] },
      parent: { _tag: "Ready", reads: { existingAccounts: [{ name: "app", host: "%" }], reservedNames: reserved } }
    })
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.strictEqual(readyOf(r.status)?.reason, ReadyReason.AlreadyExists)
  })
})

describe("a tenant's Grants apply only to its own databases", () => {
  const bob: AccountGrants = { account: { name: "bob", host: "%" }, exists: true, lines: [] }
  const grant = (database: string, tenantDatabases: ReadonlyArray<string>) =>
    planGrant({
      now: NOW,
      grant: object(grantSpec({ doltDBRef: prodRef, database }), {}, inTenant("Grant")),
      parent: { _tag: "Ready", reads: { accounts: [bob], reservedNames: reserved, tenantDatabases } }
    })

  for (const [database, why] of [
    ["*", "every database"],
    ["orders", "a database the tenant did not create"],
    ["app%", "a pattern"]
  ] as const)
    it(`refuses ${why} (${database})`, () => {
      const r = grant(database, ["app"])
      assert.deepStrictEqual(sqlOf(r.actions), [])
      assert.strictEqual(readyOf(r.status)?.reason, ReadyReason.DatabaseNotAllowed)
    })

  it("grants on a database the tenant's Database created", () => {
    const r = grant("app", ["app"])
    assert.deepStrictEqual(sqlOf(r.actions), ["GRANT INSERT, SELECT ON app.* TO 'bob'@'%'"])
  })
})
