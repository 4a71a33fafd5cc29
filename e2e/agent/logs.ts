// The kubelet's container-log endpoint, for `kubectl logs` (and `kubectl doltdb logs`) through the API server:
// `GET /containerLogs/{namespace}/{pod}/{container}?tailLines=N` over HTTPS on port KUBELET_LOG_PORT_BASE + the
// node index, on the bridge address the Node reports (the API server runs with
// --kubelet-preferred-address-types=InternalIP and, as in kubeadm's default, does not verify the kubelet's
// certificate: the API server's own serves here). Logs are the files the agent writes (e2e/.work/logs/pods/...),
// every run of a container appended to one file, so `previous` is refused. Plain async Node (test infrastructure).
import { existsSync, readFileSync } from "node:fs"
import { createServer } from "node:https"
import { join } from "node:path"

export const KUBELET_LOG_PORT_BASE = 10250

export interface LogSource {
  /** The log directory of the running pod `namespace/name`, if this node runs it. */
  readonly logDir: (namespace: string, name: string) => string | undefined
}

const tail = (text: string, lines: number | undefined) => {
  if (lines === undefined) return text
  const all = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n")
  return lines <= 0 ? "" : `${all.slice(-lines).join("\n")}\n`
}

export const serveLogs = (workDir: string, address: string, port: number, source: LogSource) => {
  const pki = join(workDir, "pki")
  const server = createServer(
    { key: readFileSync(join(pki, "apiserver.key")), cert: readFileSync(join(pki, "apiserver.crt")) },
    (req, res) => {
      const url = new URL(req.url ?? "/", "https://kubelet")
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname)
      const reply = (code: number, body: string) => {
        res.writeHead(code, { "content-type": "text/plain; charset=utf-8" })
        res.end(body)
      }
      if (req.method !== "GET" || !m) return reply(404, "not found\n")
      if (url.searchParams.get("previous") === "true")
        return reply(400, "previous: the e2e agent keeps one log per container (every run appended)\n")
      const [, ns, pod, container] = m.map(decodeURIComponent) as [string, string, string, string]
      const dir = source.logDir(ns, pod)
      const file = dir && join(dir, `${container}.log`)
      if (!file || !existsSync(file)) return reply(404, `no logs for ${ns}/${pod}/${container} on this node\n`)
      const lines = url.searchParams.get("tailLines")
      reply(200, tail(readFileSync(file, "utf8"), lines === null ? undefined : Number(lines)))
    }
  )
  server.listen(port, address)
  return server
}
