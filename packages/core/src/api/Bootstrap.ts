/**
 * `spec.bootstrap`: where a new DoltDB's data comes from. One source (`from.*`): a backup (the pod that starts as
 * primary restores every listed database before its sql-server starts; the standbys receive them by replication),
 * or a VolumeSnapshot (every data volume is created from it; docs/storage.md).
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
  backup: Schema.optionalKey(BootstrapFromBackup),
  volumeSnapshot: Schema.optionalKey(
    Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(253)).annotate({
      description:
        "VolumeSnapshot (in the DoltDB's namespace) every data volume is created from: the pod that starts as primary serves its data, the standbys start from the same copy and catch up by replication. Same effect as the reference's storage.volumeSnapshot; only read when a volume is created."
    })
  )
})
  .annotate({ description: "BootstrapSource is where the initial data comes from: exactly one source." })
  .pipe(
    withInvariants<{ readonly backup?: unknown; readonly volumeSnapshot?: unknown }>([
      {
        cel: {
          rule: "[has(self.backup), has(self.volumeSnapshot)].filter(x, x).size() == 1",
          message: "exactly one bootstrap source"
        },
        holds: (s) => [s.backup, s.volumeSnapshot].filter((x) => x !== undefined).length === 1
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

/** The VolumeSnapshot new data volumes start from, if any (the reference's `storage.volumeSnapshot` included). */
export const bootstrapSnapshot = (spec: {
  readonly bootstrap?: { readonly from?: { readonly volumeSnapshot?: string | undefined } | undefined } | undefined
  readonly storage: { readonly volumeSnapshot?: string | undefined }
}): string | undefined => {
  const s = spec.bootstrap?.from?.volumeSnapshot ?? spec.storage.volumeSnapshot
  return s === undefined || s === "" ? undefined : s
}
