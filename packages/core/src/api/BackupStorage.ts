/**
 * Backup destinations and fields shared by Backup and BackupSchedule. Every database goes to its own URL,
 * `<base>/<database>` (the reference used one URL for all of them, which cannot work: with `aws://` the path is
 * also the DynamoDB manifest key).
 */
import { Schema } from "effect"
import { type Invariant, withInvariants } from "./Cel.ts"
import { SecretKeySelector, withDefault } from "./Common.ts"
import { LocalObjectReference, ResourceRequirements } from "./k8s/Models.generated.ts"
import { Duration, Int32 } from "./k8s/Primitives.ts"

export const S3BackupStorage = Schema.Struct({
  bucket: Schema.String.check(Schema.isMaxLength(63), Schema.isPattern(/^[a-z0-9][a-z0-9.-]+[a-z0-9]$/u)).annotate({
    description: "Bucket is the S3 bucket name."
  }),
  region: Schema.optionalKey(
    Schema.String.annotate({ description: "Region is the AWS region of the bucket (AWS_REGION)." })
  ),
  endpoint: Schema.optionalKey(
    Schema.String.check(Schema.isMaxLength(512)).annotate({
      description:
        "Endpoint is a custom endpoint (http(s)://host:port) for S3-compatible services, used for S3 and DynamoDB. Dolt 1.86 addresses buckets path-style only when the host is an IP address."
    })
  ),
  prefix: Schema.optionalKey(
    Schema.String.check(Schema.isMaxLength(512)).annotate({
      description: "Prefix is the path prefix within the bucket; each database goes to <prefix>/<database>."
    })
  ),
  dynamoDBTable: Schema.optionalKey(
    Schema.String.check(Schema.isMaxLength(255)).annotate({
      description:
        "DynamoDBTable is the DynamoDB table Dolt uses as a manifest store. Defaults to the bucket name (Dolt convention)."
    })
  ),
  forcePathStyle: Schema.optionalKey(
    Schema.Boolean.annotate({
      description:
        "ForcePathStyle is accepted for compatibility and has no effect: Dolt chooses path-style addressing itself (for IP-address endpoints)."
    })
  ),
  accessKeyIdSecretKeyRef: Schema.optionalKey(
    SecretKeySelector.annotate({
      description: "AccessKeyIdSecretKeyRef is a reference to a secret containing the AWS access key ID."
    })
  ),
  secretAccessKeySecretKeyRef: Schema.optionalKey(
    SecretKeySelector.annotate({
      description: "SecretAccessKeySecretKeyRef is a reference to a secret containing the AWS secret access key."
    })
  )
}).annotate({ description: "S3BackupStorage configures an S3-compatible storage backend." })

export const GcsBackupStorage = Schema.Struct({
  bucket: Schema.String.check(Schema.isMaxLength(222), Schema.isPattern(/^[a-z0-9][a-z0-9._-]+[a-z0-9]$/u)).annotate({
    description: "Bucket is the Google Cloud Storage bucket name."
  }),
  prefix: Schema.optionalKey(
    Schema.String.check(Schema.isMaxLength(512), Schema.isPattern(/^[a-zA-Z0-9_./-]*$/u)).annotate({
      description: "Prefix is the path prefix within the bucket; each database goes to <prefix>/<database>."
    })
  ),
  credentialsSecretKeyRef: Schema.optionalKey(
    SecretKeySelector.annotate({
      description:
        "CredentialsSecretKeyRef is a reference to a secret key holding a service account JSON key. Without it Dolt uses the pod's Application Default Credentials (e.g. Workload Identity)."
    })
  )
}).annotate({ description: "GcsBackupStorage configures a Google Cloud Storage backend (gs:// URLs)." })

export const DoltHubBackupStorage = Schema.Struct({
  remoteUrl: Schema.String.check(Schema.isMaxLength(512)).annotate({
    description:
      "RemoteURL is the remote API URL of the owner (e.g. https://doltremoteapi.dolthub.com/<org>); each database goes to <remoteUrl>/<database>."
  }),
  credentialsSecretKeyRef: Schema.optionalKey(
    SecretKeySelector.annotate({
      description: "CredentialsSecretKeyRef is a reference to a secret containing DoltHub credentials."
    })
  )
}).annotate({ description: "DoltHubBackupStorage configures a DoltHub remote storage backend." })

/** Where local backups may go: the data volume (a path in the container filesystem is lost on restart). */
export const LocalBackupRoot = "/db/"

