/**
 * The failover invariants of a simulated DoltDB, checked after every step of a simulation.
 *
 * `checkInvariants` folds one snapshot of the world (`WorldSnapshot.ts`) into the checker's state and returns the
 * violations; `converged` says whether the cluster has recovered (for the liveness check, which the caller bounds in
 * simulated time).
 *
 * What IS guaranteed, and checked here:
 * - SplitBrain: never two running servers with role `primary` at the highest primary epoch (checked at once).
 * - Unfenced: a primary server *instance* that was already running before another server became primary at a
 *   higher epoch is demoted or stopped before (or within `fenceMillis` of) that promotion, unless nobody (client,
 *   operator, other servers) can reach it. This is the operator's "fence before promote" rule. An instance that
 *   started only once a server was primary above its epoch is the stale primary below (not guaranteed), whatever
 *   promotions follow: a later one does not make it one the operator could have fenced (soak seed 71012).
 * - Misrouted: `<name>-primary` never has more than one ready endpoint, and never routes to a *running* server
 *   that is not the primary at the highest epoch, for longer than `routeMillis`. The bound covers the operator's
 *   polling: a role change Dolt makes on its own (a stale primary demoted by a newer primary's push) produces no
 *   Kubernetes event, and the operator only learns of it at its next poll of the servers (every few seconds), plus
 *   API retries under injected errors. Routing to a stopped server is unavailability,
 *   not misrouting (the liveness check covers it).
 * - EpochDecreased: the epoch of each pod's server (persisted on its volume, so across restarts) and
 *   `status.replicationEpoch` never decrease.
 * - AcknowledgedWriteLost: a write acknowledged *without* warning 3024 by a server whose
 *   `dolt_cluster_ack_writes_timeout_secs` was > 0 was on every standby when acknowledged; it is never missing
 *   from the (unique) highest-epoch running primary, whatever switchovers and failovers happen afterwards.
 * - EmptyPromotion: a server that becomes the (unique, highest-epoch) primary holds every database the previous one
 *   held (a fresh pod that never received a database is never promoted; it would push the empty database over the
 *   others' data). Together with AcknowledgedWriteLost: a promoted server holds every write its predecessor
 *   acknowledged without warning.
 * - RefusalInvisible: every refusal is visible: when `Ready` turns False for a refusal (FailoverBlocked,
 *   SwitchoverBlocked, SwitchoverAborted, SwitchoverTimedOut, PrimaryUnavailable) or `PrimarySwitched` for a deferred
 *   or aborted switchover, a Warning Event with that reason regarding the DoltDB has been written.
 * - Liveness (`converged`, bounded by the caller, e.g. 60 s after every fault is healed): exactly one running
 *   primary, `<name>-primary` routes to it (one ready endpoint), no transition in flight, the status agrees
 *   with the servers (`status.currentPrimary` is that server's pod, `status.replicationEpoch` its epoch), and the
 *   last `podIndex` edit has been honoured (an aborted switchover is re-attempted).
 *
 * What is NOT guaranteed (and so not checked):
 * - A stale primary that reboots with its persisted role at an old epoch (a new instance) only after a higher
 *   promotion is not fenced by the operator before it boots: it is not routed to (its pod has no primary role
 *   label) and is demoted within seconds once the operator or the newer primary can reach it. Clients that bypass
 *   `<name>-primary` can write to it. (One that started before the promotion is checked: soak seed 97014.)
 * - Asynchronous replication (ack-writes off) can lose acknowledged writes on a crash failover, and with ack-writes
 *   on, a write acknowledged with warning 3024 (a standby did not confirm in time) can be lost too; unacknowledged
 *   (failed) writes may or may not exist.
 * - Liveness under faults: failover may be blocked while the primary is partitioned from the operator but its pod
 *   cannot be deleted (a lost node whose pod stays: the operator will not promote while the old primary might still
 *   be writable), while no standby is provably caught up (unless `allowUnsafeFailover`), or while the API server
 *   fails; the liveness bound only starts once every fault is healed (or, for a failover, once the primary's node is
 *   lost for good with caught-up standbys running).
 * - Misrouting for up to `routeMillis` (see above), and routing to a stopped or unreachable primary until the
 *   failover (failoverDelay plus detection: the pods of a lost node stay Ready for the node-monitor grace period).
 * - `Ready`: a container that crashed several times waits out the kubelet's back-off (up to minutes).
 */
