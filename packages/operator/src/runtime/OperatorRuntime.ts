/**
 * Wires the runtime from an `OperatorConfig`: logging, health and readiness, leader election (or none),
 * the probe and metrics servers, and the manager running the given controllers while this replica leads.
 * The `run` command builds `OperatorRuntime.layer(config, controllers)` on top of a `Kube` layer and launches it.
 */
import type { Kube } from "@doltdb-op/core/services/Kube"
import { Duration, Effect, FileSystem, Layer, Logger, Option, References } from "effect"
import { Health } from "./Health.ts"
import { type InvalidLeaderElectionOptions, LeaderElection, makeIdentity } from "./LeaderElection.ts"
import * as LeaderMetrics from "./LeaderMetrics.ts"
import { LeaseClient } from "./LeaseClient.ts"
import * as Manager from "./Manager.ts"
import { type OperatorConfig, resolveLeaderElectionNamespace, toLogLevel } from "./OperatorConfig.ts"
import * as ProbeServer from "./ProbeServer.ts"
import * as ProcessMetrics from "./ProcessMetrics.ts"

/** `--log-format` json (one JSON object per line) or text (logfmt), at `--log-level`. */
export const loggerLayer = (config: OperatorConfig): Layer.Layer<never> =>
  Layer.mergeAll(
    Logger.layer([config.logFormat === "json" ? Logger.consoleJson : Logger.consoleLogFmt]),
    Layer.succeed(References.MinimumLogLevel, toLogLevel(config.logLevel))
  )

const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

/** The service account's namespace, when running in a pod and a `FileSystem` is provided. */
const serviceAccountNamespace: Effect.Effect<string | undefined> = Effect.gen(function* () {
  const fs = yield* Effect.serviceOption(FileSystem.FileSystem)
  if (Option.isNone(fs)) return undefined
  return yield* fs.value.readFileString(serviceAccountNamespaceFile).pipe(Effect.orElseSucceed(() => undefined))
})

/** `--leader-elect`: a Lease election through `Kube`; otherwise this replica always leads. */
export const leaderElectionLayer = (
  config: OperatorConfig
): Layer.Layer<LeaderElection, InvalidLeaderElectionOptions, Kube | Health> =>
  config.leaderElect
    ? Layer.unwrap(
        Effect.gen(function* () {
          const namespace = yield* resolveLeaderElectionNamespace(config, yield* serviceAccountNamespace)
          const identity = yield* makeIdentity
          yield* Effect.logInfo("Leader election enabled", {
            lease: `${namespace}/${config.leaderElectionId}`,
            identity,
            leaseDuration: Duration.format(config.leaderLeaseDuration),
            renewDeadline: Duration.format(config.leaderRenewDeadline),
            retryPeriod: Duration.format(config.leaderRetryPeriod)
          })
          return LeaderElection.layer({
            namespace,
            name: config.leaderElectionId,
            identity,
            leaseDuration: config.leaderLeaseDuration,
            renewDeadline: config.leaderRenewDeadline,
            retryPeriod: config.leaderRetryPeriod
          }).pipe(Layer.provide(LeaseClient.layerKube))
        })
      )
    : LeaderElection.layerAlwaysLeader

/**
 * Everything but the Kube layer and the controllers' own dependencies. Outputs `Health`, `LeaderElection` and
 * `ProbeEndpoints` so the program (and tests) can inspect them; fails with `InvalidLeaderElectionOptions` or
 * `ServeError` (address in use); requires `Kube` plus whatever the controllers need.
 */
const compatibilityWarnings = (config: OperatorConfig): Layer.Layer<never> =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      yield* Effect.logInfo("Starting the operator", {
        logLevel: config.logLevel,
        logFormat: config.logFormat,
        watchNamespaces: config.watchNamespaces.length === 0 ? "all" : config.watchNamespaces.join(",")
      })
      if (config.metricsSecure)
        yield* Effect.logWarning("--metrics-secure is not supported: /metrics is served over plain HTTP")
      for (const ignored of config.ignoredFlags ?? []) yield* Effect.logWarning(ignored)
    })
  )

export const layer = <R>(config: OperatorConfig, controllers: ReadonlyArray<Manager.ControllerDefinition<R>>) =>
  Layer.merge(Manager.layer(controllers), LeaderMetrics.layer(config.leaderElectionId)).pipe(
    Layer.provideMerge(
      ProbeServer.layer({
        healthProbeBindAddress: config.healthProbeBindAddress,
        metricsBindAddress: config.metricsBindAddress
      })
    ),
    Layer.provideMerge(leaderElectionLayer(config)),
    Layer.provideMerge(Health.layer),
    Layer.provideMerge(compatibilityWarnings(config)),
    Layer.provideMerge(ProcessMetrics.layer),
    Layer.provide(loggerLayer(config))
  )

/** Build the runtime and keep it running until interrupted (SIGTERM through `NodeRuntime.runMain`). */
export const launch = <R>(config: OperatorConfig, controllers: ReadonlyArray<Manager.ControllerDefinition<R>>) =>
  Layer.launch(layer(config, controllers))
