/**
 * Maps a mysql2 failure to a tagged Dolt error by MySQL errno, driver code and Dolt's exact messages
 * (dolt-cluster.md §2.2-§2.5). Dolt reports most cluster errors as errno 1105 (ER_UNKNOWN_ERROR), so the
 * message decides those.
 */
import {
  DoltAccessDenied,
  DoltAlreadyStandby,
  DoltBrokenConfig,
  DoltConnectionTainted,
  DoltEpochConflict,
  type DoltError,
  DoltNotCaughtUp,
  DoltReadOnly,
  DoltSqlError,
  DoltTimeout,
  DoltUnreachable
} from "@doltdb-op/core/services/Dolt"
import * as mysql from "mysql2"

/** Dolt's messages (controller.go, assume_role.go, commithook.go, GMS ErrReadOnly/ErrReadOnlyDatabase). */
export const DoltMessages = {
  tainted: "this server transitioned cluster roles. this connection can no longer be used. please reconnect.",
  notGraceful: "failed to transition from primary to standby gracefully",
  alreadyStandby: "failed to transition server to standby; it is already standby.",
  brokenConfig: "more than one server was configured as primary in the same epoch",
  roleChanged: "the role configuration changed while we were replicating to our standbys",
  serverReadOnly: "database server is set to read only mode",
  alreadyAtEpoch: "; already at epoch ",
  /** `listener.require_secure_transport` refusing a plaintext client (errno 1105). */
  insecureRefused: "server does not allow insecure connections"
} as const

/**
 * A TLS connection that could not be set up or trusted (mysql2's handshake codes, Node's certificate errors, our
 * name check): the server is unusable to us, like an unreachable one; retrying changes nothing until the
 * certificates do.
 */
const tlsFailure = (code: string | undefined, message: string): boolean =>
  message.includes(DoltMessages.insecureRefused) ||
  (code !== undefined &&
    (code.startsWith("HANDSHAKE_") ||
      code.startsWith("ERR_TLS_") ||
      code === "DOLT_TLS_REQUIRED" ||
      /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/u.test(code)))

const accessDeniedErrnos = new Set([1044, 1045, 1142, 1143, 1211, 1227, 1370, 1698])
const readOnlyErrnos = new Set([1290, 1792, 1836])
const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ETIMEDOUT",
  "PROTOCOL_CONNECTION_LOST",
  "ER_CON_COUNT_ERROR"
])

interface MysqlishError {
  readonly message?: unknown
  readonly sqlMessage?: unknown
  readonly code?: unknown
  readonly errno?: unknown
}

/**
 * `secrets` (passwords in the statement) are cut out of the message, and the driver error (whose `sql` holds the
 * whole statement) is not kept as the cause when there are any.
 */
export const classifyError = (
  host: string,
  op: string,
  cause: unknown,
  secrets: ReadonlyArray<string> = []
): DoltError => {
  const e: MysqlishError = typeof cause === "object" && cause !== null ? (cause as MysqlishError) : {}
  let message =
    typeof e.sqlMessage === "string" ? e.sqlMessage : typeof e.message === "string" ? e.message : String(cause)
  for (const secret of secrets) {
    if (secret === "") continue
    // The server quotes the statement back with the escaped form; cut both.
    for (const form of [secret, mysql.escape(secret).slice(1, -1)]) message = message.split(form).join("<redacted>")
  }
  const code = typeof e.code === "string" ? e.code : undefined
  const errno = typeof e.errno === "number" ? e.errno : undefined
  const fields = {
    host,
    op,
    message,
    ...(secrets.length === 0 ? { cause } : {}),
    ...(code === undefined ? {} : { code }),
    ...(errno === undefined ? {} : { errno })
  }
  if (message.includes(DoltMessages.tainted) || errno === 1927) return new DoltConnectionTainted(fields)
  if (message.includes(DoltMessages.brokenConfig)) return new DoltBrokenConfig(fields)
  if (message.includes(DoltMessages.alreadyStandby)) return new DoltAlreadyStandby(fields)
  if (message.includes(DoltMessages.roleChanged) || message.includes(DoltMessages.alreadyAtEpoch)) {
    return new DoltEpochConflict(fields)
  }
  if (message.includes(DoltMessages.notGraceful)) return new DoltNotCaughtUp(fields)
  if (
    message.includes(DoltMessages.serverReadOnly) ||
    / is read-only\.?$/u.test(message) ||
    (errno !== undefined && readOnlyErrnos.has(errno))
  ) {
    return new DoltReadOnly(fields)
  }
  if ((errno !== undefined && accessDeniedErrnos.has(errno)) || code === "ER_ACCESS_DENIED_ERROR") {
    return new DoltAccessDenied(fields)
  }
  if (tlsFailure(code, message)) return new DoltUnreachable(fields)
  if (code === "PROTOCOL_SEQUENCE_TIMEOUT") return new DoltTimeout(fields)
  if (code !== undefined && unreachableCodes.has(code)) return new DoltUnreachable(fields)
  if (errno === undefined && code === undefined) return new DoltUnreachable(fields)
  return new DoltSqlError(fields)
}
