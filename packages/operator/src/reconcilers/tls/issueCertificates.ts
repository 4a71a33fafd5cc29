/**
 * Runs an `IssueCertificates` action: a new CA when asked (else the one in `<name>-tls-ca`), then a server
 * certificate, written by server-side apply to `<name>-tls` (`kubernetes.io/tls`: `tls.crt`, `tls.key`, `ca.crt`).
 * Both Secrets are owned by the DoltDB. The CA's key is only ever in `<name>-tls-ca`, which no pod mounts.
 *
 * `ca.crt` holds the current CA and, after a CA renewal, the previous one while it is still valid, so a peer
 * that has not restarted yet and a client that still holds the old bundle keep verifying during the rollout.
 */
import { X509Certificate } from "node:crypto"
import { Builders, DoltDBPlanner } from "@doltdb-op/core"
import type { Action, ObjectRef } from "@doltdb-op/core/plan/Action"
import { Kube, type KubeObject, Secrets } from "@doltdb-op/core/services/Kube"
import { Clock, Data, Effect } from "effect"
import { secretValue } from "../Credentials.ts"
import { issueCa, issueServer, type KeyPair, splitPem } from "./Certificates.ts"

export class IssueFailed extends Data.TaggedError("IssueFailed")<{ readonly message: string }> {}

type Issue = Extract<Action, { readonly _tag: "IssueCertificates" }>

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64")

const secret = (owner: ObjectRef, name: string, type: string, data: Readonly<Record<string, string>>): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name,
    namespace: owner.namespace,
    labels: { [Builders.NameLabel]: owner.name, "app.kubernetes.io/managed-by": "doltdb-operator" },
    ownerReferences: [
      {
        apiVersion: owner.apiVersion,
        kind: owner.kind,
        name: owner.name,
        uid: owner.uid ?? "",
        controller: true,
        blockOwnerDeletion: false
      }
    ]
  },
  type,
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]))
})

/** The previous CA certificates worth keeping in the bundle: still valid, and not the new one. */
const stillValid = (bundle: string | undefined, now: number, except: string): ReadonlyArray<string> =>
  splitPem(bundle ?? "").filter((pem) => {
    try {
      return pem !== except.trim() && Date.parse(new X509Certificate(pem).validTo) > now
    } catch {
      return false
    }
  })

export const issueCertificates = Effect.fn("Tls.issueCertificates")(function* (action: Issue, fieldManager: string) {
  const kube = yield* Kube
  const now = yield* Clock.currentTimeMillis
  const { doltdb } = action
  const caName = Builders.tlsCaSecretName(doltdb.name)
  const read = (name: string) =>
    kube.get(Secrets, name, { namespace: doltdb.namespace }).pipe(
      Effect.map((s): KubeObject | undefined => s),
      Effect.catchTag("NotFound", () => Effect.succeed(undefined)),
      Effect.mapError((e) => new IssueFailed({ message: `Secret ${doltdb.namespace}/${name}: ${e.message}` }))
    )
  const caSecret = yield* read(caName)
  const promise = <A>(what: string, f: () => Promise<A>) =>
    Effect.tryPromise({
      try: f,
      catch: (e) => new IssueFailed({ message: `${what}: ${e instanceof Error ? e.message : String(e)}` })
    })

  let ca: KeyPair
  let previous: string | undefined
  if (action.issueCa) {
    ca = yield* promise("issuing the CA", () =>
      issueCa(`${doltdb.name}.${doltdb.namespace} DoltDB CA`, now, DoltDBPlanner.CaValidityMillis)
    )
    previous = caSecret === undefined ? undefined : secretValue(caSecret, Builders.TlsCertKey)
    yield* kube
      .apply(
        Secrets,
        secret(doltdb, caName, "Opaque", { [Builders.TlsCertKey]: ca.certPem, [Builders.TlsKeyKey]: ca.keyPem }),
        { fieldManager, force: true }
      )
      .pipe(Effect.mapError((e) => new IssueFailed({ message: `Secret ${doltdb.namespace}/${caName}: ${e.message}` })))
  } else {
    const certPem = caSecret === undefined ? undefined : secretValue(caSecret, Builders.TlsCertKey)
    const keyPem = caSecret === undefined ? undefined : secretValue(caSecret, Builders.TlsKeyKey)
    if (certPem === undefined || keyPem === undefined)
      return yield* new IssueFailed({ message: `Secret ${doltdb.namespace}/${caName} holds no CA` })
    ca = { certPem, keyPem }
  }

  const server = yield* promise("issuing the server certificate", () =>
    issueServer(ca, action.dnsNames, now, action.durationMillis)
  )
  const bundle = [ca.certPem.trim(), ...stillValid(previous, now, ca.certPem)].join("\n")
  const name = Builders.tlsSecretName(doltdb.name)
  yield* kube
    .apply(
      Secrets,
      secret(doltdb, name, "kubernetes.io/tls", {
        [Builders.TlsCertKey]: server.certPem,
        [Builders.TlsKeyKey]: server.keyPem,
        [Builders.TlsCaKey]: `${bundle}\n`
      }),
      { fieldManager, force: true }
    )
    .pipe(Effect.mapError((e) => new IssueFailed({ message: `Secret ${doltdb.namespace}/${name}: ${e.message}` })))
})
