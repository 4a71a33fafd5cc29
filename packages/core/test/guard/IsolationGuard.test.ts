import { assert, describe, it } from "@effect/vitest"
import { guardTiming, MinThresholdMillis, settingsFor } from "../../src/guard/GuardView.ts"
import {
  type ApiAnswer,
  actDeadline,
  decide,
  type GuardDecision,
  type GuardMemory,
  type GuardObservation,
  initialMemory,
  type ServerAnswer
} from "../../src/guard/IsolationGuard.ts"

const settings = { thresholdMillis: 5_000, demotionMillis: 500 }
const primary = (epoch = 3): ServerAnswer => ({ _tag: "Answered", role: "primary", epoch })
const standby = (epoch = 3): ServerAnswer => ({ _tag: "Answered", role: "standby", epoch })
const down: ServerAnswer = { _tag: "Unreachable" }
const apiUp = (over: Partial<Extract<ApiAnswer, { _tag: "Reachable" }>> = {}): ApiAnswer => ({
  _tag: "Reachable",
  pod: "Present",
  failoverAwayAtEpoch: undefined,
  otherPrimaryAtEpoch: undefined,
  ...over
})
const apiDown: ApiAnswer = { _tag: "Unreachable" }
const peers = (...answers: ReadonlyArray<ServerAnswer>) => answers.map((answer, i) => ({ name: `db-${i + 1}`, answer }))

const obs = (now: number, local: ServerAnswer, api: ApiAnswer, ps: GuardObservation["peers"]): GuardObservation => ({
  now,
  local,
  api,
  peers: ps
})

/** Runs ticks every second from 0 to `untilMillis` with the same observation; returns every decision. */
const run = (untilMillis: number, tick: (now: number) => GuardObservation, memory: GuardMemory = initialMemory(0)) => {
  const decisions: Array<{ now: number; decision: GuardDecision }> = []
  let m = memory
  for (let now = 0; now <= untilMillis; now += 1_000) {
    const r = decide(m, tick(now), settings)
    m = r.memory
    decisions.push({ now, decision: r.decision })
  }
  return { decisions, memory: m, last: decisions[decisions.length - 1]!.decision }
}
const tagsOf = (ds: ReadonlyArray<{ decision: GuardDecision }>) => new Set(ds.map((d) => d.decision._tag))

