/**
 * Tagged errors of the `Dolt` service. The live layer maps MySQL errno/code and Dolt's exact messages to these
 * (see `@doltdb-op/dolt/live/classifyError`); the in-memory model raises the same tags, so planners and
 * contract tests treat both alike.
 */
import { Schema } from "effect"

/** Fields every Dolt error carries: which server, which operation, the server's (or driver's) message. */
const common = {
  host: Schema.String,
  op: Schema.String,
  message: Schema.String,
  /** MySQL error number when the server answered (e.g. 1045, 1105). */
  errno: Schema.optionalKey(Schema.Number),
  /** Driver code (`ECONNREFUSED`, `ER_ACCESS_DENIED_ERROR`, ...). */
  code: Schema.optionalKey(Schema.String),
  cause: Schema.optionalKey(Schema.Defect())
}

/** Cannot connect, the connection broke, or the host is partitioned away or down. Retry later. */
export class DoltUnreachable extends Schema.TaggedError<DoltUnreachable>()("DoltUnreachable", common) {}

/** The call took longer than its timeout. The statement may still be running on the server. */
export class DoltTimeout extends Schema.TaggedError<DoltTimeout>()("DoltTimeout", common) {}

/** Wrong credentials or missing privilege (1044, 1045, 1142, 1227, 1698, ...). */
export class DoltAccessDenied extends Schema.TaggedError<DoltAccessDenied>()("DoltAccessDenied", common) {}

/** The server (a standby, or `detected_broken_config`) refuses writes: `Database x is read-only.` / 1105 read only mode. */
export class DoltReadOnly extends Schema.TaggedError<DoltReadOnly>()("DoltReadOnly", common) {}

/** The server is in `detected_broken_config` (two primaries at one epoch). */
export class DoltBrokenConfig extends Schema.TaggedError<DoltBrokenConfig>()("DoltBrokenConfig", common) {}

/**
 * `dolt_assume_cluster_role` refused the epoch: lower than the current one, or the same epoch with a different role,
 * or the role configuration changed while a graceful transition was replicating.
 */
export class DoltEpochConflict extends Schema.TaggedError<DoltEpochConflict>()("DoltEpochConflict", common) {}

/** A graceful primary -> standby transition failed because not enough standbys caught up within Dolt's 10 s. */
export class DoltNotCaughtUp extends Schema.TaggedError<DoltNotCaughtUp>()("DoltNotCaughtUp", common) {}

/** `dolt_cluster_transition_to_standby` on a server that already is a standby. */
export class DoltAlreadyStandby extends Schema.TaggedError<DoltAlreadyStandby>()("DoltAlreadyStandby", common) {}

/** The connection was used after a role change tainted it, or killed by one. Open a fresh connection. */
export class DoltConnectionTainted extends Schema.TaggedError<DoltConnectionTainted>()(
  "DoltConnectionTainted",
  common
) {}

/** A name, host, privilege or other argument failed validation before any SQL was sent. */
export class DoltInvalidInput extends Schema.TaggedError<DoltInvalidInput>()("DoltInvalidInput", {
  field: Schema.String,
  value: Schema.String,
  message: Schema.String
}) {}

/** Any other server error (syntax, unknown database, ...), with errno and code. */
export class DoltSqlError extends Schema.TaggedError<DoltSqlError>()("DoltSqlError", common) {}

export type DoltError =
  | DoltUnreachable
  | DoltTimeout
  | DoltAccessDenied
  | DoltReadOnly
  | DoltBrokenConfig
  | DoltEpochConflict
  | DoltNotCaughtUp
  | DoltAlreadyStandby
  | DoltConnectionTainted
  | DoltInvalidInput
  | DoltSqlError

/** Errors after which the same call may succeed later without any other change. */
export const isTransient = (e: DoltError): boolean =>
  e._tag === "DoltUnreachable" || e._tag === "DoltTimeout" || e._tag === "DoltConnectionTainted"
