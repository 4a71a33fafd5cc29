// Minimal Kubernetes REST client for the e2e harness (agent, CRD apply, tests).
// Plain async Node on purpose: this is test infrastructure that must not depend on the code under test
// (packages/k8s), and a few dozen lines over node:https are easier to debug than a generated client.
import { readFileSync } from "node:fs"
import { Agent, request } from "node:https"
import { parse } from "yaml"

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: {
    name: string
    namespace?: string
    uid?: string
    resourceVersion?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    deletionTimestamp?: string
    deletionGracePeriodSeconds?: number
    ownerReferences?: Array<Record<string, unknown>>
    [k: string]: unknown
  }
  // biome-ignore lint/suspicious/noExplicitAny: wire objects are checked where they are used
  spec?: any
  // biome-ignore lint/suspicious/noExplicitAny: wire objects are checked where they are used
  status?: any
  // biome-ignore lint/suspicious/noExplicitAny: wire objects are checked where they are used
  [k: string]: any
}

export class KubeError extends Error {
  readonly code: number
  readonly reason: string
  constructor(code: number, reason: string, message: string) {
    super(message)
    this.code = code
    this.reason = reason
  }
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR"
  object: KubeObject
}

export class Kube {
  readonly server: URL
  private readonly agent: Agent
  private readonly token: string | undefined

  constructor(kubeconfigPath: string) {
    // biome-ignore lint/suspicious/noExplicitAny: kubeconfig YAML
    const cfg: any = parse(readFileSync(kubeconfigPath, "utf8"))
    const ctx = cfg.contexts.find((c: { name: string }) => c.name === cfg["current-context"]).context
    const cluster = cfg.clusters.find((c: { name: string }) => c.name === ctx.cluster).cluster
    const user = cfg.users.find((u: { name: string }) => u.name === ctx.user).user
    const file = (p: string | undefined, inline: string | undefined) =>
      p ? readFileSync(p) : inline ? Buffer.from(inline, "base64") : undefined
    this.server = new URL(cluster.server)
    this.token = user.token
    const ca = file(cluster["certificate-authority"], cluster["certificate-authority-data"])
    const cert = file(user["client-certificate"], user["client-certificate-data"])
    const key = file(user["client-key"], user["client-key-data"])
    this.agent = new Agent({ keepAlive: true, ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) })
  }

  private open(method: string, path: string, body: unknown, contentType: string, timeoutMs: number) {
    return new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body)
      const req = request(
        new URL(path, this.server),
        {
          method,
          agent: this.agent,
          timeout: timeoutMs,
          headers: {
            accept: "application/json",
            // An explicit length: Node sends DELETE bodies unframed otherwise, which the server then
            // reads as the next request on the keep-alive connection.
            ...(payload !== undefined && { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
            ...(this.token && { authorization: `Bearer ${this.token}` })
          }
        },
        resolve
      )
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timeout`)))
      req.on("error", reject)
      req.end(payload)
    })
  }

  async request<T = KubeObject>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json"
  ): Promise<T> {
    const res = await this.open(method, path, body, contentType, 30_000)
    const chunks: Array<Buffer> = []
    for await (const c of res) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString("utf8")
    const status = res.statusCode ?? 0
    if (status < 200 || status >= 300) {
      let reason = "Unknown"
      let message = text
      try {
        const s = JSON.parse(text)
        reason = s.reason ?? reason
        message = s.message ?? message
      } catch {}
      throw new KubeError(status, reason, `${method} ${path}: ${status} ${message}`)
    }
    return (text ? JSON.parse(text) : undefined) as T
  }

  get = <T = KubeObject>(path: string) => this.request<T>("GET", path)
  create = (path: string, body: unknown) => this.request("POST", path, body)
  replace = (path: string, body: unknown) => this.request("PUT", path, body)
  mergePatch = (path: string, body: unknown) => this.request("PATCH", path, body, "application/merge-patch+json")
  delete = (path: string, body?: unknown) => this.request("DELETE", path, body)

  /** GET, or undefined on 404. */
  async find<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path)
    } catch (e) {
      if (e instanceof KubeError && e.code === 404) return undefined
      throw e
    }
  }

  /** Server-side apply of a whole object (path is the object's own URL). */
  apply = (path: string, obj: unknown, fieldManager = "doltdb-e2e") =>
    this.request("PATCH", `${path}?fieldManager=${fieldManager}&force=true`, obj, "application/apply-patch+yaml")

  /**
   * Watches a collection until `signal` aborts, calling `onEvent` for each event. List first, then watch
   * from the list's resourceVersion; relists when the watch ends or expires (410), like an informer.
   */
  async watch(
    path: string,
    onEvent: (e: WatchEvent) => void | Promise<void>,
    signal: AbortSignal,
    query = ""
  ): Promise<void> {
    while (!signal.aborted) {
      try {
        const list = await this.get<{ items: Array<KubeObject>; metadata: { resourceVersion: string } }>(
          `${path}?${query}`
        )
        for (const item of list.items) await onEvent({ type: "ADDED", object: item })
        let rv = list.metadata.resourceVersion
        while (!signal.aborted) {
          const res = await this.open(
            "GET",
            `${path}?watch=1&allowWatchBookmarks=true&timeoutSeconds=60&resourceVersion=${rv}${query && `&${query}`}`,
            undefined,
            "",
            90_000
          )
          const onAbort = () => res.destroy()
          signal.addEventListener("abort", onAbort, { once: true })
          let buf = ""
          let expired = false
          try {
            for await (const chunk of res) {
              buf += chunk.toString()
              let nl = buf.indexOf("\n")
              while (nl >= 0) {
                const line = buf.slice(0, nl)
                buf = buf.slice(nl + 1)
                nl = buf.indexOf("\n")
                if (!line.trim()) continue
                const ev = JSON.parse(line) as WatchEvent
                if (ev.type === "ERROR") {
                  expired = true
                  break
                }
                rv = ev.object.metadata.resourceVersion ?? rv
                if (ev.type !== "BOOKMARK") await onEvent(ev)
              }
              if (expired) break
            }
          } finally {
            signal.removeEventListener("abort", onAbort)
          }
          if (expired) break
        }
      } catch (e) {
        if (signal.aborted) return
        console.error(`[watch ${path}] ${(e as Error).message}; relisting in 1s`)
        await new Promise((r) => setTimeout(r, 1000))
      }
    }
  }

  close() {
    this.agent.destroy()
  }
}

/** URL of a namespaced core/v1 resource collection or object. */
export const core = (resource: string, namespace?: string, name?: string) =>
  `/api/v1${namespace ? `/namespaces/${namespace}` : ""}/${resource}${name ? `/${name}` : ""}`

/** URL of a namespaced resource of an API group. */
export const group = (gv: string, resource: string, namespace?: string, name?: string) =>
  `/apis/${gv}${namespace ? `/namespaces/${namespace}` : ""}/${resource}${name ? `/${name}` : ""}`