describe("isolation guard decision table: primary", () => {
  it("API reachable, peers reachable: serves, however long it runs (only the operator down changes nothing)", () => {
    const r = run(60_000, (now) => obs(now, primary(), apiUp(), peers(standby(), standby())))
    assert.deepStrictEqual([...tagsOf(r.decisions)], ["Serve"])
  })

  it("API reachable, no peer reachable: serves (the standbys' loss is not this primary's isolation)", () => {
    const r = run(60_000, (now) => obs(now, primary(), apiUp(), peers(down, down)))
    assert.deepStrictEqual([...tagsOf(r.decisions)], ["Serve"])
  })

  it("API unreachable, a peer reachable: serves, however long the API server is down", () => {
    const r = run(60_000, (now) => obs(now, primary(), apiDown, peers(down, standby())))
    assert.deepStrictEqual([...tagsOf(r.decisions)], ["Serve"])
    assert.include(r.last._tag === "Serve" ? r.last.reason : "", "db-2")
  })

  it("API unreachable, no peer reachable: holds below the threshold, demotes at epoch + 1 once it has passed", () => {
    const r = run(8_000, (now) => obs(now, primary(3), now < 1_000 ? apiUp() : apiDown, peers(down, down)))
    // Last contact at the tick starting at 0; cut off from then on.
    for (const { now, decision } of r.decisions) {
      if (now === 0) assert.strictEqual(decision._tag, "Serve")
      else if (now < 5_000) assert.strictEqual(decision._tag, "Hold", `at ${now}`)
      else assert.deepInclude(decision, { _tag: "Demote", epoch: 4 }, `at ${now}`)
    }
    assert.include(r.last._tag === "Demote" ? r.last.reason : "", "cut off from the API server and all 2 peers")
  })

  it("acts demotionMillis before the threshold, judged when the tick's reads ended", () => {
    const m = initialMemory(0)
    assert.strictEqual(actDeadline(m, settings), 4_500)
    const at = (now: number, end: number) =>
      decide(m, { ...obs(now, primary(3), apiDown, peers(down)), at: end }, settings)
    assert.strictEqual(at(4_000, 4_499).decision._tag, "Hold")
    assert.deepInclude(at(4_000, 4_500).decision, { _tag: "Demote", epoch: 4 })
    // A tick that started early but whose reads timed out at the deadline: the decision counts their end.
    assert.deepInclude(at(2_500, 4_500).decision, { _tag: "Demote", epoch: 4 })
    assert.include(
      (at(2_500, 4_500).decision as { reason: string }).reason,
      "cut off from the API server and all 1 peers for 4500ms (threshold 5000ms, acting 500ms before it)"
    )
    // Contact is dated by the tick's start, never by the end of its reads (errs early).
    assert.strictEqual(
      decide(m, { ...obs(2_500, primary(3), apiUp(), peers(down)), at: 4_000 }, settings).memory.lastContactAt,
      2_500
    )
  })

  it("timing from the threshold: two timed-out ticks and the demotion fit in it; ticks no longer than reads", () => {
    for (const t of [MinThresholdMillis, 1_500, 2_000, 3_000, 5_000, 7_000, 10_000, 30_000, 600_000]) {
      const { tickMillis, probeTimeoutMillis, demotionMillis } = guardTiming(t)
      assert.isAtMost(2 * probeTimeoutMillis + demotionMillis, t, `threshold ${t}`)
      assert.isAtMost(tickMillis, probeTimeoutMillis, `threshold ${t}`)
      assert.isAtLeast(demotionMillis, 200, `threshold ${t}`)
      assert.deepStrictEqual(settingsFor(t), { thresholdMillis: t, demotionMillis })
    }
    assert.deepStrictEqual(guardTiming(5_000), { tickMillis: 1_000, probeTimeoutMillis: 2_000, demotionMillis: 500 })
    // Below the minimum, the minimum.
    assert.strictEqual(settingsFor(10).thresholdMillis, MinThresholdMillis)
  })

  it("hysteresis: contact just before the threshold restarts the clock", () => {
    const reachedAt = new Set([0, 4_000, 8_000, 12_000])
    const r = run(15_000, (now) => obs(now, primary(), reachedAt.has(now) ? apiUp() : apiDown, peers(down)))
    assert.isFalse(tagsOf(r.decisions).has("Demote"))
    // Contact through a peer counts as well as through the API server.
    const p = run(15_000, (now) => obs(now, primary(), apiDown, peers(reachedAt.has(now) ? standby() : down)))
    assert.isFalse(tagsOf(p.decisions).has("Demote"))
  })

  it("a guard that starts cut off counts from its start", () => {
    const r = run(6_000, (now) => obs(now, primary(), apiDown, peers(down)), initialMemory(0))
    assert.strictEqual(r.decisions.find((d) => d.now === 4_000)?.decision._tag, "Hold")
    assert.strictEqual(r.decisions.find((d) => d.now === 5_000)?.decision._tag, "Demote")
  })

  it("a peer at a higher epoch does not count as following this primary", () => {
    // API reachable: serves (the status is the arbiter); the peer's epoch alone proves nothing.
    assert.strictEqual(
      decide(initialMemory(0), obs(0, primary(3), apiUp(), peers(standby(4))), settings).decision._tag,
      "Serve"
    )
    // API cut off: a standby above our epoch follows someone else: another primary was promoted.
    const d = decide(initialMemory(0), obs(1_000, primary(3), apiDown, peers(down, standby(4))), settings).decision
    assert.deepInclude(d, { _tag: "Demote", epoch: 4 })
    // And it never restarts the isolation clock.
    const m = decide(initialMemory(0), obs(1_000, primary(3), apiDown, peers(standby(4))), settings).memory
    assert.strictEqual(m.lastContactAt, 0)
  })

  it("a peer that is primary at a higher epoch: demotes at once, at that epoch, whatever the API says", () => {
    for (const api of [apiUp(), apiDown]) {
      const d = decide(initialMemory(0), obs(0, primary(3), api, peers(primary(5), standby(3))), settings).decision
      assert.deepInclude(d, { _tag: "Demote", epoch: 5 })
    }
  })

  it("a peer primary at the same or a lower epoch is not evidence of a newer primary", () => {
    const d = decide(initialMemory(0), obs(0, primary(3), apiUp(), peers(primary(3), primary(2))), settings).decision
    assert.strictEqual(d._tag, "Serve")
  })

  it("the API says the pod was deleted, is being deleted or was replaced: demotes at once", () => {
    for (const pod of ["Gone", "Deleting", "Replaced"] as const) {
      const d = decide(initialMemory(0), obs(0, primary(3), apiUp({ pod }), peers(standby())), settings).decision
      assert.deepInclude(d, { _tag: "Demote", epoch: 4 }, pod)
    }
  })

  it("the DoltDB status records a failover away from this pod above its epoch: demotes at that epoch", () => {
    const d = decide(
      initialMemory(0),
      obs(0, primary(3), apiUp({ failoverAwayAtEpoch: 4 }), peers(standby())),
      settings
    )
    assert.deepInclude(d.decision, { _tag: "Demote", epoch: 4 })
    // A record at or below our epoch is an older transition.
    const old = decide(initialMemory(0), obs(0, primary(4), apiUp({ failoverAwayAtEpoch: 4 }), peers()), settings)
    assert.strictEqual(old.decision._tag, "Serve")
  })

  it("the DoltDB status names another primary above this pod's epoch: demotes at that epoch", () => {
    const d = decide(initialMemory(0), obs(0, primary(2), apiUp({ otherPrimaryAtEpoch: 3 }), peers()), settings)
    assert.deepInclude(d.decision, { _tag: "Demote", epoch: 3 })
    const same = decide(initialMemory(0), obs(0, primary(3), apiUp({ otherPrimaryAtEpoch: 3 }), peers()), settings)
    assert.strictEqual(same.decision._tag, "Serve")
  })
})

