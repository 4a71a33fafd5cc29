/**
 * The `kubectl-doltdb` command line: the commands parsed and run against the in-memory API server (logs, status
 * -o json), and the installed executable the way kubectl runs it (help, errors without stack traces).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { NodeServices } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Console, Effect, Layer, Option } from "effect"
import { Command } from "effect/cli"
import { PluginEnv, pluginCommand } from "../../src/plugin/PluginCli.ts"
import * as PodLogs from "../../src/plugin/PodLogs.ts"
import { advanceTo, layer, seed } from "./fixtures.ts"

const run = (args: ReadonlyArray<string>, logs: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const push = (...a: ReadonlyArray<unknown>) => {
      lines.push(a.map(String).join(" "))
    }
    const console = { ...globalThis.console, log: push, error: push } as unknown as Console.Console
    yield* Command.runWith(pluginCommand, { version: "test" })(args).pipe(
      Effect.provideService(Console.Console, console),
      Effect.provide(
        Layer.mergeAll(
          PodLogs.layerStatic(logs),
          Layer.succeed(PluginEnv, { namespace: (f) => Option.getOrElse(f, () => "default"), colour: false }),
          NodeServices.layer
        )
      )
    )
    return lines.join("\n")
  })

const pods = [
  { ordinal: 0, ready: true, ip: "10.0.0.10", role: "primary" },
  { ordinal: 1, ready: true, ip: "10.0.0.11", role: "standby" }
]

describe("kubectl doltdb (parsed commands)", () => {
  it.effect("logs: every pod's logs, each line prefixed with its pod, in pod order", () =>
    Effect.gen(function* () {
      yield* seed({ status: undefined, pods, replicas: 2 })
      const out = yield* run(["logs", "db"], {
        "db-1": "standby ready\nreplicating app\n",
        "db-0": "Server ready. Accepting connections.\n"
      })
      assert.strictEqual(
        out,
        ["[db-0] Server ready. Accepting connections.", "[db-1] standby ready", "[db-1] replicating app"].join("\n")
      )
    }).pipe(Effect.provide(layer(new Map())))
  )

  it.effect("status -o json is one JSON document of the report", () =>
    Effect.gen(function* () {
      yield* seed({ status: { currentPrimaryPodIndex: 0, replicationEpoch: 1 }, pods, replicas: 2 })
      yield* advanceTo("12:01:00")
      const out = yield* run(["status", "db", "-o", "json", "--no-servers"])
      const report = JSON.parse(out) as { name: string; epoch: number; pods: ReadonlyArray<{ server: unknown }> }
      assert.strictEqual(report.name, "db")
      assert.strictEqual(report.epoch, 1)
      assert.deepStrictEqual(report.pods[0]!.server, { reachable: false, reason: "not queried" })
    }).pipe(Effect.provide(layer(new Map())))
  )

  it.effect("out-of-range flag values are usage errors naming the flag and the range", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
        [["logs", "db", "--tail", "-1"], "--tail must be 0 or more, got -1"],
        [["switchover", "db", "--to", "99"], "--to must be a pod index from 0 to 31 (replicas are at most 32), got 99"],
        [["backup", "db", "--timeout", "100000h"], "--timeout must be a duration from 1ms to 24h, such as 90s or 5m"]
      ]
      for (const [args, message] of cases) {
        const error = yield* Effect.flip(run(args))
        const messages =
          "errors" in error ? (error.errors as ReadonlyArray<{ message: string }>).map((e) => e.message) : []
        assert.isTrue(
          messages.some((m) => m.includes(message)),
          `${args.join(" ")}: ${messages.join("; ")}`
        )
      }
    }).pipe(Effect.provide(layer(new Map())))
  )
})

const root = fileURLToPath(new URL("../../../../", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "kubectl-doltdb-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const plugin = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  spawnSync("npx", ["--no-install", "kubectl-doltdb", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...env }
  })

describe("the kubectl-doltdb executable", () => {
  it("prints its commands", { timeout: 60_000 }, () => {
    const result = plugin(["--help"])
    assert.strictEqual(result.status, 0, result.stderr)
    for (const command of ["status", "switchover", "restart", "backup", "logs"]) assert.include(result.stdout, command)
  })

  it("an unusable kubeconfig is one line on stderr, exit 1, no stack trace", { timeout: 60_000 }, () => {
    const kubeconfig = join(dir, "kubeconfig")
    writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    const result = plugin(["status", "db"], { KUBECONFIG: kubeconfig })
    assert.strictEqual(result.status, 1)
    assert.strictEqual(result.stdout, "")
    assert.match(result.stderr, /^error: cannot load kubeconfig .*: no current cluster in the kubeconfig\n$/)
  })

  it("help and version need no kubeconfig and exit 0; no --wizard/--completions/--log-level built-ins", {
    timeout: 90_000
  }, () => {
    const help = plugin(["help"], { KUBECONFIG: "/nonexistent" })
    assert.strictEqual(help.status, 0, help.stderr)
    assert.include(
      help.stdout,
      "GLOBAL FLAGS\n  --help, -h       Show help information\n  --version, -v    Show version information\n"
    )
    for (const gone of ["--wizard", "--completions", "--log-level"]) assert.notInclude(help.stdout, gone)
    const version = plugin(["version"], { KUBECONFIG: "/nonexistent" })
    assert.strictEqual(version.status, 0, version.stderr)
    assert.strictEqual(version.stdout, "kubectl-doltdb v0.1.0\n")
  })

  it("an unknown flag is a usage error (exit 2)", { timeout: 60_000 }, () => {
    const result = plugin(["switchover", "db", "--bogus"])
    assert.strictEqual(result.status, 2, result.stderr)
  })
})
