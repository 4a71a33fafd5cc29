/**
 * `doltdb-operator render -f doltdb.yaml [-o yaml|json]`: prints every object the operator would create for the
 * DoltDB(s) in the file, without touching a cluster. Notes go to stderr; on bad input nothing reaches stdout.
 */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { MaxDocuments, MaxInputBytes, readBounded } from "./ManifestInput.ts"
import { OutputFormats, renderManifests } from "./RenderDocuments.ts"

const filename = Flag.String("filename").pipe(
  Flag.withAlias("f"),
  Flag.withDescription(
    `DoltDB manifest to render (YAML or JSON, at most ${MaxInputBytes / 1024 / 1024} MiB and ${MaxDocuments} documents; other kinds are skipped); - reads stdin`
  )
)

const output = Flag.Literals("output", OutputFormats).pipe(
  Flag.withAlias("o"),
  Flag.withDescription("Output format: multi-document YAML, or a JSON v1/List"),
  Flag.withDefault("yaml")
)

export const renderCommand = Command.make(
  "render",
  { filename, output },
  Effect.fn("RenderCommand")(function* ({ filename, output }) {
    const { source, text } = yield* readBounded(filename)
    const { stdout, notices } = yield* renderManifests(source, text, output)
    for (const notice of notices) yield* Console.error(`note: ${notice}`)
    yield* Console.log(stdout.endsWith("\n") ? stdout.slice(0, -1) : stdout)
  })
).pipe(
  Command.withDescription("Print the Kubernetes objects the operator creates for a DoltDB, without a cluster"),
  Command.withExamples([
    { command: "doltdb-operator render -f doltdb.yaml", description: "Every child object as multi-document YAML" },
    { command: "doltdb-operator render -f doltdb.yaml -o json", description: "The same objects as a JSON v1/List" },
    { command: "cat doltdb.yaml | doltdb-operator render -f -", description: "Read the manifest from stdin" }
  ])
)
