/**
 * `npm run pack [-- --out <dir>] [core k8s dolt operator]`: the publishable tarballs of the workspace packages.
 *
 * In the repository the packages export their TypeScript sources (Node strips types outside node_modules), which
 * an installed package cannot use. So this builds them (`tsc -b tsconfig.build.json`: JavaScript + .d.ts in each
 * packages/<name>/dist) and packs each dist as its own package: a package.json whose `exports` map every source
 * entry to its .js and .d.ts, whose workspace dependencies name exact versions, with `effect` a peer dependency
 * of the libraries; the operator gets a `bin` running its built entry point. Prints the tarball paths.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"

const root = join(import.meta.dirname, "..")
export const packageNames = ["core", "k8s", "dolt", "operator"] as const
type Exports = Readonly<Record<string, string>>

interface SourcePackage {
  readonly name: string
  readonly version: string
  readonly description: string
  readonly license: string
  readonly exports: Exports
  readonly bin?: Readonly<Record<string, string>>
  readonly dependencies?: Readonly<Record<string, string>>
  readonly peerDependencies?: Readonly<Record<string, string>>
}

const readPackage = (dir: string): SourcePackage => JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))

/** `./src/api/*.ts` -> `{ types: ./api/*.d.ts, default: ./api/*.js }` (dist is built with rootDir src). */
export const builtExports = (exports: Exports) =>
  Object.fromEntries(
    Object.entries(exports).map(([subpath, source]) => {
      const match = /^\.\/src\/(.+)\.ts$/u.exec(source)
      if (!match) throw new Error(`export ${subpath}: ${source} is not a ./src/*.ts file`)
      return [subpath, { types: `./${match[1]}.d.ts`, default: `./${match[1]}.js` }]
    })
  )

/** A source bin (`await import("../src/main.ts")`) as its built twin (`import "../main.js"`). */
export const builtBin = (source: string): string => {
  const match = /import\("\.\.\/src\/(.+)\.ts"\)/u.exec(source)
  if (!match) throw new Error(`a bin must import its entry point as ../src/<file>.ts:\n${source}`)
  return `#!/usr/bin/env node\nimport "../${match[1]}.js"\n`
}

/** The published package.json for a workspace package. */
export const publishedManifest = (source: SourcePackage, versions: ReadonlyMap<string, string>) => {
  const pin = (deps: Readonly<Record<string, string>> = {}) =>
    Object.fromEntries(Object.entries(deps).map(([name, range]) => [name, versions.get(name) ?? range]))
  const workspace = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
  return {
    name: source.name,
    version: source.version,
    description: source.description,
    license: source.license,
    type: "module",
    engines: workspace.engines,
    exports: { ...builtExports(source.exports), "./package.json": "./package.json" },
    ...(source.bin ? { bin: Object.fromEntries(Object.keys(source.bin).map((b) => [b, `./bin/${b}.js`])) } : {}),
    files: ["**/*.js", "**/*.d.ts"],
    dependencies: pin(source.dependencies),
    ...(source.peerDependencies ? { peerDependencies: source.peerDependencies } : {})
  }
}

/** Builds (incrementally) and packs the named packages into `out`; returns the tarball paths. */
export const pack = (out: string, names: ReadonlyArray<string> = packageNames): ReadonlyArray<string> => {
  execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-b", join(root, "tsconfig.build.json")], {
    stdio: "inherit"
  })
  const sources = new Map(packageNames.map((n) => [n, readPackage(join(root, "packages", n))] as const))
  const versions = new Map([...sources.values()].map((p) => [p.name, p.version] as const))
  const stage = mkdtempSync(join(tmpdir(), "doltdb-pack-"))
  mkdirSync(out, { recursive: true })
  try {
    return names.map((name) => {
      const source = sources.get(name as (typeof packageNames)[number])
      if (source === undefined) throw new Error(`unknown package ${name} (one of ${packageNames.join(", ")})`)
      const dist = join(root, "packages", name, "dist")
      if (!existsSync(join(dist, "index.js"))) throw new Error(`${dist} has no index.js: the build did not run`)
      const dir = join(stage, name)
      cpSync(dist, dir, { recursive: true })
      writeFileSync(join(dir, "package.json"), `${JSON.stringify(publishedManifest(source, versions), null, 2)}\n`)
      for (const [bin, file] of Object.entries(source.bin ?? {})) {
        mkdirSync(join(dir, "bin"), { recursive: true })
        writeFileSync(join(dir, "bin", `${bin}.js`), builtBin(readFileSync(join(root, "packages", name, file), "utf8")))
        chmodSync(join(dir, "bin", `${bin}.js`), 0o755)
      }
      const [result] = JSON.parse(
        execFileSync("npm", ["pack", dir, "--json", "--pack-destination", out], { encoding: "utf8" })
      ) as ReadonlyArray<{ filename: string }>
      if (result === undefined) throw new Error(`npm pack ${dir} printed nothing`)
      return join(out, result.filename)
    })
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    options: { out: { type: "string", default: join(root, "dist", "packages") } },
    allowPositionals: true
  })
  for (const tarball of pack(resolve(values.out), positionals.length > 0 ? positionals : packageNames))
    console.log(tarball)
}
