/** Backup destinations and fields shared by Backup and BackupSchedule. */
import { Schema } from "effect"
import type { Invariant } from "./Cel.ts"
import { SecretKeySelector, withDefault } from "./Common.ts"
import { LocalObjectReference, ResourceRequirements } from "./k8s/Models.generated.ts"
import { Int32 } from "./k8s/Primitives.ts"

export const S3BackupStorage = Schema.Struct({
  bucket: Schema.String.check(Schema.isMaxLength(63), Schema.isPattern(/^[a-z0-9][a-z0-9.-]+[a-z0-9]$/u)).annotate({
    description: "Bucket is the S3 bucket name."
  }),
  region: Schema.optionalKey(
    Schema.String.annotate({ description: "Region is the AWS region of the bucket (AWS_REGION)." })
  ),
  endpoint: Schema.optionalKey(
    Schema.String.annotate({ description: "Endpoint is a custom endpoint for S3-compatible services (e.g. MinIO)." })
  ),
  prefix: Schema.optionalKey(
    Schema.String.check(Schema.isMaxLength(512)).annotate({
      description: "Prefix is the path prefix within the bucket."
    })
  ),
  dynamoDBTable: Schema.optionalKey(
    Schema.String.check(Schema.isMaxLength(255)).annotate({
      description:
        "DynamoDBTable is the DynamoDB table Dolt uses as a manifest store. Defaults to the bucket name (Dolt convention)."
    })
  ),
  forcePathStyle: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "ForcePathStyle enables path-style addressing for S3-compatible services." })
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

export const DoltHubBackupStorage = Schema.Struct({
  remoteUrl: Schema.String.check(Schema.isMaxLength(512)).annotate({
    description: "RemoteURL is the DoltHub remote API URL."
  }),
  credentialsSecretKeyRef: Schema.optionalKey(
    SecretKeySelector.annotate({
      description: "CredentialsSecretKeyRef is a reference to a secret containing DoltHub credentials."
    })
  )
}).annotate({ description: "DoltHubBackupStorage configures a DoltHub remote storage backend." })

export const LocalBackupStorage = Schema.Struct({
  path: Schema.String.check(Schema.isMaxLength(255), Schema.isPattern(/^\/[a-zA-Z0-9_./-]+$/u)).annotate({
    description: "Path is the filesystem path for the backup."
  })
}).annotate({ description: "LocalBackupStorage configures a local filesystem storage backend." })

export const BackupStorage = Schema.Struct({
  s3: Schema.optionalKey(S3BackupStorage),
  doltHub: Schema.optionalKey(DoltHubBackupStorage),
  local: Schema.optionalKey(LocalBackupStorage)
})
  .check(
    Schema.isMinProperties(1, { expected: "exactly one of s3, doltHub or local" }),
    Schema.isMaxProperties(1, { expected: "exactly one of s3, doltHub or local" })
  )
  .annotate({ description: "BackupStorage defines the storage backend for backups. Exactly one must be specified." })
export type BackupStorage = typeof BackupStorage.Type

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
  backoffLimit: Int32.annotate({
    description: "BackoffLimit specifies the number of attempts before marking the backup as failed."
  }).pipe(withDefault(2)),
  resources: Schema.optionalKey(
    ResourceRequirements.annotate({ description: "Resources defines the compute resources for the backup job." })
  ),
  imagePullSecrets: Schema.optionalKey(
    Schema.Array(LocalObjectReference).annotate({
      description: "ImagePullSecrets specifies the secrets to use for pulling container images."
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
