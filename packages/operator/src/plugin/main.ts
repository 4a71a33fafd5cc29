/**
 * The `kubectl-doltdb` entry point (bin/kubectl-doltdb.js imports this file): the plugin's commands against the
 * cluster of the current kubeconfig context (`KUBECONFIG`, `~/.kube/config`; kubectl passes its environment to
 * plugins), loaded only when a command runs. User errors print `error: <message>` and exit 1; bad invocations
 * print one `error:` line and exit 2; Ctrl-C exits 130. `help [command]` and `version` work as --help/--version.
 */
import { DoltLive } from "@doltdb-op/dolt"
import { KubeLive } from "@doltdb-op/k8s"
import { makeConnection } from "@doltdb-op/k8s/live/ApiRequest"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Option } from "effect"
import { CliError, Command } from "effect/cli"
import { BuiltIns, normalizeArgs, StderrPresenter } from "../cli/Cli.ts"
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

/** Built only when a command runs, so `--help`, `help` and `version` work without a kubeconfig. */
const services = Layer.unwrap(
  Effect.gen(function* () {
    const kc = yield* KubeLive.loadKubeConfig(undefined)
    const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace
    const env = Layer.succeed(PluginEnv, {
      namespace: (flag) => Option.getOrElse(flag, () => contextNamespace ?? "default"),
      colour: process.stdout.isTTY === true && process.env.NO_COLOR === undefined
    })
    return Layer.mergeAll(
      KubeLive.layerFromKubeConfig(kc),
      // A pod that cannot be reached from here must not hold the report for long.
      DoltLive.layer({ connectTimeout: "1500 millis", queryTimeout: "2 seconds", poolSize: 1 }),
      PodLogs.layerLive(makeConnection(kc)),
      env
    )
  })
)

const program = Command.runWith(pluginCommand.pipe(Command.provide(services)), { version: PluginVersion })(
  normalizeArgs(process.argv.slice(2))
).pipe(
  Effect.tapError((error) => {
    const message = userMessage(error)
    return message === undefined ? Effect.void : Console.error(`error: ${message}`)
  }),
  Effect.provide([NodeServices.layer, StderrPresenter, BuiltIns])
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) return onExit(0)
    if (Cause.hasInterruptsOnly(exit.cause)) return onExit(130)
    const failures = exit.cause.reasons.flatMap((r) => (Cause.isFailReason(r) ? [r.error] : []))
    if (failures.some((e) => CliError.isCliError(e))) return onExit(2)
    if (failures.length === 0 || failures.some((e) => userMessage(e) === undefined))
      process.stderr.write(`${Cause.pretty(exit.cause)}\n`)
    onExit(1)
  }
})
