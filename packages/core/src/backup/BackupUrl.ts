/**
 * Backup URLs, one per database (`<base>/<database>`), as dolt 1.86.4 reads them:
 * - s3: `aws://[<table>:<bucket>]/<prefix>/<db>`: the path is mandatory (it is the DynamoDB manifest key and the
 *   S3 key prefix), the table defaults to the bucket name as the reference did;
 * - gcs: `gs://<bucket>/<prefix>/<db>`;
 * - doltHub: `<remoteUrl>/<db>` (one repository per database);
 * - local: `file://<path>/<db>` on the data volume of the pod that runs the sync.
 */
import type { BackupStorage } from "../api/BackupStorage.ts"
import { sha256Hex } from "../builders/Sha256.ts"

const trimSlashes = (s: string): string => s.replace(/^\/+|\/+$/gu, "")

const join = (...parts: ReadonlyArray<string | undefined>): string =>
  parts
    .map((p) => trimSlashes(p ?? ""))
    .filter((p) => p !== "")
    .join("/")

export type BackendKind = "s3" | "gcs" | "doltHub" | "local"

export const backendOf = (storage: BackupStorage): BackendKind =>
  storage.s3 !== undefined
    ? "s3"
    : storage.gcs !== undefined
      ? "gcs"
      : storage.doltHub !== undefined
        ? "doltHub"
        : "local"

/** The URL database `database` is backed up to. */
export const backupUrl = (storage: BackupStorage, database: string): string => {
  if (storage.s3 !== undefined) {
    const { bucket, dynamoDBTable, prefix } = storage.s3
    return `aws://[${dynamoDBTable ?? bucket}:${bucket}]/${join(prefix, database)}`
  }
  if (storage.gcs !== undefined) return `gs://${storage.gcs.bucket}/${join(storage.gcs.prefix, database)}`
  if (storage.doltHub !== undefined) return `${storage.doltHub.remoteUrl.replace(/\/+$/u, "")}/${database}`
  return `file:///${join(storage.local?.path, database)}`
}

/**
 * The `dolt_backup` name the operator registers for a URL: stable, so a leftover of a crashed sync is replaced by
 * the next one and found again by the cleanup.
 */
export const remoteName = (url: string): string => `doltdb_op_${sha256Hex(url).slice(0, 16)}`
