import { readdirSync } from "node:fs"
import { join } from "node:path"
import { defineConfig } from "vitest/config"

/**
 * Files that may run two at a time against the one cluster: each works in its own namespace with its own operator
 * (a host process watching that namespace) and waits mostly on schedules, retries and replication, not on CPU.
 * Every other file runs alone, after these: the ones that touch what all share (nodes.test.ts freezes nodes,
 * incluster.test.ts installs an operator that watches every namespace, operator-scenarios.test.ts installs and
 * uninstalls the charts), the timing-sensitive ones (guard.test.ts: a 5 s threshold) and any new file until it is
 * listed here. E2E_SERIAL=1 runs every file alone.
 */
export const sharedFiles = [
  "test/agent.test.ts",
  "test/backup.test.ts",
  "test/operator.test.ts",
  "test/plugin.test.ts",
  "test/replication.test.ts",
  "test/sizelimits.test.ts",
  "test/smoke.test.ts",
  "test/storage.test.ts"
]
// Listed rather than excluded by pattern: a project's own `exclude` would override the command line's
// (`npm run e2e` passes --exclude).
const aloneFiles = readdirSync(join(import.meta.dirname, "test"))
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => `test/${f}`)
  .filter((f) => !sharedFiles.includes(f))
const parallel = process.env.E2E_SERIAL === "1" ? 1 : 2

// Only for `npm run e2e`: the default `npm test` runs the packages' projects and never these.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    globalSetup: ["./global-setup.ts"],
    // On a failure: the observed state, log tails and log paths (e2e/lib/diagnose.ts).
    setupFiles: ["./test/setup.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Two groups that never overlap (one cluster up and down around both): the shared files `parallel` at a time,
    // then the others one after the other.
    projects: [
      {
        extends: true,
        test: {
          name: "shared",
          include: sharedFiles,
          maxWorkers: parallel,
          fileParallelism: parallel > 1,
          sequence: { groupOrder: 0 }
        }
      },
      {
        extends: true,
        test: {
          name: "alone",
          include: aloneFiles,
          fileParallelism: false,
          sequence: { groupOrder: 1 }
        }
      }
    ]
  }
})
