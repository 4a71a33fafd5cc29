/**
 * Tenant isolation end to end in memory (issue 13 §1): the attacks a tenant namespace could make on another
 * namespace's DoltDB, run through the real controllers against the in-memory API server and Dolt model.
 */
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, resource, Secrets, ServiceAccounts, Services } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, createDoltDB, setupDoltDB } from "./fixtures.ts"

const apiVersion = "k8s.dolthub.com/v1alpha"
const adminPassword = "admin-pw"
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")
const raw = (kind: string, plural: string) => resource({ apiVersion, kind, plural, namespaced: true })
const rawDatabases = raw("Database", "databases")
const rawUsers = raw("User", "users")
const rawGrants = raw("Grant", "grants")
const prodDb = { name: "db", namespace: "prod" }

const get = (res: typeof rawDoltDBs, namespace: string, name: string) =>
  Effect.flatMap(Kube, (kube) => kube.get(res, name, { namespace }).pipe(Effect.catch(() => Effect.succeed(undefined))))
const readyOf = (o: KubeObject | undefined) =>
  (
    (
      o?.status as
        | { conditions?: ReadonlyArray<{ type: string; status: string; reason: string; message?: string }> }
        | undefined
    )?.conditions ?? []
  ).find((c) => c.type === "Ready")
/** Run until the object's Ready condition has `reason`; fail naming what it had. */
const untilReason = (res: typeof rawDoltDBs, namespace: string, name: string, reason: string) =>
  Effect.gen(function* () {
    const took = yield* runUntil(
      Effect.map(get(res, namespace, name), (o) => readyOf(o)?.reason === reason),
      { limitMillis: 120_000 }
    )
    const o = yield* get(res, namespace, name)
    assert.isAtLeast(took, 0, `${res.kind} ${namespace}/${name}: Ready ${JSON.stringify(readyOf(o))}, not ${reason}`)
    return o
  })
const deleteAndWait = (res: typeof rawDoltDBs, namespace: string, name: string) =>
  Effect.gen(function* () {
    yield* (yield* Kube).delete(res, name, { namespace })
    const took = yield* runUntil(
      Effect.map(get(res, namespace, name), (o) => o === undefined),
      { limitMillis: 120_000 }
    )
    assert.isAtLeast(took, 0, `${res.kind} ${namespace}/${name} was never released`)
  })

const sqlObject = (kind: string, namespace: string, name: string, spec: Record<string, unknown>) =>
  ({ apiVersion, kind, metadata: { name, namespace }, spec: { doltDBRef: prodDb, ...spec } }) as unknown as KubeObject

/** prod/db (standalone), its admin Secret, a database `orders` the prod team made by hand, and a tenant Secret. */
const setup = Effect.gen(function* () {
  const kube = yield* Kube
  yield* setupDoltDB({ ...prodDb, replicas: 1, adminPassword })
  yield* kube.create(Secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "stolen", namespace: "tenant" },
    data: { password: b64("attacker-pw") }
  })
  const admin = yield* adminTarget("db-0", { ...prodDb, adminPassword })
  yield* (yield* Dolt).createDatabase(admin, { name: "orders" })
  return admin
})

const allowTenant = Effect.gen(function* () {
  const kube = yield* Kube
  const db = yield* kube.get(rawDoltDBs, "db", { namespace: "prod" })
  yield* kube.replace(rawDoltDBs, {
    ...db,
    spec: { ...(db.spec as object), tenancy: { allowedNamespaces: ["tenant"] } }
  })
})

const layer = (seed: number) => Layer.fresh(clusterLayer({ seed }))

