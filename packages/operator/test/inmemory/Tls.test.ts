/**
 * `spec.tls` end to end in memory: the operator issues the CA and the server certificate before the StatefulSet,
 * the pods mount only the server Secret, the operator's SQL connections carry the CA, and a certificate near its
 * expiry is renewed (same CA) and rolled out to the pods.
 */
import { X509Certificate } from "node:crypto"
import { Kube, type KubeObject, Pods, Secrets, StatefulSets } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { issueCa, issueServer } from "../../src/reconcilers/tls/Certificates.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { createDoltDB, isReady, setupDoltDB } from "./fixtures.ts"

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")
const text = (secret: KubeObject | undefined, key: string) => {
  const v = (secret?.data as Record<string, string> | undefined)?.[key]
  return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8")
}
/** A 2-replica DoltDB in namespace `ns` on Dolt 1.86.4 with this `spec.tls`. */
const tlsDoltDB = (tls: Record<string, unknown>) => ({
  namespace: "ns",
  replicas: 2,
  spec: { engineVersion: "1.86.4", tls }
})
const get = <A extends KubeObject>(res: Parameters<Kube["Service"]["get"]>[0], name: string) =>
  Effect.flatMap(Kube, (kube) =>
    kube.get(res, name, { namespace: "ns" }).pipe(Effect.catch(() => Effect.succeed(undefined)))
  ) as Effect.Effect<A | undefined, never, Kube>
const ready = isReady({ namespace: "ns" })
const tlsHash = Effect.map(
  get(StatefulSets, "db"),
  (s) =>
    (s?.spec as { template: { metadata: { annotations?: Record<string, string> } } } | undefined)?.template.metadata
      .annotations?.["k8s.dolthub.com/tls-hash"]
)

describe("spec.tls in memory", () => {
  it.effect(
    "issues certificates before the pods, mounts only the server Secret, renews before expiry with the same CA",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* setupDoltDB(tlsDoltDB({ enabled: true, requireSecureTransport: true, certificateDuration: "1h" }), {
          limitMillis: 180_000
        })

        const ca = yield* get(Secrets, "db-tls-ca")
        const server = yield* get(Secrets, "db-tls")
        assert.strictEqual(server?.type, "kubernetes.io/tls")
        const caPem = text(ca, "tls.crt")!
        assert.strictEqual(text(server, "ca.crt")?.trim(), caPem.trim())
        const cert = new X509Certificate(text(server, "tls.crt")!)
        assert.isTrue(cert.verify(new X509Certificate(caPem).publicKey))
        assert.isTrue(cert.checkHost("db-0.db-internal.ns.svc.cluster.local") !== undefined)
        // Both Secrets belong to the DoltDB; no pod mounts the CA's key.
        for (const s of [ca, server]) assert.strictEqual(s?.metadata.ownerReferences?.[0]?.name, "db")
        const pod = yield* get(Pods, "db-0")
        const volumes = JSON.stringify((pod?.spec as { volumes?: unknown } | undefined)?.volumes ?? null)
        assert.include(volumes, '"secretName":"db-tls"')
        assert.notInclude(volumes, "db-tls-ca")
        const first = yield* tlsHash
        assert.isString(first)
        // The pods were created once, after the Secret existed: no restart for the first hash.
        const uid0 = pod?.metadata.uid

        // 1h certificates are renewed 20 minutes before they expire; the pods roll to the new one.
        const renewed = yield* runUntil(
          Effect.gen(function* () {
            const hash = yield* tlsHash
            const p = yield* get(Pods, "db-0")
            return hash !== first && p?.metadata.uid !== uid0 && (yield* ready)
          }),
          { limitMillis: 3_600_000, stepMillis: 30_000 }
        )
        assert.isAtLeast(renewed, 40 * 60_000 - 5 * 60_000, "renewed far too early")
        assert.isAtMost(renewed, 45 * 60_000, "not renewed before the 20-minute window")
        assert.strictEqual(text(yield* get(Secrets, "db-tls-ca"), "tls.crt"), caPem, "the CA changed")
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed: 7 })))),
    120_000
  )

  it.effect(
    "a user-provided Secret: the StatefulSet waits for it, nothing is issued, and its renewal rolls the pods",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        const kube = yield* Kube
        yield* createDoltDB(
          tlsDoltDB({ enabled: true, requireSecureTransport: true, serverCertSecretRef: { name: "db-cert" } })
        )
        const noStatefulSet = yield* runUntil(
          Effect.map(get(StatefulSets, "db"), (s) => s !== undefined),
          { limitMillis: 30_000, stepMillis: 1_000 }
        )
        assert.strictEqual(noStatefulSet, -1, "the StatefulSet was created before its TLS Secret existed")

        // What cert-manager would write: a Certificate's Secret with tls.crt, tls.key and ca.crt.
        const names = ["db-internal.ns.svc", "*.db-internal.ns.svc.cluster.local", "localhost"]
        const ca = yield* Effect.promise(() => issueCa("cert-manager CA", Date.now(), 3650 * 86_400_000))
        const write = (server: { certPem: string; keyPem: string }) =>
          kube.apply(
            Secrets,
            {
              apiVersion: "v1",
              kind: "Secret",
              metadata: { name: "db-cert", namespace: "ns" },
              type: "kubernetes.io/tls",
              data: { "tls.crt": b64(server.certPem), "tls.key": b64(server.keyPem), "ca.crt": b64(ca.certPem) }
            },
            { fieldManager: "cert-manager", force: true }
          )
        yield* write(yield* Effect.promise(() => issueServer(ca, names, Date.now(), 90 * 86_400_000)))
        assert.isAtLeast(yield* runUntil(ready, { limitMillis: 180_000 }), 0, "never Ready with the user's Secret")
        assert.isUndefined(yield* get(Secrets, "db-tls-ca"), "the operator issued a CA anyway")
        assert.isUndefined(yield* get(Secrets, "db-tls"), "the operator issued a certificate anyway")
        const first = yield* tlsHash
        const uid0 = (yield* get(Pods, "db-0"))?.metadata.uid

        yield* write(yield* Effect.promise(() => issueServer(ca, names, Date.now(), 90 * 86_400_000)))
        const rolled = yield* runUntil(
          Effect.gen(function* () {
            const hash = yield* tlsHash
            return hash !== first && (yield* get(Pods, "db-0"))?.metadata.uid !== uid0 && (yield* ready)
          }),
          { limitMillis: 300_000 }
        )
        assert.isAtLeast(rolled, 0, "the renewed user certificate never reached the pods")
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed: 11 })))),
    120_000
  )
})
