/**
 * The Kube contract: API-server behaviours the operator relies on, written once as a function of a `Kube` layer.
 * Run against the in-memory layer always, and against a real kube-apiserver when `DOLTDB_E2E_KUBECONFIG` is set.
 *
 * Uses only ConfigMaps and StatefulSets with `replicas: 0` so a running controller-manager changes nothing.
 * Everything waits with real time (bounded polling), since a real server garbage-collects asynchronously.
 */

import {
  ConfigMaps,
  Events,
  Kube,
  type KubeError,
  type KubeObject,
  type Resource,
  Services,
  StatefulSets
} from "@doltdb-op/core/services/Kube"
import { assert, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, type Layer, Schedule, Stream } from "effect"

export interface ContractOptions {
  readonly namespace: string
  /** Distinguishes object names between runs against a shared server. */
  readonly prefix: string
}

const cm = (namespace: string, name: string, data: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, ...extra }, data }) as KubeObject

const sts = (namespace: string, name: string, image = "busybox:1") =>
  ({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace },
    spec: {
      replicas: 0,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image }] }
      }
    }
  }) as KubeObject

/** Retries until `check` succeeds, for at most 30 s (GC is asynchronous on a real server). */
const eventually = <A, E, R>(check: Effect.Effect<A, E, R>) =>
  check.pipe(Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 300 }))

const expectError = <A>(effect: Effect.Effect<A, KubeError>, tag: KubeError["_tag"]) =>
  effect.pipe(
    Effect.flip,
    Effect.map((e) => {
      assert.strictEqual(e._tag, tag, `expected ${tag}, got ${e._tag}: ${e.message}`)
      return e
    })
  )

const gone = (res: Resource<KubeObject>, name: string, namespace: string) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    return yield* kube.get(res, name, { namespace }).pipe(
      Effect.matchEffect({
        onSuccess: () => Effect.fail(`${name} still exists`),
        onFailure: (e) => (e._tag === "NotFound" ? Effect.void : Effect.fail(`${name}: unexpected ${e._tag}`))
      })
    )
  })

