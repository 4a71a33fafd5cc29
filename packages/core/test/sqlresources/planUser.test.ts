import { assert, describe, it } from "@effect/vitest"
import type { UserSpec } from "../../src/api/User.ts"
import {
  type PasswordSecret,
  planUser,
  type UserObserved,
  type UserReads,
  type UserResourceStatus,
  userAccountsToRead
} from "../../src/sqlresources/planUser.ts"
import { Finalizers, type ParentDoltDB } from "../../src/sqlresources/SqlResource.ts"
import {
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
  tagsOf,
  userSpec
} from "./fixtures.ts"

const finalizer = Finalizers.User
const bob = { name: "bob", host: "%" }
const ready = (...existing: ReadonlyArray<{ name: string; host: string }>): ParentDoltDB<UserReads> => ({
  _tag: "Ready",
  reads: { existingAccounts: existing }
})
const secret = (resourceVersion = "7", keys: ReadonlyArray<string> = ["password"]): PasswordSecret => ({
  _tag: "Present",
  resourceVersion,
  keys
})

const convergedStatus = (overrides: Partial<UserResourceStatus> = {}): UserResourceStatus => ({
  conditions: [readyCondition()],
  observedGeneration: 1,
  account: bob,
  passwordSecret: { name: "bob-password", key: "password", resourceVersion: "7" },
  ...overrides
})

const observed = (
  spec: UserSpec,
  options: {
    readonly status?: UserResourceStatus
    readonly parent?: ParentDoltDB<UserReads>
    readonly secret?: PasswordSecret
    readonly meta?: Parameters<typeof object>[2]
    readonly lastFailure?: UserObserved["lastFailure"]
  } = {}
): UserObserved => ({
  now: NOW,
  user: object(spec, options.status, { finalizers: [finalizer], ...options.meta }),
  secret: options.secret ?? secret(),
  parent: options.parent ?? ready(bob),
  lastFailure: options.lastFailure
})

