/**
 * @doltdb-op/core: the DoltDB operator's API schemas, defaults, builders and planners.
 * Depends on `effect` only. The simulated world of the in-memory layers is `@doltdb-op/core/sim/SimWorld`.
 */
export * as Api from "./api/index.ts"
export * as Backups from "./backup/index.ts"
export * as Builders from "./builders/index.ts"
export * as DoltDBPlanner from "./doltdb/index.ts"
export * as Guard from "./guard/index.ts"
export * as Plan from "./plan/Action.ts"
export * as Replication from "./replication/index.ts"
export * as Snapshots from "./snapshot/index.ts"
export * as SqlResources from "./sqlresources/index.ts"
export * as Status from "./status/Conditions.ts"
