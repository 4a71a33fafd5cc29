/**
 * The `Dolt` service over the in-memory cluster: the same calls as the live layer, answered by the model servers
 * with Dolt's semantics (dolt-cluster.md §2-§4, §6.1) and the same tagged errors. Every call opens a fresh model
 * connection from the operator's endpoint (network, port and credentials are checked) and closes it after.
 */
import {
  ClusterStatusRow,
  Dolt,
  DoltAlreadyStandby,
  DoltEpochConflict,
  type DoltError,
  DoltInvalidInput,
  type DoltTarget,
  DoltUnreachable,
  RoleAndEpoch
} from "@doltdb-op/core/services/Dolt"
import { type Endpoint, OperatorEndpoint } from "@doltdb-op/core/sim/SimWorld"
import { Clock, Effect, Layer, Redacted } from "effect"
import type { DoltSession } from "../DoltSession.ts"
import { DoltCluster } from "./DoltCluster.ts"
import type { DoltClusterShape } from "./DoltClusterShape.ts"
import { gracefulTransitionToStandby } from "./graceful.ts"
import type { Connection, ModelServer } from "./ModelServer.ts"
import { type Op, serverReadOnly, sqlError } from "./modelSql.ts"
import { makeSqlResources } from "./modelSqlResources.ts"

export { GracefulTransitionWaitMillis } from "./graceful.ts"

export interface DoltModelOptions {
  /** The endpoint the operator's SQL comes from (default `SimWorld.OperatorEndpoint`). */
  readonly from?: Endpoint
}

