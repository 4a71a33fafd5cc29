// The kubelet part of the node agent for one pod: volumes, sandbox, init containers in order, containers
// with restarts and probes, status reporting, and graceful termination (preStop, grace period, SIGKILL).
// Plain async Node (test infrastructure); one PodRuntime per pod UID. Longer than most files on purpose:
// the pod's lifecycle is one state machine whose pieces share its private state.
import { spawn } from "node:child_process"
import { mkdirSync, openSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { type Kube, KubeError, type KubeObject } from "../lib/kube.ts"
import { type ContainerState, execIn, killGroup, type Launch, now, type ProbeTarget, runProbe } from "./container.ts"
import { imageKind, OPERATOR_ROOT, REPO } from "./images.ts"
import {
  applyFsGroup,
  containerArgv,
  containerEnv,
  containerIdentity,
  NotYet,
  podMounts,
  prepareVolumes,
  refreshVolumes
} from "./podspec.ts"
import { createSandbox, destroySandbox, enter, type Sandbox } from "./sandbox.ts"

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes wire objects
type Any = any

export interface AgentContext {
  readonly kube: Kube
  readonly nodeName: string
  readonly hostIP: string
  readonly workDir: string
  readonly doltBin: string
  readonly imageID: string
  allocateIp(uid: string): string
  releaseIp(uid: string): void
  /** A pod's address or readiness changed: peers' /etc/hosts need rewriting. */
  hostsChanged(): void
  hostsContent(rt: PodRuntime): string
}

// Restart back-off: Kubernetes uses 10 s doubling to 5 min; shorter here so crash tests do not crawl.
const BACKOFF_BASE_MS = Number(process.env.E2E_BACKOFF_BASE_MS ?? 2000)
const BACKOFF_MAX_MS = Number(process.env.E2E_BACKOFF_MAX_MS ?? 20000)
const warnedTags = new Set<string>()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)))

/** The operator image's files: the repository, read-only, where images.ts's entrypoint expects it. */
const imageMounts = (pod: KubeObject) =>
  [...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c: Any) => imageKind(c.image) === "operator")
    ? [{ source: REPO, target: OPERATOR_ROOT, readOnly: true }]
    : []

class Container {
  state: ContainerState = { waiting: { reason: "ContainerCreating" } }
  lastState: ContainerState = {}
  restartCount = 0
  ready = false
  started = false
  pid: number | undefined
  startedAtMs = 0
  backoffStep = 0
  stopProbes: Array<() => void> = []
  restartTimer: NodeJS.Timeout | undefined
  exited: Promise<void> = Promise.resolve()
  launch: Launch | undefined
  /** Exited and will not be restarted (restartPolicy). */
  done = false
  readonly spec: Any
  constructor(spec: Any) {
    this.spec = spec
  }
}

export class PodRuntime {
  readonly uid: string
  readonly dir: string
  readonly hostsFile: string
  readonly logDir: string
  sb: Sandbox | undefined
  ip: string | undefined
  terminating = false
  /** The API object has a deletionTimestamp and the agent is acting on it. */
  deleteRequested = false
  private initialized = false
  private failedReason: string | undefined
  private finished = false
  private readonly containers: Array<Container>
  private readonly initContainers: Array<Container>
  private readonly transitions = new Map<string, { status: string; at: string }>()
  private readonly startTime = now()
  private refreshTimer: NodeJS.Timeout | undefined
  private lastPushed = ""
  private pushChain: Promise<void> = Promise.resolve()
  private terminated: Promise<void> | undefined
  private message: string | undefined

  readonly ctx: AgentContext
  pod: KubeObject

  constructor(ctx: AgentContext, pod: KubeObject) {
    this.ctx = ctx
    this.pod = pod
    this.uid = pod.metadata.uid!
    this.dir = join(ctx.workDir, "pods", `${pod.metadata.namespace}_${pod.metadata.name}_${this.uid}`)
    this.hostsFile = join(this.dir, "hosts")
    // Container logs live beside the control plane's, which `down` keeps for post-mortems.
    this.logDir = join(ctx.workDir, "logs", "pods", `${pod.metadata.namespace}_${pod.metadata.name}_${this.uid}`)
    this.initContainers = (pod.spec.initContainers ?? []).map((c: Any) => new Container(c))
    this.containers = pod.spec.containers.map((c: Any) => new Container(c))
    // A pod the agent picks up again (agent restart) keeps counting restarts.
    for (const c of this.containers) {
      const prev = (pod.status?.containerStatuses ?? []).find((s: Any) => s.name === c.spec.name)
      c.restartCount = prev?.restartCount ?? 0
    }
  }

