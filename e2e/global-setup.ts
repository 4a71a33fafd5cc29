// Brings the e2e cluster up before the tests and down after them (also when they fail). A cluster that
// was already up (`npm run e2e:up`) is reused and left running; one started by a test run is stopped by
// the last test run still using it. E2E_KEEP=1 keeps it running.
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const here = import.meta.dirname
const work = process.env.E2E_WORK ?? join(here, ".work")
const script = join(here, "cluster.sh")
const users = join(work, "run", "test-runs")
const startedByTests = join(work, "run", "started-by-tests")

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const running = () => {
  const pidFile = join(work, "run", "kube-apiserver.pid")
  return existsSync(pidFile) && alive(Number(readFileSync(pidFile, "utf8")))
}

export default function setup() {
  const wasUp = running()
  const t0 = Date.now()
  execFileSync(script, ["up"], { stdio: "inherit" })
  console.log(`[e2e] cluster ${wasUp ? "reused" : "up"} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  if (!wasUp) writeFileSync(startedByTests, "")
  mkdirSync(users, { recursive: true })
  writeFileSync(join(users, String(process.pid)), "")
  process.env.KUBECONFIG = join(work, "kubeconfig")
  return () => {
    rmSync(join(users, String(process.pid)), { force: true })
    const others = existsSync(users) ? readdirSync(users).filter((p) => alive(Number(p))) : []
    if (others.length > 0 || !existsSync(startedByTests) || process.env.E2E_KEEP === "1") return
    execFileSync(script, ["down"], { stdio: "inherit" })
  }
}
