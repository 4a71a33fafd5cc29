/**
 * Random sequences of writes against the in-memory API server, checking what watches and informers rely on:
 * resourceVersions only grow, replaying the event log from the start rebuilds exactly what a list returns, a watch
 * resumed from any resourceVersion delivers exactly the later events, and generation moves only with the spec.
 */

import { ConfigMaps, Kube, type KubeObject, StatefulSets } from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema, Stream } from "effect"
import type { StoreEvent } from "../src/memory/ApiServerState.ts"
import { InMemoryKube } from "../src/memory/InMemoryKube.ts"

const Small = Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 3 }))
const Op = Schema.Union([
  Schema.TaggedStruct("Apply", { name: Small, value: Small, manager: Small, force: Schema.Boolean }),
  Schema.TaggedStruct("Patch", { name: Small, value: Small, stale: Schema.Boolean }),
  Schema.TaggedStruct("Label", { name: Small, value: Small }),
  Schema.TaggedStruct("Status", { name: Small, value: Small }),
  Schema.TaggedStruct("Hold", { name: Small }),
  Schema.TaggedStruct("Release", { name: Small }),
  Schema.TaggedStruct("Delete", { name: Small, orphan: Schema.Boolean })
])
const Ops = Schema.Array(Op).check(Schema.isMaxLength(40))

const sts = (name: string, value: number): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name, namespace: "ns" },
  spec: { replicas: value, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } } } }
})

describe("in-memory API server under random writes", () => {
  it.effect.prop(
    "the event log, watches and lists agree",
    [Ops],
    ([ops]) =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const { state } = yield* InMemoryKube
        const events: Array<StoreEvent> = []
        state.listeners.add((e) => events.push(e))
        const name = (i: number) => `o-${i}`
        // a ConfigMap owned by each StatefulSet, so deletions cascade
        for (const op of ops) {
          const n = name(op.name)
          const done = Effect.gen(function* () {
            switch (op._tag) {
              case "Apply": {
                const applied = yield* kube.apply(StatefulSets, sts(n, op.value), {
                  fieldManager: `m${op.manager}`,
                  force: op.force
                })
                yield* kube.apply(
                  ConfigMaps,
                  {
                    apiVersion: "v1",
                    kind: "ConfigMap",
                    metadata: {
                      name: n,
                      namespace: "ns",
                      ownerReferences: [
                        { apiVersion: "apps/v1", kind: "StatefulSet", name: n, uid: applied.metadata.uid! }
                      ]
                    },
                    data: { v: String(op.value) }
                  },
                  { fieldManager: "child", force: true }
                )
                return
              }
              case "Patch": {
                const current = yield* kube.get(StatefulSets, n, { namespace: "ns" })
                const rv = op.stale ? "1" : current.metadata.resourceVersion!
                const before = current.metadata.generation!
                const patched = yield* kube.mergePatch(
                  StatefulSets,
                  n,
                  { spec: { replicas: op.value } },
                  {
                    namespace: "ns",
                    resourceVersion: rv
                  }
                )
                const changed = (current.spec as { replicas: number }).replicas !== op.value
                assert.strictEqual(patched.metadata.generation, changed ? before + 1 : before)
                return
              }
              case "Label": {
                const before = yield* kube.get(StatefulSets, n, { namespace: "ns" })
                const after = yield* kube.mergePatch(
                  StatefulSets,
                  n,
                  { metadata: { labels: { v: String(op.value) } } },
                  {
                    namespace: "ns"
                  }
                )
                assert.strictEqual(after.metadata.generation, before.metadata.generation)
                return
              }
              case "Status": {
                const before = yield* kube.get(StatefulSets, n, { namespace: "ns" })
                const after = yield* kube.patchStatus(StatefulSets, n, { replicas: op.value }, { namespace: "ns" })
                assert.strictEqual(after.metadata.generation, before.metadata.generation)
                assert.deepStrictEqual(after.spec, before.spec)
                return
              }
              case "Hold":
                yield* kube.mergePatch(
                  StatefulSets,
                  n,
                  { metadata: { finalizers: ["example.com/hold"] } },
                  {
                    namespace: "ns"
                  }
                )
                return
              case "Release":
                yield* kube.mergePatch(StatefulSets, n, { metadata: { finalizers: null } }, { namespace: "ns" })
                return
              case "Delete":
                yield* kube.delete(StatefulSets, n, {
                  namespace: "ns",
                  propagationPolicy: op.orphan ? "Orphan" : "Background"
                })
                return
            }
          })
          // conflicts, missing objects and writes to terminating objects are expected outcomes of random ops
          yield* done.pipe(Effect.catchTags({ Conflict: () => Effect.void, NotFound: () => Effect.void }))
        }

        // resourceVersions strictly grow along the log
        for (let i = 1; i < events.length; i++) {
          assert.isAbove(events[i]!.resourceVersion, events[i - 1]!.resourceVersion)
        }
        // folding the log rebuilds the store, for each kind
        for (const res of [StatefulSets, ConfigMaps]) {
          const folded = new Map<string, string>()
          for (const e of events.filter((e) => e.object.kind === res.kind)) {
            if (e.type === "DELETED") folded.delete(e.object.metadata.name)
            else folded.set(e.object.metadata.name, e.object.metadata.resourceVersion!)
          }
          const listed = yield* kube.list(res, { namespace: "ns" })
          assert.deepStrictEqual(
            [...folded.entries()].sort(),
            listed.items.map((o) => [o.metadata.name, o.metadata.resourceVersion!] as [string, string]).sort()
          )
        }
        // a watch resumed from the middle delivers exactly the later events of its kind, in order
        const stsEvents = events.filter((e) => e.object.kind === "StatefulSet")
        if (stsEvents.length >= 2) {
          const from = stsEvents[Math.floor(stsEvents.length / 2)]!
          const expected = stsEvents.filter((e) => e.resourceVersion > from.resourceVersion)
          const replayed = yield* kube
            .watch(StatefulSets, { namespace: "ns", resourceVersion: String(from.resourceVersion) })
            .pipe(Stream.take(expected.length), Stream.runCollect)
          assert.deepStrictEqual(
            replayed.map((e) => `${e.type} ${e.object.metadata.name}@${e.resourceVersion}`),
            expected.map((e) => `${e.type} ${e.object.metadata.name}@${e.resourceVersion}`)
          )
        }
      }).pipe(Effect.provide(InMemoryKube.layer())),
    { arbitrary: { runs: 150 } }
  )
})
