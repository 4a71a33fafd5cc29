// Checks made before anything is started, so a bad state is one clear sentence instead of a half-started cluster:
// not root, a tool missing, a playground or the e2e test cluster already running, a port taken.
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { PlaygroundError } from "./errors.ts"
import { pidFile } from "./paths.ts"

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The pid of a running playground process, if any. */
export const runningPlayground = (): number | undefined => {
  if (!existsSync(pidFile())) return undefined
  const pid = Number(readFileSync(pidFile(), "utf8"))
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer()
    s.once("error", () => resolve(false))
    s.listen({ port, host: "0.0.0.0", exclusive: true }, () => s.close(() => resolve(true)))
  })

const bridgeExists = (bridge: string) => {
  try {
    execFileSync("ip", ["link", "show", bridge], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

export const preflight = async (ports: ReadonlyArray<{ port: number; what: string }>) => {
  if (process.platform !== "linux") throw new PlaygroundError("the playground runs on Linux only (network namespaces)")
  if (process.getuid?.() !== 0)
    throw new PlaygroundError(
      "must run as root: every pod gets its own network and mount namespace (try: sudo -E npm run playground)"
    )
  for (const tool of ["ip", "nsenter", "unshare", "chroot", "openssl", "curl", "setsid", "go"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" })
    } catch {
      throw new PlaygroundError(
        `missing tool: ${tool} (Debian: iproute2, util-linux, coreutils, openssl, curl; Go >= 1.26.2 for the build)`
      )
    }
  }
  const pid = runningPlayground()
  if (pid !== undefined)
    throw new PlaygroundError(`a playground is already running (pid ${pid}): stop it with 'npm run playground -- down'`)
  const bridge = process.env.E2E_BRIDGE ?? "dolte2e0"
  if (bridgeExists(bridge))
    throw new PlaygroundError(
      `the network bridge ${bridge} exists: the e2e test cluster or a previous playground is still up ` +
        "(stop it with 'npm run e2e:down' or 'npm run playground -- down')"
    )
  for (const { port, what } of ports) {
    if (!(await portFree(port)))
      throw new PlaygroundError(
        `port ${port} (${what}) is in use by another process (see: ss -ltnp 'sport = :${port}')`
      )
  }
}
