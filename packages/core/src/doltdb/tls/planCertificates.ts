/**
 * When the operator issues a DoltDB's TLS certificates (`spec.tls` without `serverCertSecretRef`): a named
 * situation, decided from what the Secrets hold, plus the action that resolves it.
 *
 * - The CA (`<name>-tls-ca`, 10 years) is kept as long as it is valid for more than `CaRenewBeforeMillis`, so
 *   clients that trust it keep working across server-certificate renewals. A renewed CA is published in
 *   `ca.crt` next to the previous one while that one is still valid (the executor keeps both).
 * - The server certificate (`<name>-tls`) is re-issued when it is missing or unreadable, not signed by the current
 *   CA, missing one of the names it must carry, or within `renewBefore` of its expiry. The pods pick it up through
 *   the pod template's TLS hash (a restart, replication-aware), since Dolt reads certificates at startup only.
 */
import type { DoltDB } from "../../api/DoltDB.ts"
import { parseGoDuration } from "../../api/GoDuration.ts"
import { DefaultCertificateDuration } from "../../api/Tls.ts"
import { certificateDnsNames, isTlsOperatorManaged } from "../../builders/TlsBuilder.ts"
import { type Action, event, type ObjectRef, type Plan, requeueAfter, withRequeue } from "../../plan/Action.ts"

/** What the observe step read from one certificate (never the key, never the PEM). */
export interface CertificateView {
  readonly notBefore: number
  readonly notAfter: number
  readonly dnsNames: ReadonlyArray<string>
  /** sha256 of the DER, hex. */
  readonly fingerprint: string
}

export type CertificateRead =
  | { readonly _tag: "Missing" }
  /** Present but not a usable certificate + key (bad PEM, key not matching, wrong key usage). */
  | { readonly _tag: "Invalid"; readonly reason: string }
  | ({ readonly _tag: "Valid" } & CertificateView)

export interface TlsObserved {
  /** The operator's `--cluster-domain` (names in the certificates). */
  readonly clusterDomain: string
  /** `<name>-tls-ca` (operator-managed mode only). */
  readonly ca: CertificateRead
  /** `<name>-tls` (operator-managed mode only); `signedByCa`: it verifies against the current CA. */
  readonly server: CertificateRead & { readonly signedByCa?: boolean }
  /**
   * sha256 over `tls.crt` + `ca.crt` of the Secret the pods mount (either mode), or `undefined` when it cannot be
   * read; its change restarts the pods.
   */
  readonly mountedHash: string | undefined
}

export const CaValidityMillis = 10 * 365 * 24 * 3_600_000
/** A CA is replaced one year before it expires. */
export const CaRenewBeforeMillis = 365 * 24 * 3_600_000

export type CertificateSituation =
  | { readonly _tag: "NotManaged" }
  | { readonly _tag: "Current"; readonly renewAt: number }
  | { readonly _tag: "IssueCa"; readonly reason: string }
  | { readonly _tag: "IssueServer"; readonly reason: string }

export interface IssuePlan {
  readonly issueCa: boolean
  readonly dnsNames: ReadonlyArray<string>
  readonly durationMillis: number
  readonly reason: string
}

export const certificateDuration = (doltdb: DoltDB): number =>
  parseGoDuration(doltdb.spec.tls?.certificateDuration ?? DefaultCertificateDuration) ??
  (parseGoDuration(DefaultCertificateDuration) as number)

export const renewBefore = (doltdb: DoltDB): number => {
  const duration = certificateDuration(doltdb)
  const configured = doltdb.spec.tls?.renewBefore
  const parsed = configured === undefined ? undefined : parseGoDuration(configured)
  return parsed !== undefined && parsed > 0 && parsed < duration ? parsed : Math.floor(duration / 3)
}

const describeTime = (millis: number): string => new Date(millis).toISOString()

