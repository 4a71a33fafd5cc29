/**
 * The contract scenarios against the in-memory model (simulated time, always) and against real `dolt sql-server`s
 * when DOLTDB_E2E_DOLT_BIN points at a dolt binary (the e2e harness builds one). Without it no real-dolt test is
 * registered and the output says so: nothing pretends to have run.
 */
import { DoltReadOnly, DoltSqlError } from "@doltdb-op/core/services/Dolt"
import { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as DoltLive from "../../src/live/DoltLive.ts"
import * as DoltModelLayer from "../../src/memory/DoltModelLayer.ts"
import { DoltCluster, ModelPods } from "../../src/memory/index.ts"
import { inWorld } from "../memory/harness.ts"
import { realDoltFixture } from "./realDolt.ts"
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
}