export const LocalBackupStorage = Schema.Struct({
  path: Schema.String.check(Schema.isMaxLength(255), Schema.isPattern(/^\/[a-zA-Z0-9_./-]+$/u)).annotate({
    description:
      "Path is a directory on the data volume (under /db/) of the pod that runs the backup; each database goes to <path>/<database>. It survives restarts, not the loss of that volume."
  })
})
  .annotate({
    description: "LocalBackupStorage configures a backend on the data volume of the pod running the backup."
  })
  .pipe(
    withInvariants<{ readonly path: string }>([
      {
        cel: {
          rule: "self.path.startsWith('/db/') && !self.path.contains('..')",
          message: "local backups must be on the data volume: path must start with /db/ and contain no '..'",
          fieldPath: ".path"
        },
        holds: (l) => l.path.startsWith(LocalBackupRoot) && !l.path.includes("..")
      }
    ])
  )

const oneBackend = "exactly one of s3, gcs, doltHub or local"

export const BackupStorage = Schema.Struct({
  s3: Schema.optionalKey(S3BackupStorage),
  gcs: Schema.optionalKey(GcsBackupStorage),
  doltHub: Schema.optionalKey(DoltHubBackupStorage),
  local: Schema.optionalKey(LocalBackupStorage)
})
  .check(Schema.isMinProperties(1, { expected: oneBackend }), Schema.isMaxProperties(1, { expected: oneBackend }))
  .annotate({ description: "BackupStorage defines the storage backend for backups. Exactly one must be specified." })
  .pipe(
    withInvariants<{
      readonly s3?: unknown
      readonly gcs?: unknown
      readonly doltHub?: unknown
      readonly local?: unknown
    }>([
      {
        cel: {
          rule: "[has(self.s3), has(self.gcs), has(self.doltHub), has(self.local)].filter(x, x).size() == 1",
          message: oneBackend
        },
        holds: (s) => [s.s3, s.gcs, s.doltHub, s.local].filter((x) => x !== undefined).length === 1
      }
    ])
  )
export type BackupStorage = typeof BackupStorage.Type

export const BackupTarget = Schema.Literals(["PreferStandby", "Primary"])
export type BackupTarget = typeof BackupTarget.Type

/** Fields Backup and BackupSchedule share. */
export const backupFields = {
  storage: BackupStorage,
  databases: Schema.optionalKey(
    Schema.Array(Schema.String.check(Schema.isMaxLength(80)))
      .check(Schema.isMaxLength(100))
      .annotate({
        description: "Databases is the list of databases to back up. If empty, all databases are backed up."
      })
  ),
  backoffLimit: Int32.check(Schema.isGreaterThanOrEqualTo(1))
    .annotate({
      description:
        "BackoffLimit specifies the number of attempts before marking the backup as failed. A pod lost mid-sync does not use an attempt: the backup moves to another pod."
    })
    .pipe(withDefault(2)),
  target: BackupTarget.annotate({
    description:
      "Target is where the backup runs: PreferStandby (a caught-up standby, else the primary, so the primary is not loaded) or Primary."
  }).pipe(withDefault("PreferStandby")),
  syncTimeout: Duration.annotate({
    description:
      "SyncTimeout bounds the sync of one database (a Go duration); a sync that takes longer is an attempt that failed."
  }).pipe(withDefault("1h")),
  resources: Schema.optionalKey(
    ResourceRequirements.annotate({
      description:
        "Resources is accepted for compatibility and unused: backups run inside the Dolt servers, no Job is created."
    })
  ),
  imagePullSecrets: Schema.optionalKey(
    Schema.Array(LocalObjectReference).annotate({
      description: "ImagePullSecrets is accepted for compatibility and unused: no Job is created."
    })
  )
}

const namePattern = /^[a-zA-Z0-9_]+$/u

/** The reference's two `databases` rules, shared by Backup and BackupSchedule. */
export const databasesInvariants: ReadonlyArray<Invariant<{ readonly databases?: ReadonlyArray<string> }>> = [
  {
    cel: {
      rule: "!has(self.databases) || self.databases.all(d, d.matches('^[a-zA-Z0-9_]+$'))",
      message: "bad name",
      fieldPath: ".databases"
    },
    holds: (spec) => (spec.databases ?? []).every((d) => namePattern.test(d))
  },
  {
    cel: {
      rule: "!has(self.databases) || self.databases.all(d, size(d) <= 80)",
      message: "name too long",
      fieldPath: ".databases"
    },
    holds: (spec) => (spec.databases ?? []).every((d) => d.length <= 80)
  }
]