export const kubeContract = (title: string, kubeLayer: Layer.Layer<Kube, unknown>, options: ContractOptions) =>
  layer(kubeLayer, { excludeTestServices: true, timeout: "60 seconds" })(title, (it) => {
    const ns = options.namespace
    const n = (name: string) => `${options.prefix}-${name}`

    it.effect("create, get, AlreadyExists and NotFound", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const created = yield* kube.create(ConfigMaps, cm(ns, n("basic"), { a: "1" }))
        assert.isString(created.metadata.uid)
        assert.isString(created.metadata.resourceVersion)
        const got = yield* kube.get(ConfigMaps, n("basic"), { namespace: ns })
        assert.deepStrictEqual(got.data, { a: "1" })
        yield* expectError(kube.create(ConfigMaps, cm(ns, n("basic"))), "AlreadyExists")
        yield* expectError(kube.get(ConfigMaps, n("missing"), { namespace: ns }), "NotFound")
        yield* expectError(kube.create(ConfigMaps, cm(ns, "Not_A_Name")), "Invalid")
      })
    )

    it.effect("a stale update conflicts (optimistic concurrency)", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const v1 = yield* kube.create(ConfigMaps, cm(ns, n("occ"), { a: "1" }))
        const v2 = yield* kube.replace(ConfigMaps, { ...v1, data: { a: "2" } })
        assert.notStrictEqual(v2.metadata.resourceVersion, v1.metadata.resourceVersion)
        yield* expectError(kube.replace(ConfigMaps, { ...v1, data: { a: "3" } }), "Conflict")
        yield* expectError(
          kube.mergePatch(
            ConfigMaps,
            n("occ"),
            { data: { a: "4" } },
            {
              namespace: ns,
              resourceVersion: v1.metadata.resourceVersion!
            }
          ),
          "Conflict"
        )
        yield* expectError(
          kube.delete(ConfigMaps, n("occ"), {
            namespace: ns,
            preconditions: { resourceVersion: v1.metadata.resourceVersion! }
          }),
          "Conflict"
        )
        const now = yield* kube.get(ConfigMaps, n("occ"), { namespace: ns })
        assert.deepStrictEqual(now.data, { a: "2" })
      })
    )

    it.effect("generation moves on spec changes only; status is a separate subresource", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const created = yield* kube.create(StatefulSets, sts(ns, n("gen")))
        assert.strictEqual(created.metadata.generation, 1)
        const labelled = yield* kube.mergePatch(
          StatefulSets,
          n("gen"),
          { metadata: { labels: { x: "y" } } },
          { namespace: ns }
        )
        assert.strictEqual(labelled.metadata.generation, 1)
        const statused = yield* kube.patchStatus(
          StatefulSets,
          n("gen"),
          { observedGeneration: 1, replicas: 0 },
          { namespace: ns }
        )
        assert.strictEqual(statused.metadata.generation, 1)
        assert.strictEqual((statused.status as { observedGeneration?: number }).observedGeneration, 1)
        // a spec change with a status in the body: generation moves, status is left alone (a merge patch without a
        // resourceVersion, since a running StatefulSet controller may write status at any moment)
        const changed = yield* kube.mergePatch(
          StatefulSets,
          n("gen"),
          { spec: { minReadySeconds: 5 }, status: { replicas: 0, observedGeneration: 99 } },
          { namespace: ns }
        )
        assert.strictEqual(changed.metadata.generation, 2)
        assert.notStrictEqual((changed.status as { observedGeneration?: number }).observedGeneration, 99)
        yield* expectError(
          kube.replace(StatefulSets, { ...statused, spec: { ...(statused.spec as object), minReadySeconds: 6 } }),
          "Conflict"
        )
        // a status patch does not touch the spec
        const after = yield* kube.patchStatus(
          StatefulSets,
          n("gen"),
          { observedGeneration: 2, replicas: 0 },
          { namespace: ns }
        )
        assert.strictEqual((after.spec as { minReadySeconds?: number }).minReadySeconds, 5)
        assert.strictEqual(after.metadata.generation, 2)
      })
    )

    it.effect("server-side apply: conflicts between managers, force, shared fields, removal of dropped fields", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const name = n("ssa")
        // an empty `data` is left out: the manager then applies no data field at all
        const applyAs = (manager: string, data: Record<string, string>, force = false) =>
          kube.apply(
            ConfigMaps,
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name, namespace: ns },
              ...(Object.keys(data).length === 0 ? {} : { data })
            },
            { fieldManager: manager, force }
          )
        yield* applyAs("alpha", { x: "1", y: "2", z: "3" })
        // same value: shared ownership, no conflict
        yield* applyAs("beta", { y: "2" })
        // different value on alpha's field: conflict naming the field and the manager
        const conflict = yield* expectError(applyAs("beta", { y: "2", x: "other" }), "Conflict")
        assert.include(conflict.message, "alpha")
        assert.include(conflict.message, ".data.x")
        // force takes it
        const forced = yield* applyAs("beta", { y: "2", x: "other" }, true)
        assert.deepStrictEqual(forced.data, { x: "other", y: "2", z: "3" })
        // alpha stops applying x (now beta's), y (shared) and z (alpha's only): only z goes away
        const dropped = yield* applyAs("alpha", {})
        assert.deepStrictEqual(dropped.data, { x: "other", y: "2" })
        // an Update by another manager takes the field; re-applying the old value then conflicts
        yield* kube.mergePatch(ConfigMaps, name, { data: { y: "edited" } }, { namespace: ns, fieldManager: "gamma" })
        yield* expectError(applyAs("beta", { y: "2", x: "other" }), "Conflict")
      })
    )

    it.effect("server-side apply merges keyed lists by name", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const name = n("ssa-list")
        const base = sts(ns, name)
        const container = (c: Record<string, unknown>) => ({
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          metadata: { name, namespace: ns },
          spec: { template: { spec: { containers: [c] } } }
        })
        yield* kube.apply(StatefulSets, base, { fieldManager: "owner" })
        const applied = yield* kube.apply(StatefulSets, container({ name: "main", env: [{ name: "A", value: "1" }] }), {
          fieldManager: "sidecar-env"
        })
        const containers = (applied.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } })
          .template.spec.containers
        assert.strictEqual(containers.length, 1)
        assert.strictEqual(containers[0]!.image, "busybox:1")
        assert.deepStrictEqual(containers[0]!.env, [{ name: "A", value: "1" }])
      })
    )

    it.effect(
      "server-side apply removes list items a manager stopped applying; a stale resourceVersion conflicts",
      () =>
        Effect.gen(function* () {
          const kube = yield* Kube
          const name = n("ssa-drop")
          const withEnv = (
            env: ReadonlyArray<{ name: string; value: string }>,
            extra: Record<string, unknown> = {}
          ) => {
            const base = sts(ns, name)
            const spec = base.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }
            return {
              ...base,
              metadata: { ...base.metadata, ...extra },
              spec: {
                ...spec,
                template: { ...spec.template, spec: { containers: [{ ...spec.template.spec.containers[0], env }] } }
              }
            } as KubeObject
          }
          const envOf = (o: KubeObject) =>
            (
              o.spec as { template: { spec: { containers: Array<{ env?: Array<{ name: string }> }> } } }
            ).template.spec.containers[0]!.env?.map((e) => e.name)
          const first = yield* kube.apply(
            StatefulSets,
            withEnv([
              { name: "A", value: "1" },
              { name: "B", value: "2" }
            ]),
            { fieldManager: "owner" }
          )
          assert.deepStrictEqual(envOf(first), ["A", "B"])
          const dropped = yield* kube.apply(StatefulSets, withEnv([{ name: "A", value: "1" }]), {
            fieldManager: "owner"
          })
          assert.deepStrictEqual(envOf(dropped), ["A"])
          yield* expectError(
            kube.apply(
              StatefulSets,
              withEnv([{ name: "A", value: "3" }], { resourceVersion: first.metadata.resourceVersion }),
              {
                fieldManager: "owner"
              }
            ),
            "Conflict"
          )
        })
    )

    it.effect("replace without a resourceVersion is unconditional; a delete precondition on uid conflicts", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const name = n("uncond")
        yield* kube.create(ConfigMaps, cm(ns, name, { a: "1" }))
        const replaced = yield* kube.replace(ConfigMaps, cm(ns, name, { a: "2" }))
        assert.deepStrictEqual(replaced.data, { a: "2" })
        yield* expectError(
          kube.delete(ConfigMaps, name, {
            namespace: ns,
            preconditions: { uid: "00000000-0000-0000-0000-000000000000" }
          }),
          "Conflict"
        )
        yield* kube.delete(ConfigMaps, name, { namespace: ns, preconditions: { uid: replaced.metadata.uid! } })
        yield* eventually(gone(ConfigMaps, name, ns))
      })
    )

    it.effect("a watch without a resourceVersion starts with the current objects as ADDED", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const app = n("watch-now")
        yield* kube.create(ConfigMaps, cm(ns, n("watch-now-a"), {}, { labels: { app } }))
        yield* kube.create(ConfigMaps, cm(ns, n("watch-now-b"), {}, { labels: { app } }))
        const events = yield* kube
          .watch(ConfigMaps, { namespace: ns, labelSelector: `app=${app}` })
          .pipe(Stream.take(2), Stream.runCollect, Effect.timeout("20 seconds"))
        assert.deepStrictEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`).sort(), [
          `ADDED ${n("watch-now-a")}`,
          `ADDED ${n("watch-now-b")}`
        ])
      })
    )

    it.effect("defaults are filled like the API server's; re-applying the same config is not a write", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const svc = {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: n("defaults"), namespace: ns },
          spec: { selector: { app: n("defaults") }, ports: [{ name: "tcp-dolt", port: 3306 }] }
        }
        const applied = yield* kube.apply(Services, svc, { fieldManager: "op" })
        const spec = applied.spec as {
          clusterIP: string
          type: string
          ports: Array<{ protocol: string; targetPort: number }>
        }
        assert.match(spec.clusterIP, /^\d+\.\d+\.\d+\.\d+$/)
        assert.strictEqual(spec.type, "ClusterIP")
        assert.deepStrictEqual([spec.ports[0]!.protocol, spec.ports[0]!.targetPort], ["TCP", 3306])
        const again = yield* kube.apply(Services, svc, { fieldManager: "op" })
        assert.strictEqual(again.metadata.resourceVersion, applied.metadata.resourceVersion)
        assert.strictEqual((again.spec as { clusterIP: string }).clusterIP, spec.clusterIP)

        const set = yield* kube.create(StatefulSets, sts(ns, n("defaults")))
        const s = set.spec as {
          podManagementPolicy: string
          updateStrategy: unknown
          revisionHistoryLimit: number
          persistentVolumeClaimRetentionPolicy: unknown
          template: { spec: { restartPolicy: string; containers: Array<{ imagePullPolicy: string }> } }
        }
        assert.strictEqual(s.podManagementPolicy, "OrderedReady")
        assert.deepStrictEqual(s.updateStrategy, { type: "RollingUpdate", rollingUpdate: { partition: 0 } })
        assert.strictEqual(s.revisionHistoryLimit, 10)
        assert.deepStrictEqual(s.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" })
        assert.strictEqual(s.template.spec.restartPolicy, "Always")
        assert.strictEqual(s.template.spec.containers[0]!.imagePullPolicy, "IfNotPresent")
      })
    )

    it.effect("finalizers hold a deleted object until they are removed", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const name = n("fin")
        yield* kube.create(ConfigMaps, cm(ns, name, {}, { finalizers: ["example.com/hold"] }))
        yield* kube.delete(ConfigMaps, name, { namespace: ns })
        const held = yield* kube.get(ConfigMaps, name, { namespace: ns })
        assert.isString(held.metadata.deletionTimestamp)
        assert.deepStrictEqual(held.metadata.finalizers, ["example.com/hold"])
        yield* kube.mergePatch(ConfigMaps, name, { metadata: { finalizers: null } }, { namespace: ns })
        yield* eventually(gone(ConfigMaps, name, ns))
      })
    )

    it.effect("garbage collection: background, foreground and orphan", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const ownerRef = (o: KubeObject) => ({
          ownerReferences: [
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              name: o.metadata.name,
              uid: o.metadata.uid!,
              blockOwnerDeletion: true
            }
          ]
        })
        // background
        const bg = yield* kube.create(ConfigMaps, cm(ns, n("gc-bg")))
        yield* kube.create(ConfigMaps, cm(ns, n("gc-bg-child"), {}, ownerRef(bg)))
        yield* kube.delete(ConfigMaps, n("gc-bg"), { namespace: ns, propagationPolicy: "Background" })
        yield* eventually(gone(ConfigMaps, n("gc-bg-child"), ns))
        // foreground: the owner waits (foregroundDeletion) for a dependent held by its own finalizer
        const fg = yield* kube.create(ConfigMaps, cm(ns, n("gc-fg")))
        yield* kube.create(
          ConfigMaps,
          cm(ns, n("gc-fg-child"), {}, { ...ownerRef(fg), finalizers: ["example.com/hold"] })
        )
        yield* kube.delete(ConfigMaps, n("gc-fg"), { namespace: ns, propagationPolicy: "Foreground" })
        const waiting = yield* kube.get(ConfigMaps, n("gc-fg"), { namespace: ns })
        assert.isString(waiting.metadata.deletionTimestamp)
        assert.include(waiting.metadata.finalizers ?? [], "foregroundDeletion")
        const child = yield* eventually(
          kube.get(ConfigMaps, n("gc-fg-child"), { namespace: ns }).pipe(
            Effect.filterOrFail(
              (c) => c.metadata.deletionTimestamp !== undefined,
              () => "child not deleting yet"
            )
          )
        )
        assert.isString(child.metadata.deletionTimestamp)
        yield* kube.mergePatch(ConfigMaps, n("gc-fg-child"), { metadata: { finalizers: null } }, { namespace: ns })
        yield* eventually(gone(ConfigMaps, n("gc-fg-child"), ns))
        yield* eventually(gone(ConfigMaps, n("gc-fg"), ns))
        // orphan: the dependent stays, without the reference
        const or = yield* kube.create(ConfigMaps, cm(ns, n("gc-or")))
        yield* kube.create(ConfigMaps, cm(ns, n("gc-or-child"), {}, ownerRef(or)))
        yield* kube.delete(ConfigMaps, n("gc-or"), { namespace: ns, propagationPolicy: "Orphan" })
        yield* eventually(gone(ConfigMaps, n("gc-or"), ns))
        const orphan = yield* kube.get(ConfigMaps, n("gc-or-child"), { namespace: ns })
        assert.strictEqual(orphan.metadata.ownerReferences, undefined)
      })
    )

    it.effect("label selectors: equality and set-based", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const app = n("sel")
        yield* kube.create(ConfigMaps, cm(ns, n("sel-a"), {}, { labels: { app, tier: "db", role: "primary" } }))
        yield* kube.create(ConfigMaps, cm(ns, n("sel-b"), {}, { labels: { app, tier: "db", role: "standby" } }))
        yield* kube.create(ConfigMaps, cm(ns, n("sel-c"), {}, { labels: { app, tier: "cache" } }))
        const names = (selector: string) =>
          kube
            .list(ConfigMaps, { namespace: ns, labelSelector: `app=${app},${selector}` })
            .pipe(Effect.map((l) => l.items.map((i) => i.metadata.name).sort()))
        assert.deepStrictEqual(yield* names("tier=db"), [n("sel-a"), n("sel-b")])
        assert.deepStrictEqual(yield* names("tier!=db"), [n("sel-c")])
        assert.deepStrictEqual(yield* names("role in (primary,replica)"), [n("sel-a")])
        assert.deepStrictEqual(yield* names("role notin (primary)"), [n("sel-b"), n("sel-c")])
        assert.deepStrictEqual(yield* names("!role"), [n("sel-c")])
        assert.deepStrictEqual(yield* names("role"), [n("sel-a"), n("sel-b")])
        const byField = yield* kube.list(ConfigMaps, { namespace: ns, fieldSelector: `metadata.name=${n("sel-b")}` })
        assert.deepStrictEqual(
          byField.items.map((i) => i.metadata.name),
          [n("sel-b")]
        )
      })
    )

    it.effect("a watch resumed from a resourceVersion delivers the later events in order", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const name = n("watch")
        const created = yield* kube.create(ConfigMaps, cm(ns, name, { v: "0" }, { labels: { w: name } }))
        yield* kube.mergePatch(ConfigMaps, name, { data: { v: "1" } }, { namespace: ns })
        yield* kube.mergePatch(ConfigMaps, name, { data: { v: "2" } }, { namespace: ns })
        yield* kube.delete(ConfigMaps, name, { namespace: ns })
        const events = yield* kube
          .watch(ConfigMaps, {
            namespace: ns,
            labelSelector: `w=${name}`,
            resourceVersion: created.metadata.resourceVersion!
          })
          .pipe(Stream.take(3), Stream.runCollect, Effect.timeout("20 seconds"))
        assert.deepStrictEqual(
          events.map((e) => [e.type, (e.object.data as { v: string }).v]),
          [
            ["MODIFIED", "1"],
            ["MODIFIED", "2"],
            ["DELETED", "2"]
          ]
        )
      })
    )

    it.effect("a label-filtered watch sees objects enter and leave the selection", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const name = n("watch-sel")
        const start = yield* kube.create(ConfigMaps, cm(ns, name))
        const fiber = yield* kube
          .watch(ConfigMaps, {
            namespace: ns,
            labelSelector: `pick=${name}`,
            resourceVersion: start.metadata.resourceVersion!
          })
          .pipe(Stream.take(2), Stream.runCollect, Effect.timeout("20 seconds"), Effect.forkChild)
        yield* kube.mergePatch(ConfigMaps, name, { metadata: { labels: { pick: name } } }, { namespace: ns })
        yield* kube.mergePatch(ConfigMaps, name, { metadata: { labels: { pick: null } } }, { namespace: ns })
        const events = yield* Fiber.join(fiber)
        assert.deepStrictEqual(
          events.map((e) => e.type),
          ["ADDED", "DELETED"]
        )
      })
    )

    it.effect("an informer starts with a SYNC of the current state, then streams changes", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const app = n("inf")
        yield* kube.create(ConfigMaps, cm(ns, n("inf-a"), {}, { labels: { app } }))
        const synced = yield* Deferred.make<void>()
        const fiber = yield* kube.informer(ConfigMaps, { namespace: ns, labelSelector: `app=${app}` }).pipe(
          Stream.tap((e) => (e.type === "SYNC" ? Deferred.succeed(synced, undefined) : Effect.void)),
          Stream.take(2),
          Stream.runCollect,
          Effect.timeout("20 seconds"),
          Effect.forkChild
        )
        yield* Deferred.await(synced)
        yield* kube.create(ConfigMaps, cm(ns, n("inf-b"), {}, { labels: { app } }))
        const events = yield* Fiber.join(fiber)
        const first = events[0]!
        assert.strictEqual(first.type, "SYNC")
        if (first.type === "SYNC")
          assert.deepStrictEqual(
            first.items.map((i) => i.metadata.name),
            [n("inf-a")]
          )
        const second = events[1]!
        assert.strictEqual(second.type, "ADDED")
        if (second.type !== "SYNC") assert.strictEqual(second.object.metadata.name, n("inf-b"))
      })
    )

    it.effect("events are recorded against their object", () =>
      Effect.gen(function* () {
        const kube = yield* Kube
        const target = yield* kube.create(ConfigMaps, cm(ns, n("evt")))
        yield* kube.emitEvent({
          regarding: {
            apiVersion: "v1",
            kind: "ConfigMap",
            name: target.metadata.name,
            uid: target.metadata.uid!,
            namespace: ns
          },
          type: "Normal",
          reason: "ContractTest",
          action: "Test",
          note: "hello",
          reportingController: "k8s.dolthub.com/doltdb-operator",
          reportingInstance: "contract"
        })
        const listed = yield* kube.list(Events, { namespace: ns })
        const mine = listed.items.filter((e) => (e.regarding as { uid?: string }).uid === target.metadata.uid)
        assert.strictEqual(mine.length, 1)
        assert.strictEqual(mine[0]!.reason, "ContractTest")
        assert.strictEqual(mine[0]!.note, "hello")
      })
    )
  })