import type { Endpoint } from "@doltdb-op/core/sim/SimWorld"
import {
  RefusalReasons,
  type RoutedEndpoint,
  type ServerSnapshot,
  type Snapshot,
  topPrimaries
} from "./WorldSnapshot.ts"

export type InvariantName =
  | "SplitBrain"
  | "Unfenced"
  | "Misrouted"
  | "EpochDecreased"
  | "AcknowledgedWriteLost"
  | "EmptyPromotion"
  | "RefusalInvisible"
  | "NotConverged"
  | "BackupNotAcknowledged"
  /** The isolation guard's invariant (GuardInvariant.ts), checked by the fault schedules that enable the guard. */
  | "GuardLate"

export interface Violation {
  readonly invariant: InvariantName
  /** Simulated time, epoch millis. */
  readonly at: number
  readonly message: string
}

export interface Bounds {
  /** How long `<name>-primary` may route to a running non-primary (or to several pods). */
  readonly routeMillis: number
  /** How long an old primary instance may stay writable and reachable after a higher-epoch promotion. */
  readonly fenceMillis: number
}

export const defaultBounds: Bounds = { routeMillis: 15_000, fenceMillis: 2_000 }

/** What the checker remembers between snapshots. */
export interface CheckState {
  readonly last: Snapshot
  /** Highest epoch seen per pod endpoint, and in status. */
  readonly epochs: ReadonlyMap<Endpoint, number>
  readonly statusEpoch: number
  /** When each instance was first seen running. */
  readonly instanceSeen: ReadonlyMap<number, number>
  /** When each (endpoint, epoch) was first seen as a running primary. */
  readonly primarySince: ReadonlyMap<string, number>
  /** When a running primary at each epoch was first seen. */
  readonly epochPrimarySince: ReadonlyMap<number, number>
  /** Since when the routing has been wrong (undefined: it is right). */
  readonly misroutedSince: number | undefined
  /** Ids of writes that must never be lost, and the highest ledger id classified so far. */
  readonly durable: ReadonlySet<number>
  readonly ledgerSeen: number
  /** The last unique top primary seen, and its databases. */
  readonly topPrimary?: { readonly key: string; readonly pod: string; readonly databases: ReadonlyArray<string> }
}

export interface CheckResult {
  readonly state: CheckState
  readonly violations: ReadonlyArray<Violation>
}

const primaryKey = (s: ServerSnapshot) => `${s.endpoint}@${s.epoch}`

/** The server a routed endpoint reaches (clients resolve the Service to the endpoint's IP). */
const routedServer = (snapshot: Snapshot, e: RoutedEndpoint): ServerSnapshot | undefined =>
  snapshot.servers.find((s) => s.ip === e.ip && (e.pod === undefined || s.pod === e.pod)) ??
  snapshot.servers.find((s) => s.ip === e.ip)

const describeServer = (s: ServerSnapshot) => `${s.pod}#${s.instance} ${s.running ? s.role : "stopped"}@${s.epoch}`

