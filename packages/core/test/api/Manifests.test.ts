/**
 * Every manifest goes through both gates: the Effect schemas (the operator's decode) and the generated CRD
 * (ajv + CEL, standing in for the API server). They must agree on accept/reject and on the field named.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Api } from "../../src/index.ts"
import { base, invalid, type Manifest, patch, sample, valid } from "../fixtures/api/cases.ts"
import { admit } from "./ApiServer.ts"

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
        const encoded = yield* info.encode(decoded)
        // the API server's structural defaulting and our decoding fill exactly the same fields
        assert.deepStrictEqual(encoded, admitted.stored)
        // idempotent: decoding the encoded form again changes nothing
        assert.deepStrictEqual(yield* info.decode(encoded), decoded)
      })
    )
  }
})

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

  it.effect("tls.enabled may not change while the DoltDB is replicated (before or after the edit)", () =>
    Effect.gen(function* () {
      const forbidden = { path: "spec.tls.enabled", message: "" }
      const check = function* (from: Record<string, unknown>, to: Record<string, unknown>, refused: boolean) {
        const old = admit(sample(from)).stored
        const crd = admit(sample(to), old).violations.map((v) => v.path)
        const schema = Api.doltDBUpdateViolations(
          (yield* Api.decodeDoltDB(old)).spec,
          (yield* Api.decodeDoltDB(sample(to))).spec
        ).map((v) => v.path)
        const why = `${JSON.stringify(from)} -> ${JSON.stringify(to)}`
        assert.deepStrictEqual(crd, refused ? [forbidden.path] : [], `CRD: ${why}`)
        assert.deepStrictEqual(schema, crd, `schema: ${why}`)
      }
      const replicated = { replicas: 3, replication: { enabled: true } }
      const single = { replicas: 1, replication: { enabled: false } }
      yield* check({ ...replicated }, { ...replicated, tls: { enabled: true } }, true)
      yield* check({ ...replicated, tls: { enabled: true } }, { ...replicated, tls: { enabled: false } }, true)
      yield* check({ ...replicated, tls: { enabled: true } }, { ...replicated }, true)
      // Both steps of the way round it: leave replication (TLS unchanged), then turn TLS on while standalone.
      yield* check({ ...replicated }, { ...single }, false)
      yield* check({ ...single }, { ...single, tls: { enabled: true } }, false)
      // Turning replication on together with TLS is the same change of transport for a running server.
      yield* check({ ...single }, { ...replicated, tls: { enabled: true } }, true)
      // Other TLS settings, and an unchanged tls.enabled, may change.
      yield* check(
        { ...replicated, tls: { enabled: true } },
        { ...replicated, tls: { enabled: true, requireSecureTransport: true } },
        false
      )
      yield* check({ ...replicated }, { ...replicated, tls: { enabled: false } }, false)
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
