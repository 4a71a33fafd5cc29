// `npm run playground` as a newcomer runs it, without a terminal: it comes up, the DoltDB is Ready and takes writes
// through `<name>-primary`, a second start and a non-root start are refused with a clear message, and Ctrl-C
// removes everything (processes, network namespaces, mounts, the bridge).
import { execFileSync, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as mysql from "mysql2/promise"
import { afterAll, assert, describe, it } from "vitest"
import { core, group, Kube, type KubeObject } from "../lib/kube.ts"
import { API, APP_USER, DATABASE, NAME, NAMESPACE } from "./manifests.ts"
import { kubeconfig, REPO, work } from "./paths.ts"
import { alive } from "./preflight.ts"

const node = join(REPO, "node_modules", ".bin", "node")
const script = join(REPO, "e2e", "playground.ts")
const PORT = 13306

const run = (args: ReadonlyArray<string>, prefix: ReadonlyArray<string> = [], env: Record<string, string> = {}) => {
  const child = spawn(prefix[0] ?? node, [...prefix.slice(1), ...(prefix.length ? [node] : []), script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env }
  })
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<number>((r) => child.on("exit", (code, signal) => r(code ?? (signal ? 128 : 1))))
  return { child, output: () => output, exited }
}

const waitForLine = async (p: ReturnType<typeof run>, line: string, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (!p.output().includes(line)) {
    const done = await Promise.race([p.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000))])
    if (done !== undefined) throw new Error(`the playground exited (${done}) before '${line}':\n${p.output()}`)
    if (Date.now() > deadline) throw new Error(`no '${line}' within ${timeoutMs / 1000} s:\n${p.output()}`)
  }
}

const leftovers = () => {
  const netns = execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.startsWith("dolte2e-"))
  let bridge = true
  try {
    execFileSync("ip", ["link", "show", "dolte2e0"], { stdio: "ignore" })
  } catch {
    bridge = false
  }
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l.includes(` ${work()}`))
  return { netns, bridge, mounts }
}

describe("npm run playground", () => {
  let playground: ReturnType<typeof run> | undefined
  afterAll(async () => {
    // A failed assertion must not leave a cluster behind for the next suite.
    if (playground && playground.child.exitCode === null) {
      playground.child.kill("SIGINT")
      await playground.exited
    }
  })

  it("comes up, serves writes through <name>-primary, refuses a second start, and Ctrl-C removes everything", async () => {
    playground = run(["up", "--no-kubectl", "--port", String(PORT)])
    await waitForLine(playground, "Playground ready.", 900_000)
    const out = playground.output()
    assert.include(out, `export KUBECONFIG=${kubeconfig()}`)
    assert.include(out, "kubectl-doltdb status")
    assert.include(out, "switchover")

    // The operator runs as a pod installed by Helm, and the DoltDB it manages is Ready.
    const k = new Kube(kubeconfig())
    try {
      const operatorPods = await k.get<{ items: Array<KubeObject> }>(core("pods", "doltdb-system"))
      assert.isAbove(operatorPods.items.length, 0, "the operator runs in the cluster")
      const d = await k.get(group(API, "doltdbs", NAMESPACE, NAME))
      assert.isTrue(
        (d.status?.conditions ?? []).some(
          (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"
        )
      )
      // Straight to the pod behind <name>-primary, with the password from the User's Secret.
      const secret = await k.get(core("secrets", NAMESPACE, `${APP_USER}-password`))
      const password = Buffer.from(secret.data.password, "base64").toString("utf8")
      const slices = await k.get<{ items: Array<KubeObject> }>(
        `${group("discovery.k8s.io/v1", "endpointslices", NAMESPACE)}?labelSelector=kubernetes.io%2Fservice-name%3D${NAME}-primary`
      )
      const primaryIp = slices.items.flatMap((s) => s.endpoints ?? []).flatMap((e) => e.addresses ?? [])[0]
      assert.isString(primaryIp, `${NAME}-primary has an endpoint`)
      for (const [host, port] of [
        [primaryIp as string, 3306],
        ["127.0.0.1", PORT]
      ] as const) {
        const c = await mysql.createConnection({ host, port, user: APP_USER, password, database: DATABASE })
        try {
          await c.query("REPLACE INTO greetings VALUES (2, ?)", [`via ${host}`])
          const [rows] = await c.query("SELECT hello FROM greetings WHERE id = 2")
          assert.deepEqual(
            (rows as Array<{ hello: string }>).map((r) => r.hello),
            [`via ${host}`]
          )
        } finally {
          await c.end()
        }
      }
    } finally {
      k.close()
    }

    // Bad states get one clear line and exit code 2.
    const second = run(["up", "--no-kubectl"])
    assert.equal(await second.exited, 2)
    assert.match(second.output(), /already running \(pid \d+\).*playground -- down/)
    const notRoot = run(["up"], ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    assert.equal(await notRoot.exited, 2, notRoot.output())
    assert.match(notRoot.output(), /must run as root/)

    // Ctrl-C: everything it started is gone.
    const runDir = join(work(), "run")
    const pids = readdirSync(runDir)
      .filter((f) => f.endsWith(".pid"))
      .map((f) => Number(readFileSync(join(runDir, f), "utf8")))
    assert.isAbove(pids.length, 3, "control plane and node agents have pid files")
    playground.child.kill("SIGINT")
    assert.equal(await playground.exited, 130, playground.output())
    assert.include(playground.output(), "playground removed")
    assert.deepEqual(
      pids.filter((p) => alive(p)),
      [],
      "no process of the playground is left"
    )
    assert.deepEqual(leftovers(), { netns: [], bridge: false, mounts: [] })
    assert.isFalse(existsSync(join(work(), "playground.pid")))
  })

  it("a cold machine whose Go module proxy cannot be reached is told so, and nothing is left running", async () => {
    const empty = mkdtempSync(join(tmpdir(), "playground-cold-"))
    try {
      const cold = run(["up", "--no-kubectl"], [], {
        DOLTDB_E2E_CACHE: join(empty, "cache"),
        GOMODCACHE: join(empty, "modcache"),
        GOPROXY: "http://127.0.0.1:9",
        GOFLAGS: "-mod=mod"
      })
      assert.equal(await cold.exited, 2, cold.output())
      assert.match(cold.output(), /about \d+ (min|s) on an idle 2-core machine/)
      assert.match(
        cold.output(),
        /needs the Go module proxy \(GOPROXY=http:\/\/127\.0\.0\.1:9\), which could not be reached/
      )
      assert.deepEqual(leftovers(), { netns: [], bridge: false, mounts: [] })
      assert.isFalse(existsSync(join(work(), "playground.pid")))
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })
})