describe("planUser", () => {
  it("a converged user: no SQL (no ALTER USER every requeue), no status write", () => {
    const o = observed(userSpec(), { status: convergedStatus() })
    const r = planUser(o)
    assert.deepStrictEqual(r.actions, [])
    assert.strictEqual(r.status, o.user.status)
    assert.strictEqual(r.requeueAfter?.millis, seconds(30))
  })

  it("creates a missing account with the password Secret reference (never the password), then adds the finalizer", () => {
    const r = planUser({ ...observed(userSpec(), { parent: ready() }), user: object(userSpec()) })
    const sql = r.actions.find((a) => a._tag === "Sql")
    assert.deepStrictEqual(sql?._tag === "Sql" ? sql.op : undefined, {
      _tag: "CreateUser",
      name: "bob",
      host: "%",
      password: { namespace: "ns", name: "bob-password", key: "password" }
    })
    assert.deepStrictEqual(tagsOf(r.actions), [
      "PatchStatus",
      "Sql:CreateUser",
      "Event:Created",
      "PatchStatus",
      "SetFinalizer"
    ])
    assert.strictEqual(r.requeueAfter?.millis, seconds(30))
    assert.deepStrictEqual(r.status.account, bob)
    assert.deepStrictEqual(r.status.passwordSecret, { name: "bob-password", key: "password", resourceVersion: "7" })
    assert.strictEqual(readyOf(r.status)?.reason, "Created")
  })

  const rotations = [
    ["the Secret's resourceVersion changed", userSpec(), secret("8"), "PasswordRotated"],
    [
      "spec points at another key of the same Secret",
      userSpec({ passwordSecretKeyRef: { name: "bob-password", key: "new" } }),
      secret("7", ["password", "new"]),
      "PasswordRotated"
    ],
    [
      "spec points at another Secret",
      userSpec({ passwordSecretKeyRef: { name: "other", key: "password" } }),
      secret("7"),
      "PasswordRotated"
    ]
  ] as const
  for (const [name, spec, s, reason] of rotations) {
    it(`rotates the password once when ${name}`, () => {
      const r = planUser(observed(spec, { status: convergedStatus(), secret: s }))
      assert.deepStrictEqual(sqlOf(r.actions), ["ALTER USER 'bob'@'%'"])
      assert.strictEqual(eventsOf(r.actions)[0]?.split(":")[0], `Normal ${reason}`)
      const again = planUser(observed(spec, { status: r.status, secret: s }))
      assert.deepStrictEqual(again.actions, [])
    })
  }

  it("an existing account without a recorded Secret version gets its password set once", () => {
    const r = planUser(observed(userSpec(), { status: convergedStatus({ passwordSecret: undefined as never }) }))
    assert.deepStrictEqual(sqlOf(r.actions), ["ALTER USER 'bob'@'%'"])
    assert.match(eventsOf(r.actions)[0] ?? "", /^Normal PasswordSet/u)
  })

  it("re-creates an account dropped behind its back", () => {
    const r = planUser(observed(userSpec(), { status: convergedStatus(), parent: ready() }))
    assert.deepStrictEqual(sqlOf(r.actions), ["CREATE USER 'bob'@'%'"])
    assert.include(eventsOf(r.actions), "Normal Created: re-created missing account 'bob'@'%'")
  })

  it("hosts compare case-insensitively and are recorded lower-cased", () => {
    const spec = userSpec({ host: "App.Example.COM" })
    const account = { name: "bob", host: "app.example.com" }
    const r = planUser(observed(spec, { status: convergedStatus({ account }), parent: ready(account) }))
    assert.deepStrictEqual(r.actions, [])
  })

  const secretProblems = [
    [
      "the Secret is missing",
      userSpec(),
      { _tag: "Missing" } as const,
      "PasswordSecretNotFound",
      "Secret ns/bob-password (key password) not found"
    ],
    [
      "the key is missing",
      userSpec(),
      secret("7", ["other"]),
      "PasswordKeyNotFound",
      "Secret ns/bob-password has no key password"
    ],
    [
      "the Secret name is unset",
      userSpec({ passwordSecretKeyRef: { key: "password" } }),
      secret(),
      "PasswordSecretNotFound",
      "spec.passwordSecretKeyRef.name is not set"
    ]
  ] as const
  for (const [name, spec, s, reason, message] of secretProblems) {
    it(`${name}: Ready False ${reason} naming the Secret and key, no SQL`, () => {
      const r = planUser(observed(spec, { secret: s, parent: ready() }))
      assert.deepStrictEqual(sqlOf(r.actions), [])
      assert.strictEqual(readyOf(r.status)?.reason, reason)
      assert.strictEqual(readyOf(r.status)?.message, message)
      assert.isDefined(r.requeueAfter?.millis)
    })
  }

  it("rename with cleanupPolicy Delete: creates the new account, then drops the recorded one", () => {
    const spec = userSpec({ name: "robert" })
    const r = planUser(observed(spec, { status: convergedStatus(), parent: ready(bob) }))
    assert.deepStrictEqual(sqlOf(r.actions), ["CREATE USER 'robert'@'%'", "DROP USER 'bob'@'%'"])
    assert.deepStrictEqual(r.status.account, { name: "robert", host: "%" })
    assert.deepStrictEqual(userAccountsToRead(object(spec, convergedStatus())), [{ name: "robert", host: "%" }, bob])
  })

  it("a rename records the new account and the previous one before CREATE USER, then drops the previous", () => {
    const robert = { name: "robert", host: "%" }
    const r = planUser(observed(userSpec({ name: "robert" }), { status: convergedStatus(), parent: ready(bob) }))
    assert.deepStrictEqual(tagsOf(r.actions).slice(0, 2), ["PatchStatus", "Sql:CreateUser"])
    const intent = statusWrites(r.actions)[0]?.status as UserResourceStatus | undefined
    assert.deepStrictEqual([intent?.account, intent?.previousAccount], [robert, bob])
    assert.deepStrictEqual(sqlOf(r.actions), ["CREATE USER 'robert'@'%'", "DROP USER 'bob'@'%'"])
    assert.isUndefined(r.status.previousAccount)
  })

  it("an interrupted rename resumes: the new account exists, the old one is still dropped", () => {
    const robert = { name: "robert", host: "%" }
    const r = planUser(
      observed(userSpec({ name: "robert" }), {
        status: convergedStatus({ account: robert, previousAccount: bob }),
        parent: ready(bob, robert)
      })
    )
    assert.deepStrictEqual(sqlOf(r.actions), ["DROP USER 'bob'@'%'"])
  })

  it("rename with cleanupPolicy Skip: leaves the old account, says so once", () => {
    const spec = userSpec({ name: "robert", cleanupPolicy: "Skip" })
    const r = planUser(observed(spec, { status: convergedStatus(), parent: ready(bob) }))
    assert.deepStrictEqual(sqlOf(r.actions), ["CREATE USER 'robert'@'%'"])
    assert.include(
      eventsOf(r.actions),
      "Normal CleanupSkipped: cleanupPolicy Skip: previous account 'bob'@'%' left in place"
    )
  })

  const invalid = [
    ["a quoted name", userSpec({ name: "'bob'" }), "spec.name"],
    ["a host with a NUL", userSpec({ host: "a\u0000b" }), "spec.host"]
  ] as const
  for (const [name, spec, field] of invalid) {
    it(`${name}: InvalidSpec, no SQL`, () => {
      const r = planUser(observed(spec, { parent: ready() }))
      assert.deepStrictEqual(sqlOf(r.actions), [])
      assert.strictEqual(readyOf(r.status)?.reason, "InvalidSpec")
      assert.include(readyOf(r.status)?.message ?? "", field)
    })
  }

  it("a failed ALTER USER is reported without the password and retried", () => {
    const op = {
      _tag: "SetPassword",
      name: "bob",
      host: "%",
      password: { namespace: "ns", name: "bob-password", key: "password" }
    } as const
    const r = planUser(
      observed(userSpec(), { status: convergedStatus(), secret: secret("8"), lastFailure: failure(op) })
    )
    const failed = statusWrites(r.actions)[0]?.status as UserResourceStatus | undefined
    assert.strictEqual(readyOf(failed)?.message, "ALTER USER 'bob'@'%' failed: boom")
    assert.strictEqual(readyOf(failed)?.lastTransitionTime, "2026-11-26T12:00:00Z")
    assert.deepStrictEqual(sqlOf(r.actions), ["ALTER USER 'bob'@'%'"])
    assert.strictEqual(readyOf(r.status)?.lastTransitionTime, "2026-11-26T12:00:00Z")
  })

  it("a parent DoltDB that is not ready: no SQL even when the account is missing", () => {
    const r = planUser(observed(userSpec(), { parent: { _tag: "NotReady", reason: "no primary" } }))
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.strictEqual(readyOf(r.status)?.reason, "DoltDBNotReady")
  })
})

