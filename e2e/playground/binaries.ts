// The binaries the playground needs, built once from the Go module proxy by e2e/build.sh into its cache. A cold
// machine builds them one by one, with a progress bar whose estimate comes from this machine's own earlier builds
// (build.sh records each build's seconds) or, the first time, from build times measured on an idle 2-core machine.
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { PlaygroundError } from "./errors.ts"

const here = import.meta.dirname
const e2e = join(here, "..")

export const cacheDir = () => process.env.DOLTDB_E2E_CACHE ?? join(homedir(), ".cache", "doltdb-operator-e2e")

const versions = (): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const line of readFileSync(join(e2e, "versions.env"), "utf8").split("\n")) {
    const m = /^([A-Z_]+)=(\S+)/.exec(line)
    if (m) out[m[1]!] = m[2]!
  }
  return out
}

interface Binary {
  readonly target: string
  /** Paths any of which means "built" (dolt: the pinned commit or the version the proxy serves). */
  readonly paths: ReadonlyArray<string>
  /** Seconds on an idle 2-core machine, when this machine never built it. */
  readonly typicalSeconds: number
}

const wanted = (kubectl: boolean): ReadonlyArray<Binary> => {
  const v = versions()
  const at = (name: string, version: string | undefined) => join(cacheDir(), `${name}-${version}`, name)
  const k8s = v.KUBERNETES_VERSION
  const list: Array<Binary> = [
    { target: "etcd", paths: [at("etcd", v.ETCD_VERSION)], typicalSeconds: 60 },
    { target: "kube-apiserver", paths: [at("kube-apiserver", k8s)], typicalSeconds: 240 },
    { target: "kube-controller-manager", paths: [at("kube-controller-manager", k8s)], typicalSeconds: 110 },
    {
      target: "dolt",
      paths: [at("dolt", v.DOLT_VERSION), at("dolt", v.DOLT_FALLBACK_VERSION)],
      typicalSeconds: 680
    },
    { target: "helm", paths: [at("helm", v.HELM_VERSION)], typicalSeconds: 180 }
  ]
  if (kubectl) list.push({ target: "kubectl", paths: [at("kubectl", k8s)], typicalSeconds: 150 })
  return list
}

const built = (b: Binary) => b.paths.some((p) => existsSync(p))

const estimateSeconds = (b: Binary) => {
  try {
    const s = Number(readFileSync(join(cacheDir(), `.build-seconds-${b.target}`), "utf8"))
    if (Number.isFinite(s) && s > 0) return s
  } catch {}
  return b.typicalSeconds
}

export const kubectlBin = (): string | undefined => {
  const k8s = versions().KUBERNETES_VERSION
  const cached = join(cacheDir(), `kubectl-${k8s}`, "kubectl")
  return existsSync(cached) ? cached : undefined
}

const minutes = (s: number) => (s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`)

// Why a build failed, in the words a person needs: the proxy cannot be reached, or Go is missing/too old.
const explain = (target: string, output: string) => {
  const tail = output.trim().split("\n").slice(-8).join("\n")
  if (/dial tcp|no such host|i\/o timeout|connection refused|TLS handshake|network is unreachable/i.test(output))
    return new PlaygroundError(
      `building ${target} needs the Go module proxy (GOPROXY=${process.env.GOPROXY ?? "go env GOPROXY"}), which could not be reached:\n${tail}`
    )
  if (/need Go >=|command not found|go: not found/.test(output))
    return new PlaygroundError(`building ${target} needs Go >= 1.26.2 on PATH:\n${tail}`)
  return new PlaygroundError(`building ${target} failed (full output above in ${cacheDir()}):\n${tail}`)
}

const bar = (fraction: number, width = 24) => {
  const n = Math.max(0, Math.min(width, Math.round(fraction * width)))
  return `[${"#".repeat(n)}${"-".repeat(width - n)}]`
}

/** Builds whatever is missing, one binary at a time, with a progress bar on a terminal (a line per step otherwise). */
export const ensureBinaries = async (opts: { kubectl: boolean }) => {
  const missing = wanted(opts.kubectl).filter((b) => !built(b))
  if (missing.length === 0) return
  const total = missing.reduce((s, b) => s + estimateSeconds(b), 0)
  console.log(
    `Building ${missing.map((b) => b.target).join(", ")} from the Go module proxy into ${cacheDir()}: about ${minutes(total)} ` +
      "on an idle 2-core machine, once (later runs reuse them)."
  )
  let done = 0
  for (const b of missing) {
    const t0 = Date.now()
    const estimate = estimateSeconds(b)
    const tty = process.stdout.isTTY
    const tick = () => {
      const elapsed = (Date.now() - t0) / 1000
      const fraction = (done + Math.min(elapsed, estimate * 0.95)) / total
      process.stdout.write(
        `\r${bar(fraction)} ${Math.round(fraction * 100)}%  ${b.target}: ${minutes(elapsed)} of ~${minutes(estimate)}   `
      )
    }
    if (!tty) console.log(`building ${b.target} (~${minutes(estimate)})`)
    const timer = tty ? setInterval(tick, 1000) : undefined
    const output = await new Promise<{ code: number; text: string }>((resolve) => {
      const child = spawn(join(e2e, "build.sh"), [b.target], { stdio: ["ignore", "pipe", "pipe"] })
      let text = ""
      child.stdout.on("data", (d) => (text += d))
      child.stderr.on("data", (d) => (text += d))
      child.on("error", (e) => resolve({ code: 127, text: `${text}\n${e.message}` }))
      child.on("exit", (code) => resolve({ code: code ?? 1, text }))
    })
    if (timer) clearInterval(timer)
    if (tty) process.stdout.write("\n")
    if (output.code !== 0) throw explain(b.target, output.text)
    done += estimate
    console.log(`built ${b.target} in ${minutes((Date.now() - t0) / 1000)}`)
  }
}
