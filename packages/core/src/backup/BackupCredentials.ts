/**
 * Credentials for the object stores reach the Dolt servers through one operator-managed Secret per DoltDB
 * (`<name>-backup-credentials`), mounted once in every Dolt container (optional, so a DoltDB without backups needs
 * none) and named by the SDKs' own environment variables. The operator rewrites its content for the Backup about
 * to run: no pod restarts and no edit of the DoltDB spec (the reference patched `spec.env`, rolling every pod).
 * Dolt builds a fresh SDK configuration for each backup call, so a new content is used by the next sync once the
 * kubelet has refreshed the volume; the planner waits `propagationMillis` after a change for that.
 *
 * Keys: `aws-credentials` and `aws-config` (AWS shared files: keys; region and endpoint for S3 and DynamoDB),
 * `application_default_credentials.json` (a GCS service-account key, found through `CLOUDSDK_CONFIG`) and
 * `dolthub-creds.jwk` (a DoltHub key as `dolt creds new` writes it). Dolt has no environment variable for DoltHub
 * keys: it signs remotesapi calls with the key named by `user.creds` in its global config, read from
 * `$DOLT_ROOT_PATH/.dolt/creds/<name>.jwk` on every call (env/environment.go `UserDoltCreds`); the init script
 * names a fixed key whose file is a symlink into this volume (see `doltHubCredsInit`). Nothing here ever reaches
 * a log, an event or a status: the plan carries only the fingerprint.
 */
import type { BackupStorage } from "../api/BackupStorage.ts"
import type { EnvVar } from "../api/k8s/Models.generated.ts"
import { sha256Hex } from "../builders/Sha256.ts"

export const backupCredentialsSecretName = (doltdb: string): string => `${doltdb}-backup-credentials`
export const BackupCredentialsVolumeName = "backup-credentials"
export const BackupCredentialsMountPath = "/etc/doltdb-backup"
export const AwsCredentialsKey = "aws-credentials"
export const AwsConfigKey = "aws-config"
export const GcsCredentialsKey = "application_default_credentials.json"
export const DoltHubCredentialsKey = "dolthub-creds.jwk"
/** The `user.creds` key name the Dolt servers use for DoltHub: `$DOLT_ROOT_PATH/.dolt/creds/<name>.jwk`. */
export const DoltHubCredsName = "doltdb-operator-backup"
/** Annotations on the Secret: what it holds (a hash) and when the operator last changed it. */
export const FingerprintAnnotation = "k8s.dolthub.com/backup-credentials-fingerprint"
export const UpdatedAtAnnotation = "k8s.dolthub.com/backup-credentials-updated-at"

/** The environment that points the AWS and Google SDKs of the Dolt server at the mounted files. */
export const backupCredentialsEnv: ReadonlyArray<EnvVar> = [
  { name: "AWS_SHARED_CREDENTIALS_FILE", value: `${BackupCredentialsMountPath}/${AwsCredentialsKey}` },
  { name: "AWS_CONFIG_FILE", value: `${BackupCredentialsMountPath}/${AwsConfigKey}` },
  // ADC's well-known file lives in the gcloud config directory; absent, ADC falls back to the metadata server
  // (Workload Identity), where GOOGLE_APPLICATION_CREDENTIALS pointing at a missing file would be an error.
  { name: "CLOUDSDK_CONFIG", value: BackupCredentialsMountPath }
]

/**
 * Init-script lines that point Dolt's DoltHub key at the mounted Secret. The global
 * config is read once at server start, so the name is set on every start whether or not a key is mounted yet; the
 * file behind it is read per call, so a key the operator writes later is used without a restart. A `user.creds`
 * of the user's own (another name) is left alone.
 */
