/**
 * Every combination of spec, ownership record and server state over a small privilege universe, run against a
 * model of one grant level: applying the planned SQL must converge in one round, keep converging (no writes
 * after), give the account what the spec asks, and never take away a privilege someone else granted (apart from
 * the documented REVOKE ALL PRIVILEGES case).
 */
import { assert, describe, it } from "@effect/vitest"
import type { Action } from "../../src/plan/Action.ts"
import { holds } from "../../src/sqlresources/Privileges.ts"
import { type GrantResourceStatus, planGrant } from "../../src/sqlresources/planGrant.ts"
import { Finalizers } from "../../src/sqlresources/SqlResource.ts"
import { grantSpec, NOW, object } from "./fixtures.ts"

const ALL = "ALL PRIVILEGES"
/** What ALL expands to when one privilege is revoked from it (the model's level privileges). */
const LEVEL = ["ALTER", "CREATE", "DELETE", "DROP", "INDEX", "INSERT", "SELECT", "TRIGGER", "UPDATE"]

interface Level {
  readonly privileges: ReadonlySet<string>
  readonly grantOption: boolean
}

const apply = (level: Level, plan: ReadonlyArray<Action>): Level => {
  let privileges = new Set(level.privileges)
  let grantOption = level.grantOption
  for (const a of plan) {
    if (a._tag !== "Sql" || (a.op._tag !== "Grant" && a.op._tag !== "Revoke")) continue
    const op = a.op
    if (op._tag === "Grant") {
      if (op.privileges.includes(ALL)) privileges = new Set([ALL])
      else if (!privileges.has(ALL)) for (const p of op.privileges) privileges.add(p)
      grantOption ||= op.grantOption
    } else {
      if (op.privileges.includes(ALL)) privileges = new Set()
      else {
        if (privileges.has(ALL)) privileges = new Set(LEVEL)
        for (const p of op.privileges) privileges.delete(p)
      }
      if (op.grantOption) grantOption = false
    }
  }
  return { privileges, grantOption }
}

const showGrants = (level: Level): ReadonlyArray<string> => [
  "GRANT USAGE ON *.* TO `bob`@`%`",
  ...(level.privileges.size === 0 && !level.grantOption
    ? []
    : [
        `GRANT ${level.privileges.size === 0 ? "USAGE" : [...level.privileges].join(", ")} ON \`app\`.* TO \`bob\`@\`%\`${level.grantOption ? " WITH GRANT OPTION" : ""}`
      ])
]

const plan = (spec: ReturnType<typeof grantSpec>, status: GrantResourceStatus | undefined, level: Level) =>
  planGrant({
    now: NOW,
    grant: object(spec, status, { finalizers: [Finalizers.Grant] }),
    parent: {
      _tag: "Ready",
      reads: { accounts: [{ account: { name: "bob", host: "%" }, exists: true, lines: showGrants(level) }] }
    }
  })

const subsets = (items: ReadonlyArray<string>): ReadonlyArray<ReadonlyArray<string>> => {
  const out: Array<ReadonlyArray<string>> = [[]]
  for (const x of items) for (const s of [...out]) out.push([...s, x])
  return out
}

// Two privileges and ALL already cover every relation (ours, theirs, both, neither) and keep the test fast.
const universe = ["INSERT", "SELECT"]
const sets = [...subsets(universe), [ALL]]
const sqlCount = (p: ReadonlyArray<Action>) => p.filter((a) => a._tag === "Sql").length

describe("planGrant against a model of one level", () => {
  it("converges in one round, stays converged, grants what the spec asks, and spares others' privileges", () => {
    let cases = 0
    for (const desired of sets.filter((s) => s.length > 0)) {
      for (const owned of sets) {
        for (const held of sets) {
          const options = subsets(["w", "o", "h"]).map((s) => ({
            wantOption: s.includes("w"),
            ownsOption: s.includes("o"),
            holdsOption: s.includes("h")
          }))
          for (const { wantOption, ownsOption, holdsOption } of options) {
            cases++
            const spec = grantSpec({ privileges: desired, grantOption: wantOption })
            const status: GrantResourceStatus = {
              applied: {
                username: "bob",
                host: "%",
                database: "app",
                table: "*",
                privileges: owned,
                grantOption: ownsOption
              }
            }
            const start: Level = { privileges: new Set(held), grantOption: holdsOption }
            const first = plan(spec, status, start)
            const after = apply(start, first.actions)
            const second = plan(spec, first.status, after)
            const label = JSON.stringify({ desired, wantOption, owned, ownsOption, held, holdsOption })
            assert.strictEqual(sqlCount(second.actions), 0, `not converged: ${label}`)
            assert.deepStrictEqual(plan(spec, second.status, after).actions, [], `writes after convergence: ${label}`)
            for (const p of desired) assert.isTrue(holds([...after.privileges], p), `missing ${p}: ${label}`)
            if (wantOption) assert.isTrue(after.grantOption, `missing grant option: ${label}`)
            const revokedAll = first.actions.some(
              (a) => a._tag === "Sql" && a.op._tag === "Revoke" && a.op.privileges.includes(ALL)
            )
            for (const p of held.filter((x) => !owned.includes(x) && !owned.includes(ALL))) {
              if (!revokedAll) assert.isTrue(holds([...after.privileges], p), `took away others' ${p}: ${label}`)
            }
            if (holdsOption && !ownsOption) assert.isTrue(after.grantOption, `took away others' grant option: ${label}`)
          }
        }
      }
    }
    assert.strictEqual(cases, 4 * 5 * 5 * 8)
  })
})
