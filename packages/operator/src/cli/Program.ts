/**
 * The whole `doltdb-operator` command line as one effect of its arguments, so tests run it in-process and
 * `main.ts` only adds the Node runtime, signals and exit codes.
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { BuiltIns, CliVersion, normalizeArgs, reportUsageError, rootCommand, StderrPresenter } from "./Cli.ts"
import { guardCommand } from "./GuardCommand.ts"
import { renderCommand } from "./RenderCommand.ts"
import { runCommand } from "./RunCommand.ts"
import { simulateCommand } from "./SimulateCommand.ts"

export const cli = rootCommand.pipe(Command.withSubcommands([runCommand, renderCommand, simulateCommand, guardCommand]))

/** Parses `args` (without `node` and the script) and runs the chosen command; usage errors are printed. */
export const runCli = (args: ReadonlyArray<string>) =>
  Command.runWith(cli, { version: CliVersion })(normalizeArgs(args)).pipe(
    Effect.tapError(reportUsageError),
    Effect.provide([StderrPresenter, BuiltIns])
  )
