// Brings the e2e cluster up before the tests and down after them (also when they fail). A cluster that
// was already up (`npm run e2e:up`) is reused and left running. E2E_KEEP=1 keeps a new one running.
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"

const here = import.meta.dirname
const work = process.env.E2E_WORK ?? join(here, ".work")
const script = join(here, "cluster.sh")

const running = () => {
  const pidFile = join(work, "run", "kube-apiserver.pid")
  if (!existsSync(pidFile)) return false
  try {
    process.kill(Number(readFileSync(pidFile, "utf8")), 0)
    return true
  } catch {
    return false
  }
}

export default function setup() {
  const wasUp = running()
  const t0 = Date.now()
  execFileSync(script, ["up"], { stdio: "inherit" })
  console.log(`[e2e] cluster ${wasUp ? "reused" : "up"} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  process.env.KUBECONFIG = join(work, "kubeconfig")
  return () => {
    if (wasUp || process.env.E2E_KEEP === "1") return
    execFileSync(script, ["down"], { stdio: "inherit" })
  }
}
