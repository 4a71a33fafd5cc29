/**
 * Reading a manifest or scenario the CLI was given, with bounds: at most `MaxInputBytes` read (so `/dev/zero` or
 * `/dev/urandom` stop at once), UTF-8 only, at most `MaxDocuments` YAML documents (parsed lazily, so the parser
 * stops at the first one over), and at most `MaxAliasCount` alias expansions per document (an alias bomb is a
 * few hundred bytes that expand to billions of nodes). Every refusal is a `RenderInputError`: one line, exit 2.
 */
import { createReadStream } from "node:fs"
import { NodeStream } from "@effect/platform-node"
import { Effect, Schema, Stdio, Stream } from "effect"
import { Composer, LineCounter, Parser } from "yaml"

/** The input cannot be read or rendered; `message` names the file, document and field. Exit code 2. */
export class RenderInputError extends Schema.TaggedError<RenderInputError>()("RenderInputError", {
  message: Schema.String
}) {}

/**
 * 4 MiB: the API server takes request bodies of at most 3 MiB and stores objects of at most ~1.5 MiB, so a file
 * of real DoltDBs (a few KiB each) is far below; anything larger is not a manifest.
 */
export const MaxInputBytes = 4 * 1024 * 1024
/** 200 documents: a file of many DoltDBs is fine, 36,000 is an attack (each one renders ~9 objects). */
export const MaxDocuments = 200
/** The `yaml` library's own default, stated here so that it cannot silently change; Kubernetes manifests use none. */
export const MaxAliasCount = 100

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(0)} MiB`

/** The bytes of `filename` (`-` is stdin) as text, refusing more than `limit` bytes or anything but UTF-8. */
export const readBounded = Effect.fn("ManifestInput.read")(function* (filename: string, limit = MaxInputBytes) {
  const source = filename === "-" ? "stdin" : filename
  // A plain sequential read (not FileSystem.stream's positional reads), so FIFOs and /dev/stdin work too.
  const stream: Stream.Stream<Uint8Array, { readonly message: string }> =
    filename === "-"
      ? (yield* Stdio.Stdio).stdin
      : NodeStream.fromReadable({
          evaluate: () => createReadStream(filename),
          onError: (error) => ({ message: error instanceof Error ? error.message : String(error) })
        })
  const chunks: Array<Uint8Array> = []
  let size = 0
  yield* Stream.runForEachWhile(stream, (chunk) =>
    Effect.sync(() => {
      chunks.push(chunk)
      size += chunk.length
      return size <= limit
    })
  ).pipe(Effect.mapError((error) => new RenderInputError({ message: `cannot read ${source}: ${error.message}` })))
  if (size > limit) {
    return yield* new RenderInputError({
      message: `${source}: input larger than ${mib(limit)} (the limit; the API server takes at most 3 MiB per object): not read further`
    })
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  const text = yield* Effect.try({
    try: () => new TextDecoder("utf-8", { fatal: true }).decode(bytes),
    catch: () => new RenderInputError({ message: `${source}: not UTF-8 text (a YAML or JSON manifest is expected)` })
  })
  if (text.includes("\u0000")) {
    return yield* new RenderInputError({
      message: `${source}: contains NUL bytes (a YAML or JSON manifest is expected)`
    })
  }
  return { source, text }
})

export interface ParsedDocument {
  /** `source` or `source (document N)`, for messages. */
  readonly where: string
  readonly value: unknown
}

/**
 * The YAML documents of `text`, each converted to plain data. Stops at the first syntax error, the first
 * document over `MaxDocuments` or the first alias expansion over `MaxAliasCount`.
 */
export const parseDocuments = Effect.fn("ManifestInput.parseDocuments")(function* (
  source: string,
  text: string,
  maxDocuments = MaxDocuments
) {
  const parsed: Array<ParsedDocument> = []
  const lines = new LineCounter()
  const composed = new Composer().compose(new Parser(lines.addNewLine).parse(text))
  let index = 0
  for (;;) {
    const next = yield* Effect.try({
      try: () => composed.next(),
      catch: (error) => new RenderInputError({ message: `${source}: not valid YAML: ${messageOf(error)}` })
    })
    if (next.done === true) break
    index++
    if (index > maxDocuments) {
      return yield* new RenderInputError({
        message: `${source}: more than ${maxDocuments} YAML documents (the limit): split the file`
      })
    }
    const document = next.value
    const where = `${source} (document ${index})`
    const [syntaxError] = document.errors
    if (syntaxError !== undefined) {
      const { line, col } = lines.linePos(syntaxError.pos[0])
      return yield* new RenderInputError({
        message: `${where}: not valid YAML at line ${line}, column ${col}: ${oneLine(syntaxError.message)}`
      })
    }
    const value = yield* Effect.try({
      try: (): unknown => document.toJS({ maxAliasCount: MaxAliasCount }),
      catch: (error) =>
        new RenderInputError({
          message: /alias/iu.test(messageOf(error))
            ? `${where}: YAML aliases expand to too many nodes (more than ${MaxAliasCount} per alias): refused as a resource exhaustion attack`
            : `${where}: not valid YAML: ${messageOf(error)}`
        })
    })
    parsed.push({ where, value })
    // Lets a signal (Ctrl-C, SIGTERM) interrupt a long parse between documents.
    yield* Effect.yieldNow
  }
  // One document: name the file only, as before.
  return parsed.length === 1 ? [{ where: source, value: parsed[0]?.value }] : parsed
})

const oneLine = (message: string) => message.split("\n")[0] ?? message
const messageOf = (error: unknown) => oneLine(error instanceof Error ? error.message : String(error))
