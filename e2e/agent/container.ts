// One container of a pod run as a local process group inside the pod's sandbox: start, exit tracking,
// restarts with back-off, probes, preStop and graceful stop. Plain async Node (test infrastructure).
import { spawn } from "node:child_process"
import { request as httpRequest } from "node:http"
import { connect } from "node:net"
import { enter, type Sandbox } from "./sandbox.ts"

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes wire objects
type Any = any

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z")

export interface Launch {
  readonly argv: ReadonlyArray<string>
  readonly env: Record<string, string>
  readonly workingDir: string
  /** runAsUser/runAsGroup (+ fsGroup and supplementalGroups) of the container, as the kubelet applies them. */
  readonly identity?: Identity | undefined
}

export interface Identity {
  readonly uid?: number | undefined
  readonly gid?: number | undefined
  readonly groups: ReadonlyArray<number>
  readonly noNewPrivileges: boolean
}

export interface ContainerState {
  waiting?: { reason: string; message?: string }
  running?: { startedAt: string }
  terminated?: { exitCode: number; signal?: number; reason: string; startedAt: string; finishedAt: string }
}

/** Runs `argv` in the sandbox to completion within timeoutMs; resolves the exit code (-1 on timeout). */
export const execIn = (sb: Sandbox, launch: Launch, timeoutMs: number, log?: number) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    const argv = enter(sb, launch.workingDir, launch.argv, launch.identity)
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      env: launch.env,
      stdio: ["ignore", log ?? "pipe", log ?? "pipe"]
    })
    let output = ""
    child.stdout?.on("data", (d) => (output += d))
    child.stderr?.on("data", (d) => (output += d))
    const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), timeoutMs)
    child.on("error", () => resolve({ code: -1, output: "spawn failed" }))
    child.on("exit", (code) => {
      clearTimeout(timer)
      killGroup(child.pid, "SIGKILL")
      resolve({ code: code ?? -1, output })
    })
  })

export const killGroup = (pid: number | undefined, sig: NodeJS.Signals) => {
  if (pid === undefined) return
  try {
    process.kill(-pid, sig)
  } catch {}
}

export interface ProbeTarget {
  readonly sb: Sandbox
  readonly podIP: string
  readonly launch: (argv: ReadonlyArray<string>) => Launch
  readonly ports: ReadonlyArray<Any>
}

const portOf = (port: number | string, ports: ReadonlyArray<Any>): number =>
  typeof port === "number" ? port : (ports.find((p) => p.name === port)?.containerPort ?? Number(port))

/** One probe attempt: exec inside the pod's namespaces, TCP or HTTP to the pod IP (an address we created). */
export const probeOnce = async (probe: Any, t: ProbeTarget): Promise<boolean> => {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000
  if (probe.exec) return (await execIn(t.sb, t.launch(probe.exec.command), timeoutMs)).code === 0
  if (probe.tcpSocket) {
    return new Promise((resolve) => {
      const s = connect({ host: t.podIP, port: portOf(probe.tcpSocket.port, t.ports), timeout: timeoutMs })
      const done = (ok: boolean) => {
        s.destroy()
        resolve(ok)
      }
      s.on("connect", () => done(true))
      s.on("timeout", () => done(false))
      s.on("error", () => resolve(false))
    })
  }
  if (probe.httpGet) {
    const g = probe.httpGet
    if (g.host && g.host !== t.podIP) throw new Error("httpGet probes to other hosts are not supported")
    return new Promise((resolve) => {
      const req = httpRequest(
        { host: t.podIP, port: portOf(g.port, t.ports), path: g.path ?? "/", timeout: timeoutMs },
        (res) => {
          res.resume()
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400)
        }
      )
      req.on("timeout", () => req.destroy())
      req.on("error", () => resolve(false))
      req.end()
    })
  }
  if (probe.grpc) throw new Error("grpc probes are not supported by the e2e agent")
  return false
}

/**
 * Periodic probe with Kubernetes' thresholds. `onResult(ok)` is called when the probe's verdict flips
 * (after successThreshold successes / failureThreshold failures). Returns a stop function.
 */
export const runProbe = (
  probe: Any,
  t: ProbeTarget,
  onResult: (ok: boolean) => void,
  onError: (e: Error) => void
): (() => void) => {
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let successes = 0
  let failures = 0
  let verdict: boolean | undefined
  const period = (probe.periodSeconds ?? 10) * 1000
  const tick = async () => {
    if (stopped) return
    let ok = false
    try {
      ok = await probeOnce(probe, t)
    } catch (e) {
      onError(e as Error)
    }
    if (stopped) return
    if (ok) {
      successes++
      failures = 0
      if (verdict !== true && successes >= (probe.successThreshold ?? 1)) {
        verdict = true
        onResult(true)
      }
    } else {
      failures++
      successes = 0
      if (verdict !== false && failures >= (probe.failureThreshold ?? 3)) {
        verdict = false
        onResult(false)
      }
    }
    timer = setTimeout(tick, period)
  }
  timer = setTimeout(tick, (probe.initialDelaySeconds ?? 0) * 1000)
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

export { now }
