/**
 * The live `Kube` layer on @kubernetes/client-node 2.x (kubeconfig, in-cluster service account, auth plugins, TLS)
 * with plain-JSON requests (`ApiRequest.ts`) and watches (`WatchStream.ts`).
 *
 * Every call has a timeout. Reads, server-side applies and merge patches are retried on `Unavailable`/`Timeout`
 * (they are idempotent: the same request twice leaves the same object); creates, replaces, deletes and events are
 * not, so the caller sees the failure and re-reads.
 */

import { closeSync, openSync, readSync } from "node:fs"
import { dirname } from "node:path"
import {
  type ApplyConfig,
  type DeleteOptions,
  type EventInput,
  Events,
  isRetryable,
  Kube,
  type KubeError,
  type KubeObject,
  type KubeShape,
  type ListOptions,
  type NamespaceOption,
  type PatchOptions,
  type Resource,
  resourcePath,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions
} from "@doltdb-op/core/services/Kube"
import { type Bookmark, makeInformer } from "@doltdb-op/core/services/kube/Informer"
import { KubeConfig } from "@kubernetes/client-node"
import { Clock, Config, Duration, Effect, Layer, Option, Random, Schedule, Schema, type Scope, Stream } from "effect"
import { decodeItems, decodeOrSkip, decoderFor, encoderFor } from "../Codec.ts"
import { eventObject } from "../EventObject.ts"
import { type ApiRequest, type Connection, makeConnection, send } from "./ApiRequest.ts"
import { watchStream } from "./WatchStream.ts"

export interface KubeLiveOptions {
  /** Per request, including waiting for a watch's response headers. Default 30 seconds. */
  readonly requestTimeout?: Duration.Input
  /** Retries of idempotent requests after `Unavailable`/`Timeout`. Default 3. */
  readonly retries?: number
  /** Objects per list page. Default 500. */
  readonly pageSize?: number
}

export class KubeConfigError extends Schema.TaggedError<KubeConfigError>()("KubeConfigError", {
  message: Schema.String,
  cause: Schema.Defect()
}) {}

const mergeMeta = (o: KubeObject, namespace: string | undefined): KubeObject => {
  const { name, ...metadata } = o.metadata
  const withNs = namespace !== undefined && metadata.namespace === undefined ? { ...metadata, namespace } : metadata
  // a create with generateName sends no name
  return { ...o, metadata: (name === "" ? withNs : { ...withNs, name }) as KubeObject["metadata"] }
}

