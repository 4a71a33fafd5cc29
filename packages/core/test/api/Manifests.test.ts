/**
 * Every manifest goes through both gates: the Effect schemas (the operator's decode) and the generated CRD
 * (ajv + CEL, standing in for the API server). They must agree on accept/reject and on the field named.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { parse } from "yaml"
import { Api } from "../../src/index.ts"
import { admit } from "./ApiServer.ts"

const fixtures = join(import.meta.dirname, "..", "fixtures", "api", "valid")
const valid = readdirSync(fixtures)
  .filter((f) => f.endsWith(".yaml"))
  .map((file) => ({ file, manifest: parse(readFileSync(join(fixtures, file), "utf8")) as Record<string, unknown> }))

const infoOf = (manifest: Record<string, unknown>) => {
  const info = Api.kindInfo(String(manifest.kind))
  if (info === undefined) throw new Error(`no kind ${String(manifest.kind)}`)
  return info
}

describe("valid manifests", () => {
  it("covers every kind", () => {
    assert.deepStrictEqual([...new Set(valid.map((v) => v.manifest.kind))].sort(), Api.kinds.map((k) => k.kind).sort())
  })

  for (const { file, manifest } of valid) {
    it.effect(`${file}: accepted by the schema and by the CRD, with the same defaults`, () =>
      Effect.gen(function* () {
        const info = infoOf(manifest)
        const admitted = admit(manifest)
        assert.deepStrictEqual(admitted.violations, [])
        const decoded = yield* info.decode(manifest)
        const encoded = yield* info.encode(decoded as never)
        // the API server's structural defaulting and our decoding fill exactly the same fields
        assert.deepStrictEqual(encoded, admitted.stored)
        // idempotent: decoding the encoded form again changes nothing
        assert.deepStrictEqual(yield* info.decode(encoded), decoded)
      })
    )
  }
})

type Manifest = Record<string, unknown>
const base: Record<string, Manifest> = Object.fromEntries(valid.map((v) => [v.file.replace(/\.yaml$/, ""), v.manifest]))

/** `base` with `spec` patched: `undefined` values delete the key. */
const patch = (name: string, spec: Record<string, unknown>): Manifest => {
  const manifest = structuredClone(base[name]!)
  const merged = { ...(manifest.spec as Record<string, unknown>), ...spec }
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k]
  return { ...manifest, spec: merged }
}
const minimal = (spec: Record<string, unknown>) => patch("doltdb-minimal", spec)
const sample = (spec: Record<string, unknown>) => patch("doltdb-sample", spec)

