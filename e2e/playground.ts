// `npm run playground`: a local Kubernetes control plane with real dolt pods (the e2e harness), the operator
// installed by its Helm charts, and a 3-replica DoltDB with a Database, User and Grant, for a person who wants to
// see the operator work before touching a real cluster. Stays up until Ctrl-C, then removes everything it started.
//   npm run playground [-- up] [--no-kubectl] [--port N]   bring it up (builds the binaries once), wait for Ctrl-C
//   npm run playground -- down                              stop a running playground (from another terminal)
// Plain async Node (test infrastructure made into a tool); the steps live in e2e/playground/.
import { parseArgs } from "node:util"
import { PlaygroundError } from "./playground/errors.ts"
import { down, up } from "./playground/run.ts"

const usage = "usage: npm run playground [-- up [--no-kubectl] [--port N] | down]"

const main = async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      "no-kubectl": { type: "boolean", default: false },
      port: { type: "string", default: "13306" },
      help: { type: "boolean", short: "h", default: false }
    }
  })
  if (values.help) {
    console.log(usage)
    return 0
  }
  const command = positionals[0] ?? "up"
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 1024 || port > 65534)
    throw new PlaygroundError(
      `--port must be an integer from 1024 to 65534 (the primary's; the reader's is +1), got ${values.port}`
    )
  if (command === "up") return up({ kubectl: !values["no-kubectl"], port })
  if (command === "down") return down()
  throw new PlaygroundError(`unknown command '${command}'\n${usage}`)
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // A user's error is one clear message; anything else is a bug and keeps its stack.
    if (e instanceof PlaygroundError) console.error(`playground: ${e.message}`)
    else console.error(e)
    process.exit(e instanceof PlaygroundError ? e.exitCode : 1)
  }
)
