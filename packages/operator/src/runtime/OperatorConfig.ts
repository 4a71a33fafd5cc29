/**
 * The operator's configuration: flags compatible with the reference operator's `cmd/main.go`
 * (reference-operator.md §10), each with a `DOLTDB_OPERATOR_*` environment fallback, decoded into a schema'd
 * `OperatorConfig`.
 *
 * Mount `operatorConfigFlags` on the `run` command: its keys are `OperatorConfig`'s fields, so the handler
 * does `OperatorConfig.make(flags)`. Invalid values fail with effect/cli's `InvalidValue`, which names the flag.
 */
import { parseGoDuration } from "@doltdb-op/core/api/GoDuration"
import { Config, Duration, Effect, type LogLevel, Option, Result, Schema } from "effect"
import { Flag } from "effect/cli"
import { resolveLogging, zapFlags } from "./ZapFlags.ts"

// --- value types ---

export const BindAddress = Schema.Union([
  Schema.TaggedStruct("Disabled", {}),
  Schema.TaggedStruct("Listen", {
    /** Absent: every interface. */
    host: Schema.optionalKey(Schema.String),
    /** 0 picks a free port (tests). */
    port: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))
  })
])
export type BindAddress = typeof BindAddress.Type

/** `:8080`, `127.0.0.1:8080`, `[::1]:8080`, or `0` to disable (controller-runtime's convention). */
export const parseBindAddress = (input: string): Result.Result<BindAddress, string> => {
  const value = input.trim()
  if (value === "0") return Result.succeed({ _tag: "Disabled" })
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/u.exec(value)
  const port = Number(match?.[3])
  if (!match || port > 65535) return Result.fail('expected "[host]:port" (e.g. ":8080") or "0" to disable')
  const host = match[1] ?? match[2] ?? ""
  return Result.succeed(host === "" ? { _tag: "Listen", port } : { _tag: "Listen", host, port })
}

