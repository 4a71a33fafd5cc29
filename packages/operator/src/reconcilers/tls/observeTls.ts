/**
 * The TLS part of a DoltDB's observation: what the certificate Secrets hold, as the planner sees it (dates,
 * names, fingerprints, whether the CA signed the certificate). Keys and PEM stay here.
 */
import { Builders, type DoltDBPlanner } from "@doltdb-op/core"
import { Kube, type KubeObject, Secrets } from "@doltdb-op/core/services/Kube"
import { Effect } from "effect"
import { secretValue } from "../Credentials.ts"
import { mountedHash, readCertificate } from "./Certificates.ts"

const readSecret = (namespace: string, name: string) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    return yield* kube.get(Secrets, name, { namespace }).pipe(
      Effect.map((s): KubeObject | undefined => s),
      Effect.catchTag("NotFound", () => Effect.succeed(undefined))
    )
  })

export const observeTls = Effect.fn("DoltDB.observeTls")(function* (
  doltdb: Builders.IdentifiedDoltDB,
  clusterDomain: string
) {
  if (!Builders.isTlsEnabled(doltdb)) return undefined
  const { name, namespace } = doltdb.metadata
  const managed = Builders.isTlsOperatorManaged(doltdb)
  const mounted = yield* readSecret(namespace, Builders.serverCertSecretName(doltdb))
  const caSecret = managed ? yield* readSecret(namespace, Builders.tlsCaSecretName(name)) : undefined
  const value = (secret: KubeObject | undefined, key: string) =>
    secret === undefined ? undefined : secretValue(secret, key)
  const caPem = value(caSecret, Builders.TlsCertKey)
  const ca = managed ? readCertificate(caPem, value(caSecret, Builders.TlsKeyKey)) : { _tag: "Missing" as const }
  const server = managed
    ? readCertificate(value(mounted, Builders.TlsCertKey), value(mounted, Builders.TlsKeyKey), caPem ?? "")
    : { _tag: "Missing" as const }
  const cert = value(mounted, Builders.TlsCertKey)
  const bundle = value(mounted, Builders.TlsCaKey)
  const key = value(mounted, Builders.TlsKeyKey)
  return {
    clusterDomain,
    ca,
    server,
    // Only a complete Secret is worth mounting: without one of its keys Dolt would not start.
    mountedHash:
      cert === undefined || bundle === undefined || key === undefined || cert === "" || bundle === ""
        ? undefined
        : mountedHash(cert, bundle)
  } satisfies DoltDBPlanner.TlsObserved
})
