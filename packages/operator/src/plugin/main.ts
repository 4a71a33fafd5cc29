/**
 * The `kubectl-doltdb` entry point (bin/kubectl-doltdb.js imports this file): the plugin's commands against the
 * cluster of the current kubeconfig context (`KUBECONFIG`, `~/.kube/config`; kubectl passes its environment to
 * plugins). User errors print `error: <message>` and exit 1; bad invocations exit 2 with the help text.
 */
import { DoltLive } from "@doltdb-op/dolt"
import { KubeLive } from "@doltdb-op/k8s"
import { makeConnection } from "@doltdb-op/k8s/live/ApiRequest"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Option } from "effect"
import { CliError, Command } from "effect/cli"
import { StderrPresenter } from "../cli/Cli.ts"
import { PluginEnv, PluginVersion, pluginCommand } from "./PluginCli.ts"
import * as PodLogs from "./PodLogs.ts"

/** Failures a user caused or can fix: one line on stderr, no stack. */
const userMessage = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error === null || !("_tag" in error)) return undefined
  const e = error as { _tag: string; message?: string }
  if (e._tag === "PluginError" || e._tag === "KubeConfigError") return e.message
  // Kube errors (NotFound, Forbidden, Unavailable, ...) carry the verb, kind and name in their message.
  if (
    ["NotFound", "Conflict", "Forbidden", "Invalid", "Unavailable", "Timeout", "Gone", "AlreadyExists"].includes(e._tag)
  )
    return `${e._tag}: ${e.message}`
  return undefined
}

const program = Effect.gen(function* () {
  const kc = yield* KubeLive.loadKubeConfig(undefined)
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace
  const env = Layer.succeed(PluginEnv, {
    namespace: (flag) => Option.getOrElse(flag, () => contextNamespace ?? "default"),
    colour: process.stdout.isTTY === true && process.env.NO_COLOR === undefined
  })
  const services = Layer.mergeAll(
    KubeLive.layerFromKubeConfig(kc),
    // A pod that cannot be reached from here must not hold the report for long.
    DoltLive.layer({ connectTimeout: "1500 millis", queryTimeout: "2 seconds", poolSize: 1 }),
    PodLogs.layerLive(makeConnection(kc)),
    env
  )
  return yield* Command.run(pluginCommand, { version: PluginVersion }).pipe(Effect.provide(services))
}).pipe(
  Effect.tapError((error) => {
    const message = userMessage(error)
    return message === undefined ? Effect.void : Console.error(`error: ${message}`)
  }),
  Effect.provide([NodeServices.layer, StderrPresenter])
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause)) return onExit(0)
    const failures = exit.cause.reasons.flatMap((r) => (Cause.isFailReason(r) ? [r.error] : []))
    if (failures.some((e) => CliError.isCliError(e))) return onExit(2)
    if (failures.length === 0 || failures.some((e) => userMessage(e) === undefined))
      process.stderr.write(`${Cause.pretty(exit.cause)}\n`)
    onExit(1)
  }
})
