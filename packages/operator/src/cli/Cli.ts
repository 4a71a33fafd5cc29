/**
 * The `doltdb-operator` command line (effect/cli): the root command, how failures become exit codes, and where
 * invocation errors are printed. Subcommands live in their own modules and are assembled in Program.ts.
 *
 * Exit codes: 0 success; 2 bad input or invocation (unknown flag, bad flag value, unreadable, oversized or
 * invalid manifest, unusable kubeconfig), with one line on stderr and nothing on stdout; 130 interrupted by
 * SIGINT or SIGTERM (Effect's convention, as a shell reports Ctrl-C), except for the operator itself (`run`),
 * for which a signal is the normal graceful shutdown (exit 0, see Interrupt.ts); 1 anything else (a bug: its
 * cause is printed).
 */
import { Cause, Console, Effect, Exit } from "effect"
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import { fromFlags, operatorConfigFlags } from "../runtime/OperatorConfig.ts"
import { interruptedExitCode } from "./Interrupt.ts"
import { RenderInputError } from "./ManifestInput.ts"
import { runOperator } from "./RunCommand.ts"

export const CliVersion = "0.1.0"

/** Without a subcommand the binary runs the operator, like the reference's manager (`run` is the default). */
export const rootCommand = Command.make("doltdb-operator", { config: operatorConfigFlags }, ({ config }) =>
  runOperator(fromFlags(config))
).pipe(
  Command.withDescription(
    "Kubernetes operator for Dolt clusters (k8s.dolthub.com/v1alpha); runs the operator unless a subcommand is given. `help [command]` and `version` work as --help and --version"
  )
)

/**
 * Only --help and --version: effect/cli's other built-ins (--wizard, --completions, and a --log-level that
 * clashes with the operator's own) are not part of this command line.
 */
export const BuiltIns = CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] })

/** `help [command...]` is `[command...] --help`; `version` is `--version` (as kubectl and most CLIs accept). */
export const normalizeArgs = (args: ReadonlyArray<string>): ReadonlyArray<string> => {
  if (args[0] === "help") return [...args.slice(1), "--help"]
  if (args[0] === "version" && args.length === 1) return ["--version"]
  return args
}

/** `error: <message> (see <command> --help)`, on one line. */
export const invocationErrorLine = (message: string, commandPath: ReadonlyArray<string>): string =>
  `error: ${message
    .replaceAll("Expected: expected ", "expected ")
    .replaceAll(/\s*\n\s*/gu, " ")
    .trim()} (see ${commandPath.join(" ")} --help)`

/**
 * Invocation errors (unknown flag, bad value) go to stderr as one `error:` line each with a pointer to the help
 * text (not the whole help), so stdout only ever carries a command's real output and a log collector sees one
 * line per problem.
 */
export const StderrPresenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.forEach(event.errors, (error) => Console.error(invocationErrorLine(error.message, event.commandPath)), {
          discard: true
        })
      : CliOutput.defaultPresenter.present(event)
})

const isKubeConfigError = (error: unknown): error is { readonly message: string } =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "KubeConfigError"

/** Errors that mean "the user's input is wrong": exit code 2. */
export const isUsageError = (error: unknown): boolean =>
  error instanceof RenderInputError || isKubeConfigError(error) || CliError.isCliError(error)

/** Prints a usage error's message on stderr, one line (effect/cli has already printed its own errors). */
export const reportUsageError = (error: unknown): Effect.Effect<void> =>
  error instanceof RenderInputError || isKubeConfigError(error)
    ? Console.error(`error: ${error.message.split("\n")[0]}`)
    : Effect.void

/** The process exit code for how the program ended. */
export const exitCode = (exit: Exit.Exit<unknown, unknown>, onInterrupt = interruptedExitCode()): number => {
  if (Exit.isSuccess(exit)) return 0
  if (Cause.hasInterruptsOnly(exit.cause)) return onInterrupt
  return exit.cause.reasons.some((reason) => Cause.isFailReason(reason) && isUsageError(reason.error)) ? 2 : 1
}