describe("isolation guard decision table: not a primary", () => {
  const cells: ReadonlyArray<[string, ApiAnswer, GuardObservation["peers"]]> = [
    ["API up, peers up", apiUp(), peers(primary(4))],
    ["API up, peers down", apiUp(), peers(down)],
    ["API down, peers up", apiDown, peers(primary(4))],
    ["API down, peers down", apiDown, peers(down)],
    ["pod deleted", apiUp({ pod: "Gone" }), peers(down)]
  ]
  for (const [name, api, ps] of cells) {
    it(`standby, ${name}: idle (the guard never promotes)`, () => {
      const r = run(30_000, (now) => obs(now, standby(4), api, ps))
      assert.deepStrictEqual([...tagsOf(r.decisions)], ["Idle"])
    })
    it(`detected_broken_config, ${name}: idle`, () => {
      const r = run(30_000, (now) => obs(now, { _tag: "Answered", role: "detected_broken_config", epoch: 4 }, api, ps))
      assert.deepStrictEqual([...tagsOf(r.decisions)], ["Idle"])
    })
    it(`local server not answering, ${name}: idle`, () => {
      const r = run(30_000, (now) => obs(now, down, api, ps))
      assert.deepStrictEqual([...tagsOf(r.decisions)], ["Idle"])
    })
  }

  it("a server that turns primary after a long isolation as a standby is judged on its last contact", () => {
    // Cut off for 20 s as a standby, then (say) restarted as primary at an old epoch: demote at once.
    const memory = run(20_000, (now) => obs(now, standby(3), apiDown, peers(down))).memory
    const d = decide(memory, obs(21_000, primary(3), apiDown, peers(down)), settings).decision
    assert.strictEqual(d._tag, "Demote")
  })
})
