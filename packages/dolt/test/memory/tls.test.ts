/**
 * The model's SQL-listener TLS (`memory/tls.ts`) gives the live layer's answers against real dolt
 * (test/live/TlsRealDolt.test.ts): plaintext refused under require_secure_transport, a foreign CA or a wrong name
 * refused, the right CA and name accepted. Certificates are made with the openssl CLI.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import type { ModelServer } from "../../src/memory/ModelServer.ts"
import { tlsRefusal } from "../../src/memory/tls.ts"

const dir = mkdtempSync(join(tmpdir(), "doltdb-model-tls-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const certificates = (prefix: string) => {
  const openssl = (...args: ReadonlyArray<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" })
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    `${prefix}ca.key`,
    "-out",
    `${prefix}ca.crt`,
    "-days",
    "2",
    "-subj",
    "/CN=ca"
  )
  openssl("req", ...ec, "-keyout", `${prefix}tls.key`, "-out", `${prefix}tls.csr`, "-subj", "/CN=db")
  writeFileSync(
    join(dir, `${prefix}ext`),
    "subjectAltName=DNS:db-internal.ns.svc,DNS:*.db-internal.ns.svc.cluster.local\n"
  )
  openssl(
    "x509",
    "-req",
    "-in",
    `${prefix}tls.csr`,
    "-CA",
    `${prefix}ca.crt`,
    "-CAkey",
    `${prefix}ca.key`,
    "-CAcreateserial",
    "-out",
    `${prefix}tls.crt`,
    "-days",
    "2",
    "-extfile",
    `${prefix}ext`
  )
  return {
    ca: readFileSync(join(dir, `${prefix}ca.crt`), "utf8"),
    cert: readFileSync(join(dir, `${prefix}tls.crt`), "utf8")
  }
}
const mine = certificates("")
const other = certificates("other-")

const server = (listenerTls: { certPath: string; requireSecureTransport: boolean } | undefined) =>
  ({
    config: { listenerTls },
    spec: { mounts: { "/etc/doltdb-tls": { _tag: "Files", files: { "tls.crt": mine.cert, "ca.crt": mine.ca } } } }
  }) as unknown as ModelServer

const required = server({ certPath: "/etc/doltdb-tls/tls.crt", requireSecureTransport: true })
const optional = server({ certPath: "/etc/doltdb-tls/tls.crt", requireSecureTransport: false })

describe("model TLS on the SQL listener", () => {
  it("accepts the DoltDB's CA and name", () => {
    assert.isUndefined(tlsRefusal(required, { ca: mine.ca, serverName: "db-internal.ns.svc" }))
    assert.isUndefined(
      tlsRefusal(required, { ca: `${other.ca}\n${mine.ca}`, serverName: "db-0.db-internal.ns.svc.cluster.local" })
    )
  })

  it("refuses plaintext only when secure transport is required", () => {
    assert.include(tlsRefusal(required, undefined)?.message, "server does not allow insecure connections")
    assert.isUndefined(tlsRefusal(optional, undefined))
    assert.isUndefined(tlsRefusal(server(undefined), undefined))
  })

  it("refuses a foreign CA, a wrong name, and TLS to a server without it", () => {
    assert.strictEqual(
      tlsRefusal(optional, { ca: other.ca, serverName: "db-internal.ns.svc" })?.code,
      "HANDSHAKE_SSL_ERROR"
    )
    assert.strictEqual(
      tlsRefusal(optional, { ca: mine.ca, serverName: "other-internal.ns.svc" })?.code,
      "ERR_TLS_CERT_ALTNAME_INVALID"
    )
    assert.strictEqual(
      tlsRefusal(server(undefined), { ca: mine.ca, serverName: "db-internal.ns.svc" })?.code,
      "HANDSHAKE_NO_SSL_SUPPORT"
    )
  })
})
