/** A problem the person running the playground can fix: printed as one message, no stack trace. */
export class PlaygroundError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 2) {
    super(message)
    this.exitCode = exitCode
  }
}
