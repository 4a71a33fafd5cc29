/**
 * The model's `Dolt` calls on users and grants: they change the replicated privileges store (a new store id on every
 * change, so standbys pick it up), and SHOW GRANTS renders it as Dolt does.
 */
import {
  type Account,
  type DoltTarget,
  validateAccount,
  validateGrant,
  validatePassword
} from "@doltdb-op/core/services/Dolt"
import { Effect, Redacted } from "effect"
import type { DoltClusterShape } from "./DoltClusterShape.ts"
import type { ModelServer } from "./ModelServer.ts"
import { type Run, serverReadOnly, sqlError } from "./modelSql.ts"
import { type AccountState, type AuthStore, accountKey, type GrantEntry } from "./state.ts"

const renderGrants = (name: string, host: string, account: AccountState): ReadonlyArray<string> => {
  const who = `\`${name}\`@\`${host}\``
  const lines: Array<string> = []
  const global = account.grants.get("*.*")
  if (global === undefined) lines.push(`GRANT USAGE ON *.* TO ${who}`)
  for (const [object, entry] of account.grants) {
    const privileges = entry.privileges.size === 0 ? "USAGE" : [...entry.privileges].sort().join(", ")
    lines.push(`GRANT ${privileges} ON ${object} TO ${who}${entry.grantOption ? " WITH GRANT OPTION" : ""}`)
  }
  return lines
}

const grantObject = (database: string, table: string): string =>
  database === "*"
    ? "*.*"
    : `\`${database.replaceAll("`", "``")}\`.${table === "*" ? "*" : `\`${table.replaceAll("`", "``")}\``}`

export const makeAccountOps = (cluster: DoltClusterShape, run: Run) => {
  const setAuth = (server: ModelServer, accounts: ReadonlyMap<string, AccountState>) => {
    const auth: AuthStore = { id: cluster.ids.next(), accounts }
    server.data.auth = auth
  }

  const userExists = (t: DoltTarget, account: Account) =>
    Effect.gen(function* () {
      const a = yield* validateAccount(account)
      return yield* run(t, "userExists", (s) => Effect.succeed(s.data.auth.accounts.has(accountKey(a.name, a.host))))
    })

  const createUser = (t: DoltTarget, account: Account, password: Redacted.Redacted<string>) =>
    Effect.gen(function* () {
      const a = yield* validateAccount(account)
      const pw = yield* validatePassword(Redacted.value(password))
      return yield* run(t, "createUser", (s) =>
        Effect.gen(function* () {
          const key = accountKey(a.name, a.host)
          if (s.data.auth.accounts.has(key)) return false
          if (s.readOnly) return yield* serverReadOnly(t.host, "createUser")
          setAuth(s, new Map(s.data.auth.accounts).set(key, { password: pw, grants: new Map() }))
          return true
        })
      )
    })

  const setPassword = (t: DoltTarget, account: Account, password: Redacted.Redacted<string>) =>
    Effect.gen(function* () {
      const a = yield* validateAccount(account)
      const pw = yield* validatePassword(Redacted.value(password))
      yield* run(t, "setPassword", (s) =>
        Effect.gen(function* () {
          if (s.readOnly) return yield* serverReadOnly(t.host, "setPassword")
          const key = accountKey(a.name, a.host)
          const existing = s.data.auth.accounts.get(key)
          if (existing === undefined) {
            return yield* sqlError(
              t.host,
              "setPassword",
              1396,
              `Operation ALTER USER failed for '${a.name}'@'${a.host}'`
            )
          }
          setAuth(s, new Map(s.data.auth.accounts).set(key, { ...existing, password: pw }))
        })
      )
    })

  const dropUser = (t: DoltTarget, account: Account) =>
    Effect.gen(function* () {
      const a = yield* validateAccount(account)
      yield* run(t, "dropUser", (s) =>
        Effect.gen(function* () {
          const key = accountKey(a.name, a.host)
          if (!s.data.auth.accounts.has(key)) return
          if (s.readOnly) return yield* serverReadOnly(t.host, "dropUser")
          const next = new Map(s.data.auth.accounts)
          next.delete(key)
          setAuth(s, next)
        })
      )
    })

  const changeGrant = (t: DoltTarget, spec: Parameters<typeof validateGrant>[0], op: "grant" | "revoke") =>
    Effect.gen(function* () {
      const g = yield* validateGrant(spec)
      yield* run(t, op, (s) =>
        Effect.gen(function* () {
          if (s.readOnly) return yield* serverReadOnly(t.host, op)
          const key = accountKey(g.account.name, g.account.host)
          const account = s.data.auth.accounts.get(key)
          if (account === undefined) {
            if (op === "revoke") return
            return yield* sqlError(t.host, op, 1133, "Can't find any matching row in the user table")
          }
          const object = grantObject(g.database, g.table)
          const current = account.grants.get(object) ?? { privileges: new Set(), grantOption: false }
          const privileges = new Set(current.privileges)
          for (const p of g.privileges) op === "grant" ? privileges.add(p) : privileges.delete(p)
          const entry: GrantEntry = {
            privileges,
            grantOption: op === "grant" ? current.grantOption || g.grantOption : current.grantOption && !g.grantOption
          }
          const grants = new Map(account.grants)
          if (entry.privileges.size === 0 && !entry.grantOption) grants.delete(object)
          else grants.set(object, entry)
          setAuth(s, new Map(s.data.auth.accounts).set(key, { ...account, grants }))
        })
      )
    })

  const showGrants = (t: DoltTarget, account: Account) =>
    Effect.gen(function* () {
      const a = yield* validateAccount(account)
      return yield* run(t, "showGrants", (s) => {
        const acc = s.data.auth.accounts.get(accountKey(a.name, a.host))
        return Effect.succeed(acc === undefined ? [] : renderGrants(a.name, a.host, acc))
      })
    })

  return {
    userExists,
    createUser,
    setPassword,
    dropUser,
    grant: (t: DoltTarget, spec: Parameters<typeof validateGrant>[0]) => changeGrant(t, spec, "grant"),
    revoke: (t: DoltTarget, spec: Parameters<typeof validateGrant>[0]) => changeGrant(t, spec, "revoke"),
    showGrants
  }
}
