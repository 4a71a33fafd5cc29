/**
 * The whole `doltdb-operator` command line run in-process (cli/Program.ts), with stdout and stderr captured and
 * the exit code main.ts would use: help and version, flag bounds, one-line errors, the kubeconfig error.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Console, Effect, Exit } from "effect"
import { exitCode } from "../../src/cli/Cli.ts"
import { runCli } from "../../src/cli/Program.ts"

const run = (...args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    const to =
      (lines: Array<string>) =>
      (...a: ReadonlyArray<unknown>) => {
        lines.push(a.map(String).join(" "))
      }
    const console = { ...globalThis.console, log: to(stdout), error: to(stderr) } as unknown as Console.Console
    const exit = yield* runCli(args).pipe(
      Effect.provideService(Console.Console, console),
      Effect.provide(NodeServices.layer),
      Effect.exit
    )
    return { code: exitCode(exit, 130), exit, stdout: stdout.join("\n"), stderr: stderr.join("\n") }
  })

const guardIdentity = ["--doltdb", "db", "--namespace", "ns", "--pod", "db-0", "--pod-uid", "u"]

describe("doltdb-operator (in-process)", () => {
  it.effect("--help lists each flag once, only --help/--version as global flags, and exits 0", () =>
    Effect.gen(function* () {
      const help = yield* run("--help")
      assert.strictEqual(help.code, 0)
      assert.strictEqual(help.stderr, "")
      assert.include(
        help.stdout,
        "GLOBAL FLAGS\n  --help, -h       Show help information\n  --version, -v    Show version information\n\nSUBCOMMANDS"
      )
      for (const gone of ["--wizard", "--completions", "all|trace"]) assert.notInclude(help.stdout, gone)
      const flags = [...help.stdout.matchAll(/^ {2}(--[a-z0-9-]+)/gmu)].map((m) => m[1])
      assert.deepStrictEqual(
        flags.filter((flag, i) => flags.indexOf(flag) !== i),
        [],
        "a flag is listed twice"
      )
      assert.strictEqual(flags.filter((flag) => flag === "--log-level").length, 1)
      assert.include(help.stdout, "[env DOLTDB_OPERATOR_CLUSTER_NAME, CLUSTER_NAME]")
    })
  )

  it.effect("`help` and `help <command>` are --help; `version` and --version print the version; all exit 0", () =>
    Effect.gen(function* () {
      const help = yield* run("--help")
      assert.deepStrictEqual(yield* run("help"), { ...help, exit: (yield* run("help")).exit })
      const renderHelp = yield* run("help", "render")
      assert.strictEqual(renderHelp.code, 0)
      assert.strictEqual(renderHelp.stdout, (yield* run("render", "--help")).stdout)
      assert.include(renderHelp.stdout, "doltdb-operator render [flags]")
      for (const args of [["version"], ["--version"]]) {
        const version = yield* run(...args)
        assert.strictEqual(version.code, 0, args.join(" "))
        assert.strictEqual(version.stdout, "doltdb-operator v0.1.0")
        assert.strictEqual(version.stderr, "")
      }
    })
  )

  it.effect("unbounded flag values are refused with one line naming the flag and the range (exit 2)", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
        [
          ["run", "--max-doltdb-concurrent-reconciles", "100000000"],
          'error: Invalid value for flag --max-doltdb-concurrent-reconciles: "100000000". expected an integer from 1 to 256, got "100000000" (see doltdb-operator run --help)'
        ],
        [
          ["run", "--max-concurrent-reconciles", "1e3"],
          'error: Invalid value for flag --max-concurrent-reconciles: "1e3". expected an integer from 1 to 256, got "1e3" (see doltdb-operator run --help)'
        ],
        [
          ["run", "--requeue-sql", "0s"],
          'error: Invalid value for flag --requeue-sql: "0s". expected a duration from 1s to 24h, got "0s" (see doltdb-operator run --help)'
        ],
        [
          ["--requeue-sql", "1000h"],
          'error: Invalid value for flag --requeue-sql: "1000h". expected a duration from 1s to 24h, got "1000h" (see doltdb-operator --help)'
        ],
        [
          ["run", "--backup-credentials-propagation", "0s"],
          'error: Invalid value for flag --backup-credentials-propagation: "0s". expected a duration from 1s to 1h, got "0s" (see doltdb-operator run --help)'
        ],
        [
          ["guard", ...guardIdentity, "--threshold", "0s"],
          'error: Invalid value for flag --threshold: "0s". expected a duration from 1s to 24h, got "0s" (see doltdb-operator guard --help)'
        ],
        [
          ["guard", ...guardIdentity, "--dolt-port", "70000"],
          'error: Invalid value for flag --dolt-port: "70000". expected an integer from 1 to 65535, got "70000" (see doltdb-operator guard --help)'
        ],
        [["bogus"], 'error: Unknown subcommand "bogus" for "doltdb-operator" (see doltdb-operator --help)']
      ]
      for (const [args, line] of cases) {
        const result = yield* run(...args)
        assert.strictEqual(result.code, 2, args.join(" "))
        assert.strictEqual(result.stdout, "", args.join(" "))
        assert.strictEqual(result.stderr, line)
      }
    })
  )

  it.effect("run --kubeconfig /nonexistent: one line, no stack trace, exit 2", () =>
    Effect.gen(function* () {
      const result = yield* run("run", "--kubeconfig", "/nonexistent")
      assert.strictEqual(result.code, 2)
      assert.strictEqual(result.stdout, "")
      assert.strictEqual(
        result.stderr,
        "error: cannot load kubeconfig /nonexistent: ENOENT: no such file or directory, open '/nonexistent'"
      )
    })
  )

  it.effect("run --kubeconfig /dev/zero stops at 4 MiB: one line, exit 2", () =>
    Effect.gen(function* () {
      const result = yield* run("run", "--kubeconfig", "/dev/zero")
      assert.strictEqual(result.code, 2)
      assert.strictEqual(result.stdout, "")
      assert.strictEqual(result.stderr, "error: cannot load kubeconfig /dev/zero: larger than 4 MiB: not a kubeconfig")
    })
  )

  it.effect("render of /dev/zero stops at the input limit: one line, exit 2", () =>
    Effect.gen(function* () {
      const result = yield* run("render", "-f", "/dev/zero")
      assert.strictEqual(result.code, 2)
      assert.strictEqual(result.stdout, "")
      assert.strictEqual(
        result.stderr,
        "error: /dev/zero: input larger than 4 MiB (the limit; the API server takes at most 3 MiB per object): not read further"
      )
    })
  )

  it("an interrupted command exits 130 (unless it is the operator's graceful shutdown)", () => {
    assert.strictEqual(exitCode(Exit.interrupt(1), 130), 130)
    assert.strictEqual(exitCode(Exit.interrupt(1), 0), 0)
    assert.strictEqual(exitCode(Exit.void, 130), 0)
    assert.strictEqual(exitCode(Exit.die(new Error("bug")), 130), 1)
  })
})
