/**
 * `doltdb-operator guard --doltdb <name>`: the isolation guard, run as the `guard` sidecar of a Dolt pod
 * (docs/guard.md). Reads its pod and DoltDB with the pod's projected service-account token (in-cluster config),
 * talks to the local Dolt on 127.0.0.1 and to its peers through the headless Service. Credentials come from the
 * environment (`DOLT_USERNAME`, `DOLT_PASSWORD`, set from the credentials Secret), never from a flag.
 */
import { Guard } from "@doltdb-op/core"
import { DoltLive } from "@doltdb-op/dolt"
import { KubeLive } from "@doltdb-op/k8s"
import { Config, Duration, Effect, FileSystem, Layer, Logger, Option, Redacted, Result } from "effect"
import { Command, Flag } from "effect/cli"
import { parse } from "yaml"
import * as GuardLoop from "../guard/GuardLoop.ts"
import { type DurationBounds, parseDurationWithin, parseIntBetween } from "../runtime/OperatorConfig.ts"

const durationFlag = (name: string, description: string, defaultValue: string, bounds: DurationBounds) => {
  const parse = parseDurationWithin(bounds)
  return Flag.String(name).pipe(
    Flag.withDescription(description),
    Flag.withDefault(defaultValue),
    Flag.filterMap(
      (input) => Result.getSuccess(parse(input)),
      (input) => Option.getOrElse(Result.getFailure(parse(input)), () => "invalid value")
    )
  )
}

/**
 * The DoltDB schema's own minimum. The schema has no maximum; a day bounds the flag (it only holds until the DoltDB
 * is read, and the guard's tick and read timeouts are capped at 1 s and 2 s whatever the threshold).
 */
const ThresholdBounds: DurationBounds = { min: 1000, max: 86_400_000 }

const envFlag = (name: string, env: string, description: string) =>
  Flag.String(name).pipe(
    Flag.withDescription(`${description} [env ${env}]`),
    Flag.withFallbackConfig(Config.String(env))
  )

const flags = {
  doltdb: Flag.String("doltdb").pipe(Flag.withDescription("Name of this pod's DoltDB")),
  namespace: envFlag("namespace", "POD_NAMESPACE", "Namespace of the pod and its DoltDB"),
  pod: envFlag("pod", "POD_NAME", "This pod's name"),
  podUid: envFlag("pod-uid", "POD_UID", "This pod's uid"),
  doltPort: Flag.String("dolt-port").pipe(
    Flag.withDescription("The sql-server port"),
    Flag.withDefault("3306"),
    Flag.filterMap(
      (input) => Result.getSuccess(parseIntBetween(1, 65535)(input)),
      (input) => Option.getOrElse(Result.getFailure(parseIntBetween(1, 65535)(input)), () => "invalid value")
    )
  ),
  threshold: durationFlag(
    "threshold",
    "How long the primary may be cut off from the API server and every peer before it is demoted (until the DoltDB is read)",
    `${Guard.DefaultThresholdMillis}ms`,
    ThresholdBounds
  ),
  tlsCa: Flag.String("tls-ca").pipe(
    Flag.withDescription(
      "PEM CA bundle the Dolt servers' certificates chain to (spec.tls): the guard then talks TLS and checks the certificate names <doltdb>-internal.<namespace>.svc"
    ),
    Flag.optional
  ),
  configDir: Flag.String("config-dir").pipe(
    Flag.withDescription("Where the pod's Dolt configs are mounted (<dir>/<pod>.yaml lists the peers)"),
    Flag.withDefault("/etc/doltdb")
  )
}

export const guardCommand = Command.make(
  "guard",
  flags,
  Effect.fn("GuardCommand")(function* (f) {
    const user = yield* Config.String("DOLT_USERNAME").pipe(Config.withDefault("root"))
    const password = yield* Config.Redacted("DOLT_PASSWORD").pipe(Config.withDefault(Redacted.make("")))
    const fs = yield* FileSystem.FileSystem
    const readPeers = fs.readFileString(`${f.configDir}/${f.pod}.yaml`).pipe(
      Effect.flatMap((text) => Effect.try(() => GuardLoop.peersOfConfig(parse(text)))),
      Effect.orElseSucceed(() => [])
    )
    // Read once: a renewed CA or certificate restarts the pod (and this sidecar) anyway.
    const ca = Option.isSome(f.tlsCa) ? yield* fs.readFileString(f.tlsCa.value) : undefined
    const config: GuardLoop.GuardConfig = {
      namespace: f.namespace,
      doltdb: f.doltdb,
      pod: f.pod,
      podUid: f.podUid,
      doltPort: f.doltPort,
      localHost: "127.0.0.1",
      user,
      password,
      // The tick and the read timeouts derive from the threshold (Guard.guardTiming).
      settings: Guard.settingsFor(Duration.toMillis(f.threshold)),
      readPeers,
      ...(ca === undefined ? {} : { tls: { ca, serverName: `${f.doltdb}-internal.${f.namespace}.svc` } })
    }
    const kubeconfig = yield* KubeLive.loadKubeConfig(undefined)
    // No retries: a failed read is the signal. The loop bounds every read more tightly; these are backstops (the
    // largest probe timeout). Role changes keep Dolt's own 10 s wait plus slack.
    const backstop = Duration.millis(Guard.guardTiming(Number.POSITIVE_INFINITY).probeTimeoutMillis)
    const io = Layer.mergeAll(
      KubeLive.layerFromKubeConfig(kubeconfig, { requestTimeout: backstop, retries: 0 }),
      DoltLive.layer({
        connectTimeout: backstop,
        queryTimeout: backstop,
        probeTimeout: backstop,
        roleChangeTimeout: "30 seconds",
        poolSize: 1
      })
    )
    return yield* GuardLoop.run(config).pipe(Effect.provide([io, Logger.layer([Logger.consoleJson])]))
  })
).pipe(
  Command.withDescription(
    "Run the isolation guard next to a Dolt server: demote it when, as primary, it is cut off from the API server and every peer (sidecar mode)"
  )
)