describe("tenant isolation in memory", () => {
  it.effect(
    "without the DoltDB's opt-in, another namespace can neither take the admin account nor drop a database",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        const kube = yield* Kube
        const dolt = yield* Dolt
        const admin = yield* setup
        yield* kube.create(
          rawUsers,
          sqlObject("User", "tenant", "admin", {
            name: "admin",
            passwordSecretKeyRef: { name: "stolen", key: "password" }
          })
        )
        yield* kube.create(rawDatabases, sqlObject("Database", "tenant", "orders", { name: "orders" }))
        yield* kube.create(
          rawGrants,
          sqlObject("Grant", "tenant", "all", { username: "admin", privileges: ["ALL PRIVILEGES"] })
        )
        for (const [res, name] of [
          [rawUsers, "admin"],
          [rawDatabases, "orders"],
          [rawGrants, "all"]
        ] as const)
          yield* untilReason(res, "tenant", name, "NamespaceNotAllowed")
        yield* deleteAndWait(rawDatabases, "tenant", "orders")
        yield* deleteAndWait(rawUsers, "tenant", "admin")

        assert.strictEqual(operator.doltCalls.total(["setPassword", "createUser", "dropUser", "grant", "revoke"]), 0)
        assert.strictEqual(operator.doltCalls.total(["dropDatabase", "createDatabase"]), 0)
        // The admin password still works and prod's data is still there.
        assert.include(yield* dolt.listDatabases(admin), "orders")
      }).pipe(Effect.provide(layer(31))),
    90_000
  )

  it.effect(
    "an allowed tenant: never the admin account, never an existing database, Grants only on its own databases",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        const kube = yield* Kube
        const dolt = yield* Dolt
        const admin = yield* setup
        yield* allowTenant
        yield* kube.create(
          rawUsers,
          sqlObject("User", "tenant", "admin", {
            name: "admin",
            adopt: true,
            passwordSecretKeyRef: { name: "stolen", key: "password" }
          })
        )
        yield* kube.create(rawDatabases, sqlObject("Database", "tenant", "orders", { name: "orders", adopt: true }))
        yield* untilReason(rawUsers, "tenant", "admin", "ReservedAccount")
        yield* untilReason(rawDatabases, "tenant", "orders", "AlreadyExists")

        // Its own database and account work; a Grant on prod's database does not.
        yield* kube.create(rawDatabases, sqlObject("Database", "tenant", "app", { name: "app" }))
        yield* kube.create(
          rawUsers,
          sqlObject("User", "tenant", "app", { name: "app", passwordSecretKeyRef: { name: "stolen", key: "password" } })
        )
        yield* kube.create(
          rawGrants,
          sqlObject("Grant", "tenant", "app", { username: "app", database: "app", privileges: ["SELECT"] })
        )
        yield* kube.create(
          rawGrants,
          sqlObject("Grant", "tenant", "orders", { username: "app", database: "orders", privileges: ["SELECT"] })
        )
        yield* kube.create(
          rawGrants,
          sqlObject("Grant", "tenant", "everything", { username: "app", privileges: ["SELECT"] })
        )
        yield* untilReason(rawDatabases, "tenant", "app", "Created")
        yield* untilReason(rawUsers, "tenant", "app", "Created")
        yield* untilReason(rawGrants, "tenant", "app", "Created")
        yield* untilReason(rawGrants, "tenant", "orders", "DatabaseNotAllowed")
        yield* untilReason(rawGrants, "tenant", "everything", "DatabaseNotAllowed")
        const grants = (yield* dolt.showGrants(admin, { name: "app", host: "%" })).join("\n")
        assert.include(grants, "`app`.*")
        assert.notInclude(grants, "orders")

        yield* deleteAndWait(rawDatabases, "tenant", "orders")
        yield* deleteAndWait(rawUsers, "tenant", "admin")
        assert.include(yield* dolt.listDatabases(admin), "orders")
        assert.strictEqual(operator.doltCalls.total(["setPassword"]), 0, "no ALTER USER on the admin account")
        assert.strictEqual(operator.doltCalls.total(["dropDatabase"]), 0)
      }).pipe(Effect.provide(layer(32))),
    90_000
  )

  it.effect(
    "in the DoltDB's own namespace: an existing database is adopted only with spec.adopt",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        const kube = yield* Kube
        const dolt = yield* Dolt
        const admin = yield* setup
        yield* kube.create(rawDatabases, sqlObject("Database", "prod", "orders", { name: "orders" }))
        yield* untilReason(rawDatabases, "prod", "orders", "AlreadyExists")
        yield* deleteAndWait(rawDatabases, "prod", "orders")
        assert.include(yield* dolt.listDatabases(admin), "orders", "a Database that did not create it dropped it")

        yield* kube.create(rawDatabases, sqlObject("Database", "prod", "orders", { name: "orders", adopt: true }))
        yield* untilReason(rawDatabases, "prod", "orders", "Created")
        yield* deleteAndWait(rawDatabases, "prod", "orders")
        assert.notInclude(yield* dolt.listDatabases(admin), "orders", "adopted with cleanupPolicy Delete")
        assert.strictEqual(operator.doltCalls.total(["dropDatabase"]), 1)
      }).pipe(Effect.provide(layer(33))),
    90_000
  )
})

describe("children the DoltDB does not own, in memory", () => {
  it.effect(
    "a pre-existing <name>-primary Service and serviceAccountName: default are reported, never taken over",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        const kube = yield* Kube
        const theirs = {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "db-primary", namespace: "prod", labels: { team: "theirs" } },
          spec: { selector: { app: "theirs" }, ports: [{ port: 80 }] }
        }
        yield* kube.create(Services, theirs)
        yield* kube.create(ServiceAccounts, {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: "default", namespace: "prod" }
        })
        yield* createDoltDB({ ...prodDb, replicas: 2, adminPassword, spec: { serviceAccountName: "default" } })
        const db = yield* untilReason(rawDoltDBs, "prod", "db", "ChildNotOwned")
        assert.include(readyOf(db)?.message ?? "", "Service db-primary")
        assert.include(readyOf(db)?.message ?? "", "ServiceAccount default")
        const service = yield* kube.get(Services, "db-primary", { namespace: "prod" })
        const spec = service.spec as { selector: unknown; ports: ReadonlyArray<{ port: number }> }
        assert.deepStrictEqual(spec.selector, theirs.spec.selector, "the operator rewrote a Service it does not own")
        assert.deepStrictEqual(
          spec.ports.map((p) => p.port),
          [80]
        )
        assert.isUndefined(service.metadata.ownerReferences, "the operator made itself the Service's owner")
        const account = yield* kube.get(ServiceAccounts, "default", { namespace: "prod" })
        assert.isUndefined(account.metadata.ownerReferences)
      }).pipe(Effect.provide(layer(34))),
    90_000
  )
})
