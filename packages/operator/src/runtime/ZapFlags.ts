/**
 * The reference operator's logging flags (controller-runtime's zap options and its own `--log-dev-mode`,
 * `--log-sql`), accepted so a Deployment or values file written for it starts here unchanged
 * (reference-operator.md §10):
 *
 * | flag                     | here                                                                        |
 * |--------------------------|-----------------------------------------------------------------------------|
 * | `--zap-log-level`        | `--log-level`: debug, info, warn, error (dpanic/panic/fatal → error); an integer N ≥ 1 (logr V-level) → debug for 1, trace above |
 * | `--zap-encoder`          | `--log-format`: json → json, console → text                                 |
 * | `--zap-devel`            | level debug and format text unless set otherwise (zap's development preset) |
 * | `--zap-stacktrace-level`, `--zap-time-encoding`, `--log-dev-mode`, `--log-sql` | accepted, logged as ignored at startup |
 *
 * `--log-level` and `--log-format` win over the zap flags when both are given.
 */
import { Config, Option, Result } from "effect"
import { Flag } from "effect/cli"
import type { LogFormat, LogLevelName } from "./OperatorConfig.ts"

const zapLevels: Readonly<Record<string, LogLevelName>> = {
  debug: "debug",
  info: "info",
  warn: "warn",
  error: "error",
  dpanic: "error",
  panic: "error",
  fatal: "error"
}

/** zap's level flag: a level name or a positive integer (logr verbosity: 1 is debug, more is more verbose). */
export const parseZapLogLevel = (input: string): Result.Result<LogLevelName, string> => {
  const value = input.trim().toLowerCase()
  const named = zapLevels[value]
  if (named !== undefined) return Result.succeed(named)
  if (/^\d+$/u.test(value)) {
    const n = Number(value)
    return Result.succeed(n === 0 ? "info" : n === 1 ? "debug" : "trace")
  }
  return Result.fail("expected debug, info, warn, error, panic or an integer >= 0")
}

const literal =
  <const L extends ReadonlyArray<string>>(literals: L) =>
  (input: string): Result.Result<L[number], string> => {
    const value = input.trim().toLowerCase()
    return literals.includes(value)
      ? Result.succeed(value as L[number])
      : Result.fail(`expected one of ${literals.join(", ")}`)
  }

const envName = (flag: string) => `DOLTDB_OPERATOR_${flag.toUpperCase().replaceAll("-", "_")}`

const optionalParsed = <A>(name: string, description: string, parse: (input: string) => Result.Result<A, string>) =>
  Flag.String(name).pipe(
    Flag.withDescription(`${description} [env ${envName(name)}]`),
    Flag.withFallbackConfig(Config.String(envName(name))),
    Flag.filterMap(
      (input) => Result.getSuccess(parse(input)),
      (input) => Option.getOrElse(Result.getFailure(parse(input)), () => "invalid value")
    ),
    Flag.optional
  )

const optionalBoolean = (name: string, description: string) =>
  Flag.Boolean(name).pipe(
    Flag.withDescription(`${description} [env ${envName(name)}]`),
    Flag.withFallbackConfig(Config.Boolean(envName(name))),
    Flag.optional
  )

export const zapEncoders = ["json", "console"] as const
export const zapStacktraceLevels = ["info", "error", "panic"] as const
export const zapTimeEncodings = ["epoch", "millis", "nano", "iso8601", "rfc3339", "rfc3339nano"] as const

/** The reference's logging flags; `resolveLogging` turns them into `--log-level`/`--log-format` and warnings. */
export const zapFlags = {
  zapLogLevel: optionalParsed("zap-log-level", "Reference flag: same as --log-level", parseZapLogLevel),
  zapEncoder: optionalParsed(
    "zap-encoder",
    "Reference flag: json or console (--log-format json or text)",
    literal(zapEncoders)
  ),
  zapDevel: optionalBoolean("zap-devel", "Reference flag: debug level and text format unless set otherwise"),
  zapStacktraceLevel: optionalParsed(
    "zap-stacktrace-level",
    "Reference flag, accepted and ignored",
    literal(zapStacktraceLevels)
  ).pipe(Flag.withHidden),
  zapTimeEncoding: optionalParsed(
    "zap-time-encoding",
    "Reference flag, accepted and ignored",
    literal(zapTimeEncodings)
  ).pipe(Flag.withHidden),
  logDevMode: optionalBoolean("log-dev-mode", "Reference flag, accepted and ignored").pipe(Flag.withHidden),
  logSql: optionalBoolean("log-sql", "Reference flag, accepted and ignored").pipe(Flag.withHidden)
} as const

export interface ZapFlagValues {
  readonly zapLogLevel: Option.Option<LogLevelName>
  readonly zapEncoder: Option.Option<(typeof zapEncoders)[number]>
  readonly zapDevel: Option.Option<boolean>
  readonly zapStacktraceLevel: Option.Option<string>
  readonly zapTimeEncoding: Option.Option<string>
  readonly logDevMode: Option.Option<boolean>
  readonly logSql: Option.Option<boolean>
}

/**
 * The effective level and format: `--log-level`/`--log-format` when given, else the zap flags, else info/json;
 * plus one sentence per reference flag that was given but has no meaning here (logged at startup).
 */
export const resolveLogging = (
  explicit: { readonly logLevel: Option.Option<LogLevelName>; readonly logFormat: Option.Option<LogFormat> },
  zap: ZapFlagValues
): { readonly logLevel: LogLevelName; readonly logFormat: LogFormat; readonly ignoredFlags: ReadonlyArray<string> } => {
  const devel = Option.getOrElse(zap.zapDevel, () => false)
  const logLevel = Option.getOrElse(
    Option.orElse(explicit.logLevel, () => zap.zapLogLevel),
    (): LogLevelName => (devel ? "debug" : "info")
  )
  const logFormat = Option.getOrElse(
    Option.orElse(explicit.logFormat, () =>
      Option.map(zap.zapEncoder, (e): LogFormat => (e === "console" ? "text" : "json"))
    ),
    (): LogFormat => (devel ? "text" : "json")
  )
  const ignoredFlags: Array<string> = []
  if (Option.isSome(zap.zapStacktraceLevel))
    ignoredFlags.push(
      `--zap-stacktrace-level=${zap.zapStacktraceLevel.value} is ignored: failures log their cause, expected retries log no stack`
    )
  if (Option.isSome(zap.zapTimeEncoding))
    ignoredFlags.push(`--zap-time-encoding=${zap.zapTimeEncoding.value} is ignored: timestamps are ISO 8601`)
  if (Option.isSome(zap.logDevMode))
    ignoredFlags.push(
      "--log-dev-mode is ignored (it had no effect in the reference either): use --log-level and --log-format"
    )
  if (Option.isSome(zap.logSql)) ignoredFlags.push("--log-sql is ignored: use --log-level=debug for more detail")
  return { logLevel, logFormat, ignoredFlags }
}
