/**
 * The server check of new connections, on stand-in sockets (the real handshakes are in TlsRealDolt.test.ts): a
 * resumed TLS session presents no certificate (Node reports `{}`), and is told apart from a certificate without the
 * name; and which pooled failures get one more attempt on a fresh connection.
 */
import { DoltAccessDenied, DoltConnectionTainted, DoltTimeout, DoltUnreachable } from "@doltdb-op/core/services/Dolt"
import { assert, describe, it } from "@effect/vitest"
import { checkServer, connectionDropped, verifyServerName } from "../../src/live/connections.ts"

const name = "db-internal.ns.svc"
const certificate = { subject: { CN: name }, subjectaltname: `DNS:${name}, DNS:*.db-internal.ns.svc.cluster.local` }
const socket = (s: { encrypted: boolean; reused?: boolean; cert?: object }) => ({
  stream: {
    encrypted: s.encrypted,
    isSessionReused: () => s.reused === true,
    getPeerCertificate: () => s.cert ?? {}
  }
})

describe("checkServer", () => {
  it("verifies the certificate's names on a full handshake", () => {
    assert.strictEqual(checkServer(socket({ encrypted: true, cert: certificate }), name)._tag, "Verified")
    const other = checkServer(socket({ encrypted: true, cert: certificate }), "other-internal.ns.svc")
    assert.isTrue(
      other._tag === "Refused" && (other.error as { code?: string }).code === "ERR_TLS_CERT_ALTNAME_INVALID"
    )
  })

  it("reports a resumed session as such, not as a certificate without the name", () => {
    // What Node reports on a resumed session: no certificate at all.
    assert.strictEqual(checkServer(socket({ encrypted: true, reused: true }), name)._tag, "Resumed")
  })

  it("refuses plaintext when TLS is expected, and checks nothing without TLS", () => {
    const plain = checkServer(socket({ encrypted: false }), name)
    assert.isTrue(plain._tag === "Refused" && (plain.error as { code?: string }).code === "DOLT_TLS_REQUIRED")
    assert.strictEqual(checkServer(socket({ encrypted: false }), undefined)._tag, "Verified")
  })

  it("fails closed on a connection of its own that resumed a session", () => {
    assert.isUndefined(verifyServerName(socket({ encrypted: true, cert: certificate }), name))
    assert.match(String(verifyServerName(socket({ encrypted: true, reused: true }), name)?.message), /resumed/)
  })
})

describe("connectionDropped", () => {
  const unreachable = (code?: string, errno?: number) =>
    new DoltUnreachable({
      host: "h",
      op: "q",
      message: "m",
      ...(code === undefined ? {} : { code }),
      ...(errno === undefined ? {} : { errno })
    })
  it("retries a connection the server closed or the pool destroyed", () => {
    for (const code of ["PROTOCOL_CONNECTION_LOST", "ECONNRESET", "EPIPE", undefined])
      assert.isTrue(connectionDropped(unreachable(code)), String(code))
    assert.isTrue(connectionDropped(new DoltConnectionTainted({ host: "h", op: "q", message: "m" })))
  })

  it("does not retry a server that is not there, or an answer", () => {
    for (const code of ["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ERR_TLS_CERT_ALTNAME_INVALID"])
      assert.isFalse(connectionDropped(unreachable(code)), code)
    assert.isFalse(connectionDropped(new DoltTimeout({ host: "h", op: "q", message: "m" })))
    assert.isFalse(connectionDropped(new DoltAccessDenied({ host: "h", op: "q", message: "m", errno: 1045 })))
  })
})
