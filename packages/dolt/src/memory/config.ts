/**
 * The part of Dolt's sql-server YAML the model acts on (dolt-cluster.md §1.1-§1.2), validated the way Dolt
 * validates it at startup. Any problem is a startup failure with Dolt's message.
 */
import { parse } from "yaml"

export interface StandbyRemote {
  readonly name: string
  readonly remoteUrlTemplate: string
}

export interface ModelServerConfig {
  readonly listenerPort: number
  readonly dataDir: string
  readonly cluster:
    | {
        readonly standbyRemotes: ReadonlyArray<StandbyRemote>
        readonly bootstrapRole: "primary" | "standby"
        readonly bootstrapEpoch: number
        readonly remotesApiPort: number
      }
    | undefined
  /** `system_variables.dolt_cluster_ack_writes_timeout_secs` (0-60). */
  readonly ackWritesTimeoutSecs: number | undefined
  /** `listener.tls_cert` / `require_secure_transport`; `undefined` without TLS. */
  readonly listenerTls?: { readonly certPath: string; readonly requireSecureTransport: boolean } | undefined
}

export type ConfigResult =
  | { readonly ok: true; readonly config: ModelServerConfig }
  | { readonly ok: false; readonly error: string }

const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined

/** `${VAR}` from the environment, `$$` -> `$` (Dolt >= 1.79.3); an unset variable is a startup error. */
const interpolate = (text: string, env: Readonly<Record<string, string>>): { text: string; missing?: string } => {
  let missing: string | undefined
  const out = text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/gu, (m, name: string | undefined) => {
    if (m === "$$") return "$"
    const value = name === undefined ? undefined : env[name]
    if (value === undefined || value === "") missing = name
    return value ?? ""
  })
  return missing === undefined ? { text: out } : { text: out, missing }
}

/** Parsed configs by text: every server start and config reload parses one of a few configs again. Bounded. */
const parsedConfigs = new Map<string, ConfigResult>()

export const parseServerConfig = (yamlText: string, env: Readonly<Record<string, string>>): ConfigResult => {
  const expanded = interpolate(yamlText, env)
  if (expanded.missing !== undefined) {
    return { ok: false, error: `config: environment variable ${expanded.missing} is not set or empty` }
  }
  const known = parsedConfigs.get(expanded.text)
  if (known !== undefined) return known
  const result = parseExpanded(expanded.text)
  if (parsedConfigs.size >= 256) parsedConfigs.clear()
  parsedConfigs.set(expanded.text, result)
  return result
}

const parseExpanded = (text: string): ConfigResult => {
  let doc: unknown
  try {
    doc = parse(text)
  } catch (cause) {
    return { ok: false, error: `config: invalid YAML: ${String(cause)}` }
  }
  const root = record(doc) ?? {}
  const listener = record(root.listener) ?? {}
  const listenerPort = typeof listener.port === "number" ? listener.port : 3306
  const dataDir = typeof root.data_dir === "string" ? root.data_dir : "."
  const vars = record(root.system_variables) ?? {}
  const ackRaw = vars.dolt_cluster_ack_writes_timeout_secs
  const ack = ackRaw === undefined ? undefined : Number(ackRaw)
  if (ack !== undefined && (!Number.isInteger(ack) || ack < 0 || ack > 60)) {
    return {
      ok: false,
      error: `system_variables: dolt_cluster_ack_writes_timeout_secs must be 0-60, got ${String(ackRaw)}`
    }
  }
  const tlsCert = typeof listener.tls_cert === "string" ? listener.tls_cert : ""
  const tlsKey = typeof listener.tls_key === "string" ? listener.tls_key : ""
  const requireSecure = listener.require_secure_transport === true
  // servercfg.ValidateConfig / getTLSConfig, in Dolt's words.
  if (requireSecure && tlsCert === "" && tlsKey === "")
    return { ok: false, error: "require_secure_transport can only be `true` when a tls_key and tls_cert are provided." }
  if ((tlsCert === "") !== (tlsKey === ""))
    return { ok: false, error: `tls.LoadX509KeyPair(${tlsCert}, ${tlsKey}) failed: open : no such file or directory` }
  const listenerTls = tlsCert === "" ? undefined : { certPath: tlsCert, requireSecureTransport: requireSecure }
  const clusterDoc = record(root.cluster)
  if (clusterDoc === undefined)
    return { ok: true, config: { listenerPort, dataDir, cluster: undefined, ackWritesTimeoutSecs: ack, listenerTls } }
  const remotesRaw = Array.isArray(clusterDoc.standby_remotes) ? clusterDoc.standby_remotes : []
  if (remotesRaw.length === 0) {
    return { ok: false, error: "cluster config: must supply standby_remotes when supplying cluster configuration." }
  }
  const standbyRemotes: Array<StandbyRemote> = []
  for (const [i, r] of remotesRaw.entries()) {
    const rec = record(r) ?? {}
    const name = typeof rec.name === "string" ? rec.name : ""
    const template = typeof rec.remote_url_template === "string" ? rec.remote_url_template : ""
    if (name === "") return { ok: false, error: `cluster: standby_remotes[${i}]: name: Cannot be empty` }
    if (!template.includes("{database}")) {
      return {
        ok: false,
        error: `cluster: standby_remotes[${i}]: remote_url_template: is "${template}" but must include the {database} template parameter`
      }
    }
    standbyRemotes.push({ name, remoteUrlTemplate: template })
  }
  const role = clusterDoc.bootstrap_role ?? ""
  if (role !== "" && role !== "primary" && role !== "standby") {
    return { ok: false, error: `cluster: boostrap_role: is "${String(role)}" but must be "primary" or "standby"` }
  }
  const epoch = clusterDoc.bootstrap_epoch ?? 0
  if (typeof epoch !== "number" || !Number.isInteger(epoch) || epoch < 0) {
    return { ok: false, error: `cluster: boostrap_epoch: is ${String(epoch)} but must be >= 0` }
  }
  const remotesapi = record(clusterDoc.remotesapi) ?? {}
  const remotesApiPort = typeof remotesapi.port === "number" ? remotesapi.port : 50051
  if (remotesApiPort < 0 || remotesApiPort > 65535) {
    return { ok: false, error: `cluster: remotesapi: port: is not in range 0-65535: ${remotesApiPort}` }
  }
  return {
    ok: true,
    config: {
      listenerPort,
      dataDir,
      ackWritesTimeoutSecs: ack,
      listenerTls,
      cluster: {
        standbyRemotes,
        bootstrapRole: role === "standby" ? "standby" : "primary",
        bootstrapEpoch: epoch,
        remotesApiPort
      }
    }
  }
}