describe("planUser: deletion", () => {
  const gone = { deletionTimestamp: EARLIER, finalizers: [finalizer] }

  it("drops the recorded account, not a renamed spec account", () => {
    const robert = { name: "robert", host: "%" }
    const r = planUser(
      observed(userSpec({ name: "robert" }), {
        status: convergedStatus(),
        meta: { ...gone, deletionTimestamp: new Date(NOW).toISOString() },
        parent: ready(bob, robert)
      })
    )
    assert.deepStrictEqual(sqlOf(r.actions), ["DROP USER 'bob'@'%'"])
    assert.isFalse(finalizerOf(r.actions))
  })

  it("a finalizer without status.account drops nothing: a spec (and a finalizer) can name anyone's account", () => {
    const r = planUser(observed(userSpec(), { meta: { ...gone, deletionTimestamp: new Date(NOW).toISOString() } }))
    assert.deepStrictEqual(sqlOf(r.actions), [])
    assert.isFalse(finalizerOf(r.actions))
  })

  it("an hour after deletion with the DoltDB unreachable: released with a Warning naming the account", () => {
    const r = planUser(
      observed(userSpec(), { status: convergedStatus(), meta: gone, parent: { _tag: "NotReady", reason: "x" } })
    )
    assert.isFalse(finalizerOf(r.actions))
    assert.include(eventsOf(r.actions)[0] ?? "", "account 'bob'@'%' left behind")
  })
})
