/**
 * The `Dolt` calls on databases, branches, dolt_ignore, users, grants and backups, answered by a model server: one
 * module per concept (`modelDatabases.ts`, `modelAccounts.ts`, `modelBackups.ts`), sharing `modelSql.ts`.
 */
import type { DoltClusterShape } from "./DoltClusterShape.ts"
import { makeAccountOps } from "./modelAccounts.ts"
import { makeBackupOps } from "./modelBackups.ts"
import { makeDatabaseOps } from "./modelDatabases.ts"
import type { Run } from "./modelSql.ts"

export const makeSqlResources = (cluster: DoltClusterShape, run: Run) => ({
  ...makeDatabaseOps(cluster, run),
  ...makeAccountOps(cluster, run),
  ...makeBackupOps(cluster, run)
})
