/**
 * The admin credentials of a DoltDB: the user-provided `<name>-credentials` Secret (keys `admin-user`,
 * `admin-password`), as in the reference. Read on every reconcile, so a rotated Secret is picked up.
 *
 * With `spec.tls.enabled` they also carry how to trust the servers: the CA (`ca.crt` of the Secret the pods mount)
 * and the name every server certificate of this DoltDB carries; the live Dolt layer then connects with TLS and
 * refuses a server it cannot verify (it never falls back to plaintext).
 */
import { type Api, Builders } from "@doltdb-op/core"
import type { DoltTarget, DoltTls } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Secrets } from "@doltdb-op/core/services/Kube"
import { Data, Effect, Redacted } from "effect"
import { DoltDBs } from "./Resources.ts"

export class CredentialsUnavailable extends Data.TaggedError("CredentialsUnavailable")<{ readonly message: string }> {}

export interface Credentials {
  readonly user: string
  readonly password: Redacted.Redacted<string>
  /** Set when the DoltDB has TLS on. */
  readonly tls?: DoltTls | undefined
}

/** The value of `key` in a Secret (`data` is base64, `stringData` only appears on objects not yet stored). */
export const secretValue = (secret: KubeObject, key: string): string | undefined => {
  const data = secret.data as Readonly<Record<string, string>> | undefined
  const encoded = data?.[key]
  if (encoded !== undefined) return Buffer.from(encoded, "base64").toString("utf8")
  return (secret.stringData as Readonly<Record<string, string>> | undefined)?.[key]
}

type DoltDBRef = Pick<Api.DoltDB, "metadata" | "spec">

/** How to verify the DoltDB's servers, when it has TLS on: the CA and the name its certificates carry. */
export const readServerTrust = Effect.fn("Credentials.readServerTrust")(function* (
  namespace: string,
  doltdb: DoltDBRef
) {
  if (!Builders.isTlsEnabled(doltdb as Api.DoltDB)) return undefined
  const kube = yield* Kube
  const name = doltdb.metadata.name ?? ""
  const secretName = Builders.serverCertSecretName({ ...(doltdb as Api.DoltDB), metadata: { name } })
  const secret = yield* kube.get(Secrets, secretName, { namespace }).pipe(
    Effect.mapError(
      (e) =>
        new CredentialsUnavailable({
          message: `TLS Secret ${namespace}/${secretName}: ${e._tag === "NotFound" ? "not found" : e.message}`
        })
    )
  )
  const ca = secretValue(secret, Builders.TlsCaKey)
  if (ca === undefined || ca.trim() === "")
    return yield* new CredentialsUnavailable({
      message: `TLS Secret ${namespace}/${secretName} has no key ${Builders.TlsCaKey} (the CA the servers are verified against)`
    })
  return { ca, serverName: Builders.peerServerName(name, namespace) } satisfies DoltTls
})

/**
 * `doltdb` is the DoltDB's name (it is then read, for its TLS settings) or the DoltDB itself.
 */
export const readCredentials = Effect.fn("Credentials.read")(function* (
  namespace: string,
  doltdbOrName: string | DoltDBRef
) {
  const kube = yield* Kube
  const doltdb =
    typeof doltdbOrName === "string"
      ? yield* kube.get(DoltDBs, doltdbOrName, { namespace }).pipe(
          Effect.mapError(
            (e) =>
              new CredentialsUnavailable({
                message: `DoltDB ${namespace}/${doltdbOrName}: ${e._tag === "NotFound" ? "not found" : e.message}`
              })
          )
        )
      : doltdbOrName
  const name = Builders.credentialsSecretName(doltdb.metadata.name ?? "")
  const secret = yield* kube.get(Secrets, name, { namespace }).pipe(
    Effect.catchTag("NotFound", () =>
      Effect.fail(new CredentialsUnavailable({ message: `Secret ${namespace}/${name} not found` }))
    ),
    Effect.mapError((e) =>
      e._tag === "CredentialsUnavailable"
        ? e
        : new CredentialsUnavailable({ message: `Secret ${namespace}/${name}: ${e.message}` })
    )
  )
  const user = secretValue(secret, Builders.credentialsUserKey)
  const password = secretValue(secret, Builders.credentialsPasswordKey)
  if (user === undefined || user === "")
    return yield* new CredentialsUnavailable({
      message: `Secret ${namespace}/${name} has no key ${Builders.credentialsUserKey}`
    })
  if (password === undefined)
    return yield* new CredentialsUnavailable({
      message: `Secret ${namespace}/${name} has no key ${Builders.credentialsPasswordKey}`
    })
  const tls = yield* readServerTrust(namespace, doltdb)
  return { user, password: Redacted.make(password), ...(tls === undefined ? {} : { tls }) } satisfies Credentials
})

export const doltTarget = (host: string, port: number, credentials: Credentials): DoltTarget => ({
  host,
  port,
  user: credentials.user,
  password: credentials.password,
  ...(credentials.tls === undefined ? {} : { tls: credentials.tls })
})
