import { Dolt } from "@doltdb-op/core/services/Dolt"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { DoltCluster } from "../../src/memory/index.ts"
import { boot, inWorld, pods, roleOf, tick } from "./harness.ts"

describe("model smoke", () => {
  it.effect("boots, replicates a write, reads it on a standby", () =>
    inWorld(
      Effect.gen(function* () {
        const o = pods(3)
        const { targets, host } = yield* boot(o)
        assert.deepStrictEqual(yield* Effect.forEach(targets, roleOf), ["primary@1", "standby@1", "standby@1"])
        const dolt = yield* Dolt
        const cluster = yield* DoltCluster
        yield* dolt.createDatabase(targets[0]!, { name: "app" })
        const w = yield* cluster.write(host(0), "app", "k", "v")
        assert.strictEqual(w.outcome, "acked")
        yield* tick(100)
        assert.strictEqual(yield* cluster.read(host(1), "app", "k"), "v")
        assert.strictEqual(yield* cluster.read(host(2), "app", "k"), "v")
        const rows = yield* dolt.clusterStatus(targets[0]!)
        assert.deepStrictEqual(
          rows.map((r) => [r.database, r.standbyRemote, r.replicationLagMillis]),
          [
            ["app", "db-1", 0],
            ["app", "db-2", 0]
          ]
        )
      })
    )
  )
})
