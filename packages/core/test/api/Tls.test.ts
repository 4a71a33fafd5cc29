import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Api } from "../../src/index.ts"
import { admit } from "./ApiServer.ts"

const doltdb = (tls: Record<string, unknown>) => ({
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "DoltDB",
  metadata: { name: "db", namespace: "ns" },
  spec: { engineVersion: "1.86.4", replicas: 1, storage: { size: "1Gi" }, tls }
})

describe("spec.tls", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, unknown>, boolean, string?]> = [
    ["enabled, operator-managed", { enabled: true }, true],
    [
      "required with a user Secret",
      { enabled: true, requireSecureTransport: true, serverCertSecretRef: { name: "db-cert" } },
      true
    ],
    ["durations", { enabled: true, certificateDuration: "720h", renewBefore: "240h" }, true],
    [
      "required without enabled",
      { requireSecureTransport: true },
      false,
      "tls.requireSecureTransport needs tls.enabled"
    ],
    ["a certificate shorter than an hour", { enabled: true, certificateDuration: "30m" }, false, "at least 1h"],
    [
      "renewBefore as long as the certificate",
      { enabled: true, certificateDuration: "24h", renewBefore: "24h" },
      false,
      "shorter than"
    ],
    ["renewBefore longer than the default lifetime", { enabled: true, renewBefore: "3000h" }, false, "shorter than"],
    ["renewBefore zero", { enabled: true, renewBefore: "0s" }, false, "positive"],
    ["a Secret name that is not one", { enabled: true, serverCertSecretRef: { name: "../x" } }, false, "Secret name"]
  ]
  for (const [name, tls, ok, message] of cases)
    it.effect(`${name}: the schema and the CRD ${ok ? "accept" : "reject"}`, () =>
      Effect.gen(function* () {
        const manifest = doltdb(tls)
        const violations = admit(manifest).violations
        assert.strictEqual(violations.length === 0, ok, JSON.stringify(violations))
        const exit = yield* Effect.exit(Api.decodeDoltDB(manifest))
        assert.strictEqual(Exit.isSuccess(exit), ok)
        if (message !== undefined && Exit.isFailure(exit)) assert.include(JSON.stringify(exit.cause), message)
      })
    )

  it.effect("defaults: off, plaintext allowed", () =>
    Effect.gen(function* () {
      const decoded = yield* Api.decodeDoltDB(doltdb({}))
      assert.deepStrictEqual(decoded.spec.tls, { enabled: false, requireSecureTransport: false })
    })
  )
})
