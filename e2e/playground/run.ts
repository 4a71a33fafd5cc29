// The playground's two commands. `up`: preflight, binaries, the e2e harness's cluster (own work directory),
// both Helm charts, the DoltDB and its Database/User/Grant, a write through `<name>-primary`, then instructions,
// then wait for Ctrl-C (or `down` from another terminal) and remove everything. `down`: stop a running playground.
import { spawn } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as mysql from "mysql2/promise"
import { helm } from "../lib/helm.ts"
import { core, group, Kube, KubeError, type KubeObject } from "../lib/kube.ts"
import { ensureBinaries, kubectlBin } from "./binaries.ts"
import { PlaygroundError } from "./errors.ts"
import { ADMIN_USER, API, APP_USER, DATABASE, NAME, NAMESPACE, newCredentials, objects } from "./manifests.ts"
import { clusterScript, kubeconfig, pidFile, work } from "./paths.ts"
import { alive, preflight, runningPlayground } from "./preflight.ts"
import { type ServiceProxy, serviceProxy } from "./proxy.ts"

const OPERATOR_NAMESPACE = "doltdb-system"
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const step = (what: string) => console.log(`==> ${what}`)

/** cluster.sh with the playground's work directory; its log goes to a file, its tail into the error. */
const cluster = (command: "up" | "down") =>
  new Promise<void>((resolve, reject) => {
    mkdirSync(work(), { recursive: true })
    const log = join(work(), `cluster-${command}.log`)
    const child = spawn(clusterScript, [command], {
      env: { ...process.env, E2E_WORK: work() },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let text = ""
    child.stdout.on("data", (d) => (text += d))
    child.stderr.on("data", (d) => (text += d))
    child.on("exit", (code) => {
      writeFileSync(log, text)
      if (code === 0) resolve()
      else
        reject(
          new PlaygroundError(
            `cluster ${command} failed (log: ${log}):\n${text.trim().split("\n").slice(-10).join("\n")}`
          )
        )
    })
  })

const conditionTrue = (o: KubeObject | undefined, type: string) =>
  (o?.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === type && c.status === "True")

const createOrKeep = async (k: Kube, path: string, obj: unknown) => {
  try {
    await k.create(path, obj)
  } catch (e) {
    if (!(e instanceof KubeError && e.code === 409)) throw e
  }
}

const waitUntil = async (what: string, timeoutMs: number, f: () => Promise<string | undefined>) => {
  const deadline = Date.now() + timeoutMs
  let last = ""
  for (;;) {
    const pending = await f().catch((e: Error) => e.message)
    if (pending === undefined) return
    if (pending !== last && process.stdout.isTTY) process.stdout.write(`\r    ${pending}`.padEnd(100).slice(0, 100))
    last = pending
    if (Date.now() > deadline)
      throw new PlaygroundError(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last seen: ${last}`, 1)
    await sleep(1000)
  }
}

const installCharts = async () => {
  // cluster.sh applied crds/ already (the same files the CRDs chart carries): the chart takes them over.
  await helm([
    "install",
    "doltdb-operator-crds",
    "charts/doltdb-operator-crds",
    "--namespace",
    OPERATOR_NAMESPACE,
    "--create-namespace",
    "--take-ownership",
    "--force-conflicts",
    "--wait",
    "--timeout",
    "3m"
  ])
  await helm([
    "install",
    "doltdb-operator",
    "charts/doltdb-operator",
    "--namespace",
    OPERATOR_NAMESPACE,
    "--wait",
    "--timeout",
    "5m"
  ])
}

const apply = async (k: Kube, engineVersion: string) => {
  const credentials = newCredentials()
  const o = objects(engineVersion, credentials)
  await createOrKeep(k, core("namespaces"), o.namespace)
  await waitUntil("the namespace's default ServiceAccount", 60_000, async () =>
    (await k.find(core("serviceaccounts", NAMESPACE, "default"))) ? undefined : "waiting for ServiceAccount default"
  )
  for (const s of o.secrets) await createOrKeep(k, core("secrets", NAMESPACE), s)
  await createOrKeep(k, group(API, "doltdbs", NAMESPACE), o.doltdb)
  await createOrKeep(k, group(API, "databases", NAMESPACE), o.database)
  await createOrKeep(k, group(API, "users", NAMESPACE), o.user)
  await createOrKeep(k, group(API, "grants", NAMESPACE), o.grant)
  return credentials
}

const waitReady = (k: Kube) =>
  waitUntil(`DoltDB ${NAMESPACE}/${NAME} and its Database, User and Grant Ready`, 600_000, async () => {
    const d = await k.get(group(API, "doltdbs", NAMESPACE, NAME))
    if (!conditionTrue(d, "Ready")) {
      const pods = await k.get<{ items: Array<KubeObject> }>(
        `${core("pods", NAMESPACE)}?labelSelector=app.kubernetes.io%2Fname%3D${NAME}`
      )
      const ready = pods.items.filter((p) => conditionTrue(p, "Ready")).length
      return `DoltDB not Ready yet: ${ready}/3 pods Ready, primary ${d.status?.currentPrimary ?? "none yet"}`
    }
    for (const [plural, name] of [
      ["databases", DATABASE],
      ["users", APP_USER],
      ["grants", `${APP_USER}-all`]
    ] as const)
      if (!conditionTrue(await k.get(group(API, plural, NAMESPACE, name)), "Ready"))
        return `${plural}/${name} not Ready yet`
    return undefined
  })

/** A write and a read back through the local port that follows `<name>-primary`: proof it serves. */
const checkWritable = async (port: number, password: string) => {
  let lastError = ""
  for (let i = 0; i < 30; i++) {
    const c = await mysql
      .createConnection({ host: "127.0.0.1", port, user: APP_USER, password, database: DATABASE, connectTimeout: 5000 })
      .catch((e: Error) => {
        lastError = e.message
        return undefined
      })
    if (c) {
      try {
        await c.query("CREATE TABLE IF NOT EXISTS greetings (id INT PRIMARY KEY, hello VARCHAR(64))")
        await c.query("REPLACE INTO greetings VALUES (1, 'hello from the playground')")
        const [rows] = await c.query("SELECT hello FROM greetings WHERE id = 1")
        return (rows as Array<{ hello: string }>)[0]?.hello
      } catch (e) {
        lastError = (e as Error).message
      } finally {
        c.destroy()
      }
    }
    await sleep(1000)
  }
  throw new PlaygroundError(`${NAME}-primary does not take writes: ${lastError}`, 1)
}

const instructions = (port: number, c: { adminPassword: string; appPassword: string }) => {
  const kc = kubeconfig()
  const kubectl = kubectlBin() ?? "kubectl"
  const dolt = "$(ls -d ~/.cache/doltdb-operator-e2e/dolt-*/ | head -1)dolt"
  return `
The playground is ready: a 3-replica DoltDB '${NAME}' in namespace '${NAMESPACE}', managed by the operator that
Helm installed in '${OPERATOR_NAMESPACE}', with database '${DATABASE}', user '${APP_USER}' and a grant on it.

Use the cluster (any kubectl works with this kubeconfig):
  export KUBECONFIG=${kc}
  ${kubectl} get doltdb,database,user,grant,pods -n ${NAMESPACE}

Connect (127.0.0.1:${port} follows the ${NAME}-primary Service, 127.0.0.1:${port + 1} ${NAME}-reader):
  mysql -h 127.0.0.1 -P ${port} -u ${APP_USER} -p'${c.appPassword}' ${DATABASE}
  ${dolt} --host 127.0.0.1 --port ${port} --no-tls -u ${APP_USER} -p '${c.appPassword}' sql -q 'select * from ${DATABASE}.greetings'
  (admin: user '${ADMIN_USER}', password in Secret ${NAMESPACE}/${NAME}-credentials: ${c.adminPassword})

Watch it:
  KUBECONFIG=${kc} npx kubectl-doltdb status ${NAME} -n ${NAMESPACE}

Fail over (delete the primary's pod; another pod is promoted in seconds, writes on :${port} follow it):
  ${kubectl} delete pod -n ${NAMESPACE} "$(${kubectl} get doltdb ${NAME} -n ${NAMESPACE} -o jsonpath='{.status.currentPrimary}')"
Switch over (a graceful move of the primary to pod 2):
  KUBECONFIG=${kc} npx kubectl-doltdb switchover ${NAME} -n ${NAMESPACE} --to 2

Stop: Ctrl-C here, or 'npm run playground -- down' from another terminal. Everything it started is removed.
`
}

export const up = async (opts: { kubectl: boolean; port: number }) => {
  await preflight([
    { port: 23790, what: "the playground's etcd" },
    { port: 23800, what: "the playground's etcd peers" },
    { port: 26443, what: "the playground's kube-apiserver" },
    { port: opts.port, what: `the local port for ${NAME}-primary` },
    { port: opts.port + 1, what: `the local port for ${NAME}-reader` }
  ])
  mkdirSync(work(), { recursive: true })
  writeFileSync(pidFile(), String(process.pid))
  // Nothing runs yet: a failed build only takes the pid file back (Ctrl-C meanwhile ends the build with us).
  await ensureBinaries({ kubectl: opts.kubectl }).catch((e) => {
    rmSync(pidFile(), { force: true })
    throw e
  })

  let stopping: Promise<void> | undefined
  const proxies: Array<ServiceProxy> = []
  let k: Kube | undefined
  const teardown = (why: string) => {
    stopping ??= (async () => {
      console.log(`\n==> ${why}: removing the playground (pods stop gracefully, ~30 s)`)
      for (const p of proxies) await p.close().catch(() => {})
      k?.close()
      await cluster("down")
      rmSync(pidFile(), { force: true })
      console.log("==> playground removed: no process, network namespace, mount or bridge left")
    })()
    return stopping
  }
  let interrupted: (code: number) => void = () => {}
  const interrupt = new Promise<number>((r) => (interrupted = r))
  const onSignal = (signal: NodeJS.Signals, code: number) => () => {
    teardown(`${signal} received`).then(
      () => interrupted(code),
      (e) => {
        console.error(`playground: ${(e as Error).message}`)
        interrupted(1)
      }
    )
  }
  process.once("SIGINT", onSignal("SIGINT", 130))
  process.once("SIGTERM", onSignal("SIGTERM", 143))

  try {
    const t0 = Date.now()
    step("starting the control plane (etcd, kube-apiserver, kube-controller-manager) and 3 nodes")
    await cluster("up")
    process.env.E2E_WORK = work()
    process.env.KUBECONFIG = kubeconfig()
    k = new Kube(kubeconfig())
    step("installing the CRDs and the operator with Helm (charts/doltdb-operator-crds, charts/doltdb-operator)")
    await installCharts()
    step(`creating DoltDB ${NAMESPACE}/${NAME} (3 replicas), Database ${DATABASE}, User ${APP_USER} and its Grant`)
    const engineVersion = readFileSync(join(work(), "run", "dolt-release"), "utf8").trim()
    const credentials = await apply(k, engineVersion)
    await waitReady(k)
    if (process.stdout.isTTY) process.stdout.write("\n")
    proxies.push(await serviceProxy(k, NAMESPACE, `${NAME}-primary`, opts.port))
    proxies.push(await serviceProxy(k, NAMESPACE, `${NAME}-reader`, opts.port + 1))
    const hello = await checkWritable(opts.port, credentials.appPassword)
    step(`wrote and read back '${hello}' through ${NAME}-primary (${Math.round((Date.now() - t0) / 1000)} s)`)
    console.log(instructions(opts.port, credentials))
    // Tests and scripts wait for this exact line.
    console.log("Playground ready.")
  } catch (e) {
    // Interrupted while starting: the signal's teardown is under way and decides the exit code.
    if (stopping) return interrupt
    await teardown("start failed").catch(() => {})
    throw e
  }
  return interrupt
}

export const down = async () => {
  const pid = runningPlayground()
  if (pid !== undefined) {
    console.log(`stopping the playground (pid ${pid})`)
    process.kill(pid, "SIGTERM")
    const deadline = Date.now() + 180_000
    while (alive(pid)) {
      if (Date.now() > deadline) throw new PlaygroundError(`the playground (pid ${pid}) did not stop within 180 s`, 1)
      await sleep(500)
    }
    return 0
  }
  // No playground process (it was killed): remove what its cluster left.
  await cluster("down")
  rmSync(pidFile(), { force: true })
  console.log("playground removed")
  return 0
}
