import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, FileSystem, Layer, Path, Result, Stdio, Terminal } from "effect"
import { Command } from "effect/cli"
import { ChildProcessSpawner } from "effect/process"
import {
  fromFlags,
  type OperatorConfig,
  operatorConfigFlags,
  parseBindAddress,
  parseDuration,
  resolveLeaderElectionNamespace
} from "../../src/runtime/OperatorConfig.ts"

const CliTestLayer = Layer.mergeAll(
  FileSystem.layerNoop({}),
  Path.layer,
  Stdio.layerTest({}),
  Layer.succeed(
    Terminal.Terminal,
    Terminal.make({
      columns: Effect.succeed(80),
      rows: Effect.succeed(24),
      size: Effect.die("unused"),
      readInput: Effect.die("unused"),
      readLine: Effect.die("unused"),
      display: () => Effect.void
    })
  ),
  Layer.succeed(
    ChildProcessSpawner.ChildProcessSpawner,
    ChildProcessSpawner.make(() => Effect.die("unused"))
  )
)

const parse = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    let parsed: OperatorConfig | undefined
    const run = Command.make("run", { config: operatorConfigFlags }, ({ config }) =>
      Effect.sync(() => {
        parsed = fromFlags(config)
      })
    )
    yield* Command.runWith(run, { version: "0.0.0", renderErrors: false })(args)
    return yield* Effect.fromNullishOr(parsed)
  }).pipe(Effect.provide(CliTestLayer), Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env))))

/** The messages of a failed parse (effect/cli wraps parse errors in `ShowHelp`). */
const errorsOf = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.map(Effect.flip(parse(args, env)), (error) =>
    "errors" in error ? (error.errors as ReadonlyArray<{ message: string }>).map((e) => e.message) : [error.message]
  )

