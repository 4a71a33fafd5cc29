/**
 * The live `Dolt` layer over mysql2 (dolt-cluster.md for Dolt's SQL surface; reference-operator.md §6-§8.1 for
 * what the reference sends, minus its flaws: no `USE` on pooled connections, escaped SQL, committed dolt_ignore,
 * a timeout on every call, fresh connections for role changes).
 */
import {
  ClusterRole,
  ClusterStatusRow,
  Dolt,
  type DoltError,
  DoltInvalidInput,
  DoltSqlError,
  type DoltTarget,
  RoleAndEpoch,
  TransitionRow
} from "@doltdb-op/core/services/Dolt"
import { Config, Duration, Effect, Layer, Schema } from "effect"
import {
  checkTarget,
  defaultLiveOptions,
  type LiveOptions,
  makePools,
  parseDateTime,
  type Rows,
  type Session,
  withFreshConnection
} from "./connections.ts"
import { makeSqlResources } from "./sqlResources.ts"
import * as Sql from "./statements.ts"

const toNumber = (v: unknown): number => (typeof v === "number" ? v : Number(v))
const toNullableNumber = (v: unknown): number | null => (v === null || v === undefined ? null : toNumber(v))
const toNullableString = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

const decodeRole = (host: string, op: string, value: unknown) =>
  Schema.decodeUnknownEffect(ClusterRole)(value).pipe(
    Effect.mapError(
      (cause) => new DoltSqlError({ host, op, message: `unexpected cluster role ${JSON.stringify(value)}`, cause })
    )
  )

/** Builds the service; `pools.closeAll` must run when the layer goes away (see `layer`). */
export const make = (options: LiveOptions = defaultLiveOptions) => {
  const pools = makePools(options)

  const pooled = (target: DoltTarget, op: string) => checkTarget(target, op).pipe(Effect.as(pools.pooled(target)))

  const fresh = <A>(
    target: DoltTarget,
    op: string,
    database: string | undefined,
    use: (session: Session) => Effect.Effect<A, DoltError>
  ) => checkTarget(target, op).pipe(Effect.andThen(withFreshConnection(target, options, op, database, use)))

  const roleAndEpoch = Effect.fn("Dolt.roleAndEpoch")(function* (target: DoltTarget) {
    const session = yield* pooled(target, "roleAndEpoch")
    const rows = yield* session.query("roleAndEpoch", Sql.roleAndEpoch, undefined, options.probeTimeout)
    const row = rows[0] ?? {}
    const role = yield* decodeRole(target.host, "roleAndEpoch", row.role)
    const ack = row.ack === null || row.ack === undefined ? undefined : toNumber(row.ack)
    return new RoleAndEpoch({
      role,
      epoch: toNumber(row.epoch),
      ...(ack === undefined ? {} : { ackWritesTimeoutSecs: ack })
    })
  })

  const setAckWritesTimeout = Effect.fn("Dolt.setAckWritesTimeout")(function* (target: DoltTarget, seconds: number) {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 60)
      return yield* new DoltInvalidInput({
        field: "dolt_cluster_ack_writes_timeout_secs",
        value: String(seconds),
        message: `dolt_cluster_ack_writes_timeout_secs must be an integer 0-60, got ${seconds}`
      })
    const session = yield* pooled(target, "setAckWritesTimeout")
    yield* session.query("setAckWritesTimeout", Sql.setAckWritesTimeout, [seconds])
  })

  const clusterStatus = Effect.fn("Dolt.clusterStatus")(function* (target: DoltTarget) {
    const session = yield* pooled(target, "clusterStatus")
    const rows = yield* session.query("clusterStatus", Sql.clusterStatus)
    const out: Array<ClusterStatusRow> = []
    for (const r of rows) {
      out.push(
        new ClusterStatusRow({
          database: String(r.database),
          standbyRemote: String(r.standby_remote),
          role: yield* decodeRole(target.host, "clusterStatus", r.role),
          epoch: toNumber(r.epoch),
          replicationLagMillis: toNullableNumber(r.replication_lag_millis),
          lastUpdateMillis: parseDateTime(r.last_update),
          currentError: toNullableString(r.current_error)
        })
      )
    }
    return out as ReadonlyArray<ClusterStatusRow>
  })

  const checkStatusZero = (host: string, op: string, rows: Rows) => {
    const first = rows[0]
    const status = first === undefined ? 0 : toNumber(Object.values(first)[0])
    return status === 0
      ? Effect.void
      : Effect.fail(new DoltSqlError({ host, op, message: `${op} returned status ${status}` }))
  }

  const resources = makeSqlResources({ options, pooled, fresh, checkStatusZero })

  const assumeRole = Effect.fn("Dolt.assumeRole")(function* (
    target: DoltTarget,
    role: "primary" | "standby",
    epoch: number
  ) {
    if (!Number.isSafeInteger(epoch) || epoch < 0) {
      return yield* new DoltInvalidInput({ field: "epoch", value: String(epoch), message: `invalid epoch ${epoch}` })
    }
    yield* fresh(target, "assumeRole", undefined, (s) =>
      s
        .query("assumeRole", Sql.assumeRole, [role, epoch], options.roleChangeTimeout)
        .pipe(Effect.flatMap((rows) => checkStatusZero(target.host, "assumeRole", rows)))
    )
  })

  /**
   * Before a graceful hand-over. Dolt replicates users and grants and branch permissions (the `mysql` and
   * `dolt_branch_control` rows of the transition) with an exponential back-off (1 s growing to 1 min) after failed
   * attempts, e.g. by a primary that started before its peers' DNS names existed, as every fresh StatefulSet does
   * (OrderedReady). `dolt_cluster_transition_to_standby` then waits for the next attempt, up to its 10 s: the first
   * switchover of a fresh cluster took ~10 s. Saving the same contents (`FLUSH PRIVILEGES`; a delete of no row from
   * `dolt_branch_control`, which lives in user databases) resets that back-off and sends them at once (checked
   * against dolt 1.86.4's log). Best effort and bounded: with ack-writes and a standby down each save waits for the
   * ack timeout, so each gets 2 s and its outcome is ignored; the transition itself still checks that everything
   * reached the standbys it requires.
   */
  const resendReplicatedSettings = (target: DoltTarget) => {
    const save = (op: string, sql: string) =>
      fresh(target, op, undefined, (s) => s.query(op, sql, [], "2 seconds")).pipe(Effect.ignore)
    const branchControl = resources.listDatabases(target).pipe(
      Effect.flatMap((dbs) =>
        dbs[0] === undefined ? Effect.void : save("resendBranchControl", Sql.touchBranchControl(dbs[0]))
      ),
      Effect.ignore
    )
    return Effect.all([save("resendUsersAndGrants", Sql.flushPrivileges), branchControl], {
      concurrency: "unbounded",
      discard: true
    })
  }

  const transitionToStandby = Effect.fn("Dolt.transitionToStandby")(function* (
    target: DoltTarget,
    epoch: number,
    minCaughtUpStandbys: number
  ) {
    if (!Number.isSafeInteger(epoch) || epoch < 0) {
      return yield* new DoltInvalidInput({ field: "epoch", value: String(epoch), message: `invalid epoch ${epoch}` })
    }
    // -1 requires no caught-up standby (the isolation guard's demotion): Dolt compares the count with it, and 0
    // means "all".
    if (!Number.isSafeInteger(minCaughtUpStandbys) || minCaughtUpStandbys < -1) {
      return yield* new DoltInvalidInput({
        field: "minCaughtUpStandbys",
        value: String(minCaughtUpStandbys),
        message: `invalid minCaughtUpStandbys ${minCaughtUpStandbys}`
      })
    }
    if (minCaughtUpStandbys >= 0) yield* resendReplicatedSettings(target)
    const rows = yield* fresh(target, "transitionToStandby", undefined, (s) =>
      s.query("transitionToStandby", Sql.transitionToStandby, [epoch, minCaughtUpStandbys], options.roleChangeTimeout)
    )
    return rows.map(
      (r) =>
        new TransitionRow({
          caughtUp: toNumber(r.caught_up) === 1,
          database: String(r.database),
          remote: String(r.remote),
          remoteUrl: String(r.remote_url)
        })
    ) as ReadonlyArray<TransitionRow>
  })

  const serverVersion = Effect.fn("Dolt.serverVersion")(function* (target: DoltTarget) {
    const session = yield* pooled(target, "serverVersion")
    const rows = yield* session
      .query("serverVersion", Sql.doltVersion)
      // Not a Dolt server (MariaDB in adapter tests): ER_SP_DOES_NOT_EXIST / function not found.
      .pipe(Effect.catchTag("DoltSqlError", () => session.query("serverVersion", Sql.serverVersion)))
    return String(rows[0]?.version ?? "")
  })

  const service = Dolt.of({
    roleAndEpoch,
    clusterStatus,
    assumeRole,
    setAckWritesTimeout,
    transitionToStandby,
    serverVersion,
    ...resources
  })
  return { service, close: pools.closeAll }
}

