// Runs the operator (packages/operator) against the e2e cluster as a host process, the way it runs out of
// cluster: KUBECONFIG from the harness, /etc/hosts replaced by the cluster's records (with-cluster-dns.sh)
// so `<pod>.<name>-internal.<ns>` resolves. Its own process group, so stop() ends everything it started.
// Plain async Node (test infrastructure).
import { spawn } from "node:child_process"
import { mkdirSync, openSync } from "node:fs"
import { join } from "node:path"
import { involved } from "./diagnose.ts"

const here = import.meta.dirname
const repo = join(here, "..", "..")

export interface RunningOperator {
  readonly pid: number
  readonly log: string
  stop(): Promise<void>
  /** SIGKILL of the whole process group at once (a crashed operator: no shutdown, no lease release). */
  kill(): Promise<void>
}

export const startOperator = (extraArgs: ReadonlyArray<string> = []): RunningOperator => {
  const work = process.env.E2E_WORK ?? join(here, "..", ".work")
  mkdirSync(join(work, "logs"), { recursive: true })
  // One log per watched namespace: test files that run at the same time each run their own operator.
  const watched = extraArgs.find((a) => a.startsWith("--watch-namespaces="))?.slice("--watch-namespaces=".length)
  const log = join(
    work,
    "logs",
    watched === undefined ? "operator.log" : `operator-${watched.replace(/[^a-z0-9-]/g, "_")}.log`
  )
  const out = openSync(log, "a")
  involved.operatorLogs.add(log)
  const child = spawn(
    join(here, "..", "with-cluster-dns.sh"),
    [
      join(repo, "node_modules", ".bin", "node"),
      join(repo, "packages", "operator", "bin", "doltdb-operator.js"),
      "--metrics-bind-address",
      "0",
      "--health-probe-bind-address",
      "0",
      ...extraArgs
    ],
    {
      detached: true,
      stdio: ["ignore", out, out],
      env: { ...process.env, KUBECONFIG: process.env.KUBECONFIG ?? join(work, "kubeconfig") }
    }
  )
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  const pid = child.pid!
  return {
    pid,
    log,
    stop: async () => {
      const signal = (s: NodeJS.Signals) => {
        try {
          process.kill(-pid, s)
        } catch {}
      }
      signal("SIGTERM")
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), 10_000))
      ])
      if (timedOut) signal("SIGKILL")
      await exited
    },
    kill: async () => {
      try {
        process.kill(-pid, "SIGKILL")
      } catch {}
      await exited
    }
  }
}

/** The operator the scenarios run against: a host process, or the chart's Deployment in the cluster. */
export interface OperatorUnderTest {
  readonly where: string
  /**
   * The reconciling operator dies at once (no shutdown, no Lease release) and another one takes over: a new host
   * process, or the other replica of the Deployment. Resolves with the takeover time when a Lease changed hands.
   */
  crash(): Promise<{ takeoverMs?: number }>
  stop(): Promise<void>
}

export const hostOperator = (extraArgs: ReadonlyArray<string>): OperatorUnderTest => {
  let running = startOperator(extraArgs)
  return {
    where: "host process (e2e/lib/operator.ts)",
    crash: async () => {
      await running.kill()
      running = startOperator(extraArgs)
      return {}
    },
    stop: () => running.stop()
  }
}
