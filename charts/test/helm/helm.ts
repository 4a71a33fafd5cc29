/**
 * The helm binary for the chart tests: $HELM_BIN, else the one `npm run e2e:build` (e2e/build.sh helm) caches.
 * A missing binary is an error that says how to build it: these tests never skip.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { homedir, tmpdir } from "node:os"
import { isAbsolute, join } from "node:path"

const repo = join(import.meta.dirname, "..", "..", "..")
export const chartsDir = join(repo, "charts")

const helmVersion = (): string => {
  const match = /^HELM_VERSION=(\S+)$/mu.exec(readFileSync(join(repo, "e2e", "versions.env"), "utf8"))
  if (!match?.[1]) throw new Error("e2e/versions.env has no HELM_VERSION")
  return match[1]
}

export const helmBin = (): string => {
  const fromEnv = process.env.HELM_BIN
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`HELM_BIN=${fromEnv} does not exist`)
    return fromEnv
  }
  const cache = process.env.DOLTDB_E2E_CACHE ?? join(homedir(), ".cache", "doltdb-operator-e2e")
  const bin = join(cache, `helm-${helmVersion()}`, "helm")
  if (!existsSync(bin))
    throw new Error(
      `helm not found at ${bin}: build it with \`e2e/build.sh helm\` (or set HELM_BIN to a helm v4 binary)`
    )
  return bin
}

// Helm reads and writes its config/cache/data homes: keep them out of the user's and the repository's.
const helmHome = mkdtempSync(join(tmpdir(), "doltdb-helm-test-"))
const env = {
  ...process.env,
  HELM_CACHE_HOME: join(helmHome, "cache"),
  HELM_CONFIG_HOME: join(helmHome, "config"),
  HELM_DATA_HOME: join(helmHome, "data")
}

export interface HelmResult {
  readonly ok: boolean
  readonly stdout: string
  readonly stderr: string
}

export const helm = (args: ReadonlyArray<string>): HelmResult => {
  try {
    const stdout = execFileSync(helmBin(), args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    return { ok: true, stdout, stderr: "" }
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string; code?: string }
    if (e.status === undefined || e.status === null) throw error
    return { ok: false, stdout: e.stdout ?? "", stderr: e.stderr ?? "" }
  }
}

/** `helm template` of a chart in charts/ with values files (absolute, or relative to charts/test/values). */
export const template = (
  chart: string,
  options: {
    readonly values?: ReadonlyArray<string>
    readonly set?: ReadonlyArray<string>
    readonly release?: string
  } = {}
): HelmResult =>
  helm([
    "template",
    options.release ?? "doltdb-operator",
    join(chartsDir, chart),
    "--namespace",
    "doltdb-system",
    "--kube-version",
    "1.36.3",
    ...(options.values ?? []).flatMap((file) => [
      "--values",
      isAbsolute(file) ? file : join(chartsDir, "test", "values", file)
    ]),
    ...(options.set ?? []).flatMap((pair) => ["--set", pair])
  ])
