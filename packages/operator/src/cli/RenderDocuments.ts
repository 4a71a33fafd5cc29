/**
 * What `render` does with a manifest's text: parse every YAML document, decode each DoltDB (defaults filled,
 * every bad field named), build its children with core's builders and format them for stdout.
 *
 * Input bounds (size, document count, aliases) are ManifestInput.ts's. Nothing here touches a cluster or the process: the command (RenderCommand.ts) reads the file and writes the
 * result, so tests can run this directly.
 */

import { DoltDBPlanner } from "@doltdb-op/core"
import * as Api from "@doltdb-op/core/api/index"
import * as Builders from "@doltdb-op/core/builders/index"
import { Effect } from "effect"
import { stringify } from "yaml"
import { parseDocuments, RenderInputError } from "./ManifestInput.ts"

export { RenderInputError }

export const OutputFormats = ["yaml", "json"] as const
export type OutputFormat = (typeof OutputFormats)[number]

export interface RenderOutput {
  /** What goes to stdout: the objects, as multi-document YAML or a JSON `List`. */
  readonly stdout: string
  /** Notes for stderr: filled-in metadata, skipped documents, settings the engine cannot honour. */
  readonly notices: ReadonlyArray<string>
}

/** Multi-document YAML, as `kubectl apply -f` reads it; no line folding, no anchors for shared values. */
export const toYamlDocuments = (objects: ReadonlyArray<unknown>): string =>
  objects.map((object) => `---\n${stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })}`).join("")

/** A `v1/List`, as `kubectl get -o json` prints several objects. */
export const toJsonList = (objects: ReadonlyArray<unknown>): string =>
  `${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`

const describe = (value: unknown): { readonly kind: unknown; readonly name: unknown } => {
  if (typeof value !== "object" || value === null) return { kind: undefined, name: undefined }
  const record = value as { readonly kind?: unknown; readonly metadata?: { readonly name?: unknown } }
  return { kind: record.kind, name: record.metadata?.name }
}

export const renderManifests = Effect.fn("Render.renderManifests")(function* (
  source: string,
  text: string,
  format: OutputFormat
) {
  const parsed = yield* parseDocuments(source, text)
  const notices: Array<string> = []
  const objects: Array<Builders.ChildObject> = []
  let doltdbs = 0

  for (const { where, value } of parsed) {
    if (value === null || value === undefined) continue
    const { kind, name } = describe(value)
    if (kind !== "DoltDB") {
      if (typeof kind === "string" && kind !== "") {
        notices.push(`${where}: skipping ${kind} ${String(name ?? "")}: render only builds DoltDB objects`.trimEnd())
        continue
      }
      return yield* new RenderInputError({ message: `${where}: kind: expected "DoltDB", got ${JSON.stringify(kind)}` })
    }
    const doltdb = yield* Api.decodeDoltDB(value).pipe(
      Effect.mapError((error) => new RenderInputError({ message: `${where}: ${error.message}` }))
    )
    const identified = Builders.identify(doltdb)
    if (identified._tag === "MissingName") {
      return yield* new RenderInputError({ message: `${where}: metadata.name: the DoltDB needs a name` })
    }
    if (identified.filled.length > 0) {
      notices.push(
        `${where}: DoltDB ${identified.doltdb.metadata.name} has no ${identified.filled
          .map((field) => field.split("=")[0])
          .join(" or ")}; rendering with ${identified.filled.join(", ")} (the API server assigns the real uid)`
      )
    }
    const state = Builders.buildDesiredState(identified.doltdb)
    const oversized = DoltDBPlanner.oversizedChildren(state.objects)
    if (oversized.length > 0) {
      return yield* new RenderInputError({
        message: `${where}: DoltDB ${identified.doltdb.metadata.name}: the API server would refuse ${DoltDBPlanner.oversizedChildrenList(oversized)}`
      })
    }
    for (const warning of state.warnings)
      notices.push(`${where}: DoltDB ${identified.doltdb.metadata.name}: ${warning}`)
    objects.push(...state.objects)
    doltdbs++
    // Lets a signal (Ctrl-C, SIGTERM) interrupt a long render between DoltDBs.
    yield* Effect.yieldNow
  }

  if (doltdbs === 0) {
    return yield* new RenderInputError({ message: `${source}: no DoltDB object found (kind: DoltDB)` })
  }
  return {
    stdout: format === "json" ? toJsonList(objects) : toYamlDocuments(objects),
    notices
  } satisfies RenderOutput
})
