/**
 * The admin credentials of a DoltDB: the user-provided `<name>-credentials` Secret (keys `admin-user`,
 * `admin-password`), as in the reference. Read on every reconcile, so a rotated Secret is picked up.
 */
import { Builders } from "@doltdb-op/core"
import type { DoltTarget } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Secrets } from "@doltdb-op/core/services/Kube"
import { Data, Effect, Redacted } from "effect"

export class CredentialsUnavailable extends Data.TaggedError("CredentialsUnavailable")<{ readonly message: string }> {}

export interface Credentials {
  readonly user: string
  readonly password: Redacted.Redacted<string>
}

/** The value of `key` in a Secret (`data` is base64, `stringData` only appears on objects not yet stored). */
export const secretValue = (secret: KubeObject, key: string): string | undefined => {
  const data = secret.data as Readonly<Record<string, string>> | undefined
  const encoded = data?.[key]
  if (encoded !== undefined) return Buffer.from(encoded, "base64").toString("utf8")
  return (secret.stringData as Readonly<Record<string, string>> | undefined)?.[key]
}

export const readCredentials = Effect.fn("Credentials.read")(function* (namespace: string, doltdb: string) {
  const kube = yield* Kube
  const name = Builders.credentialsSecretName(doltdb)
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
  return { user, password: Redacted.make(password) } satisfies Credentials
})

export const doltTarget = (host: string, port: number, credentials: Credentials): DoltTarget => ({
  host,
  port,
  user: credentials.user,
  password: credentials.password
})