/** The service over a connection; `make`/`makeScoped` own the connection's lifetime. */
const makeWith = (conn: Connection, options: KubeLiveOptions): KubeShape => {
  const timeout = Duration.fromInputUnsafe(options.requestTimeout ?? "30 seconds")
  const retry = Schedule.exponential("100 millis").pipe(Schedule.jittered)
  const times = options.retries ?? 3
  const pageSize = options.pageSize ?? 500

  const call = (
    verb: string,
    res: Resource<unknown>,
    target: { namespace?: string | undefined; name?: string | undefined },
    request: ApiRequest,
    idempotent: boolean
  ) => {
    const ctx = { verb, kind: res.kind, namespace: target.namespace, name: target.name }
    const once = send(conn, timeout, ctx, request)
    const attempts = idempotent ? once.pipe(Effect.retry({ schedule: retry, times, while: isRetryable })) : once
    // the service's methods are generic over the resource type, which Effect.fn cannot keep: spans are added here
    return attempts.pipe(
      Effect.withSpan(`Kube.${verb}`, {
        attributes: { kind: res.kind, namespace: target.namespace ?? "", name: target.name ?? "" }
      })
    )
  }

  const encode = <A>(res: Resource<A>, verb: string, a: A) => encoderFor(res, verb)(a)
  const nsOf = (res: Resource<unknown>, namespace: string | undefined) => (res.namespaced ? namespace : undefined)

  const get = <A>(res: Resource<A>, name: string, opts: NamespaceOption = {}) => {
    const ns = nsOf(res, opts.namespace)
    return call("get", res, { namespace: ns, name }, { method: "GET", path: resourcePath(res, ns, name) }, true).pipe(
      Effect.flatMap(decoderFor(res, "get"))
    )
  }

  // pages of `pageSize` (like client-go's pager): one huge response can outlive the request timeout
  const list = <A>(res: Resource<A>, opts: ListOptions = {}) =>
    Effect.gen(function* () {
      const ns = nsOf(res, opts.namespace)
      const items: Array<Record<string, unknown>> = []
      let resourceVersion = ""
      let token: string | undefined
      do {
        const page = (yield* call(
          "list",
          res,
          { namespace: ns },
          {
            method: "GET",
            path: resourcePath(res, ns),
            query: {
              labelSelector: opts.labelSelector,
              fieldSelector: opts.fieldSelector,
              limit: String(pageSize),
              continue: token
            }
          },
          true
        )) as {
          items?: Array<Record<string, unknown>>
          metadata?: { resourceVersion?: string; continue?: string }
        }
        // list items come without apiVersion/kind
        for (const i of page.items ?? []) items.push({ apiVersion: res.apiVersion, kind: res.kind, ...i })
        // the pages are one snapshot: the first page's resourceVersion
        if (token === undefined) resourceVersion = page.metadata?.resourceVersion ?? ""
        token = page.metadata?.continue === "" ? undefined : page.metadata?.continue
      } while (token !== undefined)
      return { items: yield* decodeItems(res, "list")(items), resourceVersion }
    })

  const rawWatch = <A>(
    res: Resource<A>,
    opts: WatchOptions = {}
  ): Stream.Stream<WatchEvent<A> | Bookmark, KubeError> => {
    const ns = nsOf(res, opts.namespace)
    const events = watchStream(
      conn,
      { verb: "watch", kind: res.kind, namespace: ns },
      {
        path: resourcePath(res, ns),
        query: {
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          resourceVersion: opts.resourceVersion
        },
        timeout: Duration.fromInputUnsafe(opts.timeout ?? "5 minutes"),
        connectTimeout: timeout
      }
    )
    const decode = decodeOrSkip(res, "watch")
    return events.pipe(
      Stream.mapEffect(
        (e): Effect.Effect<Option.Option<WatchEvent<A> | Bookmark>> =>
          e.type === "BOOKMARK"
            ? Effect.succeed(Option.some(e))
            : Effect.map(
                decode(e.object),
                Option.map((object) => ({ ...e, object }))
              )
      ),
      Stream.filter(Option.isSome),
      Stream.map((o) => o.value)
    )
  }

  const watch = <A>(res: Resource<A>, opts?: WatchOptions) =>
    rawWatch(res, opts).pipe(Stream.filter((e): e is WatchEvent<A> => e.type !== "BOOKMARK"))

  const create = <A>(res: Resource<A>, object: A, opts: WriteOptions = {}) =>
    Effect.gen(function* () {
      const json = mergeMeta(yield* encode(res, "create", object), opts.namespace)
      const ns = nsOf(res, json.metadata.namespace)
      const created = yield* call(
        "create",
        res,
        { namespace: ns, name: json.metadata.name },
        { method: "POST", path: resourcePath(res, ns), body: json, query: { fieldManager: opts.fieldManager } },
        false
      )
      return yield* decoderFor(res, "create")(created)
    })

  const replace = <A>(res: Resource<A>, object: A, opts: WriteOptions = {}) =>
    Effect.gen(function* () {
      const json = mergeMeta(yield* encode(res, "replace", object), opts.namespace)
      const ns = nsOf(res, json.metadata.namespace)
      const name = json.metadata.name
      const replaced = yield* call(
        "replace",
        res,
        { namespace: ns, name },
        { method: "PUT", path: resourcePath(res, ns, name), body: json, query: { fieldManager: opts.fieldManager } },
        false
      )
      return yield* decoderFor(res, "replace")(replaced)
    })

  const apply = <A>(
    res: Resource<A>,
    config: ApplyConfig,
    opts: { readonly fieldManager: string; readonly force?: boolean }
  ) => {
    const ns = nsOf(res, config.metadata.namespace)
    const name = config.metadata.name
    return call(
      "apply",
      res,
      { namespace: ns, name },
      {
        method: "PATCH",
        path: resourcePath(res, ns, name),
        // JSON is YAML: the API server accepts a JSON body under the apply content type
        contentType: "application/apply-patch+yaml",
        body: config,
        query: { fieldManager: opts.fieldManager, force: opts.force === true ? "true" : undefined }
      },
      true
    ).pipe(Effect.flatMap(decoderFor(res, "apply")))
  }

  const patch =
    (subresource: "status" | undefined) =>
    <A>(res: Resource<A>, name: string, body: Readonly<Record<string, unknown>>, opts: PatchOptions = {}) => {
      const verb = subresource === undefined ? "patch" : "patchStatus"
      const ns = nsOf(res, opts.namespace)
      const withPrecondition =
        opts.resourceVersion === undefined
          ? body
          : {
              ...body,
              metadata: { ...((body.metadata as object | undefined) ?? {}), resourceVersion: opts.resourceVersion }
            }
      return call(
        verb,
        res,
        { namespace: ns, name },
        {
          method: "PATCH",
          path: resourcePath(res, ns, name, subresource),
          contentType: "application/merge-patch+json",
          body: withPrecondition,
          query: { fieldManager: opts.fieldManager }
        },
        true
      ).pipe(Effect.flatMap(decoderFor(res, verb)))
    }

  const del = <A>(res: Resource<A>, name: string, opts: DeleteOptions = {}) => {
    const ns = nsOf(res, opts.namespace)
    return call(
      "delete",
      res,
      { namespace: ns, name },
      {
        method: "DELETE",
        path: resourcePath(res, ns, name),
        body: {
          apiVersion: "v1",
          kind: "DeleteOptions",
          ...(opts.propagationPolicy === undefined ? {} : { propagationPolicy: opts.propagationPolicy }),
          ...(opts.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: opts.gracePeriodSeconds }),
          ...(opts.preconditions === undefined ? {} : { preconditions: opts.preconditions })
        }
      },
      false
    ).pipe(Effect.asVoid)
  }

  const emitEvent = (event: EventInput) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const namespace = event.regarding.namespace ?? "default"
      yield* create(Events, eventObject(event, namespace, now, yield* Random.next))
    })

  const shape: KubeShape = {
    get,
    list,
    watch,
    informer: (res, opts) => informer(res, opts),
    create,
    replace,
    apply,
    mergePatch: patch(undefined),
    patchStatus: (res, name, status, opts) => patch("status")(res, name, { status }, opts),
    delete: del,
    emitEvent
  }
  const informer = makeInformer({ list, watch: rawWatch })
  return shape
}

