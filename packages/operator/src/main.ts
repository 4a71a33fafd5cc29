/**
 * The `doltdb-operator` entry point (bin/doltdb-operator.js imports this file): parses the command line with
 * effect/cli and runs the chosen subcommand on the Node platform layer. New subcommands (`run`, `simulate`) are
 * added to the `withSubcommands` list.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Effect, Exit } from "effect"
import { Command } from "effect/cli"
import { CliVersion, exitCode, isUsageError, reportUsageError, rootCommand, StderrPresenter } from "./cli/Cli.ts"
import { guardCommand } from "./cli/GuardCommand.ts"
import { renderCommand } from "./cli/RenderCommand.ts"
import { runCommand } from "./cli/RunCommand.ts"
import { simulateCommand } from "./cli/SimulateCommand.ts"

const cli = rootCommand.pipe(Command.withSubcommands([runCommand, renderCommand, simulateCommand, guardCommand]))

const program = Command.run(cli, { version: CliVersion }).pipe(
  Effect.tapError(reportUsageError),
  Effect.provide([NodeServices.layer, StderrPresenter])
)

NodeRuntime.runMain(program, {
  // Usage errors are reported above; anything else is a bug and gets its full cause on stderr.
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause) && !exit.cause.reasons.some(isUsageReason)) {
      // `simulate` found a violation: its report is on stdout already; one line, no stack trace.
      const violation = exit.cause.reasons.find(
        (r) => Cause.isFailReason(r) && (r.error as { _tag?: string })?._tag === "SimulationFailed"
      )
      process.stderr.write(
        violation !== undefined && Cause.isFailReason(violation)
          ? `simulate: ${(violation.error as { message: string }).message}\n`
          : `${Cause.pretty(exit.cause)}\n`
      )
    }
    onExit(exitCode(exit))
  }
})

function isUsageReason(reason: Cause.Reason<unknown>): boolean {
  return Cause.isFailReason(reason) && isUsageError(reason.error)
}
