/**
 * `doltdb-operator simulate -f scenario.yaml [--seed N] [--json]`: runs the real operator against a simulated
 * cluster (API server, controllers, kubelet, Dolt servers, all in memory on a simulated clock) through a scenario,
 * and prints what happened and whether every invariant held.
 *
 * Exit codes: 0 every invariant held; 1 an invariant was violated (the report is printed first); 2 the scenario
 * file cannot be read or is invalid (the bad field named on stderr, nothing on stdout).
 */
import { Console, Data, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { decodeScenario } from "../simulate/Scenario.ts"
import { runScenario } from "../simulate/ScenarioRunner.ts"
import { parseDocuments, RenderInputError, readBounded } from "./ManifestInput.ts"
import { renderJson, renderText } from "./SimulateOutput.ts"

/** The run finished and some invariant did not hold (exit code 1; the report is on stdout). */
export class SimulationFailed extends Data.TaggedError("SimulationFailed")<{ readonly message: string }> {
  constructor(props: { readonly message: string }) {
    super(props)
    // the CLI prints `stack` for unexpected failures; this one is expected and its message says it all
    this.stack = `simulate: ${props.message}`
  }
}

/** 1 MiB: the examples are a few KiB; a scenario is a list of steps, not data. */
const MaxScenarioBytes = 1024 * 1024

const filename = Flag.String("filename").pipe(
  Flag.withAlias("f"),
  Flag.withDescription("Scenario file (YAML or JSON); - reads stdin")
)

const seed = Flag.Int("seed").pipe(
  Flag.withDescription("Random seed (overrides the scenario's `seed`; default 1)"),
  Flag.optional
)

const json = Flag.Boolean("json").pipe(
  Flag.withDescription("Print the report as one JSON document"),
  Flag.withDefault(false)
)

const readScenario = Effect.fn("SimulateCommand.read")(function* (filename: string) {
  const { source, text } = yield* readBounded(filename, MaxScenarioBytes)
  const [document] = yield* parseDocuments(source, text, 1)
  return yield* decodeScenario(document?.value).pipe(
    Effect.mapError((error) => new RenderInputError({ message: `${source}: ${error.message}` }))
  )
})

export const simulateCommand = Command.make(
  "simulate",
  { filename, seed, json },
  Effect.fn("SimulateCommand")(function* ({ filename, seed, json }) {
    const scenario = yield* readScenario(filename)
    const report = yield* runScenario(scenario, Option.isSome(seed) ? { seed: seed.value } : {})
    yield* Console.log(json ? renderJson(report) : renderText(report))
    const n = report.invariants.violations.length
    if (n > 0) return yield* new SimulationFailed({ message: `${n} invariant violation(s) in scenario ${report.name}` })
  })
).pipe(
  Command.withDescription(
    "Run the operator against a simulated cluster through a scenario (faults, writes, spec edits) and check its invariants"
  ),
  Command.withExamples([
    {
      command: "doltdb-operator simulate -f examples/failover.yaml",
      description: "Watch a failover, no cluster needed"
    },
    {
      command: "doltdb-operator simulate -f examples/switchover.yaml --seed 7 --json",
      description: "Another seed, as JSON"
    }
  ])
)
