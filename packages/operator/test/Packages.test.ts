/**
 * The packages as users get them: `npm run pack` (scripts/pack.ts) builds JavaScript + .d.ts and packs each
 * workspace package; the tarballs are installed into new projects outside the repository. @doltdb-op/core
 * compiles and runs examples/library/main.ts there (decode, desired state, replication planner), and the
 * installed operator binary runs from built JavaScript (what the image's ENTRYPOINT runs).
 */
import { execFileSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const repo = join(import.meta.dirname, "..", "..", "..")
const work = mkdtempSync(join(tmpdir(), "doltdb-packages-"))
const tarballs = join(work, "tarballs")
const run = (cmd: string, args: ReadonlyArray<string>, cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
const node = process.execPath
const tarball = (name: string) => {
  const file = readdirSync(tarballs).find((f) => f.startsWith(`doltdb-op-${name}-`) && f.endsWith(".tgz"))
  if (file === undefined) throw new Error(`no tarball for ${name} in ${tarballs}`)
  return join(tarballs, file)
}

/** A new npm project with the given dependencies installed (from npm's cache when it has them). */
const project = (name: string, dependencies: Record<string, string>) => {
  const dir = join(work, name)
  mkdirSync(dir)
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module", dependencies }))
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], dir)
  return dir
}

beforeAll(() => {
  run(node, [join(repo, "scripts", "pack.ts"), "--out", tarballs], repo)
}, 300_000)

afterAll(() => rmSync(work, { recursive: true, force: true }), 120_000)

describe("npm run pack", () => {
  it("@doltdb-op/core: JavaScript and types only, an exports map, effect as a peer dependency", () => {
    const files = run("tar", ["tzf", tarball("core")], work)
      .split("\n")
      .filter(Boolean)
    expect(files).toContain("package/index.js")
    expect(files).toContain("package/index.d.ts")
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([])
    const manifest = JSON.parse(run("tar", ["xzf", tarball("core"), "-O", "package/package.json"], work))
    expect(manifest.peerDependencies).toEqual({ effect: expect.stringMatching(/^\^4\./u) })
    expect(manifest.dependencies).toEqual({})
    expect(manifest.exports["."]).toEqual({ types: "./index.d.ts", default: "./index.js" })
    expect(Object.keys(manifest.exports)).not.toContain("./*")
  })

  it("@doltdb-op/core installs into a new project, which compiles and runs the README's example", () => {
    const dir = project("core-consumer", { "@doltdb-op/core": `file:${tarball("core")}` })
    // One copy of effect: the consumer's (the peer dependency npm installed next to core).
    expect(readdirSync(join(dir, "node_modules", "@doltdb-op", "core"))).not.toContain("node_modules")
    mkdirSync(join(dir, "src"))
    copyFileSync(join(repo, "examples", "library", "main.ts"), join(dir, "src", "main.ts"))
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          target: "es2024",
          lib: ["es2024", "dom"],
          types: [],
          strict: true,
          exactOptionalPropertyTypes: true,
          rootDir: "src",
          outDir: "dist"
        },
        include: ["src"]
      })
    )
    run(join(repo, "node_modules", ".bin", "tsc"), ["-p", dir], dir)
    const output = run(node, [join(dir, "dist", "main.js")], dir)
    expect(output).toContain("StatefulSet/inventory")
    expect(output).toContain("Service/inventory-primary")
    expect(output).toContain("transition: Failover")

    // SimWorld and the planners' internals are not part of the root export or the exports map.
    const probe = `
      const core = await import("@doltdb-op/core")
      const internal = await import("@doltdb-op/core/replication/planReplication").then(() => "importable", (e) => e.code)
      const sim = await import("@doltdb-op/core/sim/SimWorld").then((m) => typeof m.SimWorld)
      console.log(JSON.stringify({ root: Object.keys(core).sort(), internal, sim }))`
    const exported = JSON.parse(run(node, ["--input-type=module", "-e", probe], dir))
    expect(exported.root).toEqual(expect.arrayContaining(["Api", "Builders", "DoltDBPlanner", "Replication"]))
    expect(exported.root).not.toContain("SimWorld")
    expect(exported).toMatchObject({ internal: "ERR_PACKAGE_PATH_NOT_EXPORTED", sim: "function" })
  }, 300_000)

  it("the operator installs from its tarballs and its binary runs from built JavaScript", () => {
    const dir = project(
      "operator-install",
      Object.fromEntries(["core", "k8s", "dolt", "operator"].map((n) => [`@doltdb-op/${n}`, `file:${tarball(n)}`]))
    )
    const installed = join(dir, "node_modules", "@doltdb-op", "operator")
    expect(readdirSync(installed)).not.toContain("src")
    expect(readFileSync(join(installed, "bin", "doltdb-operator.js"), "utf8")).toContain('import "../main.js"')
    const help = run(node, [join(dir, "node_modules", ".bin", "doltdb-operator"), "--help"], dir)
    expect(help).toContain("--leader-elect")
    expect(help).toContain("--watch-namespaces")
    expect(run(node, [join(dir, "node_modules", ".bin", "kubectl-doltdb"), "--help"], dir)).toContain("switchover")
  }, 300_000)
})
