// What a person needs when an e2e test fails: the observed state of the namespaces the test used (DoltDBs with
// status and conditions, pods, each dolt server's own role and epoch, recent events), the tail of the operator's
// log and of every involved pod's container logs, and the paths of the full logs under e2e/.work/logs/. The first
// lines are "findings": the state a converged cluster would not be in (no or two primaries, a False condition,
// a Warning event, a crash-looping container, errors in the operator log), so a failure names its cause.
// Plain async Node (test infrastructure): everything is time-boxed and a probe that fails becomes a line of text.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import * as mysql from "mysql2/promise"
import { core, group, type Kube, type KubeObject } from "./kube.ts"

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes wire objects
type Any = any

const here = import.meta.dirname
const repo = join(here, "..", "..")
export const workDir = () => process.env.E2E_WORK ?? join(here, "..", ".work")
export const logsDir = () => join(workDir(), "logs")
const API = "k8s.dolthub.com/v1alpha"
const ROLE_LABEL = "k8s.dolthub.com/cluster-role"

/** Where to look: the test's namespaces, operator logs (host files) and namespaces holding operator pods. */
export interface DiagnoseTargets {
  readonly namespaces: ReadonlyArray<string>
  readonly operatorLogs?: ReadonlyArray<string>
  readonly operatorNamespaces?: ReadonlyArray<string>
}

/** What the running test file touched, registered by the helpers that create it (one test file per process). */
export const involved = {
  namespaces: new Set<string>(),
  operatorLogs: new Set<string>(),
  operatorNamespaces: new Set<string>()
}

const tail = (file: string, lines: number) => {
  try {
    const text = readFileSync(file, "utf8")
    const all = text.split("\n")
    if (all.at(-1) === "") all.pop()
    return all.slice(-lines)
  } catch (e) {
    return [`(cannot read: ${(e as Error).message})`]
  }
}

const rel = (p: string) => relative(repo, p) || p
const cond = (c: Any) => `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ""}${c.message ? `: ${c.message}` : ""}`
const isReady = (p: KubeObject) =>
  (p.status?.conditions ?? []).some((c: Any) => c.type === "Ready" && c.status === "True")
const within = <A>(ms: number, p: Promise<A>, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))
  ])

const list = async (k: Kube, path: string): Promise<Array<KubeObject>> =>
  (await within(5000, k.get<{ items: Array<KubeObject> }>(path), `GET ${path}`)).items

/** One dolt server's own view: role, epoch, and (on a primary) its standbys' replication status. */
const serverView = async (ip: string, user: string, password: string, ca: string | undefined) => {
  // Over TLS when the DoltDB has it (its servers may refuse plaintext): a plaintext refusal here once read like a
  // replication failure. The chain is verified; pod IPs carry no name.
  const ssl = ca === undefined ? {} : { ssl: { ca, rejectUnauthorized: true } }
  const c = await mysql.createConnection({ host: ip, port: 3306, user, password, connectTimeout: 2000, ...ssl })
  try {
    const [rows] = await within(
      3000,
      c.query("SELECT @@GLOBAL.dolt_cluster_role AS role, @@GLOBAL.dolt_cluster_role_epoch AS epoch"),
      "role query"
    )
    const row = (rows as Array<Any>)[0] ?? {}
    let replication = ""
    if (row.role === "primary") {
      const [st] = await within(
        3000,
        c.query(
          "SELECT `database`, standby_remote, replication_lag_millis, current_error FROM dolt_cluster.dolt_cluster_status"
        ),
        "dolt_cluster_status"
      ).catch((e: Error) => [[{ error: e.message }]])
      replication = (st as Array<Any>)
        .map((s) =>
          s.error
            ? s.error
            : `${s.database}->${s.standby_remote} lag=${s.replication_lag_millis ?? "?"}ms${s.current_error ? ` error=${s.current_error}` : ""}`
        )
        .join("; ")
    }
    return { role: String(row.role), epoch: Number(row.epoch), replication }
  } finally {
    c.destroy()
  }
}

const credentials = async (k: Kube, ns: string, app: string) => {
  const s = await k.find(core("secrets", ns, `${app}-credentials`)).catch(() => undefined)
  const d = s?.data ?? {}
  if (!d["admin-user"] || !d["admin-password"]) return undefined
  const b = (v: string) => Buffer.from(v, "base64").toString("utf8")
  // The operator-issued (or user-provided) server Secret of a DoltDB with spec.tls: `<name>-tls` by default.
  const tls = await k.find(core("secrets", ns, `${app}-tls`)).catch(() => undefined)
  const ca = tls?.data?.["ca.crt"] ? b(tls.data["ca.crt"]) : undefined
  return { user: b(d["admin-user"]), password: b(d["admin-password"]), ca }
}

/** Log directories of every incarnation of a pod (the agent names them <ns>_<pod>_<uid>). */
const podLogDirs = (ns: string, pod?: string) => {
  const dir = join(logsDir(), "pods")
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((d) => d.startsWith(`${ns}_${pod ? `${pod}_` : ""}`))
    .map((d) => join(dir, d))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
}

