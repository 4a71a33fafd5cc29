/**
 * What the failover invariants (`Invariants.ts`) look at: one reading of a simulated DoltDB's world, taken after
 * every step of a simulation. `snapshot(name)` reads the Dolt model's servers, the DoltDB status and the
 * `<name>-primary` EndpointSlice through the fault-free API client, the client write ledger and reachability.
 */
import { EndpointSlices, Events, type KubeObject } from "@doltdb-op/core/services/Kube"
import { type Endpoint, OperatorEndpoint, SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { DoltModel } from "@doltdb-op/dolt"
import { InMemoryKube } from "@doltdb-op/k8s"
import { Clock, Effect } from "effect"
import { rawDoltDBs } from "../reconcilers/Resources.ts"

/** The model's view of a server (endpoint, pod, instance, role, epoch), plus what the invariants judge it by. */
export interface ServerSnapshot extends Omit<DoltModel.ServerInfo, "namespace"> {
  readonly ackWritesTimeoutSecs: number
  /**
   * `false` while a primary refuses writes (a graceful transition to standby in progress: Dolt makes it read-only
   * at once and keeps the primary role until the transition ends, up to 10 s later).
   */
  readonly writable?: boolean
  /** Whether the client, the operator or another running server can reach it (both directions). */
  readonly reachable: boolean
  /** The user databases it holds. */
  readonly databases?: ReadonlyArray<string>
}

export interface StatusSnapshot {
  readonly currentPrimary: string | undefined
  readonly replicationEpoch: number | undefined
  readonly transition:
    | { readonly kind: string; readonly from: number; readonly to: number; readonly epoch: number }
    | undefined
  /** Condition type -> `True/Reason` (e.g. `Ready: "False/SwitchPrimary"`). */
  readonly conditions: Readonly<Record<string, string>>
  /** `spec.replication.primary.podIndex`, and the one the operator last honoured (`status.primaryRequest`). */
  readonly podIndex?: number | undefined
  readonly primaryRequest?: number | undefined
  readonly replicas?: number | undefined
}

export interface RoutedEndpoint {
  readonly pod: string | undefined
  readonly ip: string
}

export interface Snapshot {
  /** Simulated time, epoch millis. */
  readonly at: number
  readonly namespace: string
  readonly name: string
  readonly servers: ReadonlyArray<ServerSnapshot>
  /** `undefined` when the DoltDB does not exist. */
  readonly status: StatusSnapshot | undefined
  /** Ready endpoints of `<name>-primary`. */
  readonly routed: ReadonlyArray<RoutedEndpoint>
  readonly ledger: ReadonlyArray<DoltModel.LedgerEntry>
  /** Warning Events regarding the DoltDB: reason and time (simulated epoch millis). */
  readonly warnings?: ReadonlyArray<{ readonly reason: string; readonly at: number }>
  /** Ids of acknowledged writes missing on the unique highest-epoch running primary (`undefined`: no such primary). */
  readonly missingOnPrimary: ReadonlySet<number> | undefined
}

/** The highest epoch among running primaries and the servers at it. */
export const topPrimaries = (snapshot: Snapshot): ReadonlyArray<ServerSnapshot> => {
  const primaries = snapshot.servers.filter((s) => s.running && s.role === "primary")
  const top = Math.max(-1, ...primaries.map((s) => s.epoch))
  return primaries.filter((s) => s.epoch === top)
}

/** The reasons of refusals, per condition type: each comes with a Warning Event of the same reason. */
export const RefusalReasons: Readonly<Record<string, ReadonlyArray<string>>> = {
  Ready: ["FailoverBlocked", "SwitchoverBlocked", "SwitchoverAborted", "SwitchoverTimedOut", "PrimaryUnavailable"],
  PrimarySwitched: ["SwitchoverDeferred", "SwitchoverAborted"]
}

const conditionsOf = (object: KubeObject): Readonly<Record<string, string>> => {
  const list = ((object.status as { conditions?: ReadonlyArray<{ type: string; status: string; reason?: string }> })
    ?.conditions ?? []) as ReadonlyArray<{ type: string; status: string; reason?: string }>
  return Object.fromEntries(list.map((c) => [c.type, `${c.status}/${c.reason ?? ""}`]))
}

const statusOf = (object: KubeObject): StatusSnapshot => {
  const s = (object.status ?? {}) as {
    currentPrimary?: string
    replicationEpoch?: number
    primaryTransition?: { kind: string; from: number; to: number; epoch: number }
    primaryRequest?: number
  }
  const spec = (object.spec ?? {}) as { replicas?: number; replication?: { primary?: { podIndex?: number } } }
  const t = s.primaryTransition
  return {
    currentPrimary: s.currentPrimary,
    replicationEpoch: s.replicationEpoch,
    transition: t === undefined ? undefined : { kind: t.kind, from: t.from, to: t.to, epoch: t.epoch },
    conditions: conditionsOf(object),
    podIndex: spec.replication?.primary?.podIndex ?? 0,
    primaryRequest: s.primaryRequest,
    replicas: spec.replicas
  }
}

/** Read the world for the DoltDB `namespace/name` (no faults: the API server is read through its system client). */
export const snapshot = Effect.fnUntraced(function* (name: string, namespace = "default") {
  const at = yield* Clock.currentTimeMillis
  const api = (yield* InMemoryKube).system
  const world = yield* SimWorld
  const dolt = yield* DoltModel.DoltCluster
  const infos = yield* dolt.servers
  const doltdb = yield* api
    .get(rawDoltDBs, name, { namespace })
    .pipe(Effect.catch(() => Effect.succeed(undefined as KubeObject | undefined)))
  const slices = yield* api
    .list(EndpointSlices, { namespace, labelSelector: `kubernetes.io/service-name=${name}-primary` })
    .pipe(
      Effect.map((l) => l.items),
      Effect.catch(() => Effect.succeed([] as ReadonlyArray<KubeObject>))
    )
  const routed: Array<RoutedEndpoint> = []
  for (const slice of slices) {
    const endpoints = (slice.endpoints ?? []) as ReadonlyArray<{
      addresses: ReadonlyArray<string>
      conditions?: { ready?: boolean }
      targetRef?: { name?: string }
    }>
    for (const e of endpoints)
      if (e.conditions?.ready !== false && e.addresses[0] !== undefined)
        routed.push({ pod: e.targetRef?.name, ip: e.addresses[0] })
  }
  const mine = infos.filter(
    (s) => s.namespace === namespace && s.pod.startsWith(`${name}-`) && /^[0-9]+$/u.test(s.pod.slice(name.length + 1))
  )
  const peers: ReadonlyArray<Endpoint> = [
    DoltModel.ClientEndpoint,
    OperatorEndpoint,
    ...mine.filter((s) => s.running).map((s) => s.endpoint)
  ]
  const servers: Array<ServerSnapshot> = []
  for (const s of mine) {
    const model = yield* dolt.serverAt(`${s.pod}.${name}-internal.${namespace}`)
    let reachable = false
    for (const p of peers) {
      if (p === s.endpoint) continue
      if ((yield* world.canReach(p, s.endpoint)) && (yield* world.canReach(s.endpoint, p))) {
        reachable = true
        break
      }
    }
    const { namespace: _namespace, ...info } = s
    servers.push({
      ...info,
      ackWritesTimeoutSecs: model?.ackWritesTimeoutSecs() ?? 0,
      writable: model === undefined ? false : !model.readOnly,
      databases: model === undefined ? [] : [...model.data.databases.keys()].sort(),
      reachable
    })
  }
  // This DoltDB's writes only: another DoltDB's primary never had them.
  const prefix = `${namespace}/${name}-`
  const ownServer = (server: string | undefined) =>
    server?.startsWith(prefix) === true && /^[0-9]+$/u.test(server.slice(prefix.length))
  const ledger = (yield* dolt.ledger).filter((e) => ownServer(e.server))
  const status = doltdb === undefined ? undefined : statusOf(doltdb)
  // Events are read only while a refusal condition shows (what RefusalInvisible checks): listing them on every step
  // would cost more than the rest of the snapshot.
  const refusing = Object.entries(RefusalReasons).some(([type, reasons]) =>
    reasons.some((r) => status?.conditions[type] === `False/${r}`)
  )
  const events = !refusing
    ? []
    : yield* api.list(Events, { namespace }).pipe(
        Effect.map((l) => l.items),
        Effect.catch(() => Effect.succeed([] as ReadonlyArray<KubeObject>))
      )
  const warnings = events.flatMap((e) => {
    const regarding = e.regarding as { kind?: string; name?: string } | undefined
    return e.type === "Warning" && regarding?.kind === "DoltDB" && regarding.name === name
      ? [{ reason: String(e.reason), at: Date.parse(String(e.eventTime)) }]
      : []
  })
  const partial: Snapshot = {
    at,
    namespace,
    name,
    servers,
    status,
    routed,
    ledger,
    warnings,
    missingOnPrimary: undefined
  }
  const top = topPrimaries(partial)
  if (top.length !== 1) return partial
  const missing = yield* dolt
    .lostAcknowledgedWrites(`${top[0]!.pod}.${name}-internal.${namespace}`)
    .pipe(Effect.catch(() => Effect.succeed(undefined)))
  return { ...partial, missingOnPrimary: missing === undefined ? undefined : new Set(missing.map((e) => e.id)) }
})
