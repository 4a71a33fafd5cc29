/** How the model finds a server from a host name: pod IP, or `<pod>.<svc>.<ns>[.svc[.cluster.local]]`. */

const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/u

export type HostKey =
  | { readonly _tag: "Ip"; readonly ip: string }
  | { readonly _tag: "Pod"; readonly namespace: string; readonly pod: string }

/** `defaultNamespace` applies to `<pod>` and `<pod>.<svc>` (a peer's remote URL, resolved in its own namespace). */
export const parseHost = (host: string, defaultNamespace: string): HostKey => {
  const h = host.replace(/\.$/u, "").toLowerCase()
  if (ipv4.test(h)) return { _tag: "Ip", ip: h }
  const labels = h.split(".")
  return {
    _tag: "Pod",
    pod: labels[0] ?? "",
    namespace: labels.length >= 3 ? (labels[2] ?? defaultNamespace) : defaultNamespace
  }
}

/**
 * Parsed templates, by template: the replication loop resolves every hook's remote on every step, and URL parsing
 * was the largest cost of a simulation with hundreds of DoltDBs (packages/operator/bench/scale.ts). Templates are
 * few (one per pod and peer), so the memo stays small.
 */
const parsedTemplates = new Map<string, { readonly host: string; readonly port: number } | undefined>()

/** Host part of a remote URL template (`http://db-1.db-internal:50051/{database}`). */
export const templateHostPort = (template: string): { readonly host: string; readonly port: number } | undefined => {
  if (parsedTemplates.has(template)) return parsedTemplates.get(template)
  const parsed = parseTemplate(template)
  if (parsedTemplates.size >= 100_000) parsedTemplates.clear()
  parsedTemplates.set(template, parsed)
  return parsed
}

const parseTemplate = (template: string): { readonly host: string; readonly port: number } | undefined => {
  const url = template.replaceAll("{database}", "db")
  if (!URL.canParse(url)) return undefined
  const parsed = new URL(url)
  const port = parsed.port === "" ? (parsed.protocol === "https:" ? 443 : 80) : Number(parsed.port)
  return { host: parsed.hostname, port }
}
