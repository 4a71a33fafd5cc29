/**
 * Golden files: the full rendered desired state of each scenario, as multi-document YAML.
 * Regenerate after an intended change with `UPDATE_GOLDEN=1 npx vitest run --project @doltdb-op/core` and review the
 * diff; without it a missing or different file fails the test.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { stringify } from "yaml"
import { Builders } from "../../src/index.ts"
import { decoded, scenarios } from "./fixtures.ts"

const update = process.env.UPDATE_GOLDEN === "1"

// Same options as the `render` command: no line folding, no YAML anchors for objects that share a reference.
const render = (state: Builders.DesiredState): string =>
  [
    ...state.warnings.map((warning) => `# warning: ${warning}\n`),
    ...state.objects.map((object) => `---\n${stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })}`)
  ].join("")

describe("golden desired state", () => {
  for (const [scenario, manifest] of Object.entries(scenarios)) {
    it(scenario, () => {
      const file = new URL(`./golden/${scenario}.golden.yaml`, import.meta.url)
      const actual = render(Builders.buildDesiredState(decoded(manifest)))
      if (update) writeFileSync(file, actual)
      assert.isTrue(existsSync(file), `missing ${file.pathname}: run with UPDATE_GOLDEN=1 to create it`)
      assert.strictEqual(actual, readFileSync(file, "utf8"))
    })
  }
})
