/**
 * The contract scenarios against the in-memory model (simulated time, always) and against real `dolt sql-server`s
 * when DOLTDB_E2E_DOLT_BIN points at a dolt binary (the e2e harness builds one). Without it no real-dolt test is
 * registered and the output says so: nothing pretends to have run.
 */
import { Dolt, DoltReadOnly, DoltSqlError } from "@doltdb-op/core/services/Dolt"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { assert, it } from "@effect/vitest"
import { Effect, Fiber, Redacted } from "effect"
import { TestClock } from "effect/testing"
import * as mysql from "mysql2/promise"
import * as DoltLive from "../../src/live/DoltLive.ts"
import * as DoltModelLayer from "../../src/memory/DoltModelLayer.ts"
import { DoltCluster, ModelPods } from "../../src/memory/index.ts"
import { inWorld } from "../memory/harness.ts"
import { realDoltFixture, singleDoltServer } from "./realDolt.ts"
import { type ContractFixture, contractSuite } from "./suite.ts"

const options: ModelPods.ModelPodsOptions = { replicas: 3 }

const modelFixture = Effect.gen(function* () {
  const processes = yield* ModelPods.startPods(options)
  const cluster = yield* DoltCluster
  yield* SimWorld
  const model = DoltModelLayer.make(cluster)
  const targets = processes.map((_, i) => ModelPods.target(options, i))
  const fixture: ContractFixture = {
    targets,
    session: (i) => model.openSession(targets[i]!),
    stop: (i) => processes[i]!.stop("KILL"),
    wait: (ms) => TestClock.adjust(ms),
    during: (effect, ms) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(effect, { startImmediately: true })
        yield* TestClock.adjust(ms)
        return yield* Fiber.join(fiber)
      }),
    scratchUrl: (name) => `file:///model/${name}`,
    write: (i, database, key, value) =>
      cluster
        .write(ModelPods.podHost(options, i), database, key, value)
        .pipe(
          Effect.flatMap((entry) =>
            entry.outcome === "acked"
              ? Effect.succeed({ warning: entry.warning })
              : Effect.fail(
                  entry.error?.startsWith("DoltReadOnly")
                    ? new DoltReadOnly({ host: entry.host, op: "write", message: entry.error })
                    : new DoltSqlError({ host: entry.host, op: "write", message: entry.error ?? "" })
                )
          )
        ),
    read: (i, database, key) => cluster.read(ModelPods.podHost(options, i), database, key),
    setAckWritesTimeout: (i, seconds) => cluster.setAckWritesTimeout(ModelPods.podHost(options, i), seconds)
  }
  return fixture
})

contractSuite("in-memory model", (name, body) => it.effect(name, () => inWorld(Effect.flatMap(modelFixture, body))))

const bin = process.env.DOLTDB_E2E_DOLT_BIN

if (bin === undefined || bin === "") {
  console.log("Dolt contract suite vs real dolt: NOT RUN — DOLTDB_E2E_DOLT_BIN is not set")
} else {
  contractSuite(`real dolt (${bin})`, (name, body) =>
    it.live(
      name,
      () =>
        Effect.scoped(Effect.flatMap(realDoltFixture(bin), body)).pipe(
          Effect.provide(DoltLive.layer({ roleChangeTimeout: "30 seconds" }))
        ),
      120_000
    )
  )

  // The model cannot hold uncommitted dolt_ignore rows (nothing it runs leaves any), so this reading of Dolt is
  // checked on the real server only: rows in the working set are not "committed patterns".
  it.live(
    `real dolt (${bin}): ignorePatterns reads HEAD, not the working set; ensureIgnorePatterns commits leftovers`,
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const target = yield* singleDoltServer(bin)
          const dolt = yield* Dolt
          yield* dolt.createDatabase(target, { name: "contract_wip" })
          yield* Effect.promise(async () => {
            const c = await mysql.createConnection({
              host: target.host,
              port: target.port,
              user: target.user,
              password: Redacted.value(target.password),
              database: "contract_wip"
            })
            await c.query("INSERT INTO dolt_ignore (pattern, ignored) VALUES ('wip_*', true)")
            c.destroy()
          })
          assert.deepStrictEqual(yield* dolt.ignorePatterns(target, "contract_wip"), [])
          // Already a row, so nothing is added, but the leftover is committed (reference flaw §13.33).
          assert.deepStrictEqual(yield* dolt.ensureIgnorePatterns(target, "contract_wip", ["wip_*"]), [])
          assert.deepStrictEqual(yield* dolt.ignorePatterns(target, "contract_wip"), ["wip_*"])
        })
      ).pipe(Effect.provide(DoltLive.layer())),
    60_000
  )
}