describe("OperatorConfig", () => {
  it.effect("defaults match the reference operator (metrics on :8080)", () =>
    Effect.gen(function* () {
      const config = yield* parse([])
      assert.deepStrictEqual(config.watchNamespaces, [])
      assert.deepStrictEqual(config.metricsBindAddress, { _tag: "Listen", port: 8080 })
      assert.deepStrictEqual(config.healthProbeBindAddress, { _tag: "Listen", port: 8081 })
      assert.strictEqual(config.leaderElect, false)
      assert.strictEqual(config.leaderElectionId, "k8s.dolthub.com")
      assert.strictEqual(config.leaderElectionNamespace, "")
      assert.strictEqual(Duration.toMillis(config.leaderLeaseDuration), 10_000)
      assert.strictEqual(Duration.toMillis(config.leaderRenewDeadline), 7_000)
      assert.strictEqual(Duration.toMillis(config.leaderRetryPeriod), 2_000)
      assert.deepStrictEqual(config.ignoredFlags, [])
      assert.strictEqual(config.maxConcurrentReconciles, 1)
      assert.strictEqual(config.maxDoltdbConcurrentReconciles, 10)
      assert.strictEqual(Duration.toMillis(config.requeueSql), 30_000)
      assert.strictEqual(Duration.toMillis(config.backupCredentialsPropagation), 90_000)
      assert.strictEqual(config.logLevel, "info")
      assert.strictEqual(config.logFormat, "json")
      assert.isUndefined(config.kubeconfig)
      assert.strictEqual(config.clusterName, "cluster.local")
      assert.strictEqual(config.metricsSecure, false)
      assert.strictEqual(config.enableHttp2, false)
    })
  )

  it.effect("reference-style flags", () =>
    Effect.gen(function* () {
      const config = yield* parse([
        "--watch-namespaces",
        "team-a, team-b,,team-a",
        "--metrics-bind-address=0",
        "--health-probe-bind-address",
        "127.0.0.1:9440",
        "--leader-elect",
        "--leader-election-id",
        "doltdb-operator.example.com",
        "--leader-election-namespace",
        "ops",
        "--max-concurrent-reconciles",
        "3",
        "--max-doltdb-concurrent-reconciles",
        "20",
        "--requeue-sql",
        "1m30s",
        "--log-level",
        "debug",
        "--log-format",
        "text",
        "--kubeconfig",
        "/tmp/kubeconfig"
      ])
      assert.deepStrictEqual(config.watchNamespaces, ["team-a", "team-b"])
      assert.deepStrictEqual(config.metricsBindAddress, { _tag: "Disabled" })
      assert.deepStrictEqual(config.healthProbeBindAddress, { _tag: "Listen", host: "127.0.0.1", port: 9440 })
      assert.strictEqual(config.leaderElect, true)
      assert.strictEqual(config.leaderElectionId, "doltdb-operator.example.com")
      assert.strictEqual(config.leaderElectionNamespace, "ops")
      assert.strictEqual(config.maxConcurrentReconciles, 3)
      assert.strictEqual(config.maxDoltdbConcurrentReconciles, 20)
      assert.strictEqual(Duration.toMillis(config.requeueSql), 90_000)
      assert.strictEqual(config.logLevel, "debug")
      assert.strictEqual(config.logFormat, "text")
      assert.strictEqual(config.kubeconfig, "/tmp/kubeconfig")
    })
  )

  it.effect("the reference's kustomize and Helm args parse unchanged", () =>
    Effect.gen(function* () {
      const kustomize = yield* parse([
        "--health-probe-bind-address=:8081",
        "--leader-elect",
        "--metrics-bind-address=:8080",
        "--metrics-secure=false"
      ])
      assert.strictEqual(kustomize.leaderElect, true)
      assert.strictEqual(kustomize.metricsSecure, false)
      const helm = yield* parse([
        "--leader-elect",
        "--leader-election-id=k8s.dolthub.com",
        "--leader-election-namespace="
      ])
      assert.strictEqual(helm.leaderElectionNamespace, "")
      assert.strictEqual(helm.leaderElectionId, "k8s.dolthub.com")
    })
  )

  it.effect("environment fallbacks: DOLTDB_OPERATOR_*, CLUSTER_NAME, KUBECONFIG; flags win over env", () =>
    Effect.gen(function* () {
      const env = {
        DOLTDB_OPERATOR_WATCH_NAMESPACES: "prod",
        DOLTDB_OPERATOR_LEADER_ELECT: "true",
        DOLTDB_OPERATOR_MAX_DOLTDB_CONCURRENT_RECONCILES: "4",
        DOLTDB_OPERATOR_METRICS_BIND_ADDRESS: ":9090",
        CLUSTER_NAME: "corp.internal",
        KUBECONFIG: "/etc/kube/config"
      }
      const config = yield* parse([], env)
      assert.deepStrictEqual(config.watchNamespaces, ["prod"])
      assert.strictEqual(config.leaderElect, true)
      assert.strictEqual(config.maxDoltdbConcurrentReconciles, 4)
      assert.deepStrictEqual(config.metricsBindAddress, { _tag: "Listen", port: 9090 })
      assert.strictEqual(config.clusterName, "corp.internal")
      assert.strictEqual(config.kubeconfig, "/etc/kube/config")
      const overridden = yield* parse(["--metrics-bind-address", ":7070", "--watch-namespaces", "dev"], env)
      assert.deepStrictEqual(overridden.metricsBindAddress, { _tag: "Listen", port: 7070 })
      assert.deepStrictEqual(overridden.watchNamespaces, ["dev"])
      assert.strictEqual((yield* parse(["--leader-elect=false"], env)).leaderElect, false)
    })
  )

  it.effect("invalid values fail with an error naming the flag", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
        [["--metrics-bind-address", "localhost"], "--metrics-bind-address"],
        [["--health-probe-bind-address", ":70000"], "--health-probe-bind-address"],
        [["--max-concurrent-reconciles", "0"], "--max-concurrent-reconciles"],
        [["--max-doltdb-concurrent-reconciles", "ten"], "--max-doltdb-concurrent-reconciles"],
        [["--requeue-sql", "soon"], "--requeue-sql"],
        [["--watch-namespaces", "Team_A"], "--watch-namespaces"],
        [["--log-level", "loud"], "--log-level"],
        [["--leader-election-id", "Not Valid"], "--leader-election-id"],
        [["--leader-lease-duration", "forever"], "--leader-lease-duration"],
        [["--zap-log-level", "loud"], "--zap-log-level"],
        [["--zap-encoder", "xml"], "--zap-encoder"],
        [["--zap-time-encoding", "sundial"], "--zap-time-encoding"]
      ]
      for (const [args, flag] of cases) {
        const messages = yield* errorsOf(args)
        assert.isTrue(
          messages.some((message) => message.includes(flag)),
          `${args.join(" ")}: ${messages.join("; ")}`
        )
      }
      const fromEnv = yield* errorsOf([], { DOLTDB_OPERATOR_MAX_CONCURRENT_RECONCILES: "-1" })
      assert.isTrue(fromEnv.some((message) => message.includes("--max-concurrent-reconciles")))
    })
  )

  it.effect("the reference's zap and logging flags: mapped to --log-level/--log-format or accepted and reported", () =>
    Effect.gen(function* () {
      const mapped = yield* parse(["--leader-elect", "--zap-log-level=error", "--zap-encoder=console"])
      assert.strictEqual(mapped.logLevel, "error")
      assert.strictEqual(mapped.logFormat, "text")
      assert.deepStrictEqual(mapped.ignoredFlags, [])
      const devel = yield* parse(["--zap-devel"])
      assert.deepStrictEqual([devel.logLevel, devel.logFormat], ["debug", "text"])
      const develOff = yield* parse(["--zap-devel=false"])
      assert.deepStrictEqual([develOff.logLevel, develOff.logFormat], ["info", "json"])
      const verbosity = yield* parse(["--zap-log-level=3", "--zap-devel=true", "--zap-encoder", "json"])
      assert.deepStrictEqual([verbosity.logLevel, verbosity.logFormat], ["trace", "json"])
      assert.strictEqual((yield* parse(["--zap-log-level=1"])).logLevel, "debug")
      assert.strictEqual((yield* parse(["--zap-log-level=panic"])).logLevel, "error")
      // Ours win when both are given (the chart passes --log-level only when containerArgs has no zap level).
      const both = yield* parse(["--log-level=warn", "--zap-log-level=debug", "--log-format=json", "--zap-devel"])
      assert.deepStrictEqual([both.logLevel, both.logFormat], ["warn", "json"])
      const fromEnv = yield* parse([], { DOLTDB_OPERATOR_ZAP_LOG_LEVEL: "debug" })
      assert.strictEqual(fromEnv.logLevel, "debug")
      const ignored = yield* parse([
        "--zap-stacktrace-level=error",
        "--zap-time-encoding",
        "rfc3339nano",
        "--log-dev-mode=true",
        "--log-sql"
      ])
      assert.deepStrictEqual([ignored.logLevel, ignored.logFormat], ["info", "json"])
      assert.deepStrictEqual(
        (ignored.ignoredFlags ?? []).map((s) => s.split(" ")[0]),
        ["--zap-stacktrace-level=error", "--zap-time-encoding=rfc3339nano", "--log-dev-mode", "--log-sql"]
      )
    })
  )

  it("parsers: bind addresses and Go durations", () => {
    assert.deepStrictEqual(Result.getSuccess(parseBindAddress("[::1]:8443"))._tag, "Some")
    assert.deepStrictEqual(parseBindAddress("[::1]:8443"), Result.succeed({ _tag: "Listen", host: "::1", port: 8443 }))
    assert.deepStrictEqual(parseBindAddress(":0"), Result.succeed({ _tag: "Listen", port: 0 }))
    assert.isTrue(Result.isFailure(parseBindAddress("8080")))
    assert.strictEqual(Duration.toMillis(Result.getOrThrow(parseDuration("1h2m3s"))), 3_723_000)
    assert.strictEqual(Duration.toMillis(Result.getOrThrow(parseDuration("250ms"))), 250)
    assert.strictEqual(Duration.toMillis(Result.getOrThrow(parseDuration("1.5s"))), 1500)
    assert.strictEqual(Duration.toMillis(Result.getOrThrow(parseDuration("2 minutes"))), 120_000)
  })

  it.effect("the Lease namespace falls back to the operator's namespace", () =>
    Effect.gen(function* () {
      const config = yield* parse([])
      const fromEnv = yield* resolveLeaderElectionNamespace(config).pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ DOLT_OPERATOR_NAMESPACE: "doltdb-system" })))
      )
      assert.strictEqual(fromEnv, "doltdb-system")
      const fromFile = yield* resolveLeaderElectionNamespace(config, "from-sa\n").pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({})))
      )
      assert.strictEqual(fromFile, "from-sa")
      const explicit = yield* parse(["--leader-election-namespace", "ops"])
      assert.strictEqual(yield* resolveLeaderElectionNamespace(explicit), "ops")
    })
  )
})