/** Invalid manifests and the field each must be rejected at, by both gates. */
const invalid: ReadonlyArray<readonly [string, Manifest, string]> = [
  ["missing engineVersion", minimal({ engineVersion: undefined }), "spec.engineVersion"],
  ["missing storage", minimal({ storage: undefined }), "spec.storage"],
  ["missing replicas", minimal({ replicas: undefined }), "spec.replicas"],
  ["replicas 0", minimal({ replicas: 0 }), "spec.replicas"],
  ["replicas not an integer", minimal({ replicas: 1.5 }), "spec.replicas"],
  ["unknown spec field", minimal({ replica: 2 }), "spec.replica"],
  ["typo in affinity", minimal({ affinity: { nodeAfinity: {} } }), "spec.affinity.nodeAfinity"],
  [
    "node selector term without key",
    minimal({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ operator: "In" }] }]
          }
        }
      }
    }),
    "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key"
  ],
  [
    "toleration seconds as text",
    minimal({ tolerations: [{ key: "a", tolerationSeconds: "30" }] }),
    "spec.tolerations[0].tolerationSeconds"
  ],
  ["unknown toleration field", minimal({ tolerations: [{ keys: "a" }] }), "spec.tolerations[0].keys"],
  ["bad updateStrategy", minimal({ updateStrategy: "Bogus" }), "spec.updateStrategy"],
  ["bad replicationStrategy", minimal({ replicationStrategy: "Async" }), "spec.replicationStrategy"],
  ["maxConnections below 10", minimal({ maxConnections: 5 }), "spec.maxConnections"],
  [
    "listener maxConnections below 10",
    minimal({ server: { listener: { maxConnections: 5 } } }),
    "spec.server.listener.maxConnections"
  ],
  ["listener port 0", minimal({ server: { listener: { port: 0 } } }), "spec.server.listener.port"],
  ["mcp port out of range", minimal({ server: { mcpServer: { port: 80 } } }), "spec.server.mcpServer.port"],
  [
    "mcp password without key",
    minimal({ server: { mcpServer: { passwordSecretKeyRef: { name: "x" } } } }),
    "spec.server.mcpServer.passwordSecretKeyRef.key"
  ],
  ["metrics port as text", minimal({ server: { metrics: { port: "9100" } } }), "spec.server.metrics.port"],
  ["unknown server field", minimal({ server: { listner: {} } }), "spec.server.listner"],
  ["storage size not a quantity", minimal({ storage: { size: "10GB" } }), "spec.storage.size"],
  [
    "retention policy typo",
    minimal({ storage: { retentionPolicy: { whenDelete: "Retain" } } }),
    "spec.storage.retentionPolicy.whenDelete"
  ],
  [
    "resource limit not a quantity",
    minimal({ resources: { limits: { memory: "lots" } } }),
    "spec.resources.limits.memory"
  ],
  ["env without name", minimal({ env: [{ value: "x" }] }), "spec.env[0].name"],
  [
    "env secretKeyRef without key",
    minimal({ env: [{ name: "A", valueFrom: { secretKeyRef: { name: "s" } } }] }),
    "spec.env[0].valueFrom.secretKeyRef.key"
  ],
  [
    "env valueFrom typo",
    minimal({ env: [{ name: "A", valueFrom: { secretRef: {} } }] }),
    "spec.env[0].valueFrom.secretRef"
  ],
  [
    "probe httpGet without port",
    minimal({ probes: { livenessProbe: { httpGet: { path: "/" } } } }),
    "spec.probes.livenessProbe.httpGet.port"
  ],
  [
    "probe period as text",
    minimal({ probes: { readinessProbe: { periodSeconds: "10s" } } }),
    "spec.probes.readinessProbe.periodSeconds"
  ],
  ["negative grace period", minimal({ terminationGracePeriodSeconds: -1 }), "spec.terminationGracePeriodSeconds"],
  ["pdb as boolean", minimal({ podDisruptionBudget: { minAvailable: true } }), "spec.podDisruptionBudget.minAvailable"],
  ["runAsUser as text", minimal({ securityContext: { runAsUser: "root" } }), "spec.securityContext.runAsUser"],
  [
    "spread constraint without topologyKey",
    minimal({ topologySpreadConstraints: [{ maxSkew: 1, whenUnsatisfiable: "DoNotSchedule" }] }),
    "spec.topologySpreadConstraints[0].topologyKey"
  ],
  ["imagePullSecrets typo", minimal({ imagePullSecrets: [{ nam: "x" }] }), "spec.imagePullSecrets[0].nam"],
  ["podAnnotations value not a string", minimal({ podAnnotations: { a: 1 } }), "spec.podAnnotations.a"],
  [
    "plural minCaughtUpStandbys",
    sample({ replication: { enabled: true, primary: { minCaughtUpStandbys: 1 } } }),
    "spec.replication.primary.minCaughtUpStandbys"
  ],
  [
    "negative podIndex",
    sample({ replication: { enabled: true, primary: { podIndex: -1 } } }),
    "spec.replication.primary.podIndex"
  ],
  [
    "podIndex outside the StatefulSet",
    sample({ replication: { enabled: true, primary: { podIndex: 2 } } }),
    "spec.replication.primary.podIndex"
  ],
  ["replication with one replica", sample({ replicas: 1 }), "spec.replication.enabled"],
  [
    "globalConfig typo",
    minimal({ globalConfig: { commitAuthor: { mail: "a@b" } } }),
    "spec.globalConfig.commitAuthor.mail"
  ],
  ["database name with a dash", patch("database", { name: "my-db" }), "spec.name"],
  ["database name too long", patch("database", { name: "a".repeat(81) }), "spec.name"],
  ["database without doltDBRef", patch("database", { doltDBRef: undefined }), "spec.doltDBRef"],
  ["database without name", patch("database", { name: undefined }), "spec.name"],
  ["database cleanupPolicy", patch("database", { cleanupPolicy: "Keep" }), "spec.cleanupPolicy"],
  ["database bad duration", patch("database", { requeueInterval: "soon" }), "spec.requeueInterval"],
  ["user without password", patch("user", { passwordSecretKeyRef: undefined }), "spec.passwordSecretKeyRef"],
  [
    "user password without key",
    patch("user", { passwordSecretKeyRef: { name: "p" } }),
    "spec.passwordSecretKeyRef.key"
  ],
  ["user name too long", patch("user", { name: "u".repeat(81) }), "spec.name"],
  ["user host too long", patch("user", { host: "h".repeat(256) }), "spec.host"],
  ["grant without privileges", patch("grant", { privileges: [] }), "spec.privileges"],
  ["grant without username", patch("grant", { username: undefined }), "spec.username"],
  ["grant host too long", patch("grant", { host: "h".repeat(256) }), "spec.host"],
  ["snapshot without schedule", patch("snapshot", { frequencySchedule: undefined }), "spec.frequencySchedule"],
  ["snapshot without doltDBRef", patch("snapshot", { doltDBRef: undefined }), "spec.doltDBRef"],
  ["backup without storage backend", patch("backup", { storage: {} }), "spec.storage"],
  [
    "backup with two backends",
    patch("backup", { storage: { local: { path: "/a" }, doltHub: { remoteUrl: "x" } } }),
    "spec.storage"
  ],
  ["backup bucket name", patch("backup", { storage: { s3: { bucket: "Bad_Bucket" } } }), "spec.storage.s3.bucket"],
  ["backup relative path", patch("backup", { storage: { local: { path: "backups" } } }), "spec.storage.local.path"],
  ["backup dolthub without url", patch("backup", { storage: { doltHub: {} } }), "spec.storage.doltHub.remoteUrl"],
  ["backup bad database name", patch("backup", { databases: ["bad-name"] }), "spec.databases"],
  ["backup database name too long", patch("backup", { databases: ["d".repeat(81)] }), "spec.databases[0]"],
  [
    "backup too many databases",
    patch("backup", { databases: Array.from({ length: 101 }, (_, i) => `db${i}`) }),
    "spec.databases"
  ],
  ["backup backoffLimit as text", patch("backup", { backoffLimit: "2" }), "spec.backoffLimit"],
  ["schedule without schedule", patch("backupschedule", { schedule: undefined }), "spec.schedule"],
  ["schedule bad database name", patch("backupschedule", { databases: ["a b"] }), "spec.databases"],
  ["schedule suspend as text", patch("backupschedule", { suspend: "yes" }), "spec.suspend"]
]