/** The service for a process-long client (its pooled connections close with the process). */
export const make = (kc: KubeConfig, options: KubeLiveOptions = {}): KubeShape => makeWith(makeConnection(kc), options)

/** The service whose pooled connections close with the scope. */
export const makeScoped = (
  kc: KubeConfig,
  options: KubeLiveOptions = {}
): Effect.Effect<KubeShape, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => makeConnection(kc)),
    (conn) => Effect.promise(() => conn.close())
  ).pipe(Effect.map((conn) => makeWith(conn, options)))

/** A Kube layer over an already loaded kubeconfig (tests, the e2e harness). */
export const layerFromKubeConfig = (kc: KubeConfig, options?: KubeLiveOptions): Layer.Layer<Kube> =>
  Layer.effect(Kube, makeScoped(kc, options))

/** A kubeconfig with many contexts and embedded certificates is tens of KiB; `/dev/zero` is endless. */
export const MaxKubeConfigBytes = 4 * 1024 * 1024

/** The file's text, refusing more than `MaxKubeConfigBytes` (sequential reads: FIFOs and devices work). */
const readBounded = (path: string): string => {
  const fd = openSync(path, "r")
  try {
    const buffer = Buffer.alloc(MaxKubeConfigBytes + 1)
    let size = 0
    for (;;) {
      const read = readSync(fd, buffer, size, buffer.length - size, null)
      if (read === 0) break
      size += read
      if (size > MaxKubeConfigBytes)
        throw new Error(`larger than ${MaxKubeConfigBytes / 1024 / 1024} MiB: not a kubeconfig`)
    }
    return buffer.subarray(0, size).toString("utf8")
  } finally {
    closeSync(fd)
  }
}

/** Loads a kubeconfig file; `KubeConfigError` names the file when it cannot be used. */
export const loadKubeConfig = (path: string | undefined): Effect.Effect<KubeConfig, KubeConfigError> =>
  Effect.try({
    try: () => {
      const kc = new KubeConfig()
      if (path === undefined) kc.loadFromDefault()
      else {
        // loadFromFile without its unbounded readFileSync: certificate paths still resolve next to the file.
        kc.loadFromString(readBounded(path))
        kc.makePathsAbsolute(dirname(path))
      }
      if (kc.getCurrentCluster() === null) throw new Error("no current cluster in the kubeconfig")
      return kc
    },
    catch: (cause) =>
      new KubeConfigError({
        message: `cannot load kubeconfig ${path ?? "(default: $KUBECONFIG, ~/.kube/config or in-cluster)"}: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause
      })
  })

/**
 * The operator's layer: `KUBECONFIG` (a file) when set, otherwise client-node's default chain (which ends with
 * the in-cluster service account). `KUBE_REQUEST_TIMEOUT` (default 30 seconds) bounds every call.
 */
export const layer: Layer.Layer<Kube, KubeConfigError | Config.ConfigError> = Layer.effect(
  Kube,
  Effect.gen(function* () {
    const path = yield* Config.option(Config.String("KUBECONFIG"))
    const requestTimeout = yield* Config.Duration("KUBE_REQUEST_TIMEOUT").pipe(Config.withDefault(Duration.seconds(30)))
    // KUBECONFIG may list several files (colon-separated); client-node's default loader merges them
    const single = Option.filter(path, (p) => !p.includes(":"))
    const kc = yield* loadKubeConfig(Option.getOrUndefined(single))
    return yield* makeScoped(kc, { requestTimeout })
  })
)
