/**
 * The SQL listener's TLS in the model, as a mysql2 client meets it (measured against dolt 1.86.4 and mysql2
 * 3.24.5, packages/dolt/test/live/TlsRealDolt.test.ts): `require_secure_transport` refuses plaintext clients; a
 * TLS client needs a server with TLS, a certificate (read from the pod's mounted files) that chains to one of its
 * CAs, and the name it expects. Every refusal is a `DoltUnreachable`, as the live layer classifies them.
 */
import { X509Certificate } from "node:crypto"
import type { DoltTls } from "@doltdb-op/core/services/Dolt"
import { mountFor } from "./containerSpec.ts"
import type { ModelServer } from "./ModelServer.ts"

export interface TlsRefusal {
  readonly code: string
  readonly errno?: number
  readonly message: string
}

const pems = (bundle: string): ReadonlyArray<string> =>
  bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/gu) ?? []

/** The server's certificate file, from the pod's mounted volumes. */
const serverCertificate = (server: ModelServer, path: string): string | undefined => {
  const found = mountFor(server.spec.mounts, path)
  if (found?.mount._tag !== "Files") return undefined
  return found.mount.files[found.rel.replace(/^\/+/u, "")]
}

export const tlsRefusal = (server: ModelServer, tls: DoltTls | undefined): TlsRefusal | undefined => {
  const listener = server.config.listenerTls
  if (tls === undefined)
    return listener?.requireSecureTransport === true
      ? {
          code: "ER_UNKNOWN_ERROR",
          errno: 1105,
          message:
            "unknown error: Code: UNAVAILABLE\nserver does not allow insecure connections, client must use SSL/TLS"
        }
      : undefined
  if (listener === undefined)
    return { code: "HANDSHAKE_NO_SSL_SUPPORT", message: "Server does not support secure connection" }
  const pem = pems(serverCertificate(server, listener.certPath) ?? "")[0]
  if (pem === undefined) return { code: "HANDSHAKE_SSL_ERROR", message: "the server presented no certificate" }
  try {
    const cert = new X509Certificate(pem)
    const trusted = pems(tls.ca).some((caPem) => {
      const ca = new X509Certificate(caPem)
      return cert.checkIssued(ca) && cert.verify(ca.publicKey)
    })
    if (!trusted) return { code: "HANDSHAKE_SSL_ERROR", message: "unable to verify the first certificate" }
    if (cert.checkHost(tls.serverName) === undefined)
      return {
        code: "ERR_TLS_CERT_ALTNAME_INVALID",
        message: `Hostname/IP does not match certificate's altnames: Host: ${tls.serverName}. is not in the cert's altnames`
      }
    return undefined
  } catch (e) {
    return { code: "HANDSHAKE_SSL_ERROR", message: e instanceof Error ? e.message : String(e) }
  }
}
