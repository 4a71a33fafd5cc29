/** The table of the 7 kinds: names, CRD metadata and schemas. */
import type { Effect, Schema } from "effect"
import type { ApiValidationError } from "./ApiValidationError.ts"
import { Backup, BackupSpec, BackupStatus, decodeBackup } from "./Backup.ts"
import { BackupSchedule, BackupScheduleSpec, BackupScheduleStatus, decodeBackupSchedule } from "./BackupSchedule.ts"
import { makeUnknownEncoder } from "./Codec.ts"
import { Database, DatabaseSpec, DatabaseStatus, decodeDatabase } from "./Database.ts"
import { DoltDB, DoltDBNameMaxLength, DoltDBNamePattern, DoltDBSpec, DoltDBStatus, decodeDoltDB } from "./DoltDB.ts"
import { decodeGrant, Grant, GrantSpec, GrantStatus } from "./Grant.ts"
import { decodeSnapshot, Snapshot, SnapshotSpec, SnapshotStatus } from "./Snapshot.ts"
import { decodeUser, User, UserSpec, UserStatus } from "./User.ts"

export interface PrinterColumn {
  readonly name: string
  readonly type: "string" | "integer" | "number" | "boolean" | "date"
  readonly jsonPath: string
  readonly description?: string
}

export interface KindInfo {
  readonly kind: string
  readonly plural: string
  readonly singular: string
  readonly shortNames: ReadonlyArray<string>
  readonly description: string
  /** The whole object (apiVersion, kind, metadata, spec, status). */
  readonly schema: Schema.Top
  readonly spec: Schema.Top
  readonly status: Schema.Top
  readonly printerColumns: ReadonlyArray<PrinterColumn>
  /** Constraints on `metadata.name` (the only metadata a CRD may constrain), when the kind has its own. */
  readonly name?: { readonly maxLength: number; readonly pattern: RegExp; readonly message: string }
  /** The kind's decode helper, untyped for generic callers (use `decodeDoltDB` etc. for the typed ones). */
  readonly decode: (u: unknown) => Effect.Effect<unknown, ApiValidationError>
  /** The kind's encode helper; fails with `ApiValidationError` when `a` is not a decoded object of this kind. */
  readonly encode: (a: unknown) => Effect.Effect<unknown, ApiValidationError>
}

/** kubectl category: `kubectl get dolt` lists every kind. */
export const Category = "dolt"

const ready: ReadonlyArray<PrinterColumn> = [
  { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: "Status", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].message' }
]
const doltDB: PrinterColumn = { name: "DoltDB", type: "string", jsonPath: ".spec.doltDBRef.name" }
const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }

/**
 * Short names follow mariadb-operator's convention (`mdb`, `dmdb`, `umdb`...): `ddb` for DoltDB and the kind's
 * initial(s) + `ddb` for the others. They avoid the built-ins and the popular operators' names; plain `db` would
 * be too generic next to other database operators.
 */
export const kinds: ReadonlyArray<KindInfo> = [
  {
    kind: "DoltDB",
    plural: "doltdbs",
    singular: "doltdb",
    shortNames: ["ddb"],
    description: "DoltDB is a Dolt sql-server cluster with optional primary/standby replication.",
    schema: DoltDB,
    spec: DoltDBSpec,
    status: DoltDBStatus,
    decode: decodeDoltDB,
    encode: makeUnknownEncoder("DoltDB", DoltDB),
    name: {
      maxLength: DoltDBNameMaxLength,
      pattern: DoltDBNamePattern,
      message: `metadata.name must be a lower-case DNS label of at most ${DoltDBNameMaxLength} characters starting with a letter (its Services and pods are named after it)`
    },
    printerColumns: [
      ...ready,
      { name: "CurrentPrimary", type: "string", jsonPath: ".status.currentPrimary" },
      { name: "ReplicationEpoch", type: "string", jsonPath: ".status.replicationEpoch" },
      age
    ]
  },
  {
    kind: "Database",
    plural: "databases",
    singular: "database",
    shortNames: ["dddb"],
    description: "Database is a SQL database managed in a DoltDB.",
    schema: Database,
    spec: DatabaseSpec,
    status: DatabaseStatus,
    decode: decodeDatabase,
    encode: makeUnknownEncoder("Database", Database),
    printerColumns: [
      ...ready,
      { name: "CharSet", type: "string", jsonPath: ".spec.charset" },
      { name: "Collate", type: "string", jsonPath: ".spec.collation" },
      doltDB,
      age,
      { name: "Name", type: "string", jsonPath: ".spec.name" }
    ]
  },
  {
    kind: "User",
    plural: "users",
    singular: "user",
    shortNames: ["uddb"],
    description: "User is a SQL user managed in a DoltDB.",
    schema: User,
    spec: UserSpec,
    status: UserStatus,
    decode: decodeUser,
    encode: makeUnknownEncoder("User", User),
    printerColumns: [...ready, doltDB, age]
  },
  {
    kind: "Grant",
    plural: "grants",
    singular: "grant",
    shortNames: ["gddb"],
    description: "Grant is a set of SQL privileges granted to a user in a DoltDB.",
    schema: Grant,
    spec: GrantSpec,
    status: GrantStatus,
    decode: decodeGrant,
    encode: makeUnknownEncoder("Grant", Grant),
    printerColumns: [
      ...ready,
      { name: "Database", type: "string", jsonPath: ".spec.database" },
      { name: "Table", type: "string", jsonPath: ".spec.table" },
      { name: "Username", type: "string", jsonPath: ".spec.username" },
      { name: "GrantOpt", type: "string", jsonPath: ".spec.grantOption" },
      doltDB,
      age
    ]
  },
  {
    kind: "Snapshot",
    plural: "snapshots",
    singular: "snapshot",
    shortNames: ["sddb"],
    description: "Snapshot takes scheduled VolumeSnapshots of a DoltDB's volumes.",
    schema: Snapshot,
    spec: SnapshotSpec,
    status: SnapshotStatus,
    decode: decodeSnapshot,
    encode: makeUnknownEncoder("Snapshot", Snapshot),
    printerColumns: [...ready, doltDB]
  },
  {
    kind: "Backup",
    plural: "backups",
    singular: "backup",
    shortNames: ["bddb"],
    description: "Backup is one backup of a DoltDB's databases.",
    schema: Backup,
    spec: BackupSpec,
    status: BackupStatus,
    decode: decodeBackup,
    encode: makeUnknownEncoder("Backup", Backup),
    printerColumns: [{ name: "Phase", type: "string", jsonPath: ".status.phase" }, doltDB, age]
  },
  {
    kind: "BackupSchedule",
    plural: "backupschedules",
    singular: "backupschedule",
    shortNames: ["bsddb"],
    description: "BackupSchedule creates Backups of a DoltDB on a cron schedule.",
    schema: BackupSchedule,
    spec: BackupScheduleSpec,
    status: BackupScheduleStatus,
    decode: decodeBackupSchedule,
    encode: makeUnknownEncoder("BackupSchedule", BackupSchedule),
    printerColumns: [
      { name: "Schedule", type: "string", jsonPath: ".spec.schedule" },
      { name: "Suspend", type: "boolean", jsonPath: ".spec.suspend" },
      doltDB,
      { name: "Last Schedule", type: "date", jsonPath: ".status.lastScheduleTime" },
      age
    ]
  }
]

/** The kind info for `kind`, e.g. `kindInfo("DoltDB").plural === "doltdbs"`. */
export const kindInfo = (kind: string): KindInfo | undefined => kinds.find((k) => k.kind === kind)