const containerLine = (s: Any) => {
  const st = s.state ?? {}
  const now = st.running
    ? "running"
    : st.waiting
      ? `waiting ${st.waiting.reason}`
      : st.terminated
        ? `terminated ${st.terminated.reason} exit=${st.terminated.exitCode}`
        : "?"
  const last = s.lastState?.terminated ? ` last exit=${s.lastState.terminated.exitCode}` : ""
  return `${s.name}: ${now} restarts=${s.restartCount ?? 0}${last}`
}

interface Report {
  readonly findings: Array<string>
  readonly lines: Array<string>
  readonly logs: Array<string>
}

const describeNamespace = async (k: Kube, ns: string, r: Report) => {
  r.lines.push(`namespace ${ns}:`)
  const doltdbs = await list(k, group(API, "doltdbs", ns)).catch((e: Error) => {
    r.lines.push(`  DoltDBs: ${e.message}`)
    return []
  })
  const pods = (await list(k, core("pods", ns)).catch(() => [])).sort((a, b) =>
    a.metadata.name.localeCompare(b.metadata.name)
  )
  for (const d of doltdbs) {
    const s = d.status ?? {}
    r.lines.push(
      `  DoltDB ${d.metadata.name}: replicas=${d.spec?.replicas} replication=${!!d.spec?.replication?.enabled} podIndex=${d.spec?.replication?.primary?.podIndex ?? 0} generation=${d.metadata.generation} observed=${s.observedGeneration ?? "-"}`
    )
    r.lines.push(
      `    status: currentPrimary=${s.currentPrimary ?? "-"} epoch=${s.replicationEpoch ?? "-"} transition=${s.primaryTransition ? JSON.stringify(s.primaryTransition) : "-"}`
    )
    for (const c of s.conditions ?? []) {
      r.lines.push(`    condition ${cond(c)}`)
      if (c.status === "False") r.findings.push(`DoltDB ${ns}/${d.metadata.name}: ${cond(c)}`)
    }
    if ((s.conditions ?? []).length === 0)
      r.findings.push(`DoltDB ${ns}/${d.metadata.name} has no conditions (not reconciled?)`)
  }
  // Servers' own roles, per app (pods of one DoltDB or StatefulSet share app.kubernetes.io/name), and per pod.
  const byApp = new Map<string, Array<string>>()
  const serverSays = new Map<string, { readonly role: string; readonly epoch: number }>()
  for (const p of pods) {
    const app = p.metadata.labels?.["app.kubernetes.io/name"] ?? p.metadata.labels?.["app.kubernetes.io/instance"]
    const containers = (p.status?.containerStatuses ?? []).map(containerLine).join(", ")
    r.lines.push(
      `  pod ${p.metadata.name}${p.metadata.deletionTimestamp ? " (terminating)" : ""}: ${p.spec?.nodeName ?? "unscheduled"} ${p.status?.podIP ?? "no-ip"} ${p.status?.phase} ready=${isReady(p)} role=${p.metadata.labels?.[ROLE_LABEL] ?? "-"} uid=${p.metadata.uid?.slice(0, 8)}; ${containers}`
    )
    if (p.status?.message) r.lines.push(`    message: ${p.status.message}`)
    for (const s of [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])]) {
      const w = s.state?.waiting
      if (w && w.reason !== "ContainerCreating" && w.reason !== "PodInitializing")
        r.findings.push(
          `pod ${ns}/${p.metadata.name} container ${s.name}: ${w.reason}${w.message ? ` (${w.message})` : ""}`
        )
    }
    const isDolt = (p.spec?.containers ?? []).some((c: Any) => /dolthub\/dolt/.test(c.image ?? ""))
    if (app && isDolt && p.status?.podIP) {
      const line = await (async () => {
        const cred = await credentials(k, ns, app)
        if (!cred) return `no ${app}-credentials Secret to log in with`
        const v = await serverView(p.status.podIP, cred.user, cred.password, cred.ca)
        byApp.set(app, [...(byApp.get(app) ?? []), `${p.metadata.name}=${v.role}@${v.epoch}`])
        serverSays.set(p.metadata.name, { role: String(v.role), epoch: Number(v.epoch) })
        return `${v.role} epoch=${v.epoch}${v.replication ? `; ${v.replication}` : ""}`
      })().catch((e: Error) => `unreachable: ${e.message}`)
      r.lines.push(`    server says: ${line}`)
    }
  }
  for (const [app, views] of byApp) {
    const primaries = views.filter((v) => v.includes("=primary@"))
    // The most telling finding goes first.
    if (primaries.length !== 1)
      r.findings.unshift(`${ns}/${app}: ${primaries.length} servers report primary (${views.join(", ")})`)
    else r.lines.push(`  ${app} servers: ${views.join(", ")}`)
  }
  // A status that names a primary its server does not confirm: the operator recorded a promotion it never
  // applied (or the server lost it). Put first: it names the cause, where "0 servers report primary" names a symptom.
  for (const d of doltdbs) {
    const named = d.status?.currentPrimary
    const epoch = d.status?.replicationEpoch
    const says = named === undefined ? undefined : serverSays.get(named)
    if (!d.spec?.replication?.enabled || says === undefined) continue
    if (says.role !== "primary" || (epoch !== undefined && says.epoch !== Number(epoch)))
      r.findings.unshift(
        `DoltDB ${ns}/${d.metadata.name}: status names ${named} primary at epoch ${epoch ?? "-"}, but its server reports ${says.role}@${says.epoch}: the operator recorded a primary the server does not confirm`
      )
  }
  const events = (await list(k, core("events", ns)).catch(() => []))
    .sort((a, b) =>
      String(a.lastTimestamp ?? a.eventTime ?? "").localeCompare(String(b.lastTimestamp ?? b.eventTime ?? ""))
    )
    .slice(-15)
  if (events.length > 0) r.lines.push("  events (last 15):")
  for (const e of events) {
    const text = `${e.type} ${e.reason} ${e.involvedObject?.kind}/${e.involvedObject?.name}${e.count > 1 ? ` x${e.count}` : ""}: ${e.message}`
    r.lines.push(`    ${e.lastTimestamp ?? e.eventTime ?? ""} ${text}`)
    if (e.type === "Warning") r.findings.push(`event ${ns}: ${text}`)
  }
  // Container logs of every pod incarnation in the namespace (the agent keeps them after the pod is gone).
  for (const dir of podLogDirs(ns)) {
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".log"))) {
      const file = join(dir, f)
      r.logs.push(`  ${rel(file)}:`, ...tail(file, 12).map((l) => `    | ${l}`))
    }
  }
}

