/**
 * What a person watching a simulated cluster would see, recorded on the timeline after each step: every DoltDB's
 * primary and epoch (kept as primary periods for the report), its transitions and condition changes, the Kubernetes
 * Events the operator emitted, and the Dolt servers' roles, epochs and restarts.
 */
import { Events, type KubeShape } from "@doltdb-op/core/services/Kube"
import type { DoltModel } from "@doltdb-op/dolt"
import { Effect } from "effect"
import { rawDoltDBs } from "../reconcilers/Resources.ts"
import type { TimelineKind } from "./ScenarioReport.ts"

interface Condition {
  readonly type: string
  readonly status: string
  readonly reason?: string
  readonly message?: string
}

interface DoltDBStatusView {
  readonly currentPrimary?: string
  readonly replicationEpoch?: number
  readonly conditions?: ReadonlyArray<Condition>
  readonly primaryTransition?: { kind: string; from: number; to: number; epoch: number }
}

export interface ObserverDeps {
  readonly kube: KubeShape
  readonly ns: string
  readonly doltdbNames: ReadonlyArray<string>
  /** The run's start (simulated epoch millis): Event times are reported relative to it. */
  readonly start: number
  readonly note: (at: number, kind: TimelineKind, text: string) => void
  readonly servers: Effect.Effect<ReadonlyArray<DoltModel.ServerInfo>>
}

/** One DoltDB's primary from `from` on (until its next period). */
export interface ObservedPeriod {
  readonly doltdb: string
  readonly from: number
  readonly primary: string | undefined
  readonly epoch: number | undefined
}

export const makeObserver = (deps: ObserverDeps) => {
  const { ns, doltdbNames, start, note } = deps
  const lastStatus = new Map<string, { primary?: string; epoch?: number; transition?: string }>()
  const lastConditions = new Map<string, string>()
  const seenEvents = new Set<string>()
  let lastServers = ""
  const instances = new Map<string, number>()
  const periods: Array<ObservedPeriod> = []

  const observe = Effect.fnUntraced(function* (at: number) {
    for (const name of doltdbNames) {
      const object = yield* deps.kube.get(rawDoltDBs, name, { namespace: ns }).pipe(Effect.option)
      if (object._tag === "None") continue
      const status = (object.value.status ?? {}) as DoltDBStatusView
      const before = lastStatus.get(name) ?? {}
      const transition =
        status.primaryTransition === undefined
          ? undefined
          : `${status.primaryTransition.kind} ${name}-${status.primaryTransition.from} → ${name}-${status.primaryTransition.to} at epoch ${status.primaryTransition.epoch}`
      if (transition !== before.transition) {
        if (transition !== undefined) note(at, "transition", `${name}: ${transition} started`)
        else if (before.transition !== undefined) note(at, "transition", `${name}: ${before.transition} done`)
      }
      if (status.currentPrimary !== before.primary || status.replicationEpoch !== before.epoch) {
        note(
          at,
          "primary",
          `${name}: primary ${status.currentPrimary ?? "none"} (epoch ${status.replicationEpoch ?? "-"})`
        )
        periods.push({ doltdb: name, from: at, primary: status.currentPrimary, epoch: status.replicationEpoch })
      }
      lastStatus.set(name, {
        ...(status.currentPrimary === undefined ? {} : { primary: status.currentPrimary }),
        ...(status.replicationEpoch === undefined ? {} : { epoch: status.replicationEpoch }),
        ...(transition === undefined ? {} : { transition })
      })
      for (const c of status.conditions ?? []) {
        const key = `${name}/${c.type}`
        const value = `${c.status}/${c.reason ?? ""}`
        if (lastConditions.get(key) === value) continue
        lastConditions.set(key, value)
        note(at, "condition", `${name}: ${c.type}=${c.status} ${c.reason ?? ""}${c.message ? `: ${c.message}` : ""}`)
      }
    }
    const events = yield* deps.kube.list(Events, { namespace: ns }).pipe(Effect.orDie)
    const fresh = events.items
      .filter((e) => !seenEvents.has(e.metadata.name))
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
    for (const e of fresh) {
      seenEvents.add(e.metadata.name)
      const regarding = e.regarding as { kind?: string; name?: string } | undefined
      const when = Date.parse(String(e.eventTime))
      note(
        Number.isFinite(when) ? Math.min(at, Math.max(0, when - start)) : at,
        "event",
        `${String(e.type)} ${String(e.reason)} ${regarding?.kind ?? ""}/${regarding?.name ?? ""}: ${String(e.note)}`
      )
    }
    const infos = (yield* deps.servers).filter((s) => s.namespace === ns)
    const restarted = infos.filter((s) => {
      const before = instances.get(s.pod)
      instances.set(s.pod, s.instance)
      return before !== undefined && before !== s.instance
    })
    const servers = infos
      .map((s) => `${s.pod} ${s.running ? `${s.role}@${s.epoch}` : "down"}`)
      .sort()
      .join(", ")
    if (servers !== lastServers || restarted.length > 0) {
      lastServers = servers
      const started = restarted.map((s) => s.pod).sort()
      note(at, "servers", `${servers}${started.length === 0 ? "" : ` (new process: ${started.join(", ")})`}`)
    }
  })

  return { observe, periods: periods as ReadonlyArray<ObservedPeriod> }
}
