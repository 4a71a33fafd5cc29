/**
 * X.509 for `spec.tls`: issuing the operator-managed CA and server certificates, and reading certificates back.
 *
 * node:crypto parses and verifies certificates (`X509Certificate`) but cannot create one, so issuing uses
 * `@peculiar/x509` (TypeScript, maintained by PeculiarVentures, signs through the platform's WebCrypto: the keys
 * are generated and used by Node's own crypto, not by JavaScript big-number code as node-forge would). Keys are
 * ECDSA P-256 (Go's crypto/tls, which Dolt uses, and Node's TLS both accept them); private keys are PKCS#8 PEM.
 *
 * Its dependency injection (tsyringe) needs the `reflect-metadata` polyfill loaded first.
 *
 * Randomness: keys and serial numbers come from the platform's CSPRNG on purpose (never from a seed).
 */
import "reflect-metadata"
import { createHash, createPrivateKey, webcrypto, X509Certificate } from "node:crypto"
import type { DoltDBPlanner } from "@doltdb-op/core"
import * as x509 from "@peculiar/x509"

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const
/** Issued certificates start a little in the past, so a peer whose clock is behind accepts them. */
const BackdateMillis = 5 * 60_000

export interface KeyPair {
  readonly certPem: string
  readonly keyPem: string
}

const serialNumber = (): string => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex")

const keyPem = async (key: webcrypto.CryptoKey): Promise<string> => {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key))
  const lines = der.toString("base64").match(/.{1,64}/gu) ?? []
  return `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`
}

const generateKeys = () =>
  webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]) as Promise<webcrypto.CryptoKeyPair>

/** A self-signed CA, valid for `validityMillis` from `now`. */
export const issueCa = async (commonName: string, now: number, validityMillis: number): Promise<KeyPair> => {
  const keys = await generateKeys()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - BackdateMillis),
    notAfter: new Date(now + validityMillis),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
    ]
  })
  return { certPem: cert.toString("pem"), keyPem: await keyPem(keys.privateKey) }
}

const importKey = (pem: string): Promise<webcrypto.CryptoKey> =>
  webcrypto.subtle.importKey(
    "pkcs8",
    createPrivateKey(pem).export({ type: "pkcs8", format: "der" }),
    algorithm,
    false,
    ["sign"]
  ) as Promise<webcrypto.CryptoKey>

/**
 * A server certificate for `dnsNames` signed by `ca`: EKU serverAuth (Dolt's peers require it) and clientAuth,
 * the first name as its subject.
 */
export const issueServer = async (
  ca: KeyPair,
  dnsNames: ReadonlyArray<string>,
  now: number,
  validityMillis: number
): Promise<KeyPair> => {
  const caCert = new x509.X509Certificate(ca.certPem)
  const keys = await generateKeys()
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [dnsNames[0] ?? "doltdb"] }],
    issuer: caCert.subject,
    notBefore: new Date(now - BackdateMillis),
    notAfter: new Date(now + validityMillis),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: await importKey(ca.keyPem),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: "dns" as const, value }))),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
    ]
  })
  return { certPem: cert.toString("pem"), keyPem: await keyPem(keys.privateKey) }
}

/** The PEM certificates in a bundle, in order. */
export const splitPem = (bundle: string): ReadonlyArray<string> =>
  bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/gu) ?? []

const dnsNamesOf = (cert: X509Certificate): ReadonlyArray<string> =>
  (cert.subjectAltName ?? "")
    .split(", ")
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4))

/**
 * Reads a certificate and its key as the planner sees them; `caPem` (when given) must have signed it. Never
 * returns or logs the key.
 */
export const readCertificate = (
  certPem: string | undefined,
  keyPem: string | undefined,
  caPem?: string
): DoltDBPlanner.CertificateRead & { readonly signedByCa?: boolean } => {
  if (certPem === undefined || keyPem === undefined) return { _tag: "Missing" }
  try {
    const [first] = splitPem(certPem)
    if (first === undefined) return { _tag: "Invalid", reason: "no PEM certificate" }
    const cert = new X509Certificate(first)
    if (!cert.checkPrivateKey(createPrivateKey(keyPem)))
      return { _tag: "Invalid", reason: "the key does not match the certificate" }
    const signedByCa =
      caPem === undefined
        ? undefined
        : splitPem(caPem).some((pem) => {
            const ca = new X509Certificate(pem)
            return cert.checkIssued(ca) && cert.verify(ca.publicKey)
          })
    return {
      _tag: "Valid",
      notBefore: Date.parse(cert.validFrom),
      notAfter: Date.parse(cert.validTo),
      dnsNames: dnsNamesOf(cert),
      fingerprint: cert.fingerprint256.replaceAll(":", "").toLowerCase(),
      ...(signedByCa === undefined ? {} : { signedByCa })
    }
  } catch (e) {
    return { _tag: "Invalid", reason: e instanceof Error ? e.message : String(e) }
  }
}

/** The hash the pod template carries: changes whenever the certificate or the CA the pods load changes. */
export const mountedHash = (certPem: string, caPem: string): string =>
  createHash("sha256").update(certPem).update("\n--\n").update(caPem).digest("hex").slice(0, 16)
