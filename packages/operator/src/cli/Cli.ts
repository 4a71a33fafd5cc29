/**
 * The `doltdb-operator` command line (effect/cli): the root command, how failures become exit codes, and where
 * invocation errors are printed. Subcommands live in their own modules (`render` now; `run` and `simulate` join
 * it in `main.ts`).
 *
 * Exit codes: 0 success (or interrupted by a signal); 2 bad input or invocation (unknown flag, unreadable or
 * invalid manifest), with the reason on stderr and nothing on stdout; 1 anything else.
 */
import { Cause, Console, Effect, Exit } from "effect"
import { CliError, CliOutput, Command } from "effect/cli"
import { fromFlags, operatorConfigFlags } from "../runtime/OperatorConfig.ts"
import { RenderInputError } from "./RenderDocuments.ts"
import { runOperator } from "./RunCommand.ts"

export const CliVersion = "0.1.0"

/** Without a subcommand the binary runs the operator, like the reference's manager (`run` is the default). */
export const rootCommand = Command.make("doltdb-operator", { config: operatorConfigFlags }, ({ config }) =>
  runOperator(fromFlags(config))
).pipe(
  Command.withDescription(
    "Kubernetes operator for Dolt clusters (k8s.dolthub.com/v1alpha); runs the operator unless a subcommand is given"
  )
)

/** Invocation errors go to stderr with the help text, so stdout only ever carries a command's real output. */
export const StderrPresenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function* () {
          const formatter = yield* CliOutput.Formatter
          yield* Console.error(formatter.formatHelpDoc(event.helpDoc))
          yield* Console.error(formatter.formatErrors(event.errors))
        })
      : CliOutput.defaultPresenter.present(event)
})

/** Errors that mean "the user's input is wrong": exit code 2. */
export const isUsageError = (error: unknown): boolean => error instanceof RenderInputError || CliError.isCliError(error)

/** Prints a usage error's message on stderr (effect/cli has already printed its own errors). */
export const reportUsageError = (error: unknown): Effect.Effect<void> =>
  error instanceof RenderInputError ? Console.error(`error: ${error.message}`) : Effect.void

/** The process exit code for how the program ended. */
export const exitCode = (exit: Exit.Exit<unknown, unknown>): number => {
  if (Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause)) return 0
  return exit.cause.reasons.some((reason) => Cause.isFailReason(reason) && isUsageError(reason.error)) ? 2 : 1
}
