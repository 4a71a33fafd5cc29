/**
 * Dolt contract scenarios, written once against the `Dolt` service and a small fixture, run against the in-memory
 * model (always) and against real `dolt sql-server`s (when DOLTDB_E2E_DOLT_BIN is set). A difference between the
 * two is a bug in the model (or a wrong reading of Dolt) that these tests make visible.
 */
import { Dolt, type DoltError, type DoltTarget, standbysCaughtUp } from "@doltdb-op/core/services/Dolt"
import { assert, describe } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type { DoltSession } from "../../src/DoltSession.ts"

/** Three servers: `targets[0]` bootstraps as primary at epoch 1, the others as standbys at epoch 1. */
export interface ContractFixture {
  readonly targets: ReadonlyArray<DoltTarget>
  readonly session: (i: number) => Effect.Effect<DoltSession, DoltError>
  readonly stop: (i: number) => Effect.Effect<void>
  /** Lets `ms` of (simulated or real) time pass. */
  readonly wait: (ms: number) => Effect.Effect<void>
  /** Runs a call that blocks inside Dolt while `ms` of time pass (graceful transitions wait up to 10 s). */
  readonly during: <A, E>(effect: Effect.Effect<A, E, Dolt>, ms: number) => Effect.Effect<A, E, Dolt>
  /** A `file://` URL for backups that is removed with the fixture. */
  readonly scratchUrl: (name: string) => string
  /** A client write (`REPLACE INTO kv`, autocommit) on server `i`; `warning` = the 3024 message, if any. */
  readonly write: (
    i: number,
    database: string,
    key: string,
    value: string
  ) => Effect.Effect<{ readonly warning: string | undefined }, DoltError, Dolt>
  readonly read: (i: number, database: string, key: string) => Effect.Effect<string | undefined, DoltError, Dolt>
  /** `SET @@PERSIST.dolt_cluster_ack_writes_timeout_secs` on server `i`. */
  readonly setAckWritesTimeout: (i: number, seconds: number) => Effect.Effect<void, DoltError, Dolt>
}

export type Register = (name: string, body: (f: ContractFixture) => Effect.Effect<void, unknown, Dolt>) => void

const roleOf = (t: DoltTarget) =>
  Effect.gen(function* () {
    const r = yield* (yield* Dolt).roleAndEpoch(t)
    return `${r.role}@${r.epoch}`
  })