  get key() {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`
  }

  get ready() {
    return this.initialized && this.containers.every((c) => c.ready)
  }

  private log(msg: string) {
    console.error(`[pod ${this.key}] ${msg}`)
  }

  async run() {
    mkdirSync(this.logDir, { recursive: true })
    this.push()
    let volumes: Map<string, string> | undefined
    while (!this.terminating && volumes === undefined) {
      try {
        volumes = await prepareVolumes(this.ctx.kube, this.pod, this.dir)
        await applyFsGroup(this.pod, volumes)
      } catch (e) {
        this.message = (e as Error).message
        this.push()
        if (!(e instanceof NotYet)) this.log(`volumes: ${this.message}`)
        await sleep(1000)
      }
    }
    if (this.terminating || !volumes) return
    this.message = undefined
    try {
      this.ip = this.ctx.allocateIp(this.uid)
      writeFileSync(this.hostsFile, this.ctx.hostsContent(this))
      this.sb = await createSandbox({
        uid: this.uid,
        hostname: this.pod.spec.hostname ?? this.pod.metadata.name,
        ip: this.ip,
        dir: this.dir,
        hostsFile: this.hostsFile,
        doltBin: this.ctx.doltBin,
        mounts: [...podMounts(this.pod, volumes), ...imageMounts(this.pod)]
      })
    } catch (e) {
      this.failedReason = (e as Error).message
      this.log(`sandbox: ${this.failedReason}`)
      this.push()
      return
    }
    this.ctx.hostsChanged()
    this.push()
    this.refreshTimer = setInterval(() => {
      refreshVolumes(this.ctx.kube, this.pod, this.dir).catch((e) => this.log(`refresh volumes: ${e.message}`))
    }, 10_000)
    for (const c of this.initContainers) {
      while (!this.terminating) {
        const code = await this.runInit(c)
        if (code === 0) break
        // Not started (a missing Secret, say): CreateContainerConfigError, retried without counting a restart.
        if (code === undefined) {
          await sleep(2000)
          continue
        }
        if (this.pod.spec.restartPolicy === "Never") {
          this.failedReason = `init container ${c.spec.name} failed with exit code ${code}`
          this.push()
          return
        }
        await this.backoff(c)
      }
      if (this.terminating) return
    }
    this.initialized = true
    for (const c of this.containers) void this.start(c)
    this.push()
  }

  private containerLog(c: Container) {
    return openSync(join(this.logDir, `${c.spec.name}.log`), "a")
  }

  private async prepare(c: Container): Promise<Launch | undefined> {
    const tag = /:([^:@/]+)$/.exec(c.spec.image ?? "")?.[1]
    const release = this.ctx.imageID.split("@")[1]
    if (imageKind(c.spec.image) === "dolt" && tag && tag !== release && !warnedTags.has(tag)) {
      warnedTags.add(tag)
      this.log(`image tag ${tag} runs the built dolt ${release}`)
    }
    try {
      const env = await containerEnv(this.ctx.kube, this.pod, c.spec)
      return {
        argv: containerArgv(c.spec, env),
        env,
        workingDir: c.spec.workingDir ?? "/",
        identity: containerIdentity(this.pod, c.spec)
      }
    } catch (e) {
      const reason = e instanceof NotYet ? "CreateContainerConfigError" : "ErrImagePull"
      c.state = { waiting: { reason, message: (e as Error).message } }
      this.log(`${c.spec.name}: ${(e as Error).message}`)
      this.push()
      return undefined
    }
  }

  private async runInit(c: Container): Promise<number | undefined> {
    const launch = await this.prepare(c)
    if (!launch || !this.sb) return undefined
    c.launch = launch
    const startedAt = now()
    c.state = { running: { startedAt } }
    this.push()
    const { code } = await execIn(this.sb, launch, 24 * 3600_000, this.containerLog(c))
    c.state = {
      terminated: { exitCode: code, reason: code === 0 ? "Completed" : "Error", startedAt, finishedAt: now() }
    }
    this.push()
    return code
  }

  private async backoff(c: Container) {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** c.backoffStep)
    c.backoffStep++
    c.lastState = c.state
    c.restartCount++
    c.state = {
      waiting: { reason: "CrashLoopBackOff", message: `back-off ${delay / 1000}s restarting ${c.spec.name}` }
    }
    this.push()
    await sleep(delay)
  }

  private async start(c: Container) {
    if (this.terminating || !this.sb) return
    const launch = c.launch ?? (await this.prepare(c))
    if (!launch) {
      c.restartTimer = setTimeout(() => void this.start(c), 2000)
      return
    }
    c.launch = launch
    const argv = enter(this.sb, launch.workingDir, launch.argv, launch.identity)
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      env: launch.env,
      stdio: ["ignore", this.containerLog(c), this.containerLog(c)]
    })
    c.pid = child.pid
    c.startedAtMs = Date.now()
    const startedAt = now()
    c.state = { running: { startedAt } }
    c.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        killGroup(child.pid, "SIGKILL")
        c.pid = undefined
        c.ready = false
        c.started = false
        for (const stop of c.stopProbes) stop()
        c.stopProbes = []
        const exitCode = code ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 1)
        c.state = {
          terminated: { exitCode, reason: exitCode === 0 ? "Completed" : "Error", startedAt, finishedAt: now() }
        }
        this.log(`${c.spec.name} exited with ${code ?? signal}`)
        resolve()
        this.ctx.hostsChanged()
        this.push()
        if (!this.terminating) void this.afterExit(c, exitCode)
      })
    })
    this.startProbes(c)
    this.push()
  }

  private async afterExit(c: Container, exitCode: number) {
    const policy = this.pod.spec.restartPolicy ?? "Always"
    if (policy === "Never" || (policy === "OnFailure" && exitCode === 0)) {
      c.done = true
      // Every container has finished for good (a Job's pod): the pod is terminal and its sandbox goes.
      if (this.containers.every((x) => x.done)) await this.terminate(0)
      return
    }
    // A container that ran for a while starts over with the shortest back-off, as in the kubelet.
    if (Date.now() - c.startedAtMs > 60_000) c.backoffStep = 0
    c.launch = undefined
    await this.backoff(c)
    await this.start(c)
  }

  private probeTarget(c: Container): ProbeTarget {
    return {
      sb: this.sb!,
      podIP: this.ip!,
      ports: c.spec.ports ?? [],
      launch: (argv) => ({ ...c.launch!, argv })
    }
  }

  private startProbes(c: Container) {
    const t = this.probeTarget(c)
    const onError = (e: Error) => this.log(`${c.spec.name} probe: ${e.message}`)
    const afterStartup = () => {
      c.started = true
      if (c.spec.readinessProbe) {
        c.stopProbes.push(runProbe(c.spec.readinessProbe, t, (ok) => this.setReady(c, ok), onError))
      } else this.setReady(c, true)
      if (c.spec.livenessProbe) {
        c.stopProbes.push(
          runProbe(
            c.spec.livenessProbe,
            t,
            (ok) => {
              if (!ok && c.pid !== undefined && !this.terminating) {
                this.log(`${c.spec.name} failed its liveness probe, restarting`)
                const grace = c.spec.livenessProbe.terminationGracePeriodSeconds ?? this.grace()
                void this.stopContainer(c, Date.now() + grace * 1000)
              }
            },
            onError
          )
        )
      }
      this.push()
    }
    if (c.spec.startupProbe) {
      let stop = () => {}
      stop = runProbe(
        c.spec.startupProbe,
        t,
        (ok) => {
          if (ok) {
            stop()
            afterStartup()
          } else if (c.pid !== undefined && !this.terminating) {
            void this.stopContainer(c, Date.now() + this.grace() * 1000)
          }
        },
        onError
      )
      c.stopProbes.push(() => stop())
    } else afterStartup()
  }

  private setReady(c: Container, ok: boolean) {
    if (c.ready === ok || (ok && c.pid === undefined)) return
    c.ready = ok
    this.ctx.hostsChanged()
    this.push()
  }

  private grace() {
    return this.pod.spec.terminationGracePeriodSeconds ?? 30
  }

  /** preStop (within the deadline), then SIGTERM to the container's process group, SIGKILL at the deadline. */
  private async stopContainer(c: Container, deadline: number) {
    const pid = c.pid
    if (pid === undefined || !this.sb) return
    const pre = c.spec.lifecycle?.preStop
    if (pre?.exec && c.launch) {
      const { code, output } = await execIn(
        this.sb,
        { ...c.launch, argv: pre.exec.command },
        Math.max(1, deadline - Date.now())
      )
      this.log(`${c.spec.name} preStop exited ${code}${output ? `: ${output.trim().slice(0, 300)}` : ""}`)
    } else if (pre?.sleep) await sleep(Math.min(pre.sleep.seconds * 1000, deadline - Date.now()))
    else if (pre) this.log(`${c.spec.name}: preStop ${Object.keys(pre).join(",")} is not supported`)
    killGroup(pid, (c.spec.lifecycle?.stopSignal as NodeJS.Signals | undefined) ?? "SIGTERM")
    // Like the kubelet, allow 2 s more when the hook used up the whole grace period.
    const killAt = Math.max(deadline, Date.now() + 2000 * (deadline <= Date.now() ? 1 : 0))
    const timedOut = await Promise.race([c.exited.then(() => false), sleep(killAt - Date.now()).then(() => true)])
    if (timedOut && c.pid === pid) {
      this.log(`${c.spec.name} did not stop within the grace period, killing`)
      killGroup(pid, "SIGKILL")
      await c.exited
    }
  }

  /** Stops the pod: all containers with the given grace, then the sandbox. Idempotent. */
  terminate(graceSeconds: number): Promise<void> {
    this.terminated ??= (async () => {
      this.terminating = true
      clearInterval(this.refreshTimer)
      const deadline = Date.now() + graceSeconds * 1000
      for (const c of [...this.initContainers, ...this.containers]) {
        clearTimeout(c.restartTimer)
        for (const stop of c.stopProbes) stop()
      }
      await Promise.all(this.containers.map((c) => this.stopContainer(c, deadline)))
      for (const c of this.initContainers) killGroup(c.pid, "SIGKILL")
      if (this.sb) await destroySandbox(this.sb)
      this.ctx.releaseIp(this.uid)
      this.ctx.hostsChanged()
      // As the kubelet does, report a terminal phase first: the API server deletes a scheduled pod
      // with grace 0 right away only once it is Succeeded or Failed.
      this.finished = true
      await this.push()
      this.log(`stopped (grace ${graceSeconds}s)`)
    })()
    return this.terminated
  }

  private condition(type: string, ok: boolean, reason?: string) {
    const status = ok ? "True" : "False"
    const prev = this.transitions.get(type)
    if (prev?.status !== status) this.transitions.set(type, { status, at: now() })
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: this.transitions.get(type)!.at,
      ...(!ok && reason && { reason })
    }
  }

  private containerStatus(c: Container) {
    return {
      name: c.spec.name,
      image: c.spec.image,
      imageID: imageKind(c.spec.image) === "operator" ? "e2e://doltdb-operator@repository" : this.ctx.imageID,
      ...(c.pid !== undefined && { containerID: `e2e://${this.uid}/${c.spec.name}/${c.pid}` }),
      ready: c.ready,
      started: c.started,
      restartCount: c.restartCount,
      state: c.state,
      lastState: c.lastState
    }
  }

  status() {
    const ready = this.ready
    // Running once any container runs or is being restarted, as the kubelet reports it.
    const running = this.initialized && this.containers.some((c) => c.pid !== undefined || c.restartCount > 0)
    return {
      phase: this.finished
        ? this.containers.every((c) => c.state.terminated?.exitCode === 0)
          ? "Succeeded"
          : "Failed"
        : this.failedReason
          ? "Failed"
          : running
            ? "Running"
            : "Pending",
      // null clears a stale message (merge patch).
      message: this.failedReason ?? this.message ?? null,
      conditions: [
        this.condition("PodReadyToStartContainers", this.sb !== undefined),
        this.condition("Initialized", this.initialized, "ContainersNotInitialized"),
        this.condition("Ready", ready, "ContainersNotReady"),
        this.condition("ContainersReady", ready, "ContainersNotReady"),
        this.condition("PodScheduled", true)
      ],
      hostIP: this.ctx.hostIP,
      hostIPs: [{ ip: this.ctx.hostIP }],
      ...(this.ip && this.sb && { podIP: this.ip, podIPs: [{ ip: this.ip }] }),
      startTime: this.startTime,
      initContainerStatuses: this.initContainers.map((c) => this.containerStatus(c)),
      containerStatuses: this.containers.map((c) => this.containerStatus(c))
    }
  }

  /**
   * Takes the API's view of the pod: when someone else changed its status (the node lifecycle controller
   * marks pods of an unresponsive node not ready), the next push restores the agent's view, as the
   * kubelet's status sync does.
   */
  observe(pod: KubeObject) {
    this.pod = pod
    if (this.finished || !this.lastPushed) return
    const ready = (p: Any) => (p?.conditions ?? []).find((c: Any) => c.type === "Ready")?.status
    if (
      ready(pod.status) !== ready(JSON.parse(this.lastPushed)) ||
      pod.status?.phase !== JSON.parse(this.lastPushed).phase
    ) {
      this.lastPushed = ""
      this.push()
    }
  }

  /** Sends the status if it changed; writes are serialised and a vanished pod is not an error. */
  push(): Promise<void> {
    this.pushChain = this.pushChain.then(async () => {
      const status = this.status()
      const json = JSON.stringify(status)
      if (json === this.lastPushed) return
      const { namespace, name } = this.pod.metadata
      try {
        await this.ctx.kube.mergePatch(`/api/v1/namespaces/${namespace}/pods/${name}/status`, {
          metadata: { uid: this.uid },
          status
        })
        this.lastPushed = json
      } catch (e) {
        if (!(e instanceof KubeError && (e.code === 404 || e.code === 409))) this.log(`status: ${(e as Error).message}`)
      }
    })
    return this.pushChain
  }
}
