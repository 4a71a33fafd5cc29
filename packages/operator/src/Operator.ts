/**
 * The operator proper: its controllers, their work queues and the watches that feed them. The same program runs
 * against a real cluster (live layers) and inside the simulation (in-memory layers): it needs only the `Kube` and
 * `Dolt` services.
 */
import { Builders, type DoltDBPlanner } from "@doltdb-op/core"
import type { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, Pods, type Resource } from "@doltdb-op/core/services/Kube"
import { Effect, type Scope, Stream } from "effect"
import { reconcileDoltDB } from "./reconcilers/doltdb/reconcileDoltDB.ts"
import { childResources, rawDoltDBs } from "./reconcilers/Resources.ts"
import * as Controller from "./runtime/Controller.ts"
import * as EventSource from "./runtime/EventSource.ts"
import * as WorkQueue from "./runtime/WorkQueue.ts"

export interface OperatorOptions {
  /** Namespaces to watch; empty = all. */
  readonly namespaces: ReadonlyArray<string>
  readonly doltdbWorkers: number
  readonly fieldManager: string
  /** This process's identity (Events' reportingInstance). */
  readonly instance: string
  readonly clusterDomain: string
  readonly replicationDefaults: DoltDBPlanner.ReplicationDefaults
}

export const FieldManager = "doltdb-operator"

const informerEvents = <A>(
  res: Resource<A>,
  namespaces: ReadonlyArray<string>
): Effect.Effect<Stream.Stream<EventSource.WatchEvent<A>>, never, Kube> =>
  Effect.map(Kube, (kube) => {
    const streams = (namespaces.length === 0 ? [undefined] : namespaces).map((namespace) =>
      kube
        .informer(res, namespace === undefined ? {} : { namespace })
        .pipe(
          Stream.flatMap((event) =>
            event.type === "SYNC"
              ? Stream.fromIterable(event.items.map((object) => ({ type: "SYNC", object })))
              : Stream.succeed({ type: event.type, object: event.object })
          )
        )
    )
    return Stream.mergeAll(streams, { concurrency: "unbounded" })
  })

/** Runs every controller until interrupted (e.g. when leadership is lost). */
export const runOperator = (options: OperatorOptions): Effect.Effect<never, never, Kube | Dolt | Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* WorkQueue.make({ name: "doltdb" })
    const controller = yield* Controller.make({
      name: "doltdb",
      queue,
      workers: options.doltdbWorkers,
      reconcile: reconcileDoltDB({
        clusterDomain: options.clusterDomain,
        defaults: options.replicationDefaults,
        fieldManager: options.fieldManager,
        instance: options.instance
      })
    })
    const owner = { group: "k8s.dolthub.com", kind: "DoltDB" }
    const feeds = [
      EventSource.feed({
        queue,
        events: yield* informerEvents(rawDoltDBs, options.namespaces),
        toKeys: EventSource.toSelf
      }),
      ...(yield* Effect.forEach(childResources, (res) =>
        Effect.map(informerEvents(res, options.namespaces), (events) =>
          EventSource.feed({ queue, events, toKeys: EventSource.toControllerOwner(owner) })
        )
      )),
      // Pods are owned by the StatefulSet; the pod template carries the DoltDB's name as an annotation.
      EventSource.feed({
        queue,
        events: yield* informerEvents(Pods, options.namespaces),
        toKeys: EventSource.toAnnotated(Builders.DoltDBAnnotation)
      })
    ]
    for (const feed of feeds) yield* Effect.forkScoped(feed)
    yield* Effect.forkScoped(controller.run)
    return yield* Effect.never
  })
