// Test helpers for the e2e suite: API access, waiting, SQL to pod IPs, timing records.
// Plain async code (test infrastructure). Pod IPs are addresses inside namespaces the harness made.
import { appendFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import * as mysql from "mysql2/promise"
import { involved } from "../lib/diagnose.ts"
import { core, Kube, KubeError, type KubeObject } from "../lib/kube.ts"

export const kube = () => new Kube(process.env.KUBECONFIG ?? join(import.meta.dirname, "..", ".work", "kubeconfig"))

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `f` until it returns a value other than undefined; fails with `what` and the last error on timeout. */
export const waitFor = async <A>(what: string, timeoutMs: number, f: () => Promise<A | undefined>): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const a = await f()
      if (a !== undefined) return a
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`
      )
    }
    await sleep(200)
  }
}

export const isReady = (pod: KubeObject | undefined) =>
  (pod?.status?.conditions ?? []).some(
    (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"
  )

/** Waits for a Ready pod of that name (optionally a different incarnation than `notUid`) and returns it. */
export const readyPod = (k: Kube, ns: string, name: string, timeoutMs: number, notUid?: string) =>
  waitFor(`pod ${ns}/${name} Ready`, timeoutMs, async () => {
    const pod = await k.find(core("pods", ns, name))
    return pod && isReady(pod) && pod.metadata.uid !== notUid && !pod.metadata.deletionTimestamp ? pod : undefined
  })

export const createNamespace = async (k: Kube, prefix: string) => {
  const name = `${prefix}-${Date.now().toString(36)}`
  await k.create(core("namespaces"), { apiVersion: "v1", kind: "Namespace", metadata: { name } })
  // A failing test's diagnosis (setup.ts) describes the namespaces its file created.
  involved.namespaces.add(name)
  // Pods need the namespace's default ServiceAccount, which the controller manager creates.
  await waitFor(`ServiceAccount ${name}/default`, 30_000, () => k.find(core("serviceaccounts", name, "default")))
  return name
}

export const deleteNamespace = async (k: Kube, name: string) => {
  involved.namespaces.delete(name)
  await k.delete(core("namespaces", undefined, name)).catch((e) => {
    if (!(e instanceof KubeError && e.code === 404)) throw e
  })
}

/** Connects to a pod's MySQL port; retries while the server is coming up. */
export const connect = (host: string, user: string, password: string, database?: string) =>
  waitFor(`SQL connection to ${host}:3306`, 30_000, () =>
    mysql.createConnection({ host, port: 3306, user, password, connectTimeout: 5000, ...(database && { database }) })
  )

/** Rows as plain objects (so deep equality ignores mysql2's row class). */
export const query = async (c: mysql.Connection, sql: string, values: Array<unknown> = []) => {
  const [rows] = await c.query(sql, values)
  return Array.isArray(rows) ? rows.map((r) => ({ ...r }) as Record<string, unknown>) : []
}

/** Timings are recorded and printed, never asserted. */
export const record = (name: string, ms: number) => {
  const dir = process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")
  mkdirSync(dir, { recursive: true })
  appendFileSync(join(dir, "timings.jsonl"), `${JSON.stringify({ at: new Date().toISOString(), name, ms })}\n`)
  console.log(`[timing] ${name}: ${(ms / 1000).toFixed(2)} s`)
}
