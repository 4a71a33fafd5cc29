/**
 * The primary's `dolt_cluster_status` rows folded per standby: lag, errors, and whether the standby refused the
 * primary's credentials (the `current_error` Dolt's commit hook records when a standby answers `Unauthenticated`,
 * e2e figures run 7), which is what the stuck-standby restart acts on.
 */
import { ClusterStatusRow } from "@doltdb-op/core/services/Dolt"
import { assert, describe, it } from "@effect/vitest"
import { foldStandbys } from "../../src/reconcilers/doltdb/observeDoltDB.ts"

const row = (database: string, standbyRemote: string, lag: number | null, currentError: string | null) =>
  new ClusterStatusRow({
    database,
    standbyRemote,
    role: "primary",
    epoch: 3,
    replicationLagMillis: lag,
    lastUpdateMillis: null,
    currentError
  })

describe("foldStandbys", () => {
  it("marks a standby that refused the primary's credentials, and no other", () => {
    const refused =
      "error fetching destDB: could not access dolt url 'http://db-1.db-internal.ns:50051/app': rpc error: code = Unauthenticated desc = unauthenticated."
    const unreachable = "failed to commit chunks on destDB: rpc error: code = Unavailable desc = connection refused"
    const folded = foldStandbys([
      row("app", "db-1", 4_000, refused),
      row("shop", "db-1", 0, null),
      row("app", "db-2", null, unreachable),
      row("shop", "db-2", 0, null)
    ])
    assert.deepStrictEqual(folded, [
      { remote: "db-1", databases: 2, maxLagMillis: 4_000, errors: 1, refused: true },
      { remote: "db-2", databases: 2, maxLagMillis: undefined, errors: 1 }
    ])
  })
})
