/**
 * `kubectl doltdb status` golden output for the four states a user meets: healthy, failing over, failover blocked,
 * no primary. Each state is built by hand in the in-memory API server (see fixtures.ts); the text (no colour) and
 * the JSON are compared with `golden/<state>.txt|json`. After an intended change: UPDATE_GOLDEN=1 npx vitest run
 * --project @doltdb-op/operator test/plugin, then review the diff.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { inspect } from "../../src/plugin/Inspect.ts"
import { renderStatus } from "../../src/plugin/StatusText.ts"
import { advanceTo, at, backupObject, condition, event, layer, ns, type ServerState, seed } from "./fixtures.ts"

const golden = (file: string, actual: string) => {
  const path = new URL(`./golden/${file}`, import.meta.url)
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(path, actual)
  assert.isTrue(existsSync(path), `missing golden file ${file} (UPDATE_GOLDEN=1 writes it)`)
  assert.strictEqual(actual, readFileSync(path, "utf8"), `${file} differs from the golden output`)
}

const check = (state: string, expected: string) =>
  Effect.gen(function* () {
    const report = yield* inspect(ns, "db")
    assert.strictEqual(report.state, expected)
    const text = renderStatus(report)
    assert.notInclude(text, "\u001b[", "no colour unless asked")
    assert.include(renderStatus(report, true), "\u001b[", "colour when asked (a terminal)")
    golden(`${state}.txt`, text)
    golden(`${state}.json`, `${JSON.stringify(report, null, 2)}\n`)
    return report
  })

const servers = (entries: ReadonlyArray<readonly [string, ServerState]>) => new Map(entries)

describe("kubectl doltdb status", () => {
  it.effect("healthy: primary, epoch, each server's role/epoch and lag, last switchover, backups", () =>
    Effect.gen(function* () {
      yield* seed({
        status: {
          currentPrimaryPodIndex: 1,
          currentPrimary: "db-1",
          replicas: 3,
          replicationEpoch: 2,
          primaryRequest: 1,
          conditions: [
            condition("Ready", "True", "StatefulSetReady", "Running", at("12:00:40")),
            condition("PrimarySwitched", "True", "SwitchoverComplete", "Switchover complete", at("12:05:00"))
          ]
        },
        pods: [
          { ordinal: 0, ready: true, ip: "10.0.0.10", role: "standby" },
          { ordinal: 1, ready: true, ip: "10.0.0.11", role: "primary", restarts: 1 },
          { ordinal: 2, ready: true, ip: "10.0.0.12", role: "standby" }
        ]
      })
      yield* advanceTo("12:05:00")
      yield* event("Normal", "SwitchoverCompleted", "Primary switched from db-0 to db-1 at epoch 2")
      yield* backupObject("db-nightly", {
        phase: "Completed",
        startedAt: "2026-12-06T12:06:00Z",
        completedAt: "2026-12-06T12:07:30Z"
      })
      yield* advanceTo("12:20:00")
      const report = yield* check("healthy", "Healthy")
      assert.deepStrictEqual(
        report.pods.map((p) => [p.name, p.server.reachable && p.server.role, p.lagMillis]),
        [
          ["db-0", "standby", 0],
          ["db-1", "primary", undefined],
          ["db-2", "standby", 250]
        ]
      )
    }).pipe(
      Effect.provide(
        layer(
          servers([
            ["10.0.0.10", { role: "standby", epoch: 2 }],
            ["10.0.0.11", { role: "primary", epoch: 2, standbys: { "db-0": { lag: 0 }, "db-2": { lag: 250 } } }],
            ["10.0.0.12", { role: "standby", epoch: 2 }]
          ])
        )
      )
    )
  )

  it.effect("failing over: the transition in progress, the old primary unreachable and terminating", () =>
    Effect.gen(function* () {
      yield* seed({
        status: {
          currentPrimaryPodIndex: 0,
          currentPrimary: "db-0",
          replicas: 2,
          replicationEpoch: 1,
          primaryUnavailableSince: "2026-12-06T12:10:00Z",
          primaryTransition: { kind: "Failover", from: 0, to: 2, epoch: 2, startedAt: "2026-12-06T12:10:03Z" },
          conditions: [
            condition("Ready", "False", "SwitchPrimary", "Switching primary to 'db-2'", at("12:10:03")),
            condition("PrimarySwitched", "False", "Failover", "Failing over from db-0 to db-2", at("12:10:03"))
          ]
        },
        pods: [
          { ordinal: 0, ready: false, ip: "10.0.0.10", role: "primary", phase: "Running" },
          { ordinal: 1, ready: true, ip: "10.0.0.11", role: "standby" },
          { ordinal: 2, ready: true, ip: "10.0.0.12", role: "standby" }
        ]
      })
      yield* advanceTo("12:10:03")
      yield* event("Warning", "PrimaryUnavailable", "db-0 is unreachable: connect ECONNREFUSED")
      yield* event("Normal", "FailoverStarted", "Failing over from db-0 to db-2 at epoch 2")
      yield* advanceTo("12:10:05")
      const report = yield* check("failing-over", "FailingOver")
      assert.strictEqual(report.transition?.to, 2)
      assert.isFalse(report.pods[0]!.server.reachable)
    }).pipe(
      Effect.provide(
        layer(
          servers([
            ["10.0.0.11", { role: "standby", epoch: 1 }],
            ["10.0.0.12", { role: "standby", epoch: 1 }]
          ])
        )
      )
    )
  )

  it.effect("blocked: no standby provably caught up; the reason is shown", () =>
    Effect.gen(function* () {
      const reason = "no standby is provably caught up: db-1 last heard from the primary 41s before it was lost"
      yield* seed({
        status: {
          currentPrimaryPodIndex: 0,
          currentPrimary: "db-0",
          replicas: 2,
          replicationEpoch: 1,
          primaryUnavailableSince: "2026-12-06T12:10:00Z",
          conditions: [condition("Ready", "False", "FailoverBlocked", reason, at("12:10:03"))]
        },
        replicas: 2,
        pods: [
          { ordinal: 0, ready: false, role: "primary", phase: "Pending" },
          { ordinal: 1, ready: true, ip: "10.0.0.11", role: "standby" }
        ]
      })
      yield* advanceTo("12:10:03")
      yield* event("Warning", "FailoverBlocked", reason)
      yield* advanceTo("12:12:00")
      const report = yield* check("blocked", "Blocked")
      assert.strictEqual(report.blocked?.reason, "FailoverBlocked")
    }).pipe(Effect.provide(layer(servers([["10.0.0.11", { role: "standby", epoch: 1 }]]))))
  )

  it.effect("no primary: a new DoltDB whose pods have not started", () =>
    Effect.gen(function* () {
      yield* seed({
        status: {
          replicas: 0,
          conditions: [
            condition("Ready", "False", "StatefulSetNotReady", "Not ready: 0/3 replicas ready", at("12:00:01"))
          ]
        },
        pods: [
          { ordinal: 0, ready: false, phase: "Pending" },
          { ordinal: 1, ready: false, phase: "Pending" },
          { ordinal: 2, ready: false, phase: "Pending" }
        ]
      })
      yield* advanceTo("12:00:30")
      const report = yield* check("no-primary", "NoPrimary")
      assert.isUndefined(report.primary)
    }).pipe(Effect.provide(layer(servers([]))))
  )

  it.effect("a DoltDB that does not exist is a NotFound naming it", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(inspect(ns, "missing"))
      assert.strictEqual(error._tag, "NotFound")
    }).pipe(Effect.provide(layer(servers([]))))
  )
})
