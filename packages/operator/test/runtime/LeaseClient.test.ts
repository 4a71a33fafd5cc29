import { InMemoryKube } from "@doltdb-op/k8s"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { LeaseClient, type LeaseRecord } from "../../src/runtime/LeaseClient.ts"

const lease = { namespace: "ops", name: "k8s.dolthub.com" }
const record = (holderIdentity: string, renewTime: number): LeaseRecord => ({
  holderIdentity,
  leaseDurationSeconds: 15,
  acquireTime: 1_764_000_000_123,
  renewTime,
  leaseTransitions: 0
})

// One suite, two implementations: the in-memory fake must behave like the Kube-backed adapter.
const layers: ReadonlyArray<[string, Layer.Layer<LeaseClient>]> = [
  ["layerMemory", LeaseClient.layerMemory],
  ["layerKube over InMemoryKube", LeaseClient.layerKube.pipe(Layer.provide(InMemoryKube.layer()))]
]

describe("LeaseClient", () => {
  for (const [name, layer] of layers) {
    it.effect(`${name}: NotFound, create, AlreadyExists as Conflict, optimistic update`, () =>
      Effect.gen(function* () {
        const client = yield* LeaseClient
        assert.strictEqual((yield* Effect.flip(client.get(lease)))._tag, "LeaseNotFound")
        const created = yield* client.create(lease, record("a", 1_764_000_000_456))
        assert.deepStrictEqual(created.record, record("a", 1_764_000_000_456), "times round-trip at ms precision")
        assert.strictEqual((yield* Effect.flip(client.create(lease, record("b", 0))))._tag, "LeaseConflict")
        const read = yield* client.get(lease)
        assert.strictEqual(read.resourceVersion, created.resourceVersion)
        const renewed = yield* client.update(lease, record("a", 1_764_000_002_000), read.resourceVersion)
        assert.notStrictEqual(renewed.resourceVersion, read.resourceVersion)
        const stale = yield* Effect.flip(client.update(lease, record("b", 1_764_000_003_000), read.resourceVersion))
        assert.strictEqual(stale._tag, "LeaseConflict")
        assert.strictEqual((yield* client.get(lease)).record.holderIdentity, "a")
        const missing = yield* Effect.flip(client.update({ ...lease, name: "other" }, record("a", 0), "1"))
        assert.strictEqual(missing._tag, "LeaseNotFound")
      }).pipe(Effect.provide(layer))
    )
  }
})
