/** Builders for the SQL resource planner tests. */
import type { Condition, ObjectMeta } from "../../src/api/Common.ts"
import type { DatabaseSpec } from "../../src/api/Database.ts"
import type { GrantSpec } from "../../src/api/Grant.ts"
import type { UserSpec } from "../../src/api/User.ts"
import type { Action, SqlOp } from "../../src/plan/Action.ts"
import type { DatabaseResourceStatus } from "../../src/sqlresources/planDatabase.ts"
import type { GrantResourceStatus } from "../../src/sqlresources/planGrant.ts"
import type { UserResourceStatus } from "../../src/sqlresources/planUser.ts"
import { describeSqlOp } from "../../src/sqlresources/SqlFailures.ts"
import type { SqlFailure } from "../../src/sqlresources/SqlResource.ts"

export const NOW = Date.parse("2026-11-26T12:00:00Z")
export const EARLIER = "2026-11-26T11:00:00Z"
export const seconds = (n: number) => n * 1000

export const metadata = (overrides: Partial<ObjectMeta> = {}): ObjectMeta => ({
  name: "res",
  namespace: "ns",
  uid: "uid-1",
  generation: 1,
  resourceVersion: "100",
  ...overrides
})

/** An object being deleted since `millisAgo`. */
export const deleting = (millisAgo: number, finalizer: string): Partial<ObjectMeta> => ({
  deletionTimestamp: new Date(NOW - millisAgo).toISOString(),
  finalizers: [finalizer]
})

export const databaseSpec = (overrides: Partial<DatabaseSpec> = {}): DatabaseSpec => ({
  doltDBRef: { name: "dolt" },
  cleanupPolicy: "Delete",
  name: "app",
  charset: "utf8mb4",
  collation: "utf8mb4_0900_bin",
  ...overrides
})

export const userSpec = (overrides: Partial<UserSpec> = {}): UserSpec => ({
  doltDBRef: { name: "dolt" },
  cleanupPolicy: "Delete",
  passwordSecretKeyRef: { name: "bob-password", key: "password" },
  name: "bob",
  host: "%",
  ...overrides
})

export const grantSpec = (overrides: Partial<GrantSpec> = {}): GrantSpec => ({
  doltDBRef: { name: "dolt" },
  cleanupPolicy: "Delete",
  privileges: ["SELECT", "INSERT"],
  database: "app",
  table: "*",
  username: "bob",
  host: "%",
  grantOption: false,
  ...overrides
})

export const object = <Spec, Status>(
  spec: Spec,
  status?: Status,
  meta: Partial<ObjectMeta> = {}
): { readonly metadata: ObjectMeta; readonly spec: Spec; readonly status?: Status } => ({
  metadata: metadata(meta),
  spec,
  ...(status === undefined ? {} : { status })
})

export const readyCondition = (overrides: Partial<Condition> = {}): Condition => ({
  type: "Ready",
  status: "True",
  observedGeneration: 1,
  lastTransitionTime: EARLIER,
  reason: "Created",
  message: "Created",
  ...overrides
})

export type AnyStatus = DatabaseResourceStatus | UserResourceStatus | GrantResourceStatus

export const readyOf = (status: AnyStatus | undefined) => status?.conditions?.find((c) => c.type === "Ready")
export const conditionOf = (status: AnyStatus | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type)

/** SQL statements of a plan's actions, in words. */
export const sqlOf = (plan: ReadonlyArray<Action>): ReadonlyArray<string> =>
  plan.flatMap((a) => (a._tag === "Sql" ? [describeSqlOp(a.op)] : []))

export const tagsOf = (plan: ReadonlyArray<Action>): ReadonlyArray<string> =>
  plan.map((a) => (a._tag === "Sql" ? `Sql:${a.op._tag}` : a._tag === "Event" ? `Event:${a.reason}` : a._tag))

export const eventsOf = (plan: ReadonlyArray<Action>): ReadonlyArray<string> =>
  plan.flatMap((a) => (a._tag === "Event" ? [`${a.type} ${a.reason}: ${a.message}`] : []))

export const finalizerOf = (plan: ReadonlyArray<Action>): boolean | undefined => {
  const a = plan.find((x) => x._tag === "SetFinalizer")
  return a?._tag === "SetFinalizer" ? a.present : undefined
}

export const statusWrites = (plan: ReadonlyArray<Action>) => plan.flatMap((a) => (a._tag === "PatchStatus" ? [a] : []))

export const failure = (op: SqlOp, error = "DoltSqlError", message = "boom"): SqlFailure => ({ op, error, message })
