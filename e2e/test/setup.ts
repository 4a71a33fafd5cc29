// Runs before every e2e test file: when a test fails, print what a person needs to find the cause (e2e/lib/diagnose.ts)
// while the failing state still exists (before the file's afterAll deletes its namespaces), and put the findings
// in the first lines of the failure message itself, with the path of the full report.
import { beforeEach } from "vitest"
import { diagnose, findingsOf, involved } from "../lib/diagnose.ts"
import { kube } from "./helpers.ts"

beforeEach((ctx) => {
  ctx.onTestFailed(async ({ task }) => {
    const k = kube()
    try {
      const first = task.result?.errors?.[0]
      const name = [task.file?.name, ...(task.suite ? [task.suite.name] : []), task.name].filter(Boolean).join(" > ")
      const report = await diagnose(k, name, first?.message ?? "", {
        namespaces: [...involved.namespaces],
        operatorLogs: [...involved.operatorLogs],
        operatorNamespaces: [...involved.operatorNamespaces]
      })
      console.error(`\n${report}\n`)
      if (first) {
        const [head, ...rest] = first.message.split("\n")
        const where = report.split("\n").at(-1)
        const withFindings = [head, "findings:", ...findingsOf(report).map((f) => `  ${f}`), where].join("\n")
        first.message = [withFindings, ...rest].join("\n")
        // The JSON report (and so `npm run e2e:repeat`) prints the stack, which was rendered before: put them there too.
        if (first.stack !== undefined && head !== undefined) first.stack = first.stack.replace(head, withFindings)
      }
    } catch (e) {
      console.error(`[e2e diagnose] failed: ${(e as Error).stack}`)
    } finally {
      k.close()
    }
  }, 60_000)
})