export const doltHubCredsInit: ReadonlyArray<string> = [
  // `.dolt` exists: the `dolt config --global` lines before these created it.
  '[ -d "${DOLT_ROOT_PATH:?}/.dolt/creds" ] || mkdir "$DOLT_ROOT_PATH/.dolt/creds"',
  `ln -sfn "${BackupCredentialsMountPath}/${DoltHubCredentialsKey}" "$DOLT_ROOT_PATH/.dolt/creds/${DoltHubCredsName}.jwk"`,
  `case "$(dolt config --global --get user.creds 2>/dev/null)" in "" | ${DoltHubCredsName}) dolt config --global --add user.creds ${DoltHubCredsName} ;; esac`
]

/** Secret values the storage refers to, read by the operator at execution time. */
export interface CredentialValues {
  readonly accessKeyId?: string | undefined
  readonly secretAccessKey?: string | undefined
  readonly gcsKey?: string | undefined
  readonly doltHubKey?: string | undefined
}

/** A Secret reference the storage needs, with the namespace's Secret name resolved. */
export interface CredentialRef {
  readonly field: keyof CredentialValues
  readonly path: string
  readonly name: string
  readonly key: string
}

/** The Secret keys a storage refers to (a missing `name` is an error reported with the field path). */
export const credentialRefs = (storage: BackupStorage): ReadonlyArray<CredentialRef> => {
  const refs: Array<CredentialRef> = []
  const add = (
    field: keyof CredentialValues,
    path: string,
    ref: { readonly name?: string | undefined; readonly key: string } | undefined
  ) => {
    if (ref !== undefined) refs.push({ field, path, name: ref.name ?? "", key: ref.key })
  }
  add("accessKeyId", "spec.storage.s3.accessKeyIdSecretKeyRef", storage.s3?.accessKeyIdSecretKeyRef)
  add("secretAccessKey", "spec.storage.s3.secretAccessKeySecretKeyRef", storage.s3?.secretAccessKeySecretKeyRef)
  add("gcsKey", "spec.storage.gcs.credentialsSecretKeyRef", storage.gcs?.credentialsSecretKeyRef)
  add("doltHubKey", "spec.storage.doltHub.credentialsSecretKeyRef", storage.doltHub?.credentialsSecretKeyRef)
  return refs
}

const iniValue = (v: string): string => v.replace(/[\r\n]/gu, "")

/** The files of the credentials Secret for `storage` (empty for backends that need none). */
export const credentialFiles = (storage: BackupStorage, values: CredentialValues): Readonly<Record<string, string>> => {
  const files: Record<string, string> = {}
  if (storage.s3 !== undefined) {
    const config = ["[default]"]
    if (storage.s3.region !== undefined) config.push(`region = ${iniValue(storage.s3.region)}`)
    if (storage.s3.endpoint !== undefined) config.push(`endpoint_url = ${iniValue(storage.s3.endpoint)}`)
    files[AwsConfigKey] = `${config.join("\n")}\n`
    if (values.accessKeyId !== undefined && values.secretAccessKey !== undefined)
      files[AwsCredentialsKey] =
        `[default]\naws_access_key_id = ${iniValue(values.accessKeyId)}\naws_secret_access_key = ${iniValue(values.secretAccessKey)}\n`
  }
  if (storage.gcs !== undefined && values.gcsKey !== undefined) files[GcsCredentialsKey] = values.gcsKey
  if (storage.doltHub !== undefined && values.doltHubKey !== undefined) files[DoltHubCredentialsKey] = values.doltHubKey
  return files
}

/** Whether a backend reads the credentials Secret at all (local does not). */
export const usesCredentialFiles = (storage: BackupStorage): boolean =>
  storage.s3 !== undefined || storage.gcs !== undefined || storage.doltHub !== undefined

/** A hash of the files, kept in an annotation so plans can compare contents without carrying them. */
export const fingerprint = (files: Readonly<Record<string, string>>): string =>
  sha256Hex(
    JSON.stringify(
      Object.keys(files)
        .sort()
        .map((k) => [k, files[k]])
    )
  ).slice(0, 32)
