/**
 * When the operator issues TLS certificates (`doltdb/tls/planCertificates.ts`), and what the DoltDB plan does with
 * them: certificates before the StatefulSet, the pod template's hash, renewal before expiry, a CA kept stable.
 */
import { assert, describe, it } from "@effect/vitest"
import { Builders, DoltDBPlanner } from "../../src/index.ts"
import { decoded, twoReplicas, withSpec } from "../builders/fixtures.ts"

const { certificateSituation, planTls, CaValidityMillis } = DoltDBPlanner
const hour = 3_600_000
const day = 24 * hour
const now = Date.parse("2026-12-01T00:00:00Z")

const managed = decoded(withSpec(twoReplicas, { tls: { enabled: true } }))
const names = Builders.certificateDnsNames("pair", "dolt", "cluster.local")

const valid = (notBefore: number, notAfter: number, dnsNames = names) =>
  ({ _tag: "Valid", notBefore, notAfter, dnsNames, fingerprint: "f" }) as const

/** A healthy operator-managed state: CA for 10 years, a 90-day server certificate issued a day ago. */
const healthy: DoltDBPlanner.TlsObserved = {
  clusterDomain: "cluster.local",
  ca: valid(now - day, now - day + CaValidityMillis),
  server: { ...valid(now - day, now + 89 * day), signedByCa: true },
  mountedHash: "h1"
}

describe("certificateSituation", () => {
  it("is Current for a healthy pair, renewing a third of the lifetime before expiry by default", () => {
    const s = certificateSituation(managed, healthy, now)
    assert.strictEqual(s._tag, "Current")
    if (s._tag === "Current") assert.strictEqual(s.renewAt, now + 89 * day - 30 * day)
  })

  it("issues a CA when it is missing, unusable or within a year of expiry, and never otherwise", () => {
    assert.strictEqual(certificateSituation(managed, { ...healthy, ca: { _tag: "Missing" } }, now)._tag, "IssueCa")
    assert.strictEqual(
      certificateSituation(managed, { ...healthy, ca: { _tag: "Invalid", reason: "bad PEM" } }, now)._tag,
      "IssueCa"
    )
    const ca = valid(now - 9.5 * 365 * day, now + 0.5 * 365 * day)
    assert.strictEqual(certificateSituation(managed, { ...healthy, ca }, now)._tag, "IssueCa")
    // Renewing the server certificate keeps the CA.
    const expiring = { ...healthy, server: { ...valid(now - 80 * day, now + 10 * day), signedByCa: true } }
    assert.strictEqual(certificateSituation(managed, expiring, now)._tag, "IssueServer")
  })

  it("re-issues the server certificate when missing, invalid, foreign, lacking a name, not yet valid or due", () => {
    const cases: ReadonlyArray<DoltDBPlanner.TlsObserved["server"]> = [
      { _tag: "Missing" },
      { _tag: "Invalid", reason: "the key does not match the certificate" },
      { ...valid(now - day, now + 89 * day), signedByCa: false },
      {
        ...valid(
          now - day,
          now + 89 * day,
          names.filter((n) => n !== "pair-internal.dolt.svc")
        ),
        signedByCa: true
      },
      { ...valid(now + day, now + 89 * day), signedByCa: true },
      { ...valid(now - 61 * day, now + 29 * day), signedByCa: true }
    ]
    for (const server of cases)
      assert.strictEqual(
        certificateSituation(managed, { ...healthy, server }, now)._tag,
        "IssueServer",
        JSON.stringify(server)
      )
  })

  it("honours renewBefore and a cluster domain change", () => {
    const early = decoded(withSpec(twoReplicas, { tls: { enabled: true, renewBefore: "1000h" } }))
    assert.strictEqual(certificateSituation(early, healthy, now)._tag, "Current")
    assert.strictEqual(certificateSituation(early, healthy, now + 89 * day - 1000 * hour)._tag, "IssueServer")
    assert.strictEqual(
      certificateSituation(managed, { ...healthy, clusterDomain: "corp.example" }, now)._tag,
      "IssueServer"
    )
  })

  it("leaves user-provided certificates and TLS-less DoltDBs alone", () => {
    const user = decoded(withSpec(twoReplicas, { tls: { enabled: true, serverCertSecretRef: { name: "cm" } } }))
    assert.strictEqual(certificateSituation(user, { ...healthy, ca: { _tag: "Missing" } }, now)._tag, "NotManaged")
    assert.strictEqual(certificateSituation(decoded(twoReplicas), healthy, now)._tag, "NotManaged")
  })
})

describe("planTls", () => {
  it("issues first and holds the StatefulSet until the mounted Secret is readable", () => {
    const fresh = planTls(
      managed,
      { ...healthy, ca: { _tag: "Missing" }, server: { _tag: "Missing" }, mountedHash: undefined },
      now
    )
    assert.deepStrictEqual(
      fresh.actions.map((a) => a._tag),
      ["IssueCertificates", "Event"]
    )
    assert.strictEqual(fresh.requeueAfter?.millis, 0, "looks again at once, to mount the issued Secret")
    const issue = fresh.actions[0]
    assert.isTrue(issue?._tag === "IssueCertificates" && issue.issueCa)
    assert.isTrue(issue?._tag === "IssueCertificates" && issue.durationMillis === 90 * day)
    assert.isTrue(fresh.holdStatefulSet)
    assert.isUndefined(fresh.tlsHash)
  })

  it("a converged pair issues nothing, passes the hash on and asks to be woken for the renewal", () => {
    const steady = planTls(managed, healthy, now)
    assert.deepStrictEqual(steady.actions, [])
    assert.strictEqual(steady.tlsHash, "h1")
    assert.isFalse(steady.holdStatefulSet)
    assert.strictEqual(steady.renewInMillis, 59 * day)
  })

  it("a user Secret is never issued: the StatefulSet waits for it, then carries its hash", () => {
    const user = decoded(withSpec(twoReplicas, { tls: { enabled: true, serverCertSecretRef: { name: "cm" } } }))
    const missing = planTls(user, { ...healthy, mountedHash: undefined }, now)
    assert.deepStrictEqual(missing.actions, [])
    assert.isTrue(missing.holdStatefulSet)
    assert.strictEqual(planTls(user, healthy, now).tlsHash, "h1")
    // cert-manager renews it without an event the controller watches: looked at again every 5 minutes.
    assert.strictEqual(planTls(user, healthy, now).renewInMillis, 5 * 60_000)
  })

  it("does nothing without spec.tls", () => {
    const off = planTls(decoded(twoReplicas), undefined, now)
    assert.deepStrictEqual(off, { actions: [], tlsHash: undefined, holdStatefulSet: false, renewInMillis: undefined })
  })
})
