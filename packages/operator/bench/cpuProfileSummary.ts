/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, and self time by area
 * (each package's src/test/bench folder, effect, Node internals, GC). Effect's runtime is a trampoline, so inclusive
 * time through Effect code is meaningless; self time is what this prints. Prints figures; asserts nothing.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof packages/operator/bench/scheduleDigest.ts --runs 40 --seed 777
 *   node packages/operator/bench/cpuProfileSummary.ts /tmp/prof/<file>.cpuprofile [--top 30]
 */
import { readFileSync } from "node:fs"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const file = process.argv[2]
if (file === undefined) {
  console.error("usage: cpuProfileSummary.ts <file.cpuprofile> [--top N]")
  process.exit(2)
}
const topIndex = process.argv.indexOf("--top")
const top = topIndex < 0 ? 30 : Number(process.argv[topIndex + 1])
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile

const selfMicros = new Map<number, number>()
for (const [i, id] of profile.samples.entries())
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
const total = [...selfMicros.values()].reduce((a, b) => a + b, 0)

const shortUrl = (url: string) => url.replace(/.*\/(node_modules|packages)\//, "$1/")
const area = (node: ProfileNode): string => {
  const url = node.callFrame.url
  const pkg = /packages\/(\w+)\/(src|test|bench)\/(\w+)/.exec(url)
  if (pkg !== null) return `${pkg[1]}/${pkg[2]}/${pkg[3]}`
  if (url.includes("node_modules/")) return /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? "node_modules"
  return url === "" ? node.callFrame.functionName : "node internals"
}
const sum = (key: (node: ProfileNode) => string) => {
  const out = new Map<string, number>()
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0
    if (micros > 0) out.set(key(node), (out.get(key(node)) ?? 0) + micros)
  }
  return [...out].sort((a, b) => b[1] - a[1])
}
const line = ([name, micros]: [string, number]) => `${((100 * micros) / total).toFixed(1).padStart(5)}%  ${name}`

console.log(`${(total / 1e6).toFixed(1)} s sampled`)
console.log("self time by function:")
for (const entry of sum(
  (n) => `${n.callFrame.functionName || "(anonymous)"} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
).slice(0, top))
  console.log(line(entry))
console.log("self time by area:")
for (const entry of sum(area).slice(0, top)) console.log(line(entry))