describe("invalid manifests", () => {
  for (const [name, manifest, path] of invalid) {
    it.effect(`${name}: rejected at ${path} by the schema and by the CRD`, () =>
      Effect.gen(function* () {
        const crdPaths = admit(manifest).violations.map((v) => v.path)
        assert.include(crdPaths, path, `CRD reported ${JSON.stringify(crdPaths)}`)
        const exit = yield* Effect.exit(infoOf(manifest).decode(manifest))
        assert.isTrue(Exit.isFailure(exit), "the schema accepted it")
        const error = yield* Effect.flip(infoOf(manifest).decode(manifest))
        const paths = error.issues.map((i) => i.path)
        assert.include(paths, path, `schema reported ${JSON.stringify(paths)}`)
        assert.include(error.message, path)
      })
    )
  }
})

describe("update rules (oldSelf)", () => {
  it.effect("storage.size may grow but not shrink", () =>
    Effect.gen(function* () {
      const old = admit(base["doltdb-sample"]!).stored
      const grown = sample({ storage: { size: "20Gi" } })
      const shrunk = sample({ storage: { size: "5Gi" } })
      const sameInBytes = sample({ storage: { size: 10 * 2 ** 30 } })
      assert.deepStrictEqual(admit(grown, old).violations, [])
      assert.deepStrictEqual(admit(sameInBytes, old).violations, [])
      assert.deepStrictEqual(admit(shrunk, old).violations, [
        { path: "spec.storage.size", message: "storage.size may not shrink" }
      ])
      const previous = yield* Api.decodeDoltDB(old)
      assert.deepStrictEqual(Api.doltDBUpdateViolations(previous.spec, (yield* Api.decodeDoltDB(grown)).spec), [])
      assert.deepStrictEqual(Api.doltDBUpdateViolations(previous.spec, (yield* Api.decodeDoltDB(shrunk)).spec), [
        { path: "spec.storage.size", message: "storage.size may not shrink" }
      ])
    })
  )

  it.effect("a Backup spec is immutable, its status is not", () =>
    Effect.gen(function* () {
      const old = admit(base["backup-s3"]!).stored
      const changed = patch("backup-s3", { backoffLimit: 9 })
      const statusOnly = { ...(old as Manifest), status: { phase: "Failed" } }
      assert.deepStrictEqual(admit(changed, old).violations, [{ path: "spec", message: "backup spec is immutable" }])
      assert.deepStrictEqual(admit(statusOnly, old).violations, [])
      const previous = yield* Api.decodeBackup(old)
      assert.deepStrictEqual(Api.backupUpdateViolations(previous.spec, (yield* Api.decodeBackup(statusOnly)).spec), [])
      assert.deepStrictEqual(Api.backupUpdateViolations(previous.spec, (yield* Api.decodeBackup(changed)).spec), [
        { path: "spec", message: "backup spec is immutable" }
      ])
    })
  )

  it("a BackupSchedule spec may change", () => {
    const old = admit(base.backupschedule!).stored
    assert.deepStrictEqual(admit(patch("backupschedule", { schedule: "0 3 * * *" }), old).violations, [])
  })
})
