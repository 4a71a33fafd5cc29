/**
 * Validation of every name and value the `Dolt` service puts into SQL. Validation is the first line; quoting
 * (identifiers with doubled backticks) and mysql2's escaping/parameters are the second, so a value that passes here
 * still never leaves its literal.
 *
 * Limits: database names follow the reference CRD (`^[a-zA-Z0-9_]+$`, max 80). User names: at most 32 bytes of
 * UTF-8, Dolt's limit (dolt 1.86.4 refuses 28 x "日": "too long for user name (should be no longer than 32)"),
 * though the reference CRD allows 80 characters (MariaDB's limit); hosts at most 255 code points (Dolt, MariaDB,
 * MySQL 8.0.17+).
 */
import { Effect, Schema } from "effect"
import { DoltInvalidInput } from "./errors.ts"

export const DatabaseName = Schema.String.check(
  Schema.isPattern(/^[a-zA-Z0-9_]+$/u),
  Schema.isBetweenCodePoints(1, 80)
).annotate({ description: "database name: letters, digits and _; at most 80 characters" })

/**
 * Account names and hosts: no NUL, no characters outside the Basic Multilingual Plane (MariaDB keeps accounts in
 * utf8mb3 columns and silently turns a 4-byte character into `?`, so two names would collide), and no leading or
 * trailing space (CHAR columns drop trailing spaces, so `'bob '` would be `'bob'`).
 */
const accountText = /^(?! )[^\0\u{10000}-\u{10FFFF}]*(?<! )$/u

/** MariaDB strips surrounding single quotes from the login name: `'bob'` could be created but never log in. */
const notSingleQuoted = /^(?!'[\s\S]*'$)/u

const utf8 = new TextEncoder()
const utf8Length = (s: string): number => utf8.encode(s).length

/** SQL user name: 1-32 bytes of UTF-8, see `accountText` and `notSingleQuoted`. */
export const UserName = Schema.String.check(
  Schema.isPattern(accountText),
  Schema.isPattern(notSingleQuoted),
  Schema.isMinLength(1),
  Schema.makeFilter((s: string) => utf8Length(s) <= 32 || "at most 32 bytes of UTF-8 (Dolt's limit)")
).annotate({
  description:
    "user name: 1-32 bytes of UTF-8 (Dolt's limit), no NUL, no 4-byte characters, no leading or trailing space, not wrapped in single quotes"
})

/** Account host (`%`, `10.0.0.%`, a hostname): 1-255 code points, see `accountText`; MariaDB and MySQL refuse `@`. */
export const HostName = Schema.String.check(
  Schema.isPattern(accountText),
  Schema.isPattern(/^[^@]*$/u),
  Schema.isBetweenCodePoints(1, 255)
).annotate({
  description: "account host: 1-255 characters, no NUL, no @, no 4-byte characters, no leading or trailing space"
})

/** A table or other identifier inside a GRANT: 1-64 code points, no NUL (quoted with doubled backticks). */
export const TableName = Schema.String.check(Schema.isPattern(/^[^\0]+$/u), Schema.isBetweenCodePoints(1, 64))

/** Passwords are escaped by mysql2; NUL is refused because the authentication plugins stop at it. */
export const Password = Schema.String.check(Schema.isPattern(/^[^\0]*$/u), Schema.isBetweenCodePoints(0, 512))

export const CharsetName = Schema.String.check(Schema.isPattern(/^[a-zA-Z0-9_]+$/u), Schema.isBetweenCodePoints(1, 64))

/** A Dolt branch name (a conservative subset of git's rules). */
export const BranchName = Schema.String.check(
  Schema.isPattern(/^(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9_][A-Za-z0-9_./-]*(?<![./])$/u),
  Schema.isBetweenCodePoints(1, 255)
)

/** A free-text value sent as a parameter (dolt_ignore pattern, backup name or URL). */
export const ParameterText = Schema.String.check(Schema.isPattern(/^[^\0]+$/u), Schema.isBetweenCodePoints(1, 2048))

/** The MySQL/MariaDB/Dolt static privilege keywords we accept in GRANT/REVOKE (no column lists, no raw text). */
export const PrivilegeKeywords = [
  "ALL PRIVILEGES",
  "ALTER",
  "ALTER ROUTINE",
  "CREATE",
  "CREATE ROLE",
  "CREATE ROUTINE",
  "CREATE TABLESPACE",
  "CREATE TEMPORARY TABLES",
  "CREATE USER",
  "CREATE VIEW",
  "DELETE",
  "DROP",
  "DROP ROLE",
  "EVENT",
  "EXECUTE",
  "FILE",
  "GRANT OPTION",
  "INDEX",
  "INSERT",
  "LOCK TABLES",
  "PROCESS",
  "REFERENCES",
  "RELOAD",
  "REPLICATION CLIENT",
  "REPLICATION SLAVE",
  "SELECT",
  "SHOW DATABASES",
  "SHOW VIEW",
  "SHUTDOWN",
  "SUPER",
  "TRIGGER",
  "UPDATE",
  "USAGE"
] as const
export type Privilege = (typeof PrivilegeKeywords)[number]

