// Merges measured figures into a results file (e2e/.work/results.json, or $E2E_RESULTS_FILE): read, merge, write
// to a temporary file and rename it into place, so test files running at the same time never read a half-written
// file (the last writer of a key wins; figures are never asserted).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

export const mergeResults = (file: string, entries: Record<string, unknown>) => {
  mkdirSync(dirname(file), { recursive: true })
  const current = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {}
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify({ ...current, ...entries }, null, 2)}\n`)
  renameSync(tmp, file)
}