/** Fold one snapshot into the checker; `previous` is `undefined` for the first snapshot. */
export const checkInvariants = (
  snapshot: Snapshot,
  previous: CheckState | undefined,
  bounds: Bounds = defaultBounds
): CheckResult => {
  const at = snapshot.at
  const violations: Array<Violation> = []
  const violate = (invariant: InvariantName, message: string) => violations.push({ invariant, at, message })

  // Epochs never decrease.
  const epochs = new Map(previous?.epochs ?? [])
  for (const s of snapshot.servers) {
    const before = epochs.get(s.endpoint)
    if (before !== undefined && s.epoch < before)
      violate("EpochDecreased", `${s.pod}'s epoch went from ${before} to ${s.epoch} (${describeServer(s)})`)
    epochs.set(s.endpoint, Math.max(before ?? 0, s.epoch))
  }
  let statusEpoch = previous?.statusEpoch ?? 0
  const se = snapshot.status?.replicationEpoch
  if (se !== undefined) {
    if (se < statusEpoch) violate("EpochDecreased", `status.replicationEpoch went from ${statusEpoch} to ${se}`)
    statusEpoch = Math.max(statusEpoch, se)
  }

  // One writable server at the highest epoch.
  const top = topPrimaries(snapshot)
  if (top.length > 1)
    violate("SplitBrain", `several primaries at epoch ${top[0]!.epoch}: ${top.map(describeServer).join(", ")}`)

  // Fence before promote.
  const instanceSeen = new Map(previous?.instanceSeen ?? [])
  const primarySince = new Map(previous?.primarySince ?? [])
  const epochPrimarySince = new Map(previous?.epochPrimarySince ?? [])
  for (const s of snapshot.servers) {
    if (!s.running) continue
    if (!instanceSeen.has(s.instance)) instanceSeen.set(s.instance, at)
    if (s.role === "primary" && !primarySince.has(primaryKey(s))) primarySince.set(primaryKey(s), at)
    if (s.role === "primary" && !epochPrimarySince.has(s.epoch)) epochPrimarySince.set(s.epoch, at)
  }
  /** When a server was first primary above `epoch` (from then on, an instance booting primary at `epoch` is stale). */
  const supersededAt = (epoch: number): number => {
    let first = Infinity
    for (const [e, since] of epochPrimarySince) if (e > epoch && since < first) first = since
    return first
  }
  const newest = top[0]
  if (newest !== undefined) {
    const promotedAt = primarySince.get(primaryKey(newest)) ?? at
    for (const s of snapshot.servers) {
      if (!s.running || s.role !== "primary" || s.writable === false || s.epoch >= newest.epoch || !s.reachable)
        continue
      const started = instanceSeen.get(s.instance) ?? at
      if (started < Math.min(promotedAt, supersededAt(s.epoch)) && at - promotedAt > bounds.fenceMillis)
        violate(
          "Unfenced",
          `${describeServer(s)} is still writable and reachable ${at - promotedAt}ms after ${describeServer(newest)} was promoted`
        )
    }
  }

  // <name>-primary routes to the primary.
  const wrong: Array<string> = []
  if (snapshot.routed.length > 1)
    wrong.push(`routes to ${snapshot.routed.length} pods (${snapshot.routed.map((e) => e.pod).join(", ")})`)
  for (const e of snapshot.routed) {
    const s = routedServer(snapshot, e)
    if (s === undefined || !s.running) continue
    if (s.role !== "primary" || newest === undefined || s.epoch < newest.epoch)
      wrong.push(
        `routes to ${describeServer(s)}${newest === undefined ? "" : ` while ${describeServer(newest)} is primary`}`
      )
  }
  const misroutedSince = wrong.length === 0 ? undefined : (previous?.misroutedSince ?? at)
  if (misroutedSince !== undefined && at - misroutedSince > bounds.routeMillis)
    violate("Misrouted", `${snapshot.name}-primary ${wrong.join("; ")} for ${at - misroutedSince}ms`)

  // Acknowledged writes (ack-writes on, no warning) survive every primary change.
  const durable = new Set(previous?.durable ?? [])
  let ledgerSeen = previous?.ledgerSeen ?? 0
  for (const e of snapshot.ledger) {
    if (e.id <= ledgerSeen) continue
    ledgerSeen = Math.max(ledgerSeen, e.id)
    if (e.outcome !== "acked" || e.warning !== undefined || e.server === undefined) continue
    const server = snapshot.servers.find((s) => s.endpoint === e.server)
    if (server !== undefined && server.ackWritesTimeoutSecs > 0) durable.add(e.id)
  }
  if (snapshot.missingOnPrimary !== undefined && newest !== undefined && top.length === 1) {
    const lost = [...durable].filter((id) => snapshot.missingOnPrimary!.has(id))
    if (lost.length > 0) {
      const entries = snapshot.ledger.filter((e) => lost.includes(e.id))
      violate(
        "AcknowledgedWriteLost",
        `${lost.length} acknowledged write(s) missing on ${describeServer(newest)}: ${entries
          .slice(0, 5)
          .map((e) => `#${e.id} ${e.key}=${e.value} acked by ${e.server}@${e.epoch} at ${e.finishedAt}ms`)
          .join(", ")}`
      )
    }
  }

  // No empty promotion: a server that becomes the primary holds every database its predecessor held.
  let topPrimary = previous?.topPrimary
  if (newest !== undefined && top.length === 1) {
    const key = primaryKey(newest)
    const databases = newest.databases ?? []
    if (topPrimary !== undefined && topPrimary.key !== key) {
      const missing = topPrimary.databases.filter((d) => !databases.includes(d))
      if (missing.length > 0)
        violate(
          "EmptyPromotion",
          `${describeServer(newest)} became primary without database ${missing.join(", ")} that ${topPrimary.pod} held`
        )
    }
    topPrimary = { key, pod: newest.pod, databases }
  }

  // Every refusal is visible: a condition that says the operator refuses (or defers) something comes with a Warning
  // Event of the same reason, written before the status that shows the condition.
  const previousConditions = previous?.last.status?.conditions ?? {}
  for (const [type, reasons] of Object.entries(RefusalReasons)) {
    const now = snapshot.status?.conditions[type]
    if (now === undefined || now === previousConditions[type] || !now.startsWith("False/")) continue
    const reason = now.slice("False/".length)
    if (!reasons.includes(reason)) continue
    const since = (previous?.last.at ?? at) - 10_000
    if (!(snapshot.warnings ?? []).some((w) => w.reason === reason && w.at >= since))
      violate("RefusalInvisible", `${type}=False/${reason} without a Warning Event ${reason}`)
  }

  return {
    state: {
      last: snapshot,
      epochs,
      statusEpoch,
      instanceSeen,
      primarySince,
      epochPrimarySince,
      misroutedSince,
      durable,
      ledgerSeen,
      ...(topPrimary === undefined ? {} : { topPrimary })
    },
    violations
  }
}

/**
 * Why the cluster has not recovered yet (empty = recovered): exactly one running primary, routed through
 * `<name>-primary`, no transition in flight, and status naming it at its epoch.
 */
export const converged = (snapshot: Snapshot): ReadonlyArray<string> => {
  const reasons: Array<string> = []
  const primaries = snapshot.servers.filter((s) => s.running && s.role === "primary")
  if (primaries.length !== 1) reasons.push(`${primaries.length} running primaries`)
  const primary = primaries.length === 1 ? primaries[0] : undefined
  if (snapshot.routed.length !== 1)
    reasons.push(`${snapshot.name}-primary has ${snapshot.routed.length} ready endpoints`)
  else if (primary !== undefined && routedServer(snapshot, snapshot.routed[0]!) !== primary)
    reasons.push(`${snapshot.name}-primary routes to ${snapshot.routed[0]!.pod}, not ${primary.pod}`)
  const status = snapshot.status
  if (status === undefined) reasons.push("no DoltDB")
  else {
    if (status.transition !== undefined) reasons.push(`transition ${status.transition.kind} in flight`)
    if (primary !== undefined && status.currentPrimary !== primary.pod)
      reasons.push(`status.currentPrimary is ${status.currentPrimary}, the servers say ${primary.pod}`)
    if (primary !== undefined && status.replicationEpoch !== primary.epoch)
      reasons.push(`status.replicationEpoch is ${status.replicationEpoch}, the primary is at ${primary.epoch}`)
    // A podIndex edit is honoured in the end (an aborted switchover is re-attempted), unless out of range.
    const requested = status.podIndex
    if (
      requested !== undefined &&
      requested < (status.replicas ?? Number.POSITIVE_INFINITY) &&
      requested !== status.primaryRequest
    )
      reasons.push(
        `podIndex ${requested} was requested and not honoured (status.primaryRequest ${status.primaryRequest})`
      )
  }
  return reasons
}
