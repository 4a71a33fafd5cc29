/**
 * Values the API server would reject elsewhere, or that become image tags, names and ports, are refused at
 * admission (the CRD: OpenAPI + CEL, through the test stand-in) and by the decoder (render, the operator), each
 * with a message naming the field (issue 13 §4).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Api } from "../../src/index.ts"
import { admit } from "./ApiServer.ts"

const base = {
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "DoltDB",
  metadata: { name: "db", namespace: "ns" },
  spec: { engineVersion: "1.86.4", replicas: 3, storage: { size: "1Gi" }, replication: { enabled: true } }
}

const withMeta = (metadata: Record<string, unknown>) => ({ ...base, metadata: { ...base.metadata, ...metadata } })
const withSpec = (spec: Record<string, unknown>) => ({ ...base, spec: { ...base.spec, ...spec } })

const decodeError = (manifest: unknown): string => {
  const exit = Effect.runSyncExit(Api.decodeDoltDB(manifest))
  return Exit.isFailure(exit) ? String(exit.cause) : ""
}

const cases: ReadonlyArray<readonly [string, unknown, string]> = [
  ["an upper-case name", withMeta({ name: "Prod" }), "name"],
  ["a name with a path", withMeta({ name: "../x" }), "name"],
  ["a 53-character name", withMeta({ name: `a${"b".repeat(52)}` }), "name"],
  ["a name starting with a digit (Services need a DNS-1035 label)", withMeta({ name: "1db" }), "name"],
  ["engineVersion as a path", withSpec({ engineVersion: "../../etc" }), "engineVersion"],
  ["engineVersion as a shell command", withSpec({ engineVersion: "1.0; rm -rf /" }), "engineVersion"],
  ["an image with a tag of its own", withSpec({ image: "dolthub/dolt:latest extra" }), "image"],
  ["replicas above the maximum", withSpec({ replicas: 33 }), "replicas"],
  ["zero replicas", withSpec({ replicas: 0 }), "replicas"],
  ["a negative storage size", withSpec({ storage: { size: "-1Gi" } }), "storage.size"],
  ["a zero storage size", withSpec({ storage: { size: "0" } }), "storage.size"],
  ["a negative integer storage size", withSpec({ storage: { size: -5 } }), "storage.size"],
  [
    "a negative failoverDelay",
    withSpec({ replication: { enabled: true, primary: { failoverDelay: "-3s" } } }),
    "failoverDelay"
  ],
  [
    "the remotesapi port equal to the SQL port",
    withSpec({ server: { listener: { port: 3306 }, cluster: { remotesAPI: { port: 3306 } } } }),
    "remotesAPI.port"
  ],
  [
    "the remotesapi port equal to the default SQL port",
    withSpec({ server: { cluster: { remotesAPI: { port: 3306 } } } }),
    "remotesAPI.port"
  ],
  ["a remotesapi port out of range", withSpec({ server: { cluster: { remotesAPI: { port: 70000 } } } }), "port"],
  ["an annotation key with a newline", withSpec({ podAnnotations: { "a\nb": "x" } }), "podAnnotations"],
  ["a log level Dolt does not know", withSpec({ server: { logLevel: "verbose" } }), "logLevel"],
  ["an invalid serviceAccountName", withSpec({ serviceAccountName: "Default/../x" }), "serviceAccountName"],
  [
    "a namespace list entry that is no namespace",
    withSpec({ tenancy: { allowedNamespaces: ["a b"] } }),
    "allowedNamespaces"
  ]
]

describe("hostile DoltDB input is refused by the CRD and by the decoder, naming the field", () => {
  for (const [what, manifest, field] of cases)
    it(what, () => {
      const crd = admit(manifest).violations
      assert.isAbove(crd.length, 0, "the CRD admitted it")
      assert.isTrue(
        crd.some((v) => `${v.path} ${v.message}`.includes(field.split(".").at(-1) ?? field)),
        `the CRD's messages do not name ${field}: ${JSON.stringify(crd)}`
      )
      const decoded = decodeError(manifest)
      assert.notStrictEqual(decoded, "", "the decoder accepted it")
      assert.include(decoded, field.split(".").at(-1) ?? field)
    })

  it("the limits still admit what real clusters use", () => {
    for (const manifest of [
      base,
      withMeta({ name: `a${"b".repeat(51)}` }),
      withSpec({ replicas: 32, engineVersion: "v1.86.4-rc_1" }),
      withSpec({ image: "registry.example.com:5000/team/dolt" }),
      withSpec({ podAnnotations: { "example.com/team": "x", simple: "y" } }),
      withSpec({ replication: { enabled: true, primary: { failoverDelay: "0" } } }),
      withSpec({ storage: { size: 10 } })
    ]) {
      assert.deepStrictEqual(admit(manifest).violations, [], JSON.stringify(manifest))
      assert.strictEqual(decodeError(manifest), "", JSON.stringify(manifest))
    }
  })
})
