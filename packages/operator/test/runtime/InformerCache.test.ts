/** The informer cache: which reads it answers, which it leaves to the API server, and read-your-writes. */
import { type KubeObject, type KubeShape, Pods, Secrets } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as InformerCache from "../../src/runtime/InformerCache.ts"

const pod = (ns: string, name: string, rv: string, labels: Record<string, string> = { app: "db" }): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns, resourceVersion: rv, labels }
})

/** A base client that records the reads reaching it and answers writes with resourceVersion `rv`. */
const server = (rv: () => string) => {
  const calls: Array<string> = []
  const base = {
    get: (_res: unknown, name: string) => {
      calls.push(`get ${name}`)
      return Effect.succeed(pod("a", name, rv()))
    },
    list: () => {
      calls.push("list")
      return Effect.succeed({ items: [], resourceVersion: rv() })
    },
    patchStatus: (_res: unknown, name: string) => Effect.succeed(pod("a", name, rv())),
    delete: () => Effect.void
  } as unknown as KubeShape
  return { calls, base }
}

describe("InformerCache", () => {
  it.effect("answers lists and gets of a watched kind once synced, with label and namespace filters", () =>
    Effect.gen(function* () {
      const cache = InformerCache.make()
      const { calls, base } = server(() => "1")
      const client = cache.client(base)
      const onEvent = cache.register(Pods, { gets: true })
      yield* client.list(Pods, { namespace: "a" })
      assert.deepStrictEqual(calls, ["list"], "not synced yet: the server answers")
      onEvent({
        type: "SYNC",
        items: [pod("a", "db-0", "5"), pod("b", "db-0", "6"), pod("a", "x", "7", {})],
        resourceVersion: "7"
      })
      const listed = yield* client.list(Pods, { namespace: "a", labelSelector: "app=db" })
      assert.deepStrictEqual(
        listed.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
        ["a/db-0"]
      )
      onEvent({ type: "ADDED", object: pod("a", "db-1", "8"), resourceVersion: "8" })
      onEvent({ type: "DELETED", object: pod("a", "db-0", "9"), resourceVersion: "9" })
      // A late event from a second informer must not revive the deleted pod.
      onEvent({ type: "MODIFIED", object: pod("a", "db-0", "6"), resourceVersion: "6" })
      const after = yield* client.list(Pods, { namespace: "a", labelSelector: "app=db" })
      assert.deepStrictEqual(
        after.items.map((p) => p.metadata.name),
        ["db-1"]
      )
      assert.strictEqual((yield* client.get(Pods, "db-1", { namespace: "a" })).metadata.resourceVersion, "8")
      assert.deepStrictEqual(calls, ["list"], "served from memory")
      // A miss goes to the server (it may have been created a moment ago); field selectors too.
      yield* client.get(Pods, "db-7", { namespace: "a" })
      yield* client.list(Pods, { namespace: "a", fieldSelector: "spec.nodeName=n1" })
      assert.deepStrictEqual(calls, ["list", "get db-7", "list"])
      assert.strictEqual(cache.hits(), 3)
    })
  )

  it.effect("a source with its own label selector or another namespace answers nothing; gets only when asked", () =>
    Effect.gen(function* () {
      const cache = InformerCache.make()
      const { calls, base } = server(() => "1")
      const client = cache.client(base)
      cache.register(Secrets, { labelSelector: "k8s.dolthub.com/watch" })({
        type: "SYNC",
        items: [],
        resourceVersion: "1"
      })
      cache.register(Pods, { namespace: "a" })({ type: "SYNC", items: [pod("a", "db-0", "1")], resourceVersion: "1" })
      yield* client.list(Secrets, { namespace: "a" })
      yield* client.list(Pods, { namespace: "b" })
      yield* client.list(Pods, {})
      yield* client.list(Pods, { namespace: "a" })
      // Not the controller's own kind: gets stay with the server.
      yield* client.get(Pods, "db-0", { namespace: "a" })
      assert.deepStrictEqual(calls, ["list", "list", "list", "get db-0"])
    })
  )

  it.effect("read your writes: after our write, an older cached copy is read from the server", () =>
    Effect.gen(function* () {
      const cache = InformerCache.make()
      let rv = 10
      const { calls, base } = server(() => String(rv))
      const client = cache.client(base)
      const onEvent = cache.register(Pods, { gets: true })
      onEvent({ type: "SYNC", items: [pod("a", "db-0", "5")], resourceVersion: "5" })
      yield* client.patchStatus(Pods, "db-0", {}, { namespace: "a" })
      const stale = yield* client.get(Pods, "db-0", { namespace: "a" })
      assert.strictEqual(stale.metadata.resourceVersion, "10", "the server's copy, not the cache's rv 5")
      yield* client.list(Pods, { namespace: "a" })
      assert.deepStrictEqual(calls, ["get db-0", "list"])
      // The write's event reaches the cache: memory answers again.
      onEvent({ type: "MODIFIED", object: pod("a", "db-0", "10"), resourceVersion: "10" })
      rv = 11
      assert.strictEqual((yield* client.get(Pods, "db-0", { namespace: "a" })).metadata.resourceVersion, "10")
      assert.deepStrictEqual(calls, ["get db-0", "list"])
      // After our delete, the cached copy is never served.
      yield* client.delete(Pods, "db-0", { namespace: "a" })
      yield* client.get(Pods, "db-0", { namespace: "a" })
      assert.deepStrictEqual(calls, ["get db-0", "list", "get db-0"])
    })
  )
})