export const formatBindAddress = (address: BindAddress): string =>
  address._tag === "Disabled"
    ? "0"
    : `${address.host === undefined ? "" : address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/u
const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/u

/** Comma list of namespaces; empty means every namespace. */
export const parseNamespaces = (input: string): Result.Result<ReadonlyArray<string>, string> => {
  const names = input
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "")
  const invalid = names.find((name) => !dnsLabel.test(name))
  return invalid === undefined
    ? Result.succeed([...new Set(names)])
    : Result.fail(`"${invalid}" is not a valid namespace name (RFC 1123 label)`)
}

/** Go's `time.ParseDuration` syntax (`30s`, `1m30s`, `500ms`), as the reference's flags take, or `"30 seconds"`. */
export const parseDuration = (input: string): Result.Result<Duration.Duration, string> => {
  const value = input.trim()
  const millis = parseGoDuration(value)
  if (millis !== undefined) return Result.succeed(Duration.millis(millis))
  return Option.match(Duration.fromInput(value as Duration.Input), {
    onNone: () => Result.fail('expected a duration such as "30s", "1m30s" or "500ms"'),
    onSome: Result.succeed
  })
}

export const LogLevelName = Schema.Literals(["trace", "debug", "info", "warn", "error"])
export type LogLevelName = typeof LogLevelName.Type

export const toLogLevel = (level: LogLevelName): LogLevel.LogLevel =>
  (({ trace: "Trace", debug: "Debug", info: "Info", warn: "Warn", error: "Error" }) as const)[level]

export const LogFormat = Schema.Literals(["json", "text"])
export type LogFormat = typeof LogFormat.Type

/**
 * Bounds of the concurrency flags: a worker is a fiber pulling from the queue, started up front, so 10^8 workers
 * exhaust memory before anything runs; past a few dozen, reconciles only queue on the API server's client
 * rate limits and the Dolt connections. 256 leaves room for very large fleets.
 */
export const MaxWorkers = 256
const WorkerCount = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MaxWorkers }))

/** Bounds of a duration flag, in milliseconds. */
export interface DurationBounds {
  readonly min: number
  readonly max: number
}
const Day = 24 * 60 * 60 * 1000
/** `--requeue-sql`: 0 would re-check every Database/User/Grant in a hot loop; more than a day never re-checks drift. */
export const RequeueSqlBounds: DurationBounds = { min: 1000, max: Day }
/** `--backup-credentials-propagation`: the kubelet needs tens of seconds; over an hour a changed Secret never applies. */
export const BackupPropagationBounds: DurationBounds = { min: 1000, max: 60 * 60 * 1000 }

export class OperatorConfig extends Schema.Class<OperatorConfig>("OperatorConfig")({
  /** `--watch-namespaces`: empty = all namespaces. */
  watchNamespaces: Schema.Array(Schema.String),
  /** `--metrics-bind-address` (default `:8080`; `0` disables). */
  metricsBindAddress: BindAddress,
  /** `--health-probe-bind-address` (default `:8081`; `0` disables). */
  healthProbeBindAddress: BindAddress,
  /** `--leader-elect` (default false, as in the reference). */
  leaderElect: Schema.Boolean,
  /** `--leader-election-id`: the Lease name (default `k8s.dolthub.com`). */
  leaderElectionId: Schema.String,
  /** `--leader-election-namespace`: empty = the operator's own namespace (see `resolveLeaderElectionNamespace`). */
  leaderElectionNamespace: Schema.String,
  /**
   * `--leader-lease-duration` (default 10 s), `--leader-renew-deadline` (7 s), `--leader-retry-period` (2 s): see
   * LeaderElection. A standby replaces a crashed leader about one lease duration after its last renewal.
   */
  leaderLeaseDuration: Schema.Duration,
  leaderRenewDeadline: Schema.Duration,
  leaderRetryPeriod: Schema.Duration,
  /** `--max-concurrent-reconciles` (default 1): every controller but DoltDB's. */
  maxConcurrentReconciles: WorkerCount,
  /** `--max-doltdb-concurrent-reconciles` (default 10). */
  maxDoltdbConcurrentReconciles: WorkerCount,
  /**
   * `--requeue-sql` (default 30 s): how often Database/User/Grant are re-checked for drift after success.
   * Our SQL reconcilers compare before writing, so a converged object costs reads only.
   */
  requeueSql: Schema.Duration,
  /**
   * `--backup-credentials-propagation` (default 90 s): how long a Backup waits after the operator changed the
   * backup credentials Secret, for the kubelet to refresh the mounted copy (its sync period plus cache TTL).
   */
  backupCredentialsPropagation: Schema.Duration,
  /** `--log-level` (default info; the reference's `--zap-log-level`/`--zap-devel` when not given, see ZapFlags). */
  logLevel: LogLevelName,
  /** `--log-format` (default json; the reference's `--zap-encoder`/`--zap-devel` when not given). */
  logFormat: LogFormat,
  /** Reference flags that were given but mean nothing here, one sentence each (logged at startup). */
  ignoredFlags: Schema.optionalKey(Schema.Array(Schema.String)),
  /** `--kubeconfig`, else `KUBECONFIG`, else in-cluster / `~/.kube/config`. */
  kubeconfig: Schema.optionalKey(Schema.String),
  /** `--cluster-name`, else `CLUSTER_NAME`: the cluster's DNS domain (default `cluster.local`). */
  clusterName: Schema.String,
  /**
   * `--metrics-secure`, accepted for compatibility with the reference's manifests (which pass `=false`); metrics
   * are served over plain HTTP, so `true` only earns a warning at startup.
   */
  metricsSecure: Schema.Boolean,
  /** `--enable-http2`, accepted for compatibility and ignored (HTTP/1.1 only, as the reference's default). */
  enableHttp2: Schema.Boolean
}) {}

// --- flags ---

const envName = (flag: string) => `DOLTDB_OPERATOR_${flag.toUpperCase().replaceAll("-", "_")}`

const described = <A>(flag: Flag.Flag<A>, name: string, description: string, extraEnv?: string): Flag.Flag<A> =>
  Flag.withDescription(flag, `${description} [env ${envName(name)}${extraEnv === undefined ? "" : `, ${extraEnv}`}]`)

/** A string flag with its env fallback and default, parsed by `parse` (errors name the flag). */
const parsedFlag = <A>(
  name: string,
  description: string,
  defaultValue: string,
  parse: (input: string) => Result.Result<A, string>,
  extraEnv?: string
): Flag.Flag<A> => {
  const env = Config.String(envName(name))
  const fallback = extraEnv === undefined ? env : env.pipe(Config.orElse(() => Config.String(extraEnv)))
  const raw: Flag.Flag<string> = Flag.withDefault(
    Flag.withFallbackConfig(described(Flag.String(name), name, description, extraEnv), fallback),
    defaultValue
  )
  return Flag.filterMap(
    raw,
    (input) => Result.getSuccess(parse(input)),
    (input) => Option.getOrElse(Result.getFailure(parse(input)), () => "invalid value")
  )
}

/** Like `parsedFlag` without a default: `Option.none()` when neither the flag nor its env variable is set. */
const optionalParsedFlag = <A>(
  name: string,
  description: string,
  parse: (input: string) => Result.Result<A, string>
): Flag.Flag<Option.Option<A>> =>
  Flag.String(name).pipe(
    (flag) => described(flag, name, description),
    Flag.withFallbackConfig(Config.String(envName(name))),
    Flag.filterMap(
      (input) => Result.getSuccess(parse(input)),
      (input) => Option.getOrElse(Result.getFailure(parse(input)), () => "invalid value")
    ),
    Flag.optional
  )

/** An integer in [min, max]; decimal digits only (no `1e3`, `0x10`, or `1.0`). */
export const parseIntBetween =
  (min: number, max: number) =>
  (input: string): Result.Result<number, string> => {
    const text = input.trim()
    const value = Number(text)
    return /^[0-9]{1,9}$/u.test(text) && value >= min && value <= max
      ? Result.succeed(value)
      : Result.fail(`expected an integer from ${min} to ${max}, got "${input}"`)
  }

const formatMillis = (millis: number) =>
  millis % 3_600_000 === 0 ? `${millis / 3_600_000}h` : millis % 1000 === 0 ? `${millis / 1000}s` : `${millis}ms`

/** A duration (as `parseDuration`) within `bounds`. */
export const parseDurationWithin =
  (bounds: DurationBounds) =>
  (input: string): Result.Result<Duration.Duration, string> =>
    Result.flatMap(parseDuration(input), (duration) => {
      const millis = Duration.toMillis(duration)
      return millis >= bounds.min && millis <= bounds.max
        ? Result.succeed(duration)
        : Result.fail(
            `expected a duration from ${formatMillis(bounds.min)} to ${formatMillis(bounds.max)}, got "${input}"`
          )
    })

const parseMatching =
  (pattern: RegExp, what: string) =>
  (input: string): Result.Result<string, string> =>
    pattern.test(input) ? Result.succeed(input) : Result.fail(`expected ${what}`)

const parseLiteral =
  <const L extends ReadonlyArray<string>>(literals: L) =>
  (input: string): Result.Result<L[number], string> =>
    literals.includes(input.trim().toLowerCase())
      ? Result.succeed(input.trim().toLowerCase() as L[number])
      : Result.fail(`expected one of ${literals.join(", ")}`)

const booleanFlag = (name: string, description: string): Flag.Flag<boolean> =>
  Flag.withDefault(
    Flag.withFallbackConfig(described(Flag.Boolean(name), name, description), Config.Boolean(envName(name))),
    false
  )

/** The `run` command's flags; keys are `OperatorConfig`'s fields. */
export const operatorConfigFlags = {
  watchNamespaces: parsedFlag(
    "watch-namespaces",
    "Comma-separated namespaces to watch; empty watches all namespaces",
    "",
    parseNamespaces
  ),
  metricsBindAddress: parsedFlag(
    "metrics-bind-address",
    'Address the /metrics endpoint binds to (":8080"); "0" disables it',
    ":8080",
    parseBindAddress
  ),
  healthProbeBindAddress: parsedFlag(
    "health-probe-bind-address",
    'Address the /healthz and /readyz endpoints bind to; "0" disables them',
    ":8081",
    parseBindAddress
  ),
  leaderElect: booleanFlag("leader-elect", "Elect a leader through a Lease so only one replica reconciles"),
  leaderElectionId: parsedFlag(
    "leader-election-id",
    "Name of the leader election Lease",
    "k8s.dolthub.com",
    parseMatching(dnsSubdomain, "a DNS subdomain name")
  ),
  leaderElectionNamespace: parsedFlag(
    "leader-election-namespace",
    "Namespace of the leader election Lease; empty means the operator's namespace",
    "",
    (input) => (input === "" ? Result.succeed("") : parseMatching(dnsLabel, "a namespace name")(input))
  ),
  leaderLeaseDuration: parsedFlag(
    "leader-lease-duration",
    "How long a standby waits, after it last saw the leader renew, before it takes the Lease",
    "10s",
    parseDuration
  ),
  leaderRenewDeadline: parsedFlag(
    "leader-renew-deadline",
    "How long the leader keeps leading without a successful renewal (below the lease duration)",
    "7s",
    parseDuration
  ),
  leaderRetryPeriod: parsedFlag(
    "leader-retry-period",
    "How often the leader renews and a standby checks the Lease",
    "2s",
    parseDuration
  ),
  maxConcurrentReconciles: parsedFlag(
    "max-concurrent-reconciles",
    `Concurrent reconciles of each controller (DoltDB's excepted), 1 to ${MaxWorkers}`,
    "1",
    parseIntBetween(1, MaxWorkers)
  ),
  maxDoltdbConcurrentReconciles: parsedFlag(
    "max-doltdb-concurrent-reconciles",
    `Concurrent reconciles of the DoltDB controller, 1 to ${MaxWorkers}`,
    "10",
    parseIntBetween(1, MaxWorkers)
  ),
  requeueSql: parsedFlag(
    "requeue-sql",
    "How often Database, User and Grant are re-checked for drift (1s to 24h)",
    "30s",
    parseDurationWithin(RequeueSqlBounds)
  ),
  backupCredentialsPropagation: parsedFlag(
    "backup-credentials-propagation",
    "How long a Backup waits for a changed credentials Secret to reach the pods' volumes (1s to 1h)",
    "90s",
    parseDurationWithin(BackupPropagationBounds)
  ),
  logLevel: optionalParsedFlag(
    "log-level",
    "trace, debug, info, warn or error (default info)",
    parseLiteral(LogLevelName.literals)
  ),
  logFormat: optionalParsedFlag("log-format", "json or text (default json)", parseLiteral(LogFormat.literals)),
  ...zapFlags,
  kubeconfig: Flag.String("kubeconfig").pipe(
    Flag.withDescription(
      `Path to a kubeconfig; default in-cluster or ~/.kube/config [env ${envName("kubeconfig")}, KUBECONFIG]`
    ),
    Flag.withFallbackConfig(
      Config.String(envName("kubeconfig")).pipe(Config.orElse(() => Config.String("KUBECONFIG")))
    ),
    Flag.optional
  ),
  clusterName: parsedFlag(
    "cluster-name",
    "The cluster's DNS domain",
    "cluster.local",
    parseMatching(dnsSubdomain, "a DNS domain such as cluster.local"),
    "CLUSTER_NAME"
  ),
  metricsSecure: booleanFlag("metrics-secure", "Accepted for compatibility; metrics are served over plain HTTP"),
  enableHttp2: booleanFlag("enable-http2", "Accepted for compatibility and ignored")
} as const

