/**
 * The invariant checker on hand-made snapshots: each rule fires on the situation it names (so a simulation that
 * passes is not passing because a rule cannot fail).
 */
import { assert, describe, it } from "@effect/vitest"
import { checkInvariants } from "../../src/simulate/Invariants.ts"
import type { ServerSnapshot, Snapshot } from "../../src/simulate/WorldSnapshot.ts"

const server = (pod: string, role: string, epoch: number, databases: ReadonlyArray<string>): ServerSnapshot => ({
  endpoint: `default/${pod}`,
  pod,
  ip: `10.0.0.${pod.slice(-1)}`,
  instance: Number(pod.slice(-1)) + 1,
  running: true,
  role,
  epoch,
  ackWritesTimeoutSecs: 0,
  reachable: true,
  databases
})

const snap = (at: number, servers: ReadonlyArray<ServerSnapshot>): Snapshot => ({
  at,
  namespace: "default",
  name: "db",
  servers,
  status: undefined,
  routed: [],
  ledger: [],
  missingOnPrimary: undefined
})

describe("checkInvariants", () => {
  it("EmptyPromotion: a new primary lacking a database its predecessor held", () => {
    const first = checkInvariants(
      snap(0, [server("db-0", "primary", 1, ["app"]), server("db-2", "standby", 1, [])]),
      undefined
    )
    assert.deepStrictEqual(first.violations, [])
    const second = checkInvariants(
      snap(1_000, [server("db-0", "standby", 2, ["app"]), server("db-2", "primary", 2, [])]),
      first.state
    )
    assert.deepStrictEqual(
      second.violations.map((v) => v.invariant),
      ["EmptyPromotion"]
    )
    // a promotion of a server that holds it is fine
    const third = checkInvariants(
      snap(1_000, [server("db-0", "standby", 2, ["app"]), server("db-1", "primary", 2, ["app"])]),
      first.state
    )
    assert.deepStrictEqual(third.violations, [])
  })

  it("Unfenced: an instance running before the first promotion above its epoch, not an old primary rebooted after it", () => {
    const run = (snapshots: ReadonlyArray<Snapshot>) => {
      let state: ReturnType<typeof checkInvariants>["state"] | undefined
      const found: Array<string> = []
      for (const s of snapshots) {
        const r = checkInvariants(s, state)
        state = r.state
        found.push(...r.violations.map((v) => `${v.at}:${v.invariant}`))
      }
      return found
    }
    const db0 = (instance: number, reachable = true) => ({
      ...server("db-0", "primary", 1, ["app"]),
      instance,
      reachable
    })
    const s1 = (role: string, epoch: number) => server("db-1", role, epoch, ["app"])
    const s2 = (role: string, epoch: number) => server("db-2", role, epoch, ["app"])
    // db-0's pod re-created at db-1's promotion (epoch 2), booting primary@1 again, out of the operator's reach;
    // db-2 promoted at epoch 3 later: the rebooted instance is the documented non-guarantee, before and after.
    assert.deepStrictEqual(
      run([
        snap(0, [db0(1), s1("standby", 1), s2("standby", 1)]),
        snap(1_000, [db0(4), s1("primary", 2), s2("standby", 2)]),
        snap(5_000, [db0(4), s1("standby", 3), s2("primary", 3)]),
        snap(8_000, [db0(4), s1("standby", 3), s2("primary", 3)])
      ]),
      []
    )
    // The same old instance that ran before the first promotion stays an unfenced one at every promotion after it,
    // also when nobody could reach it at the first.
    assert.deepStrictEqual(
      run([
        snap(0, [db0(1), s1("standby", 1), s2("standby", 1)]),
        snap(1_000, [db0(1, false), s1("primary", 2), s2("standby", 2)]),
        snap(5_000, [db0(1, false), s1("standby", 3), s2("primary", 3)]),
        snap(8_000, [db0(1), s1("standby", 3), s2("primary", 3)])
      ]),
      ["8000:Unfenced"]
    )
    assert.deepStrictEqual(
      run([
        snap(0, [db0(1), s1("standby", 1)]),
        snap(1_000, [db0(1), s1("primary", 2)]),
        snap(3_500, [db0(1), s1("primary", 2)])
      ]),
      ["3500:Unfenced"]
    )
  })

  it("RefusalInvisible: a refusal condition without a Warning of its reason, not the other way round", () => {
    const servers = [server("db-0", "primary", 1, ["app"])]
    const withStatus = (
      at: number,
      conditions: Record<string, string>,
      warnings: ReadonlyArray<{ reason: string; at: number }>
    ): Snapshot => ({
      ...snap(at, servers),
      status: { currentPrimary: "db-0", replicationEpoch: 1, transition: undefined, conditions },
      warnings
    })
    const ready = checkInvariants(withStatus(0, { Ready: "True/StatefulSetReady" }, []), undefined)
    const silent = checkInvariants(withStatus(1_000, { Ready: "False/FailoverBlocked" }, []), ready.state)
    assert.deepStrictEqual(
      silent.violations.map((v) => v.invariant),
      ["RefusalInvisible"]
    )
    const announced = checkInvariants(
      withStatus(1_000, { Ready: "False/FailoverBlocked" }, [{ reason: "FailoverBlocked", at: 900 }]),
      ready.state
    )
    assert.deepStrictEqual(announced.violations, [])
    // an old Warning of an earlier streak does not count; a deferred switchover is a PrimarySwitched refusal
    const stale = checkInvariants(
      withStatus(60_000, { Ready: "True/StatefulSetReady", PrimarySwitched: "False/SwitchoverDeferred" }, [
        { reason: "SwitchoverDeferred", at: 1_000 }
      ]),
      checkInvariants(withStatus(59_000, { Ready: "True/StatefulSetReady" }, []), undefined).state
    )
    assert.deepStrictEqual(
      stale.violations.map((v) => v.invariant),
      ["RefusalInvisible"]
    )
    // other reasons (a rollout, a transition) are not refusals
    const rolling = checkInvariants(withStatus(1_000, { Ready: "False/Updating" }, []), ready.state)
    assert.deepStrictEqual(rolling.violations, [])
  })
})