const privilegeSet: ReadonlySet<string> = new Set(PrivilegeKeywords)

/** Normalises `" select "`, `"all"`, `"Lock  Tables"` to the keyword; `undefined` if not a known privilege. */
export const normalizePrivilege = (raw: string): Privilege | undefined => {
  const upper = raw.trim().replace(/\s+/gu, " ").toUpperCase()
  const keyword = upper === "ALL" ? "ALL PRIVILEGES" : upper
  return privilegeSet.has(keyword) ? (keyword as Privilege) : undefined
}

/** A validated account (`'name'@'host'`). */
export interface Account {
  readonly name: string
  readonly host: string
}

/** What a Grant/Revoke covers. `database`/`table` `*` = all. */
export interface GrantSpec {
  readonly account: Account
  readonly privileges: ReadonlyArray<string>
  readonly database: string
  readonly table: string
  readonly grantOption: boolean
}

/** A GrantSpec after validation: privileges normalised, `GRANT OPTION` moved to the flag, duplicates removed. */
export interface ValidGrant {
  readonly account: Account
  readonly privileges: ReadonlyArray<Privilege>
  readonly database: string
  readonly table: string
  readonly grantOption: boolean
}

const describe = (value: string): string => JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value)

/** Validates `value` against `schema`; the error names the field and the value. */
export const validate = <S extends Schema.Codec<string, string>>(
  field: string,
  schema: S,
  value: string
): Effect.Effect<string, DoltInvalidInput> =>
  Schema.is(schema)(value)
    ? Effect.succeed(value)
    : Effect.fail(
        new DoltInvalidInput({
          field,
          value: describe(value),
          message: `invalid ${field} ${describe(value)}: must be ${String(schema.ast.annotations?.description ?? "valid")}`
        })
      )

export const validateDatabaseName = (value: string) => validate("database name", DatabaseName, value)

/**
 * Validates an account and lower-cases its host: hosts are case-insensitive and MariaDB stores them lower-cased,
 * so `'u'@'Z'` would otherwise never be found again by `userExists` and be re-created on every reconcile.
 */
export const validateAccount = Effect.fnUntraced(function* (account: Account) {
  const name = yield* validate("user name", UserName, account.name)
  const host = yield* validate("user host", HostName, account.host)
  return { name, host: host.toLowerCase() } satisfies Account
})

export const validatePassword = (value: string) =>
  Schema.is(Password)(value)
    ? Effect.succeed(value)
    : Effect.fail(
        new DoltInvalidInput({
          field: "password",
          value: "<redacted>",
          message: "invalid password: must be at most 512 characters and contain no NUL"
        })
      )

const validateGrantObject = (field: string, value: string) =>
  value === "*" ? Effect.succeed(value) : validate(field, TableName, value)

export const validateGrant = Effect.fnUntraced(function* (spec: GrantSpec) {
  const account = yield* validateAccount(spec.account)
  const database = yield* validateGrantObject("grant database", spec.database)
  const table = yield* validateGrantObject("grant table", spec.table)
  if (database === "*" && table !== "*") {
    return yield* new DoltInvalidInput({
      field: "grant table",
      value: describe(table),
      message: `invalid grant table ${describe(table)}: a table needs a database (database is "*")`
    })
  }
  let grantOption = spec.grantOption
  const privileges: Array<Privilege> = []
  for (const raw of spec.privileges) {
    const p = normalizePrivilege(raw)
    if (p === undefined) {
      return yield* new DoltInvalidInput({
        field: "privilege",
        value: describe(raw),
        message: `invalid privilege ${describe(raw)}: must be one of ${PrivilegeKeywords.join(", ")}`
      })
    }
    if (p === "GRANT OPTION") grantOption = true
    else if (!privileges.includes(p)) privileges.push(p)
  }
  // `ALL PRIVILEGES` must stand alone in MySQL's grammar and covers the others.
  if (privileges.includes("ALL PRIVILEGES")) privileges.splice(0, privileges.length, "ALL PRIVILEGES")
  if (privileges.length === 0 && !grantOption) {
    return yield* new DoltInvalidInput({ field: "privileges", value: "[]", message: "privileges must not be empty" })
  }
  return { account, privileges, database, table, grantOption } satisfies ValidGrant
})