/** Build the config from the parsed flags (`Command.make("run", { config: operatorConfigFlags }, ...)`). */
export const fromFlags = (
  flags: {
    readonly [K in keyof typeof operatorConfigFlags]: (typeof operatorConfigFlags)[K] extends Flag.Flag<infer A>
      ? A
      : never
  }
): OperatorConfig => {
  const {
    kubeconfig,
    logLevel,
    logFormat,
    zapLogLevel,
    zapEncoder,
    zapDevel,
    zapStacktraceLevel,
    zapTimeEncoding,
    logDevMode,
    logSql,
    ...rest
  } = flags
  const logging = resolveLogging(
    { logLevel, logFormat },
    { zapLogLevel, zapEncoder, zapDevel, zapStacktraceLevel, zapTimeEncoding, logDevMode, logSql }
  )
  return OperatorConfig.make({
    ...rest,
    ...logging,
    ...(Option.isSome(kubeconfig) ? { kubeconfig: kubeconfig.value } : {})
  })
}

/**
 * The Lease namespace: the flag when set, else the operator's namespace from `POD_NAMESPACE` or
 * `DOLT_OPERATOR_NAMESPACE` (which the Helm chart sets), else the service account's namespace file content
 * passed in by the caller, else `default`.
 */
export const resolveLeaderElectionNamespace = (
  config: OperatorConfig,
  serviceAccountNamespace?: string
): Effect.Effect<string> =>
  config.leaderElectionNamespace !== ""
    ? Effect.succeed(config.leaderElectionNamespace)
    : Config.String("POD_NAMESPACE").pipe(
        Config.orElse(() => Config.String("DOLT_OPERATOR_NAMESPACE")),
        Config.withDefault(serviceAccountNamespace?.trim() || "default"),
        Effect.orElseSucceed(() => serviceAccountNamespace?.trim() || "default")
      )
