// Helm against the e2e cluster: the binary e2e/build.sh caches (or E2E_HELM_BIN), the admin kubeconfig (installing
// a chart is the platform team's job; the operator it installs runs under the chart's own RBAC), and Helm's
// state under e2e/.work/helm. Plain async Node (test infrastructure).
import { execFile } from "node:child_process"
import { existsSync, mkdirSync, readdirSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"

const here = import.meta.dirname
export const REPO = join(here, "..", "..")
const work = () => process.env.E2E_WORK ?? join(here, "..", ".work")

/** The helm binary, or undefined when it was not built (`npm run e2e:build` builds it). */
export const helmBin = (): string | undefined => {
  if (process.env.E2E_HELM_BIN) return process.env.E2E_HELM_BIN
  const cache = process.env.DOLTDB_E2E_CACHE ?? join(homedir(), ".cache", "doltdb-operator-e2e")
  if (!existsSync(cache)) return undefined
  const dirs = readdirSync(cache)
    .filter((d) => /^helm-v[0-9.]+$/.test(d) && existsSync(join(cache, d, "helm")))
    .sort()
  return dirs.length > 0 ? join(cache, dirs.at(-1)!, "helm") : undefined
}

export const chartsPresent = () =>
  existsSync(join(REPO, "charts", "doltdb-operator", "Chart.yaml")) &&
  existsSync(join(REPO, "charts", "doltdb-operator-crds", "Chart.yaml"))

/** Runs `helm <args>`; rejects with helm's output on a non-zero exit. */
export const helm = (args: ReadonlyArray<string>, timeoutMs = 300_000) => {
  const bin = helmBin()
  if (!bin) return Promise.reject(new Error("helm is not built: run npm run e2e:build"))
  const state = join(work(), "helm")
  mkdirSync(state, { recursive: true })
  return new Promise<string>((resolve, reject) =>
    execFile(
      bin,
      [...args],
      {
        cwd: REPO,
        timeout: timeoutMs,
        env: {
          ...process.env,
          KUBECONFIG: process.env.KUBECONFIG ?? join(work(), "kubeconfig"),
          HELM_CACHE_HOME: join(state, "cache"),
          HELM_CONFIG_HOME: join(state, "config"),
          HELM_DATA_HOME: join(state, "data")
        }
      },
      (err, stdout, stderr) =>
        err ? reject(new Error(`helm ${args.join(" ")}: ${stderr || stdout || err.message}`)) : resolve(stdout)
    )
  )
}