/** The situation of an operator-managed DoltDB's certificates at `now`. */
export const certificateSituation = (
  doltdb: DoltDB & { readonly metadata: { readonly name: string; readonly namespace: string } },
  tls: TlsObserved,
  now: number
): CertificateSituation => {
  if (!isTlsOperatorManaged(doltdb)) return { _tag: "NotManaged" }
  const { ca, server } = tls
  if (ca._tag === "Missing") return { _tag: "IssueCa", reason: "the CA does not exist yet" }
  if (ca._tag === "Invalid") return { _tag: "IssueCa", reason: `the CA is not usable (${ca.reason})` }
  if (now >= ca.notAfter - CaRenewBeforeMillis)
    return { _tag: "IssueCa", reason: `the CA expires at ${describeTime(ca.notAfter)}` }
  if (server._tag === "Missing") return { _tag: "IssueServer", reason: "the server certificate does not exist yet" }
  if (server._tag === "Invalid")
    return { _tag: "IssueServer", reason: `the server certificate is not usable (${server.reason})` }
  if (server.signedByCa !== true)
    return { _tag: "IssueServer", reason: "the server certificate is not signed by the CA" }
  const wanted = certificateDnsNames(doltdb.metadata.name, doltdb.metadata.namespace, tls.clusterDomain)
  const missing = wanted.filter((n) => !server.dnsNames.includes(n))
  if (missing.length > 0)
    return { _tag: "IssueServer", reason: `the server certificate lacks ${missing.slice(0, 3).join(", ")}` }
  const renewAt = server.notAfter - renewBefore(doltdb)
  if (now >= renewAt || now < server.notBefore)
    return {
      _tag: "IssueServer",
      reason:
        now < server.notBefore
          ? `the server certificate is not valid before ${describeTime(server.notBefore)}`
          : `the server certificate expires at ${describeTime(server.notAfter)}`
    }
  return { _tag: "Current", renewAt }
}

/** What to issue for a situation (`undefined`: nothing). A new CA always comes with a new server certificate. */
export const issuePlan = (
  doltdb: DoltDB & { readonly metadata: { readonly name: string; readonly namespace: string } },
  tls: TlsObserved,
  situation: CertificateSituation
): IssuePlan | undefined =>
  situation._tag === "IssueCa" || situation._tag === "IssueServer"
    ? {
        issueCa: situation._tag === "IssueCa",
        dnsNames: certificateDnsNames(doltdb.metadata.name, doltdb.metadata.namespace, tls.clusterDomain),
        durationMillis: certificateDuration(doltdb),
        reason: situation.reason
      }
    : undefined

export interface TlsSteps extends Plan {
  /** The pod template's TLS hash (`undefined` when TLS is off or the mounted Secret cannot be read). */
  readonly tlsHash: string | undefined
  /** True while TLS is on but the Secret the pods mount is not readable yet: the StatefulSet is not applied. */
  readonly holdStatefulSet: boolean
  /**
   * When to look again: until the operator-managed certificate is due, or `UserSecretPollMillis` for a Secret the
   * user manages (cert-manager renews it with no event the DoltDB controller watches).
   */
  readonly renewInMillis: number | undefined
}

export const UserSecretPollMillis = 5 * 60_000

/** The TLS part of a DoltDB plan: issue what is due, and what the pod template carries. */
export const planTls = (
  doltdb: DoltDB & {
    readonly apiVersion: string
    readonly kind: string
    readonly metadata: { readonly name: string; readonly namespace: string; readonly uid: string }
  },
  tls: TlsObserved | undefined,
  now: number
): TlsSteps => {
  if (doltdb.spec.tls?.enabled !== true || tls === undefined)
    return { actions: [], tlsHash: undefined, holdStatefulSet: false, renewInMillis: undefined }
  const situation = certificateSituation(doltdb, tls, now)
  const issue = issuePlan(doltdb, tls, situation)
  const ref: ObjectRef = {
    apiVersion: doltdb.apiVersion,
    kind: doltdb.kind,
    namespace: doltdb.metadata.namespace,
    name: doltdb.metadata.name,
    uid: doltdb.metadata.uid
  }
  const actions: ReadonlyArray<Action> =
    issue === undefined
      ? []
      : [
          { _tag: "IssueCertificates", doltdb: ref, ...issue },
          event(
            ref,
            "Normal",
            issue.issueCa ? "CertificateAuthorityIssued" : "CertificateIssued",
            `Issued ${issue.issueCa ? "a new CA and " : ""}server certificate: ${issue.reason}`
          )
        ]
  return {
    actions,
    // Issued: look again at once, to mount the new Secret.
    ...withRequeue(issue === undefined ? undefined : requeueAfter(0, "certificates issued")),
    tlsHash: issue === undefined ? tls.mountedHash : undefined,
    holdStatefulSet: issue !== undefined || tls.mountedHash === undefined,
    renewInMillis:
      situation._tag === "Current"
        ? Math.max(0, situation.renewAt - now)
        : situation._tag === "NotManaged"
          ? UserSecretPollMillis
          : undefined
  }
}
