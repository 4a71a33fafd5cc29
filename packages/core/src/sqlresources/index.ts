/**
 * Planners for the SQL resources (Database, User, Grant): pure functions from an observed value to a plan and
 * the status the object has once the plan ran. See `SqlResource.ts` for the shared flow.
 */
export * from "./Deletion.ts"
export * from "./GoDuration.ts"
export * from "./Privileges.ts"
export * from "./planDatabase.ts"
export * from "./planGrant.ts"
export * from "./planUser.ts"
export * from "./ShowGrants.ts"
export * from "./SqlFailures.ts"
export * from "./SqlResource.ts"
