import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric, Schema, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as EventSource from "../../src/runtime/EventSource.ts"
import * as WorkQueue from "../../src/runtime/WorkQueue.ts"

class WatchGone extends Schema.TaggedError<WatchGone>()("WatchGone", {}) {}

const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, Metric.MetricRegistry, new Map())

const event = (object: EventSource.Watched, type = "ADDED"): EventSource.WatchEvent<EventSource.Watched> => ({
  type,
  object
})

const drain = (queue: WorkQueue.WorkQueue) =>
  Effect.gen(function* () {
    const keys: Array<string> = []
    while ((yield* queue.len) > 0) {
      const key = yield* queue.take
      keys.push(key)
      yield* queue.done(key)
    }
    return keys
  })

describe("EventSource", () => {
  it.effect("mappers: self, controlling owner, annotation, label, referrers", () =>
    Effect.gen(function* () {
      const sts = {
        metadata: {
          name: "db",
          namespace: "prod",
          ownerReferences: [
            { apiVersion: "k8s.dolthub.com/v1alpha", kind: "DoltDB", name: "db", controller: true },
            { apiVersion: "k8s.dolthub.com/v1alpha", kind: "DoltDB", name: "not-controller" },
            { apiVersion: "other.example.com/v1", kind: "DoltDB", name: "other-group", controller: true }
          ]
        }
      }
      assert.deepStrictEqual(yield* EventSource.toSelf(event(sts)), ["prod/db"])
      assert.deepStrictEqual(
        yield* EventSource.toControllerOwner({ group: "k8s.dolthub.com", kind: "DoltDB" })(event(sts)),
        ["prod/db"]
      )
      const pod = {
        metadata: {
          name: "db-0",
          namespace: "prod",
          annotations: { "k8s.dolthub.com/doltdb": "db" },
          labels: { "app.kubernetes.io/name": "db" }
        }
      }
      assert.deepStrictEqual(yield* EventSource.toAnnotated("k8s.dolthub.com/doltdb")(event(pod, "DELETED")), [
        "prod/db"
      ])
      assert.deepStrictEqual(yield* EventSource.toLabelled("app.kubernetes.io/name")(event(pod)), ["prod/db"])
      assert.deepStrictEqual(yield* EventSource.toAnnotated("missing")(event(pod)), [])

      const users = new Map([["prod/pw", ["prod/alice", "prod/bob"]]])
      const secretToUsers = EventSource.toReferrers({
        label: "k8s.dolthub.com/watch",
        referrers: (secret: EventSource.Watched) =>
          Effect.succeed(
            users.get(EventSource.objectKey(secret.metadata?.namespace, secret.metadata?.name ?? "")) ?? []
          )
      })
      const watched = { metadata: { name: "pw", namespace: "prod", labels: { "k8s.dolthub.com/watch": "" } } }
      const unwatched = { metadata: { name: "pw", namespace: "prod" } }
      assert.deepStrictEqual(yield* secretToUsers(event(watched, "MODIFIED")), ["prod/alice", "prod/bob"])
      assert.deepStrictEqual(yield* secretToUsers(event(unwatched, "MODIFIED")), [])

      assert.deepStrictEqual(EventSource.parseObjectKey("prod/db"), { namespace: "prod", name: "db" })
      assert.deepStrictEqual(EventSource.parseObjectKey("cluster-wide"), { namespace: undefined, name: "cluster-wide" })
    })
  )

  it.effect("onlySpecChanges drops status-only updates of objects with a generation", () =>
    Effect.gen(function* () {
      const mapper = EventSource.onlySpecChanges(EventSource.toSelf)
      const db = (generation: number, extra: Record<string, unknown> = {}) => ({
        metadata: { name: "db", namespace: "prod", generation, ...extra }
      })
      assert.deepStrictEqual(yield* mapper(event(db(1))), ["prod/db"])
      assert.deepStrictEqual(yield* mapper(event(db(1), "MODIFIED")), [], "status-only update")
      assert.deepStrictEqual(yield* mapper(event(db(2), "MODIFIED")), ["prod/db"], "spec change")
      assert.deepStrictEqual(yield* mapper(event(db(2, { labels: { tier: "gold" } }), "MODIFIED")), ["prod/db"])
      assert.deepStrictEqual(
        yield* mapper(
          event(db(2, { labels: { tier: "gold" }, deletionTimestamp: "2026-11-26T00:00:00Z" }), "MODIFIED")
        ),
        ["prod/db"],
        "deletion started"
      )
      assert.deepStrictEqual(yield* mapper(event(db(2), "DELETED")), ["prod/db"])
      assert.deepStrictEqual(yield* mapper(event(db(2), "ADDED")), ["prod/db"], "recreated")
      const noGeneration = { metadata: { name: "cm", namespace: "prod" } }
      assert.deepStrictEqual(yield* mapper(event(noGeneration, "MODIFIED")), ["prod/cm"])
      assert.deepStrictEqual(yield* mapper(event(noGeneration, "MODIFIED")), ["prod/cm"], "no generation: always")
    })
  )

  it.effect("feed adds mapped keys and restarts a failed watch after a backoff", () =>
    Effect.gen(function* () {
      const queue = yield* WorkQueue.make({ name: "feed" })
      let starts = 0
      const events = Stream.suspend(() => {
        starts++
        const batch = Stream.fromIterable([
          event({ metadata: { name: `db${starts}`, namespace: "ns" } }),
          event({ metadata: { name: "shared", namespace: "ns" } })
        ])
        return starts === 1 ? Stream.concat(batch, Stream.fail(new WatchGone())) : Stream.concat(batch, Stream.never)
      })
      yield* Effect.forkChild(EventSource.feed({ queue, events, toKeys: EventSource.toSelf }), {
        startImmediately: true
      })
      yield* Effect.yieldNow
      assert.deepStrictEqual(yield* drain(queue), ["ns/db1", "ns/shared"])
      yield* TestClock.adjust("199 millis")
      assert.strictEqual(starts, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(starts, 2)
      assert.deepStrictEqual(yield* drain(queue), ["ns/db2", "ns/shared"])
    }).pipe(isolated)
  )
})
