import { X509Certificate } from "node:crypto"
import { checkServerIdentity } from "node:tls"
import { describe, expect, it } from "vitest"
import { issueCa, issueServer, mountedHash, readCertificate } from "../../src/reconcilers/tls/Certificates.ts"

const now = Date.parse("2026-12-01T00:00:00Z")
const day = 24 * 3_600_000

describe("operator-issued certificates", () => {
  it("issues a CA and a server certificate that verify, carry the names and serverAuth", async () => {
    const ca = await issueCa("db.prod DoltDB CA", now, 3650 * day)
    const server = await issueServer(
      ca,
      ["db-internal.prod.svc", "*.db-internal.prod.svc.cluster.local", "localhost"],
      now,
      90 * day
    )
    const read = readCertificate(server.certPem, server.keyPem, ca.certPem)
    expect(read._tag).toBe("Valid")
    if (read._tag !== "Valid") return
    expect(read.signedByCa).toBe(true)
    expect(read.dnsNames).toEqual(["db-internal.prod.svc", "*.db-internal.prod.svc.cluster.local", "localhost"])
    expect(read.notAfter - now).toBe(90 * day)
    expect(now - read.notBefore).toBe(5 * 60_000)
    const cert = new X509Certificate(server.certPem)
    expect(cert.ca).toBe(false)
    expect(cert.keyUsage).toContain("1.3.6.1.5.5.7.3.1")
    expect(new X509Certificate(ca.certPem).ca).toBe(true)
    // The names Node's TLS clients (and the operator's identity check) accept.
    const legacy = cert.toLegacyObject()
    expect(checkServerIdentity("db-0.db-internal.prod.svc.cluster.local", legacy)).toBeUndefined()
    expect(checkServerIdentity("db-internal.prod.svc", legacy)).toBeUndefined()
    expect(checkServerIdentity("other-internal.prod.svc", legacy)).toBeInstanceOf(Error)
  })

  it("reads a certificate from another CA as not signed, a wrong key and garbage as invalid, nothing as missing", async () => {
    const ca = await issueCa("a", now, 3650 * day)
    const other = await issueCa("b", now, 3650 * day)
    const server = await issueServer(ca, ["x"], now, day)
    const foreign = readCertificate(server.certPem, server.keyPem, other.certPem)
    expect(foreign._tag === "Valid" && foreign.signedByCa).toBe(false)
    expect(readCertificate(server.certPem, other.keyPem, ca.certPem)._tag).toBe("Invalid")
    expect(readCertificate("not a pem", server.keyPem)._tag).toBe("Invalid")
    expect(readCertificate(undefined, undefined)._tag).toBe("Missing")
    // A bundle holding the previous CA too still verifies.
    const bundled = readCertificate(server.certPem, server.keyPem, `${other.certPem}\n${ca.certPem}`)
    expect(bundled._tag === "Valid" && bundled.signedByCa).toBe(true)
  })

  it("the mounted hash changes with the certificate or the CA bundle", () => {
    expect(mountedHash("a", "b")).toBe(mountedHash("a", "b"))
    expect(mountedHash("a", "b")).not.toBe(mountedHash("a", "c"))
    expect(mountedHash("a", "b")).not.toBe(mountedHash("c", "b"))
  })
})
