import type { ServerResponse } from "node:http"
import { ConfigMaps, type KubeError, StatefulSets } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import * as KubeLive from "../../src/live/KubeLive.ts"
import { fakeApiServer, json, kubeConfigFor, status } from "./FakeApiServer.ts"

const cmJson = (name: string, rv: string, data: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "ns", resourceVersion: rv, uid: `uid-${name}` },
  data
})

const tagOf = (effect: Effect.Effect<unknown, KubeError>) =>
  effect.pipe(
    Effect.flip,
    Effect.map((e) => e._tag)
  )

describe("KubeLive", () => {
  it.live("maps API server failures to tagged errors once", () =>
    Effect.gen(function* () {
      const cases: Array<[number, string, KubeError["_tag"]]> = [
        [404, "NotFound", "NotFound"],
        [409, "Conflict", "Conflict"],
        [409, "AlreadyExists", "AlreadyExists"],
        [403, "Forbidden", "Forbidden"],
        [401, "Unauthorized", "Forbidden"],
        [422, "Invalid", "Invalid"],
        [400, "BadRequest", "Invalid"],
        [410, "Expired", "Gone"],
        [504, "Timeout", "Timeout"],
        [500, "ServerTimeout", "Timeout"],
        [429, "TooManyRequests", "Unavailable"],
        [503, "ServiceUnavailable", "Unavailable"]
      ]
      let current = 0
      const server = yield* fakeApiServer((_req, res) => {
        const [code, reason] = cases[current]!
        status(res, code, reason, `${reason} for the test`)
      })
      const kube = KubeLive.make(server.kubeConfig, { retries: 0 })
      for (const [i, [code, reason, tag]] of cases.entries()) {
        current = i
        const error = yield* kube.get(ConfigMaps, "x", { namespace: "ns" }).pipe(Effect.flip)
        assert.strictEqual(error._tag, tag, `${code} ${reason}`)
        assert.strictEqual(error.message, `${reason} for the test`)
        assert.strictEqual(error.verb, "get")
        assert.strictEqual(error.name, "x")
      }
    })
  )

  it.live("an unreachable server is Unavailable; a server that never answers is a Timeout", () =>
    Effect.gen(function* () {
      const closedPort = yield* Effect.scoped(fakeApiServer(() => {}).pipe(Effect.map((s) => s.port)))
      const refused = KubeLive.make(kubeConfigFor(`http://127.0.0.1:${closedPort}`), { retries: 0 })
      assert.strictEqual(yield* tagOf(refused.get(ConfigMaps, "x", { namespace: "ns" })), "Unavailable")
      const hanging = yield* fakeApiServer(() => {
        // never answers
      })
      const slow = KubeLive.make(hanging.kubeConfig, { retries: 0, requestTimeout: "200 millis" })
      assert.strictEqual(yield* tagOf(slow.get(ConfigMaps, "x", { namespace: "ns" })), "Timeout")
      assert.strictEqual(yield* tagOf(slow.watch(ConfigMaps, { namespace: "ns" }).pipe(Stream.runDrain)), "Timeout")
    })
  )

  it.live("reuses one connection pool instead of client-node's agent per request", () =>
    Effect.gen(function* () {
      const server = yield* fakeApiServer((_req, res) => json(res, 200, cmJson("a", "1")))
      const kube = yield* KubeLive.makeScoped(server.kubeConfig)
      for (let i = 0; i < 10; i++) yield* kube.get(ConfigMaps, "a", { namespace: "ns" })
      assert.strictEqual(server.requests.length, 10)
      // client-node alone opens one connection per request (10 here); the pool keeps it to one or two
      assert.isAtMost(server.connections(), 2)
    })
  )

  it.live("lists in pages and keeps the first page's resourceVersion", () =>
    Effect.gen(function* () {
      const server = yield* fakeApiServer((req, res) => {
        const page = req.query.continue === undefined ? 0 : Number(req.query.continue)
        const names = ["a", "b", "c", "d", "e"].slice(page * 2, page * 2 + 2)
        json(res, 200, {
          kind: "ConfigMapList",
          metadata: { resourceVersion: String(100 + page), ...(page < 2 ? { continue: String(page + 1) } : {}) },
          items: names.map((n) => ({ metadata: { name: n, namespace: "ns" } }))
        })
      })
      const kube = KubeLive.make(server.kubeConfig, { pageSize: 2 })
      const listed = yield* kube.list(ConfigMaps, { namespace: "ns", labelSelector: "app=db" })
      assert.deepStrictEqual(
        listed.items.map((i) => [i.kind, i.metadata.name]),
        [
          ["ConfigMap", "a"],
          ["ConfigMap", "b"],
          ["ConfigMap", "c"],
          ["ConfigMap", "d"],
          ["ConfigMap", "e"]
        ]
      )
      assert.strictEqual(listed.resourceVersion, "100")
      assert.deepStrictEqual(
        server.requests.map((r) => [r.query.limit, r.query.continue, r.query.labelSelector]),
        [
          ["2", undefined, "app=db"],
          ["2", "1", "app=db"],
          ["2", "2", "app=db"]
        ]
      )
    })
  )

  it.live("retries idempotent requests on 5xx, never creates", () =>
    Effect.gen(function* () {
      let gets = 0
      const server = yield* fakeApiServer((req, res) => {
        if (req.method === "GET" && ++gets < 3) return status(res, 503, "ServiceUnavailable", "busy")
        if (req.method === "GET") return json(res, 200, cmJson("a", "7"))
        status(res, 503, "ServiceUnavailable", "busy")
      })
      const kube = KubeLive.make(server.kubeConfig, { retries: 3 })
      const got = yield* kube.get(ConfigMaps, "a", { namespace: "ns" })
      assert.strictEqual(got.metadata.resourceVersion, "7")
      assert.strictEqual(gets, 3)
      const created = yield* tagOf(kube.create(ConfigMaps, cmJson("b", "")))
      assert.strictEqual(created, "Unavailable")
      assert.strictEqual(server.requests.filter((r) => r.method === "POST").length, 1)
    })
  )

  it.live("sends server-side apply, status merge patches and deletes the way the API server expects", () =>
    Effect.gen(function* () {
      const server = yield* fakeApiServer((req, res) => {
        if (req.method === "DELETE") return json(res, 200, { kind: "Status", status: "Success" })
        json(res, 200, {
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          metadata: { name: "db", namespace: "ns", resourceVersion: "9" }
        })
      })
      const kube = KubeLive.make(server.kubeConfig)
      yield* kube.apply(
        StatefulSets,
        {
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          metadata: { name: "db", namespace: "ns" },
          spec: { replicas: 3 }
        },
        { fieldManager: "doltdb-operator", force: true }
      )
      yield* kube.patchStatus(StatefulSets, "db", { readyReplicas: 2 }, { namespace: "ns", resourceVersion: "8" })
      yield* kube.delete(StatefulSets, "db", {
        namespace: "ns",
        propagationPolicy: "Orphan",
        preconditions: { uid: "u1" }
      })
      const [apply, statusPatch, del] = server.requests
      assert.strictEqual(apply!.method, "PATCH")
      assert.strictEqual(apply!.path, "/apis/apps/v1/namespaces/ns/statefulsets/db")
      assert.strictEqual(apply!.headers["content-type"], "application/apply-patch+yaml")
      assert.deepStrictEqual(apply!.query, { fieldManager: "doltdb-operator", force: "true" })
      assert.deepStrictEqual((apply!.body as { spec: unknown }).spec, { replicas: 3 })
      assert.strictEqual(apply!.headers.authorization, "Bearer secret-token")
      assert.strictEqual(statusPatch!.path, "/apis/apps/v1/namespaces/ns/statefulsets/db/status")
      assert.strictEqual(statusPatch!.headers["content-type"], "application/merge-patch+json")
      assert.deepStrictEqual(statusPatch!.body, { status: { readyReplicas: 2 }, metadata: { resourceVersion: "8" } })
      assert.strictEqual(del!.method, "DELETE")
      assert.deepStrictEqual(del!.body, {
        apiVersion: "v1",
        kind: "DeleteOptions",
        propagationPolicy: "Orphan",
        preconditions: { uid: "u1" }
      })
    })
  )

  it.live("the informer relists after 410, resumes after a dropped connection and after errors", () =>
    Effect.gen(function* () {
      let lists = 0
      let watches = 0
      const open: Array<ServerResponse> = []
      const line = (res: ServerResponse, type: string, object: unknown) =>
        res.write(`${JSON.stringify({ type, object })}\n`)
      const server = yield* fakeApiServer((req, res) => {
        if (req.query.watch !== "true") {
          lists++
          const items = lists === 1 ? [cmJson("a", "5")] : [cmJson("a", "6"), cmJson("b", "7")]
          return json(res, 200, {
            kind: "ConfigMapList",
            metadata: { resourceVersion: lists === 1 ? "5" : "7" },
            items
          })
        }
        watches++
        if (watches === 3) return status(res, 500, "InternalError", "etcd hiccup")
        res.writeHead(200, { "content-type": "application/json" })
        open.push(res)
        if (watches === 1) {
          line(res, "MODIFIED", cmJson("a", "6", { v: "1" }))
          line(res, "ERROR", { kind: "Status", code: 410, reason: "Expired", message: "too old resource version" })
        } else if (watches === 2) {
          line(res, "ADDED", cmJson("c", "8"))
          // the connection drops mid-stream
          setTimeout(() => res.socket?.destroy(), 20)
        } else {
          line(res, "BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "9" } })
          line(res, "MODIFIED", cmJson("c", "10", { v: "2" }))
        }
      })
      const kube = KubeLive.make(server.kubeConfig)
      const fiber = yield* kube
        .informer(ConfigMaps, { namespace: "ns", backoff: { min: "10 millis", max: "50 millis" } })
        .pipe(Stream.take(5), Stream.runCollect, Effect.forkChild)
      const events = yield* Fiber.join(fiber).pipe(Effect.timeout("10 seconds"))
      assert.deepStrictEqual(
        events.map((e) =>
          e.type === "SYNC"
            ? `SYNC@${e.resourceVersion}:${e.items.length}`
            : `${e.type}:${e.object.metadata.name}@${e.resourceVersion}`
        ),
        ["SYNC@5:1", "MODIFIED:a@6", "SYNC@7:2", "ADDED:c@8", "MODIFIED:c@10"]
      )
      const watchVersions = server.requests.filter((r) => r.query.watch === "true").map((r) => r.query.resourceVersion)
      assert.deepStrictEqual(watchVersions, ["5", "7", "8", "8"])
      assert.strictEqual(lists, 2)
      for (const r of open) r.end()
    })
  )
})