/** The live layer; pools close when the layer's scope closes. */
export const layer = (options: Partial<LiveOptions> = {}): Layer.Layer<Dolt> =>
  Layer.effect(
    Dolt,
    Effect.acquireRelease(
      Effect.sync(() => make({ ...defaultLiveOptions, ...options })),
      (m) => m.close
    ).pipe(Effect.map((m) => m.service))
  )

/**
 * The live layer with timeouts from config: DOLT_CONNECT_TIMEOUT (5 s), DOLT_QUERY_TIMEOUT (10 s), DOLT_PROBE_TIMEOUT (3 s),
 * DOLT_ROLE_CHANGE_TIMEOUT (30 s), DOLT_BACKUP_TIMEOUT (1 h), DOLT_POOL_SIZE (2). Durations as "30 seconds".
 */
export const layerConfig: Layer.Layer<Dolt, Config.ConfigError> = Layer.unwrap(
  Effect.gen(function* () {
    const duration = (name: string, fallback: Duration.Input) =>
      Config.Duration(name).pipe(Config.withDefault(Duration.fromInputUnsafe(fallback)))
    const options = yield* Config.all({
      connectTimeout: duration("DOLT_CONNECT_TIMEOUT", defaultLiveOptions.connectTimeout),
      queryTimeout: duration("DOLT_QUERY_TIMEOUT", defaultLiveOptions.queryTimeout),
      probeTimeout: duration("DOLT_PROBE_TIMEOUT", defaultLiveOptions.probeTimeout),
      roleChangeTimeout: duration("DOLT_ROLE_CHANGE_TIMEOUT", defaultLiveOptions.roleChangeTimeout),
      backupTimeout: duration("DOLT_BACKUP_TIMEOUT", defaultLiveOptions.backupTimeout),
      poolSize: Config.Int("DOLT_POOL_SIZE").pipe(Config.withDefault(defaultLiveOptions.poolSize))
    })
    return layer(options)
  })
)