export const make = (cluster: DoltClusterShape, options: DoltModelOptions = {}) => {
  const from = options.from ?? OperatorEndpoint

  const run = <A>(target: DoltTarget, op: string, f: Op<A>): Effect.Effect<A, DoltError> =>
    Effect.acquireUseRelease(
      cluster.connect(target.host, target.port, target.user, Redacted.value(target.password), from, op, target.tls),
      (conn) =>
        Effect.gen(function* () {
          const server = yield* cluster.check(conn, target.host, from, op)
          const now = yield* Clock.currentTimeMillis
          const out = yield* f(server, conn, now)
          yield* cluster.wake
          return out
        }),
      cluster.close
    )

  const requireCluster = (server: ModelServer, host: string, op: string, what: string) =>
    server.clustered ? Effect.void : Effect.fail(sqlError(host, op, what.startsWith("database") ? 1049 : 1105, what))

  /** dolt 1.86.4 panics (recovered per connection) on the cluster procedures without a cluster config. */
  const requireClusterProcedure = (server: ModelServer, host: string, op: string) =>
    server.clustered
      ? Effect.void
      : Effect.fail(
          new DoltUnreachable({
            host,
            op,
            code: "PROTOCOL_CONNECTION_LOST",
            message: "Lost connection to server during query (dolt panics: no cluster configuration)"
          })
        )

  const roleAndEpoch = (t: DoltTarget) =>
    run(t, "roleAndEpoch", (s) =>
      requireCluster(s, t.host, "roleAndEpoch", "Unknown system variable '@@global.dolt_cluster_role'").pipe(
        Effect.as(new RoleAndEpoch({ role: s.role, epoch: s.epoch, ackWritesTimeoutSecs: s.ackWritesTimeoutSecs() }))
      )
    )

  /** `SET GLOBAL dolt_cluster_ack_writes_timeout_secs` (system_variables.go: integer 0-60, dynamic, global). */
  const setAckWritesTimeout = (t: DoltTarget, seconds: number) =>
    Number.isInteger(seconds) && seconds >= 0 && seconds <= 60
      ? run(t, "setAckWritesTimeout", (s) =>
          Effect.sync(() => {
            s.ackWritesTimeoutOverride = seconds
          })
        )
      : Effect.fail(
          new DoltInvalidInput({
            field: "dolt_cluster_ack_writes_timeout_secs",
            value: String(seconds),
            message: `dolt_cluster_ack_writes_timeout_secs must be an integer 0-60, got ${seconds}`
          })
        )

  const clusterStatus = (t: DoltTarget) =>
    run(t, "clusterStatus", (s, _c, now) =>
      requireCluster(s, t.host, "clusterStatus", "database not found: dolt_cluster").pipe(
        Effect.as(s.statusRows(now).map((r) => new ClusterStatusRow(r)) as ReadonlyArray<ClusterStatusRow>)
      )
    )

  const graceful = (
    host: string,
    op: string,
    server: ModelServer,
    conn: Connection,
    epoch: number,
    minCaughtUp: number
  ) => gracefulTransitionToStandby(cluster.wake, host, op, server, conn, epoch, minCaughtUp)

  const checkEpoch = (value: number, field = "epoch") =>
    Number.isSafeInteger(value) && value >= 0
      ? Effect.void
      : Effect.fail(new DoltInvalidInput({ field, value: String(value), message: `invalid ${field} ${value}` }))

  /** `dolt_assume_cluster_role` on an open connection (assume_role.go + setRoleAndEpoch). */
  const assumeRoleOn =
    (host: string, role: string, epoch: number): Op<void> =>
    (s, conn, now) =>
      Effect.gen(function* () {
        yield* requireClusterProcedure(s, host, "assumeRole")
        if (role === "detected_broken_config") {
          return yield* sqlError(
            host,
            "assumeRole",
            1105,
            "cannot set role to detected_broken_config; valid values are 'primary' and 'standby'"
          )
        }
        const check = s.checkRoleChange(role, epoch, true)
        if (check._tag === "NoOp") return
        if (check._tag === "Invalid") return yield* sqlError(host, "assumeRole", 1105, check.message)
        if (check._tag === "EpochConflict") {
          return yield* new DoltEpochConflict({ host, op: "assumeRole", errno: 1105, message: check.message })
        }
        if (role === "standby" && check.changesRole) {
          yield* graceful(host, "assumeRole", s, conn, epoch, 0)
          return
        }
        s.applyRole(role === "primary" ? "primary" : "standby", epoch, now, conn)
      })

  const assumeRole = (t: DoltTarget, role: "primary" | "standby", epoch: number) =>
    checkEpoch(epoch).pipe(Effect.andThen(run(t, "assumeRole", assumeRoleOn(t.host, role, epoch))))

  /** A connection kept open across statements (see `DoltSession`). */
  const openSession = (t: DoltTarget): Effect.Effect<DoltSession, DoltError> =>
    Effect.map(
      cluster.connect(t.host, t.port, t.user, Redacted.value(t.password), from, "openSession", t.tls),
      (conn): DoltSession => ({
        roleAndEpoch: Effect.gen(function* () {
          const s = yield* cluster.check(conn, t.host, from, "roleAndEpoch")
          yield* requireCluster(s, t.host, "roleAndEpoch", "Unknown system variable '@@global.dolt_cluster_role'")
          return new RoleAndEpoch({ role: s.role, epoch: s.epoch })
        }),
        assumeRole: (role, epoch) =>
          Effect.gen(function* () {
            const s = yield* cluster.check(conn, t.host, from, "assumeRole")
            const now = yield* Clock.currentTimeMillis
            yield* assumeRoleOn(t.host, role, epoch)(s, conn, now)
            yield* cluster.wake
          }),
        close: cluster.close(conn)
      })
    )

  const transitionToStandby = (t: DoltTarget, epoch: number, minCaughtUp: number) =>
    checkEpoch(epoch).pipe(
      // -1 requires no caught-up standby (the isolation guard's demotion); Dolt only compares it with the count.
      Effect.andThen(minCaughtUp === -1 ? Effect.void : checkEpoch(minCaughtUp, "minCaughtUpStandbys")),
      Effect.andThen(
        run(t, "transitionToStandby", (s, conn, now) =>
          Effect.gen(function* () {
            yield* requireClusterProcedure(s, t.host, "transitionToStandby")
            // Not registered read-only (unlike dolt_assume_cluster_role): a read-only engine refuses it first.
            if (s.readOnly) return yield* serverReadOnly(t.host, "transitionToStandby")
            const check = s.checkRoleChange("standby", epoch, true)
            if (check._tag === "EpochConflict" || check._tag === "Invalid") {
              return yield* new DoltEpochConflict({
                host: t.host,
                op: "transitionToStandby",
                errno: 1105,
                message: check.message
              })
            }
            if (check._tag === "NoOp" || !check.changesRole) {
              if (epoch > s.epoch) s.applyRole(s.role, epoch, now, conn)
              return yield* new DoltAlreadyStandby({
                host: t.host,
                op: "transitionToStandby",
                errno: 1105,
                message: "failed to transition server to standby; it is already standby."
              })
            }
            return yield* graceful(t.host, "transitionToStandby", s, conn, epoch, minCaughtUp)
          })
        )
      )
    )

  const serverVersion = (t: DoltTarget) => run(t, "serverVersion", () => Effect.succeed(cluster.options.version))

  const resources = makeSqlResources(cluster, run)

  const service = Dolt.of({
    roleAndEpoch,
    clusterStatus,
    assumeRole,
    setAckWritesTimeout,
    transitionToStandby,
    serverVersion,
    ...resources
  })
  return { service, openSession }
}

/** `Dolt` answered by the in-memory cluster (needs `DoltCluster`). */
export const layer = (options: DoltModelOptions = {}): Layer.Layer<Dolt, never, DoltCluster> =>
  Layer.effect(
    Dolt,
    Effect.gen(function* () {
      return make(yield* DoltCluster, options).service
    })
  )
