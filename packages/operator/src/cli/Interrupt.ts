/**
 * What a SIGINT/SIGTERM means for the exit code. For `render`, `simulate` and `guard` it cuts the command short:
 * exit 130 (Effect's convention, as a shell reports Ctrl-C). For the operator itself (`run`) it is the normal way
 * to stop it (the kubelet's termination): exit 0 after the graceful shutdown.
 */
import { Effect } from "effect"

let exitCodeOnInterrupt = 130

/** Called when the operator starts: from then on a signal is a graceful shutdown (exit 0). */
export const signalMeansShutdown: Effect.Effect<void> = Effect.sync(() => {
  exitCodeOnInterrupt = 0
})

/** The exit code of a program that ended interrupted. */
export const interruptedExitCode = (): number => exitCodeOnInterrupt
