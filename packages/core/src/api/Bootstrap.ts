/**
 * `spec.bootstrap`: where a new DoltDB's data comes from. One source (`from.*`); today a backup: the pod that starts
 * as primary restores every listed database before its sql-server starts; the standbys receive them by replication.
 */
import { Schema } from "effect"
import { BackupStorage } from "./BackupStorage.ts"
import { withInvariants } from "./Cel.ts"

const databaseName = /^[a-zA-Z0-9_]+$/u

export const BootstrapFromBackup = Schema.Struct({
  storage: BackupStorage.annotate({
    description: "Storage is where the backup is, as in the Backup that wrote it (each database at <base>/<database>)."
  }),
  databases: Schema.Array(Schema.String.check(Schema.isMaxLength(80), Schema.isPattern(databaseName)))
    .check(Schema.isMinLength(1), Schema.isMaxLength(100))
    .annotate({ description: "Databases are the databases to restore (a backup store cannot be listed)." }),
  asOf: Schema.optionalKey(
    Schema.String.check(Schema.isMaxLength(255), Schema.isPattern(/^[a-zA-Z0-9_./-]+$/u)).annotate({
      description:
        "AsOf resets each restored database's checked-out branch to this commit hash or branch after the restore (point in time for committed data; uncommitted changes are dropped, other branches keep the backup's state)."
    })
  )
}).annotate({ description: "BootstrapFromBackup restores the databases of a backup before the primary first starts." })
export type BootstrapFromBackup = typeof BootstrapFromBackup.Type

export const BootstrapSource = Schema.Struct({
  backup: Schema.optionalKey(BootstrapFromBackup)
})
  .annotate({ description: "BootstrapSource is where the initial data comes from: exactly one source." })
  .pipe(
    withInvariants<{ readonly backup?: unknown }>([
      {
        cel: { rule: "[has(self.backup)].filter(x, x).size() == 1", message: "exactly one bootstrap source" },
        holds: (s) => [s.backup].filter((x) => x !== undefined).length === 1
      }
    ])
  )
export type BootstrapSource = typeof BootstrapSource.Type

export const Bootstrap = Schema.Struct({
  from: BootstrapSource
}).annotate({
  description:
    "Bootstrap initialises a new DoltDB from existing data. It acts once: when the DoltDB reports Bootstrapped, later changes have no effect."
})
export type Bootstrap = typeof Bootstrap.Type
