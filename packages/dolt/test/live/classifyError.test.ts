import { assert, describe, it } from "@effect/vitest"
import { classifyError, DoltMessages } from "../../src/live/classifyError.ts"

const sqlError = (errno: number, sqlMessage: string, code = "ER_UNKNOWN_ERROR") => ({ errno, code, sqlMessage })

describe("classifyError maps MySQL errno/code and Dolt's messages", () => {
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    ["tainted connection", sqlError(1105, DoltMessages.tainted), "DoltConnectionTainted"],
    ["connection killed", sqlError(1927, "Connection was killed", "ER_CONNECTION_KILLED"), "DoltConnectionTainted"],
    [
      "lower epoch",
      sqlError(1105, "error assuming role 'primary' at epoch 1; already at epoch 3"),
      "DoltEpochConflict"
    ],
    [
      "same epoch, other role",
      sqlError(1105, "error assuming role 'standby' at epoch 3; already at epoch 3 with different role, 'primary'"),
      "DoltEpochConflict"
    ],
    [
      "not caught up",
      sqlError(
        1105,
        "cluster/controller: failed to transition from primary to standby gracefully; could not ensure 1 replicas were caught up on all 3 databases. Only caught up 0 standbys fully."
      ),
      "DoltNotCaughtUp"
    ],
    ["already standby", sqlError(1105, DoltMessages.alreadyStandby), "DoltAlreadyStandby"],
    ["server read only", sqlError(1105, "database server is set to read only mode"), "DoltReadOnly"],
    ["database read only", sqlError(1105, "Database repo1 is read-only."), "DoltReadOnly"],
    [
      "MariaDB --read-only",
      sqlError(1290, "The MariaDB server is running with the --read-only option"),
      "DoltReadOnly"
    ],
    [
      "broken config",
      sqlError(1105, `error: ${DoltMessages.brokenConfig}. this server has stopped accepting writes.`),
      "DoltBrokenConfig"
    ],
    ["access denied", sqlError(1045, "Access denied for user", "ER_ACCESS_DENIED_ERROR"), "DoltAccessDenied"],
    ["no privilege", sqlError(1227, "Access denied; you need the SUPER privilege"), "DoltAccessDenied"],
    ["refused", { code: "ECONNREFUSED", message: "connect ECONNREFUSED" }, "DoltUnreachable"],
    ["lost", { code: "PROTOCOL_CONNECTION_LOST", message: "Connection lost" }, "DoltUnreachable"],
    ["query timeout", { code: "PROTOCOL_SEQUENCE_TIMEOUT", message: "Query inactivity timeout" }, "DoltTimeout"],
    // Measured against dolt 1.86.4 with listener.require_secure_transport and mysql2 3.24.5.
    [
      "plaintext refused",
      sqlError(
        1105,
        "unknown error: Code: UNAVAILABLE\nserver does not allow insecure connections, client must use SSL/TLS"
      ),
      "DoltUnreachable"
    ],
    [
      "untrusted certificate",
      { code: "HANDSHAKE_SSL_ERROR", message: "unable to verify the first certificate" },
      "DoltUnreachable"
    ],
    ["wrong name", { code: "ERR_TLS_CERT_ALTNAME_INVALID", message: "Hostname/IP does not match" }, "DoltUnreachable"],
    ["syntax", sqlError(1064, "You have an error in your SQL syntax", "ER_PARSE_ERROR"), "DoltSqlError"]
  ]
  for (const [name, cause, tag] of cases) {
    it(`${name} -> ${tag}`, () => {
      assert.strictEqual(classifyError("h", "op", cause)._tag, tag)
    })
  }

  it("cuts passwords (raw and escaped) out of messages and drops the driver error", () => {
    const e = classifyError("h", "createUser", sqlError(1064, "near 'IDENTIFIED BY 'p\\'w'' at line 1"), ["p'w"])
    assert.notInclude(e.message, "p\\'w")
    assert.include(e.message, "<redacted>")
    assert.isFalse("cause" in e && e.cause !== undefined)
  })
})
