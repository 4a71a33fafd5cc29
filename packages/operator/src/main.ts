/**
 * The `doltdb-operator` entry point (bin/doltdb-operator.js imports this file): runs the command line
 * (cli/Program.ts; subcommands are added there) on the Node platform layer, and turns how it ended into an exit
 * code (cli/Cli.ts).
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Effect, Exit } from "effect"
import { exitCode, isUsageError } from "./cli/Cli.ts"
import { runCli } from "./cli/Program.ts"

const program = runCli(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer))

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