export const contractSuite = (label: string, register: Register): void => {
  describe(`Dolt contract: ${label}`, () => {
    register("bootstrap: one primary and standbys, all at epoch 1", (f) =>
      Effect.gen(function* () {
        assert.deepStrictEqual(yield* Effect.forEach(f.targets, roleOf), ["primary@1", "standby@1", "standby@1"])
      })
    )

    register("same role and same epoch is a no-op that leaves the connection usable", (f) =>
      Effect.gen(function* () {
        const s = yield* f.session(0)
        yield* s.assumeRole("primary", 1)
        assert.strictEqual((yield* s.roleAndEpoch).role, "primary")
        yield* s.close
      })
    )

    register("a lower epoch is rejected", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* dolt.assumeRole(f.targets[2]!, "standby", 5)
        const e = yield* Effect.flip(dolt.assumeRole(f.targets[2]!, "standby", 4))
        assert.strictEqual(e._tag, "DoltEpochConflict")
        assert.strictEqual(yield* roleOf(f.targets[2]!), "standby@5")
      })
    )

    register("the same epoch with a different role is rejected", (f) =>
      Effect.gen(function* () {
        const e = yield* Effect.flip((yield* Dolt).assumeRole(f.targets[1]!, "primary", 1))
        assert.strictEqual(e._tag, "DoltEpochConflict")
        assert.strictEqual(yield* roleOf(f.targets[1]!), "standby@1")
      })
    )

    register("a role change taints the calling connection; a fresh connection works", (f) =>
      Effect.gen(function* () {
        const s = yield* f.session(1)
        yield* s.assumeRole("primary", 2)
        const e = yield* Effect.flip(s.roleAndEpoch)
        assert.strictEqual(e._tag, "DoltConnectionTainted")
        yield* s.close
        assert.strictEqual(yield* roleOf(f.targets[1]!), "primary@2")
        // The old primary hears about epoch 2 from the new one and steps down.
        yield* f.wait(5_000)
        assert.strictEqual(yield* roleOf(f.targets[0]!), "standby@2")
      })
    )

    register("a role change kills the server's other connections", (f) =>
      Effect.gen(function* () {
        const other = yield* f.session(1)
        assert.strictEqual((yield* other.roleAndEpoch).role, "standby")
        yield* (yield* Dolt).assumeRole(f.targets[1]!, "primary", 2)
        const e = yield* Effect.flip(other.roleAndEpoch)
        assert.strictEqual(e._tag, "DoltUnreachable")
        yield* other.close
      })
    )

    register("status rows on a standby: its role and epoch, no lag, no error, last_update from the primary", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_sb" })
        yield* f.wait(3_000)
        const rows = (yield* dolt.clusterStatus(f.targets[1]!)).filter((r) => r.database === "contract_sb")
        assert.strictEqual(rows.length, 2)
        assert.isTrue(rows.every((r) => r.role === "standby" && r.epoch === 1))
        assert.isTrue(rows.every((r) => r.replicationLagMillis === null && r.currentError === null))
        assert.isTrue(rows.some((r) => r.lastUpdateMillis !== null))
      })
    )

    register("status rows: one per database and standby; caught up with lag 0 and no error", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_app" })
        yield* f.wait(3_000)
        const rows = yield* dolt.clusterStatus(f.targets[0]!)
        const app = rows.filter((r) => r.database === "contract_app")
        assert.strictEqual(app.length, 2)
        assert.isTrue(app.every((r) => r.role === "primary" && r.epoch === 1))
        assert.isTrue(app.every((r) => r.replicationLagMillis === 0 && r.currentError === null))
        assert.include(yield* dolt.listDatabases(f.targets[1]!), "contract_app")
      })
    )

    register("graceful switchover: transition_to_standby reports caught-up hosts, one of them is promoted", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_sw" })
        yield* f.wait(3_000)
        const rows = yield* f.during(dolt.transitionToStandby(f.targets[0]!, 2, 1), 1_000)
        assert.isTrue(rows.some((r) => r.database === "mysql"))
        assert.isTrue(rows.some((r) => r.database === "dolt_branch_control"))
        const caught = standbysCaughtUp(rows).filter((h) => h.caughtUp)
        assert.strictEqual(caught.length, 2)
        assert.strictEqual(yield* roleOf(f.targets[0]!), "standby@2")
        yield* dolt.assumeRole(f.targets[1]!, "primary", 2)
        assert.strictEqual(yield* roleOf(f.targets[1]!), "primary@2")
      })
    )

    register("graceful transition without caught-up standbys fails after Dolt's wait and stays primary", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* f.stop(1)
        yield* f.stop(2)
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_nc" })
        const e = yield* f.during(Effect.flip(dolt.transitionToStandby(f.targets[0]!, 2, 1)), 11_000)
        assert.strictEqual(e._tag, "DoltNotCaughtUp")
        assert.strictEqual(yield* roleOf(f.targets[0]!), "primary@1")
      })
    )

    register("an isolated primary: transition_to_standby(e, -1) ends standby after Dolt's wait; writes refused", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_iso" })
        yield* f.write(0, "contract_iso", "k", "before")
        yield* f.stop(1)
        yield* f.stop(2)
        const rows = yield* f.during(dolt.transitionToStandby(f.targets[0]!, 2, -1), 11_000)
        assert.isTrue(rows.length > 0)
        assert.strictEqual(yield* roleOf(f.targets[0]!), "standby@2")
        const e = yield* Effect.flip(f.write(0, "contract_iso", "k", "after"))
        assert.include(["DoltReadOnly", "DoltSqlError"], e._tag)
        assert.strictEqual(yield* f.read(0, "contract_iso", "k"), "before")
      })
    )

    register("a standby refuses server-level writes as a read-only server", (f) =>
      Effect.gen(function* () {
        const e = yield* Effect.flip((yield* Dolt).createDatabase(f.targets[1]!, { name: "contract_ro" }))
        assert.strictEqual(e._tag, "DoltReadOnly")
      })
    )

    register("databases, users and grants made on the primary replicate to the standbys", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        const account = { name: "contract_user", host: "%" }
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_db" })
        assert.isTrue(yield* dolt.createUser(f.targets[0]!, account, Redacted.make("pw'\\x")))
        assert.isFalse(yield* dolt.createUser(f.targets[0]!, account, Redacted.make("other")))
        const grant = {
          account,
          privileges: ["SELECT", "INSERT"],
          database: "contract_db",
          table: "*",
          grantOption: false
        }
        yield* dolt.grant(f.targets[0]!, grant)
        yield* dolt.grant(f.targets[0]!, grant)
        yield* f.wait(3_000)
        assert.include(yield* dolt.listDatabases(f.targets[2]!), "contract_db")
        assert.isTrue(yield* dolt.userExists(f.targets[2]!, account))
        const grants = yield* dolt.showGrants(f.targets[2]!, account)
        assert.isTrue(grants.some((g) => g.includes("contract_db") && g.includes("SELECT") && g.includes("INSERT")))
        yield* dolt.revoke(f.targets[0]!, grant)
        yield* dolt.revoke(f.targets[0]!, grant)
        assert.isFalse((yield* dolt.showGrants(f.targets[0]!, account)).some((g) => g.includes("contract_db")))
        yield* dolt.dropUser(f.targets[0]!, account)
        yield* dolt.dropUser(f.targets[0]!, account)
        yield* dolt.dropDatabase(f.targets[0]!, "contract_db")
        yield* f.wait(3_000)
        assert.isFalse(yield* dolt.userExists(f.targets[2]!, account))
        assert.notInclude(yield* dolt.listDatabases(f.targets[2]!), "contract_db")
      })
    )

    register("an account that does not exist: no grants to show, nothing to revoke, nothing to drop", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        const ghost = { name: "contract_ghost", host: "%" }
        assert.deepStrictEqual(yield* dolt.showGrants(f.targets[0]!, ghost), [])
        yield* dolt.revoke(f.targets[0]!, {
          account: ghost,
          privileges: ["SELECT"],
          database: "x",
          table: "*",
          grantOption: true
        })
        yield* dolt.dropUser(f.targets[0]!, ghost)
        assert.isFalse(yield* dolt.userExists(f.targets[0]!, ghost))
      })
    )

    register("system branches and committed dolt_ignore patterns: created once, then nothing to do", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_br" })
        assert.deepStrictEqual(yield* dolt.ignorePatterns(f.targets[0]!, "contract_br"), [])
        assert.deepStrictEqual(yield* dolt.ensureBranches(f.targets[0]!, "contract_br", ["dev", "qa"]), ["dev", "qa"])
        assert.deepStrictEqual(yield* dolt.ensureBranches(f.targets[0]!, "contract_br", ["dev", "qa"]), [])
        assert.deepStrictEqual(yield* dolt.ensureIgnorePatterns(f.targets[0]!, "contract_br", ["tmp_*", "scratch"]), [
          "tmp_*",
          "scratch"
        ])
        assert.deepStrictEqual(yield* dolt.ensureIgnorePatterns(f.targets[0]!, "contract_br", ["tmp_*", "scratch"]), [])
        assert.deepStrictEqual([...(yield* dolt.ignorePatterns(f.targets[0]!, "contract_br"))].sort(), [
          "scratch",
          "tmp_*"
        ])
        yield* f.wait(3_000)
        const branches = (yield* dolt.listBranches(f.targets[1]!, "contract_br")).map((b) => b.name).sort()
        assert.deepStrictEqual(branches, ["dev", "main", "qa"])
        // The commit replicates with the database: a standby reads the same committed patterns.
        assert.deepStrictEqual([...(yield* dolt.ignorePatterns(f.targets[1]!, "contract_br"))].sort(), [
          "scratch",
          "tmp_*"
        ])
        const missing = yield* Effect.flip(dolt.ignorePatterns(f.targets[0]!, "contract_nodb"))
        assert.strictEqual(missing._tag, "DoltSqlError")
      })
    )

    register("database defaults: charset and collation as created; none for a missing database", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_cs" })
        yield* dolt.createDatabase(f.targets[0]!, {
          name: "contract_latin",
          charset: "latin1",
          collation: "latin1_swedish_ci"
        })
        assert.deepStrictEqual(yield* dolt.databaseDefaults(f.targets[0]!, "contract_cs"), {
          charset: "utf8mb4",
          collation: "utf8mb4_0900_bin"
        })
        assert.deepStrictEqual(yield* dolt.databaseDefaults(f.targets[0]!, "contract_latin"), {
          charset: "latin1",
          collation: "latin1_swedish_ci"
        })
        assert.isUndefined(yield* dolt.databaseDefaults(f.targets[0]!, "contract_nodb"))
      })
    )

    register("backups: add is idempotent, definitions are per server", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_bk" })
        yield* f.wait(3_000)
        const url = f.scratchUrl("backup-never-synced")
        yield* dolt.backupAdd(f.targets[0]!, "contract_bk", "bk1", url)
        yield* dolt.backupAdd(f.targets[0]!, "contract_bk", "bk1", url)
        assert.deepStrictEqual(
          (yield* dolt.listBackups(f.targets[0]!, "contract_bk")).map((b) => b.name),
          ["bk1"]
        )
        assert.deepStrictEqual(yield* dolt.listBackups(f.targets[1]!, "contract_bk"), [])
        yield* dolt.backupRemove(f.targets[0]!, "contract_bk", "bk1")
        yield* dolt.backupRemove(f.targets[0]!, "contract_bk", "bk1")
        assert.deepStrictEqual(yield* dolt.listBackups(f.targets[0]!, "contract_bk"), [])
      })
    )

    register("backups: a sync from a standby copies the database; a restore brings its rows back", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        const [primary, standby] = [f.targets[0]!, f.targets[1]!]
        yield* dolt.createDatabase(primary, { name: "contract_bs" })
        yield* f.write(0, "contract_bs", "k", "v1")
        yield* f.wait(3_000)
        const hash = yield* dolt.databaseHash(primary, "contract_bs")
        assert.isAbove(hash.length, 0)
        assert.strictEqual(yield* dolt.databaseHash(primary, "contract_bs"), hash, "no write, same hash")

        const url = f.scratchUrl("bs-standby")
        yield* dolt.backupAdd(standby, "contract_bs", "bk", url)
        yield* f.during(dolt.backupSync(standby, "contract_bs", "bk", 60_000), 2_000)
        yield* dolt.backupRemove(standby, "contract_bs", "bk")
        assert.deepStrictEqual(yield* dolt.listBackups(standby, "contract_bs"), [])

        yield* f.write(0, "contract_bs", "k", "v2")
        assert.notStrictEqual(yield* dolt.databaseHash(primary, "contract_bs"), hash, "a write changes the hash")
        yield* dolt.backupRestore(primary, url, "contract_bs_r", false)
        assert.strictEqual(yield* f.read(0, "contract_bs_r", "k"), "v1", "the backup holds the standby's state")
        const again = yield* Effect.flip(dolt.backupRestore(primary, url, "contract_bs_r", false))
        assert.strictEqual(again._tag, "DoltSqlError")
        yield* dolt.backupRestore(primary, url, "contract_bs_r", true)
        assert.strictEqual(yield* f.read(0, "contract_bs_r", "k"), "v1")
      })
    )

    // Why the bootstrap step removes a failed restore's directory: dolt creates the database first and leaves it.
    register("backups: a restore from a URL that holds no backup fails, and leaves an empty database behind", (f) =>
      Effect.gen(function* () {
        const e = yield* Effect.flip((yield* Dolt).backupRestore(f.targets[0]!, f.scratchUrl("nothing"), "r", false))
        assert.strictEqual(e._tag, "DoltSqlError")
        assert.include(yield* (yield* Dolt).listDatabases(f.targets[0]!), "r")
        assert.deepStrictEqual(
          (yield* (yield* Dolt).listBranches(f.targets[0]!, "r")).map((b) => b.name),
          ["main"]
        )
      })
    )

    register("client writes on the primary reach the standbys; a standby refuses them as read-only", (f) =>
      Effect.gen(function* () {
        yield* (yield* Dolt).createDatabase(f.targets[0]!, { name: "contract_kv" })
        yield* f.write(0, "contract_kv", "k", "v1")
        yield* f.wait(3_000)
        assert.strictEqual(yield* f.read(1, "contract_kv", "k"), "v1")
        assert.strictEqual(yield* f.read(2, "contract_kv", "k"), "v1")
        const e = yield* Effect.flip(f.write(1, "contract_kv", "k", "v2"))
        assert.strictEqual(e._tag, "DoltReadOnly")
      })
    )

    register(
      "dolt_cluster_ack_writes_timeout_secs: with a standby down a commit succeeds after the wait with 3024",
      (f) =>
        Effect.gen(function* () {
          yield* (yield* Dolt).createDatabase(f.targets[0]!, { name: "contract_ack" })
          yield* f.write(0, "contract_ack", "k", "v0")
          yield* f.setAckWritesTimeout(0, 1)
          yield* f.wait(3_000)
          const fast = yield* f.during(f.write(0, "contract_ack", "k", "v1"), 1_000)
          assert.isUndefined(fast.warning)
          yield* f.stop(2)
          const slow = yield* f.during(f.write(0, "contract_ack", "k", "v2"), 1_100)
          assert.include(slow.warning ?? "", "Timed out replication of commit to 1 out of 2 replicas.")
          assert.strictEqual(yield* f.read(0, "contract_ack", "k"), "v2")
        })
    )

    register(
      "SET GLOBAL dolt_cluster_ack_writes_timeout_secs: reported with the role, bounds the wait for a down standby; its open breaker outlives a restored value",
      (f) =>
        Effect.gen(function* () {
          const dolt = yield* Dolt
          yield* dolt.createDatabase(f.targets[0]!, { name: "contract_ackg" })
          yield* f.write(0, "contract_ackg", "k", "v0")
          yield* f.setAckWritesTimeout(0, 10)
          yield* f.wait(3_000)
          assert.strictEqual((yield* dolt.roleAndEpoch(f.targets[0]!)).ackWritesTimeoutSecs, 10)
          yield* dolt.setAckWritesTimeout(f.targets[0]!, 1)
          assert.strictEqual((yield* dolt.roleAndEpoch(f.targets[0]!)).ackWritesTimeoutSecs, 1)
          assert.strictEqual((yield* dolt.roleAndEpoch(f.targets[1]!)).ackWritesTimeoutSecs, 0, "per server")
          yield* f.stop(2)
          // With 10 s this write would still be waiting after 1.1 s (the model's clock would not let it finish).
          const first = yield* f.during(f.write(0, "contract_ackg", "k", "v1"), 1_100)
          assert.include(first.warning ?? "", "Timed out replication of commit to 1 out of 2 replicas.")
          // Restored: the down standby's breaker is open, so the next commit does not wait 10 s for it either.
          yield* dolt.setAckWritesTimeout(f.targets[0]!, 10)
          assert.strictEqual((yield* dolt.roleAndEpoch(f.targets[0]!)).ackWritesTimeoutSecs, 10)
          const next = yield* f.during(f.write(0, "contract_ackg", "k", "v2"), 300)
          assert.include(next.warning ?? "", "1 out of 2 replicas")
          assert.strictEqual(yield* f.read(1, "contract_ackg", "k"), "v2", "the live standby still got it")
          const bad = yield* Effect.flip(dolt.setAckWritesTimeout(f.targets[0]!, 61))
          assert.strictEqual(bad._tag, "DoltInvalidInput")
        })
    )

    register("standbys adopt the higher epoch of the primary that replicates to them", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_ep" })
        yield* dolt.assumeRole(f.targets[0]!, "primary", 5)
        yield* f.write(0, "contract_ep", "k", "v")
        yield* f.wait(3_000)
        assert.deepStrictEqual(yield* Effect.forEach(f.targets, roleOf), ["primary@5", "standby@5", "standby@5"])
      })
    )

    register("a standby at a higher epoch still accepts a lower-epoch primary's writes (the fencing gap)", (f) =>
      Effect.gen(function* () {
        const dolt = yield* Dolt
        yield* dolt.createDatabase(f.targets[0]!, { name: "contract_gap" })
        yield* f.wait(2_000)
        yield* dolt.assumeRole(f.targets[1]!, "standby", 7)
        yield* f.write(0, "contract_gap", "k", "stale")
        yield* f.wait(3_000)
        assert.strictEqual(yield* f.read(1, "contract_gap", "k"), "stale")
        assert.deepStrictEqual(yield* Effect.forEach(f.targets.slice(0, 2), roleOf), ["primary@1", "standby@7"])
      })
    )

    register("transition_to_standby on a standby is refused", (f) =>
      Effect.gen(function* () {
        const e = yield* Effect.flip((yield* Dolt).transitionToStandby(f.targets[1]!, 2, 1))
        assert.strictEqual(e._tag, "DoltReadOnly")
      })
    )
  })
}
