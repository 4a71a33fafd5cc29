/**
 * Copies crds/*.yaml into both Helm charts (`charts/<chart>/generated/crd/`), where their `crds.yaml` templates
 * read them. `npm run gen:crds` runs it after regenerating crds/; charts/test/chartCrds.test.ts fails on drift.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
export const crdsDir = join(root, "crds")
export const chartCrdDirs = ["doltdb-operator", "doltdb-operator-crds"].map((chart) =>
  join(root, "charts", chart, "generated", "crd")
)

/** crds/ file name -> the chart copy's text: the CRD document without crds/'s header, under a header of its own. */
export const renderChartCrds = (): ReadonlyMap<string, string> =>
  new Map(
    readdirSync(crdsDir)
      .filter((file) => file.endsWith(".yaml"))
      .sort()
      .map((file) => {
        const lines = readFileSync(join(crdsDir, file), "utf8").split("\n")
        let start = 0
        while (lines[start]?.startsWith("#")) start++
        if (lines[start] === "---") start++
        const body = lines.slice(start).join("\n")
        return [file, `# Copied from crds/${file} by scripts/chart-crds.ts (npm run gen:crds). Do not edit.\n${body}`]
      })
  )

if (import.meta.main) {
  const rendered = renderChartCrds()
  for (const dir of chartCrdDirs) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    for (const [file, text] of rendered) writeFileSync(join(dir, file), text)
    console.log(`wrote ${rendered.size} CRDs to ${dir.slice(root.length + 1)}`)
  }
}
