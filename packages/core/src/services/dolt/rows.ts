/** Values the `Dolt` service returns: cluster role, status rows, graceful-transition rows. */
import { Schema } from "effect"

export const ClusterRole = Schema.Literals(["primary", "standby", "detected_broken_config"])
export type ClusterRole = typeof ClusterRole.Type

/** The roles `dolt_assume_cluster_role` accepts. */
export const AssumableRole = Schema.Literals(["primary", "standby"])
export type AssumableRole = typeof AssumableRole.Type

export const Epoch = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

/** `dolt_cluster_ack_writes_timeout_secs`: 0 (asynchronous, no wait) to 60. */
export const AckWritesTimeoutSecs = Schema.Number.check(
  Schema.isInt(),
  Schema.isGreaterThanOrEqualTo(0),
  Schema.isLessThanOrEqualTo(60)
)

/** `@@global.dolt_cluster_role`, `@@global.dolt_cluster_role_epoch` (and `@@read_only`, 1 whenever not primary). */
export class RoleAndEpoch extends Schema.Class<RoleAndEpoch>("RoleAndEpoch")({
  role: ClusterRole,
  epoch: Epoch,
  /** `@@global.dolt_cluster_ack_writes_timeout_secs` as the server runs with it now (absent: not read). */
  ackWritesTimeoutSecs: Schema.optionalKey(AckWritesTimeoutSecs)
}) {}

/** One row of `dolt_cluster.dolt_cluster_status` (one per user database x standby remote). */
export class ClusterStatusRow extends Schema.Class<ClusterStatusRow>("ClusterStatusRow")({
  database: Schema.String,
  standbyRemote: Schema.String,
  role: ClusterRole,
  epoch: Epoch,
  /** Primary only; null until the first successful push since becoming primary, 0 when caught up. */
  replicationLagMillis: Schema.NullOr(Schema.Number),
  /** Epoch millis (UTC). Primary: when the last pushed head arrived locally; standby: last push or heartbeat. */
  lastUpdateMillis: Schema.NullOr(Schema.Number),
  currentError: Schema.NullOr(Schema.String)
}) {}

/** One row of `dolt_cluster_transition_to_standby`: includes the pseudo-databases `mysql` and `dolt_branch_control`. */
export class TransitionRow extends Schema.Class<TransitionRow>("TransitionRow")({
  caughtUp: Schema.Boolean,
  database: Schema.String,
  remote: Schema.String,
  remoteUrl: Schema.String
}) {}

/** A standby host (`host:port` of the remote URL) and whether it caught up on every replicated database. */
export interface StandbyCatchUp {
  readonly hostPort: string
  /** The hostname alone (`<pod>.<svc>...` or an IP), to map back to a pod. */
  readonly hostname: string
  readonly remote: string
  readonly caughtUp: boolean
}

const hostPortOf = (remoteUrl: string): { readonly hostPort: string; readonly hostname: string } => {
  // URL.host keeps the port; templates are plain http(s) URLs.
  const parsed = URL.canParse(remoteUrl) ? new URL(remoteUrl) : undefined
  return parsed === undefined
    ? { hostPort: remoteUrl, hostname: remoteUrl }
    : { hostPort: parsed.host, hostname: parsed.hostname }
}

/**
 * Groups transition rows by standby host the way Dolt does (by `host:port` of `remote_url`): a standby caught up
 * iff `caught_up = 1` on every distinct database in the result (stricter than the reference's "most rows" count).
 */
export const standbysCaughtUp = (rows: ReadonlyArray<TransitionRow>): ReadonlyArray<StandbyCatchUp> => {
  const databases = new Set(rows.map((r) => r.database))
  const byHost = new Map<string, { hostname: string; remote: string; caught: Set<string> }>()
  for (const row of rows) {
    const { hostPort, hostname } = hostPortOf(row.remoteUrl)
    let entry = byHost.get(hostPort)
    if (entry === undefined) {
      entry = { hostname, remote: row.remote, caught: new Set() }
      byHost.set(hostPort, entry)
    }
    if (row.caughtUp) entry.caught.add(row.database)
  }
  return [...byHost.entries()].map(([hostPort, e]) => ({
    hostPort,
    hostname: e.hostname,
    remote: e.remote,
    caughtUp: [...databases].every((d) => e.caught.has(d))
  }))
}

/** A branch as listed by `dolt_branches`. */
export interface BranchInfo {
  readonly name: string
  readonly hash: string
}

/** A backup definition from `dolt_backups`. */
export interface BackupInfo {
  readonly name: string
  readonly url: string
}
