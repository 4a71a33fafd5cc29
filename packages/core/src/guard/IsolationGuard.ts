/**
 * The isolation guard's decision: what the in-pod guard does with its local Dolt server, from what it could reach
 * on its last tick. Pure: observation + memory in, decision + memory out (the `guard` mode of the operator binary
 * and the simulated guard both run it).
 *
 * The gap it closes (README "Failover behaviour and guarantees"): a primary whose node is cut off keeps serving
 * any client that still reaches it, while the operator, unable to reach it, fences it by deleting the pod object
 * and promotes someone else. The guard demotes such a primary itself, like CloudNativePG's isolation check
 * (peer-operators.md §3.1), but without ever reducing availability when only the operator, or only the API server,
 * is gone:
 *
 * | local role | API server | a following peer | decision                                              |
 * |------------|------------|------------------|-------------------------------------------------------|
 * | primary    | reachable  | any              | serve (demote at once if the API says: pod deleted,    |
 * |            |            |                  | or the operator failed over / moved the primary away)  |
 * | primary    | cut off    | reachable        | serve                                                  |
 * | primary    | cut off    | none             | hold, then demote so writes stop by the threshold      |
 * | primary    | any        | a peer is primary at a higher epoch (or, API cut off, any peer is above us) | demote |
 * | standby, detected_broken_config, not answering | any | any | idle (the guard never promotes)      |
 *
 * A *following* peer answers SQL at an epoch no higher than ours: a peer that adopted a higher epoch follows
 * someone else and is no evidence that we are still the primary. "Cut off" is measured from the start of the last
 * tick that reached the API server or a following peer (reads start after it, so the guard errs early) to the
 * moment of the decision, and the guard demotes `demotionMillis` before the threshold, so that the server is
 * read-only by the threshold (the loop bounds its reads by that deadline: `actDeadline`).
 *
 * The demotion is `dolt_cluster_transition_to_standby(epoch, -1)`: Dolt makes the server read-only and kills the
 * client connections at once, waits up to 10 s for the (unreachable) standbys, and, requiring no caught-up standby,
 * then persists standby at the higher epoch. `dolt_assume_cluster_role('standby', …)` would not do: it requires
 * every standby caught up and, failing that, returns to a writable primary (dolt-cluster.md §2.2).
 */
import type { ClusterRole } from "../services/dolt/rows.ts"

export interface GuardSettings {
  /** How long the primary may be cut off from the API server and every peer before its writes stop. */
  readonly thresholdMillis: number
  /** What the demotion may take (dolt makes the server read-only as soon as the call arrives): act this early. */
  readonly demotionMillis: number
}

/** What the guard's Dolt client got from a server (its own, or a peer). */
export type ServerAnswer =
  | { readonly _tag: "Unreachable" }
  | { readonly _tag: "Answered"; readonly role: ClusterRole; readonly epoch: number }

/** What the API server said about this pod and its DoltDB; `Unreachable` when either read failed. */
export type ApiAnswer =
  | { readonly _tag: "Unreachable" }
  | {
      readonly _tag: "Reachable"
      /** The pod object: present, being deleted, gone (404) or replaced by one with another uid. */
      readonly pod: "Present" | "Deleting" | "Gone" | "Replaced"
      /** The DoltDB status records a failover away from this pod, at this epoch. */
      readonly failoverAwayAtEpoch: number | undefined
      /** The DoltDB status names another pod as the primary, at this epoch. */
      readonly otherPrimaryAtEpoch: number | undefined
    }

export interface GuardObservation {
  /** Start of the tick (every read of the tick started after it), millis. */
  readonly now: number
  /** When the reads ended and the decision is taken (default `now`), millis. */
  readonly at?: number
  readonly local: ServerAnswer
  readonly api: ApiAnswer
  readonly peers: ReadonlyArray<{ readonly name: string; readonly answer: ServerAnswer }>
}

export interface GuardMemory {
  /** Start of the last tick that reached the API server or a following peer (the guard's start at first). */
  readonly lastContactAt: number
}

export type GuardDecision =
  | { readonly _tag: "Idle"; readonly reason: string }
  | { readonly _tag: "Serve"; readonly reason: string }
  | { readonly _tag: "Hold"; readonly reason: string; readonly cutOffMillis: number }
  | { readonly _tag: "Demote"; readonly reason: string; readonly epoch: number }

export const initialMemory = (startedAt: number): GuardMemory => ({ lastContactAt: startedAt })

