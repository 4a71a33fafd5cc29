import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Api } from "../../src/index.ts"

const manifest = (spec: Record<string, unknown>) => ({
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "DoltDB",
  metadata: { name: "dolt", namespace: "db" },
  spec: { engineVersion: "1.83.6", replicas: 2, storage: { size: "10Gi" }, ...spec }
})

const failure = (u: unknown) => Effect.flip(Api.decodeDoltDB(u))

describe("DoltDB defaults", () => {
  it.effect("fills the nested server defaults the reference leaves at 0", () =>
    Effect.gen(function* () {
      const db = yield* Api.decodeDoltDB(manifest({}))
      assert.strictEqual(db.spec.server.listener.port, 3306)
      assert.strictEqual(db.spec.server.listener.host, "0.0.0.0")
      assert.strictEqual(db.spec.server.listener.maxConnections, 1024)
      assert.strictEqual(db.spec.server.cluster.remotesAPI.port, 50051)
      assert.strictEqual(db.spec.server.metrics.port, 11228)
      // info, not the reference's trace: at debug/trace Dolt logs query text, passwords of CREATE USER included.
      assert.strictEqual(db.spec.server.logLevel, "info")
      assert.strictEqual(db.spec.image, "dolthub/dolt")
      assert.strictEqual(db.spec.updateStrategy, "ReplicasFirstPrimaryLast")
      assert.strictEqual(db.spec.terminationGracePeriodSeconds, 60)
      assert.deepStrictEqual(db.spec.replication, { enabled: false, primary: { podIndex: 0, automaticFailover: true } })
      assert.deepStrictEqual(db.spec.globalConfig.commitAuthor, {
        name: "dolt kubernetes deployment",
        email: "dolt@kubernetes.deployment"
      })
      assert.isUndefined(db.spec.probes)
    })
  )

  it.effect("keeps user values and metadata it does not model", () =>
    Effect.gen(function* () {
      const input = manifest({ server: { listener: { port: 3307 } } })
      const withExtra = { ...input, metadata: { ...input.metadata, managedFields: [{ manager: "kubectl" }] } }
      const db = yield* Api.decodeDoltDB(withExtra)
      assert.strictEqual(db.spec.server.listener.port, 3307)
      assert.deepStrictEqual(db.metadata.managedFields, [{ manager: "kubectl" }])
    })
  )

  it.effect("decode(encode(decode(x))) equals decode(x)", () =>
    Effect.gen(function* () {
      const once = yield* Api.decodeDoltDB(manifest({ replication: { enabled: true } }))
      const twice = yield* Api.decodeDoltDB(yield* Api.encodeDoltDB(once))
      assert.deepStrictEqual(twice, once)
    })
  )
})

describe("DoltDB validation", () => {
  it.effect("names the field of a typo in an embedded Kubernetes type", () =>
    Effect.gen(function* () {
      const error = yield* failure(manifest({ affinity: { nodeAfinity: {} } }))
      assert.strictEqual(error._tag, "ApiValidationError")
      assert.deepStrictEqual(
        error.issues.map((i) => i.path),
        ["spec.affinity.nodeAfinity"]
      )
    })
  )

  it.effect("requires replicas with a clear message", () =>
    Effect.gen(function* () {
      const input = manifest({})
      const { replicas: _, ...spec } = input.spec
      const error = yield* failure({ ...input, spec })
      assert.strictEqual(error.issues[0]?.path, "spec.replicas")
      assert.include(error.message, "replicas is required")
    })
  )

  it.effect("rejects a primary podIndex outside the StatefulSet", () =>
    Effect.gen(function* () {
      const error = yield* failure(manifest({ replication: { enabled: true, primary: { podIndex: 2 } } }))
      assert.strictEqual(error.issues[0]?.path, "spec.replication.primary.podIndex")
    })
  )

  it.effect("rejects replication with a single replica", () =>
    Effect.gen(function* () {
      const error = yield* failure(manifest({ replicas: 1, replication: { enabled: true } }))
      assert.strictEqual(error.issues[0]?.path, "spec.replication.enabled")
    })
  )
})