const operatorErrors = (lines: ReadonlyArray<string>) =>
  lines.filter((l) =>
    /level=(ERROR|FATAL|WARN)|"(level|logLevel)":"(ERROR|FATAL|WARN)"|\bpanic\b|Error:|\bfailed\b/i.test(l)
  )

/**
 * The report for a failed test: findings first, then the state, then log tails; also written to
 * e2e/.work/logs/failures/<time>-<test>.txt. Never throws.
 */
export const diagnose = async (k: Kube, test: string, error: string, targets: DiagnoseTargets): Promise<string> => {
  const r: Report = { findings: [], lines: [], logs: [] }
  const t0 = Date.now()
  for (const ns of targets.namespaces)
    await describeNamespace(k, ns, r).catch((e: Error) => r.lines.push(`namespace ${ns}: ${e.message}`))
  const operatorLogs = [...(targets.operatorLogs ?? [])]
  for (const ns of targets.operatorNamespaces ?? []) {
    const pods = await list(k, core("pods", ns)).catch(() => [])
    for (const p of pods)
      r.lines.push(
        `operator pod ${ns}/${p.metadata.name}: ${p.spec?.nodeName ?? "unscheduled"} ${p.status?.phase} ready=${isReady(p)}; ${(p.status?.containerStatuses ?? []).map(containerLine).join(", ")}`
      )
    const leases = await list(k, group("coordination.k8s.io/v1", "leases", ns)).catch(() => [])
    for (const l of leases)
      r.lines.push(
        `lease ${ns}/${l.metadata.name}: holder=${l.spec?.holderIdentity ?? "-"} renewed=${l.spec?.renewTime ?? "-"}`
      )
    for (const dir of podLogDirs(ns))
      for (const f of readdirSync(dir).filter((f) => f.endsWith(".log"))) operatorLogs.push(join(dir, f))
  }
  for (const file of operatorLogs) {
    if (!existsSync(file)) continue
    const last = tail(file, 40)
    const errors = operatorErrors(last)
    if (errors.length > 0) r.findings.push(`operator log ${rel(file)}: ${errors.at(-1)!.slice(0, 400)}`)
    r.logs.unshift(`  ${rel(file)} (operator):`, ...last.map((l) => `    | ${l}`))
  }
  const slug = test.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 80)
  const dir = join(logsDir(), "failures")
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${slug}.txt`)
  const text = [
    `e2e failure diagnosis: ${test}`,
    `error: ${error.split("\n")[0]}`,
    "findings:",
    ...(r.findings.length > 0
      ? r.findings.map((f) => `  - ${f}`)
      : ["  (none: every DoltDB condition is True, one primary per cluster)"]),
    `state (${new Date().toISOString()}, collected in ${Date.now() - t0} ms):`,
    ...r.lines.map((l) => `  ${l}`),
    `logs (tails; full files under ${rel(logsDir())}/: agents node-agent-*.log, control plane kube-*.log, pods/<ns>_<pod>_<uid>/<container>.log):`,
    ...r.logs,
    `this report: ${rel(file)}`
  ].join("\n")
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(file, `${text}\n`)
  } catch {}
  return text
}

/** The findings alone, for the first lines of a failure message. */
export const findingsOf = (report: string) => {
  const lines = report.split("\n")
  const start = lines.indexOf("findings:")
  const end = lines.findIndex((l, i) => i > start && !l.startsWith("  "))
  return lines.slice(start + 1, end).map((l) => l.trim())
}