/** When a primary without contact since `memory` demotes itself: its threshold minus what the demotion may take. */
export const actDeadline = (memory: GuardMemory, settings: GuardSettings): number =>
  memory.lastContactAt + settings.thresholdMillis - settings.demotionMillis

const answered = (a: ServerAnswer) => (a._tag === "Answered" ? a : undefined)

const following = (obs: GuardObservation, epoch: number) =>
  obs.peers.filter((p) => {
    const a = answered(p.answer)
    return a !== undefined && a.epoch <= epoch
  })

/** Peers that say someone was promoted after us: a primary above our epoch, or (API cut off) anyone above it. */
const supersedingPeer = (obs: GuardObservation, epoch: number) => {
  const above = obs.peers.flatMap((p) => {
    const a = answered(p.answer)
    return a !== undefined && a.epoch > epoch ? [{ name: p.name, role: a.role, epoch: a.epoch }] : []
  })
  return above.find((p) => p.role === "primary") ?? (obs.api._tag === "Unreachable" ? above[0] : undefined)
}

/** The memory after a tick: contact when the API server or a peer that still follows our epoch answered. */
const remember = (memory: GuardMemory, obs: GuardObservation): GuardMemory => {
  const local = answered(obs.local)
  const epoch = local?.epoch ?? Number.POSITIVE_INFINITY
  const contact = obs.api._tag === "Reachable" || following(obs, epoch).length > 0
  return contact ? { lastContactAt: Math.max(memory.lastContactAt, obs.now) } : memory
}

const decideForPrimary = (
  memory: GuardMemory,
  obs: GuardObservation,
  epoch: number,
  settings: GuardSettings
): GuardDecision => {
  const peer = supersedingPeer(obs, epoch)
  if (peer !== undefined)
    return {
      _tag: "Demote",
      reason: `peer ${peer.name} is ${peer.role} at epoch ${peer.epoch}, above ours (${epoch})${
        peer.role === "primary" ? "" : " while the API server is unreachable"
      }: another server was promoted`,
      epoch: peer.epoch
    }
  const api = obs.api
  if (api._tag === "Reachable") {
    if (api.pod !== "Present")
      return {
        _tag: "Demote",
        reason: `this pod is ${api.pod.toLowerCase()} (fenced by the operator)`,
        epoch: epoch + 1
      }
    if (api.failoverAwayAtEpoch !== undefined && api.failoverAwayAtEpoch > epoch)
      return {
        _tag: "Demote",
        reason: `the operator is failing over away from this pod at epoch ${api.failoverAwayAtEpoch}`,
        epoch: api.failoverAwayAtEpoch
      }
    if (api.otherPrimaryAtEpoch !== undefined && api.otherPrimaryAtEpoch > epoch)
      return {
        _tag: "Demote",
        reason: `the DoltDB status names another primary at epoch ${api.otherPrimaryAtEpoch}`,
        epoch: api.otherPrimaryAtEpoch
      }
    return { _tag: "Serve", reason: "the API server is reachable" }
  }
  const peers = following(obs, epoch)
  if (peers.length > 0)
    return {
      _tag: "Serve",
      reason: `the API server is unreachable but peers ${peers.map((p) => p.name).join(", ")} follow this primary`
    }
  const at = obs.at ?? obs.now
  const cutOffMillis = at - memory.lastContactAt
  const what = `the API server and all ${obs.peers.length} peers`
  if (at < actDeadline(memory, settings))
    return { _tag: "Hold", reason: `cut off from ${what} for ${cutOffMillis}ms`, cutOffMillis }
  return {
    _tag: "Demote",
    reason: `cut off from ${what} for ${cutOffMillis}ms (threshold ${settings.thresholdMillis}ms, acting ${settings.demotionMillis}ms before it): stopping writes`,
    epoch: epoch + 1
  }
}

/** One tick of the guard: the decision, and the memory to carry to the next tick. */
export const decide = (
  memory: GuardMemory,
  obs: GuardObservation,
  settings: GuardSettings
): { readonly memory: GuardMemory; readonly decision: GuardDecision } => {
  const next = remember(memory, obs)
  const local = answered(obs.local)
  if (local === undefined)
    return { memory: next, decision: { _tag: "Idle", reason: "the local server does not answer" } }
  if (local.role !== "primary")
    return { memory: next, decision: { _tag: "Idle", reason: `the local server is ${local.role}` } }
  // Judge isolation on the memory before this tick: a tick without contact must not reset the clock.
  return { memory: next, decision: decideForPrimary(memory, obs, local.epoch, settings) }
}
