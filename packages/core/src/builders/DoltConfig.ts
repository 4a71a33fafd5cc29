/**
 * The per-pod Dolt sql-server config (`<name>-<i>.yaml` in the `<name>-config` ConfigMap).
 *
 * Same keys and order as the reference (reference-operator.md §5), with its flaws fixed:
 * - the bootstrap primary is `spec.replication.primary.podIndex`, not always pod 0 (reference flaw 9);
 * - every key is gated by the first engine release that knows it, because Dolt rejects unknown keys at startup
 *   (`EngineVersion.MinimumVersions`); an unknown engine version gets only keys every release knows;
 * - the MCP credentials stay `${VAR}` placeholders that Dolt expands from the pod's environment (the values come
 *   from Secrets), so the block is only written for engines that expand them (>= 1.79.3): on older engines the
 *   literal placeholder would become the password. On those engines Dolt expands `$` in the whole file, so every
 *   user-provided string we write (log level, hosts, metrics labels, the MCP database) has its `$` doubled.
 */

import type { YamlValue } from "./DoltYaml.ts"
import { type EngineVersion, formatRelease, isAtLeast, MinimumVersions, supports } from "./EngineVersion.ts"
import type { StringMap } from "./Labels.ts"
import { podHost, podName } from "./Names.ts"
import { TlsPaths } from "./TlsBuilder.ts"

/** Everything the generator needs, already defaulted (the DoltDB builders derive it from the decoded spec). */
export interface DoltConfigInput {
  readonly name: string
  readonly namespace: string
  readonly replicas: number
  /**
   * Set while a scale-down waits to move the primary off a pod it removes (the StatefulSet still has `replicas`
   * pods): pods `0..members-1` stay, and their peer lists name only each other, so that they restart with their
   * final list as standbys, before one of them is promoted (a primary reads its peers at startup only: one listing
   * a removed pod would wait on it for every ack-write and every drain). The pods above keep the full list.
   */
  readonly members?: number | undefined
  readonly engineVersion: EngineVersion
  readonly logLevel: string
  readonly autoGcEnabled: boolean
  readonly listener: { readonly host: string; readonly port: number; readonly maxConnections: number }
  /** `undefined` when metrics are disabled. */
  readonly metrics: { readonly host: string; readonly port: number; readonly labels: StringMap | undefined } | undefined
  /** `undefined` when no MCP server is configured. `customUser`: `server.mcpServer.user` is set. */
  readonly mcpServer:
    | { readonly port: number; readonly customUser: boolean; readonly database: string | undefined }
    | undefined
  /** `undefined` when replication is disabled. */
  readonly replication: { readonly bootstrapPrimary: number; readonly remotesApiPort: number } | undefined
  /**
   * `undefined` when TLS is off. On: both listeners use the mounted certificate (TlsBuilder.ts), peers are dialled
   * over https and verified against `ca.crt` plus `peerServerName` in their certificate.
   */
  readonly tls?: { readonly requireSecureTransport: boolean; readonly peerServerName: string } | undefined
}

/** The first epoch every pod starts at; Dolt ignores bootstrap values once a role/epoch is persisted. */
export const BootstrapEpoch = 1

/** Env vars the config refers to as `${VAR}` (set on the container from Secrets). */
export const McpUserEnv = "DOLT_MCP_USER"
export const McpPasswordEnv = "DOLT_MCP_PASSWORD"
export const UsernameEnv = "DOLT_USERNAME"

export type DoltConfig = { readonly [key: string]: YamlValue }

export interface DoltConfigs {
  /** Config per ordinal `0..replicas-1`. */
  readonly configs: ReadonlyArray<DoltConfig>
  /** Things the user asked for that this engine cannot do, or values that were corrected. */
  readonly warnings: ReadonlyArray<string>
}

/** Whether the cluster section is written: replication on and at least one peer to replicate to. */
export const hasClusterSection = (input: DoltConfigInput): boolean =>
  input.replication !== undefined && input.replicas > 1

/** The standby remotes pod `ordinal` pushes to: every other pod (full mesh, never itself). */
export const standbyRemotes = (
  name: string,
  namespace: string,
  replicas: number,
  ordinal: number,
  remotesApiPort: number,
  tls = false
): ReadonlyArray<{ readonly name: string; readonly remote_url_template: string }> =>
  Array.from({ length: replicas }, (_, peer) => peer)
    .filter((peer) => peer !== ordinal)
    .map((peer) => ({
      name: podName(name, peer),
      remote_url_template: `${tls ? "https" : "http"}://${podHost(name, namespace, peer)}:${remotesApiPort}/{database}`
    }))

/** How many pods `ordinal`'s peer list spans (`DoltConfigInput.members`). */
const peerCount = (input: DoltConfigInput, ordinal: number): number =>
  input.members !== undefined && input.members >= 2 && ordinal < input.members ? input.members : input.replicas

/** The ordinal that bootstraps as primary: `podIndex` when in range, else 0 (with a warning). */
export const bootstrapPrimary = (input: DoltConfigInput): { readonly ordinal: number; readonly warning?: string } => {
  const wanted = input.replication?.bootstrapPrimary ?? 0
  if (Number.isInteger(wanted) && wanted >= 0 && wanted < input.replicas) return { ordinal: wanted }
  return {
    ordinal: 0,
    warning:
      `spec.replication.primary.podIndex ${wanted} is outside 0..${input.replicas - 1}; ` +
      `pod ${podName(input.name, 0)} bootstraps as primary instead`
  }
}

export const buildDoltConfigs = (input: DoltConfigInput): DoltConfigs => {
  const warnings: Array<string> = []
  const version = input.engineVersion
  const versionText = version._tag === "Release" ? formatRelease(version) : `"${version.raw}" (not a release number)`
  const primary = bootstrapPrimary(input)
  if (hasClusterSection(input) && primary.warning !== undefined) warnings.push(primary.warning)

  const writeAutoGc = supports(version, "autoGcBehavior")
  // Before 1.50 there is no auto-GC to configure; an unknown engine may well have it on by default (>= 1.75).
  if (!writeAutoGc && (input.autoGcEnabled || version._tag === "Unknown")) {
    warnings.push(
      `server.behavior.autoGCBehavior.enabled needs Dolt >= ${formatRelease(MinimumVersions.autoGcBehavior)}; ` +
        `engine ${versionText} does not get the key and runs with its own default`
    )
  }
  const writeMcp = input.mcpServer !== undefined && supports(version, "envInterpolation")
  if (input.mcpServer !== undefined && !writeMcp) {
    warnings.push(
      `server.mcpServer needs Dolt >= ${formatRelease(MinimumVersions.envInterpolation)} ` +
        `(\${VAR} expansion keeps its password out of the ConfigMap); engine ${versionText} runs without it`
    )
  }

  if (input.tls !== undefined && hasClusterSection(input) && version._tag === "Release") {
    if (!isAtLeast(version, MinimumVersions.clusterTls)) {
      warnings.push(
        `replication over TLS needs Dolt >= ${formatRelease(MinimumVersions.clusterTls)} (earlier releases negotiate ALPN in a way newer peers refuse); engine ${versionText} may fail to replicate`
      )
    }
  }

  // Dolt >= 1.79.3 expands `${VAR}` and reads `$$` as `$` anywhere in the file.
  const interpolates = supports(version, "envInterpolation")
  const text = (value: string): string => (interpolates ? value.replaceAll("$", () => "$$") : value)
  const labels = (map: StringMap): StringMap =>
    Object.fromEntries(Object.entries(map).map(([key, value]) => [text(key), text(value)]))

  const configs = Array.from({ length: input.replicas }, (_, ordinal): DoltConfig => {
    const config: Record<string, YamlValue> = {}
    if (writeAutoGc) config.behavior = { auto_gc_behavior: { enable: input.autoGcEnabled } }
    config.log_level = text(input.logLevel)
    if (hasClusterSection(input) && input.replication !== undefined) {
      const port = input.replication.remotesApiPort
      const tls = input.tls
      config.cluster = {
        standby_remotes: standbyRemotes(
          input.name,
          input.namespace,
          peerCount(input, ordinal),
          ordinal,
          port,
          tls !== undefined
        ),
        bootstrap_role: ordinal === primary.ordinal ? "primary" : "standby",
        bootstrap_epoch: BootstrapEpoch,
        remotesapi:
          tls === undefined
            ? { port }
            : {
                port,
                tls_key: TlsPaths.key,
                tls_cert: TlsPaths.cert,
                tls_ca: TlsPaths.ca,
                server_name_dns: [text(tls.peerServerName)]
              }
      }
    }
    config.listener = {
      host: text(input.listener.host),
      port: input.listener.port,
      max_connections: input.listener.maxConnections,
      ...(input.tls === undefined
        ? {}
        : {
            tls_key: TlsPaths.key,
            tls_cert: TlsPaths.cert,
            require_secure_transport: input.tls.requireSecureTransport
          })
    }
    if (input.metrics !== undefined) {
      config.metrics = {
        ...(input.metrics.labels !== undefined && Object.keys(input.metrics.labels).length > 0
          ? { labels: labels(input.metrics.labels) }
          : {}),
        host: text(input.metrics.host),
        port: input.metrics.port
      }
    }
    if (writeMcp && input.mcpServer !== undefined) {
      config.mcp_server = {
        port: input.mcpServer.port,
        user: `\${${input.mcpServer.customUser ? McpUserEnv : UsernameEnv}}`,
        password: `\${${McpPasswordEnv}}`,
        ...(input.mcpServer.database !== undefined && input.mcpServer.database !== ""
          ? { database: text(input.mcpServer.database) }
          : {})
      }
    }
    return config
  })
  return { configs, warnings }
}

/**
 * The part of a pod's config whose change needs that pod restarted.
 *
 * Why this exists (reference flaw 18: any scale change rolled every pod, primary included): each pod's config
 * lists all its peers, so the raw ConfigMap changes whenever `replicas` does. We drop from the rollout hash
 * - `bootstrap_role` / `bootstrap_epoch`: Dolt ignores them once a role and epoch are persisted (in
 *   `$DOLT_ROOT_PATH`, which is on the PVC), so changing them never needs a restart;
 * - `standby_remotes`, on engines >= 1.29.6 only: those create missing remotes at startup, so a pod picks up a
 *   changed peer list whenever it next restarts. New pods read the current ConfigMap when they start. A pod that
 *   is running keeps pushing to the peers it started with; removed peers just become unreachable remotes, and the
 *   DoltDB planner restarts the pods created before the peer list changed (status `mesh`), standbys first and the
 *   primary after a switchover, like any rolling update.
 *
 * `${VAR}` interpolation (>= 1.79.3) cannot make the peer list itself independent of the replica count (a list
 * has no templating and a pod must not list itself), which is why the hash, not the file, leaves it out.
 * Older and unknown engines keep the reference's behaviour (the whole config is hashed): restarting a pre-1.29.6
 * pod with a new peer fails at startup, and for an unknown engine we assume nothing.
 */
export const rolloutRelevantConfig = (
  config: DoltConfig,
  engineVersion: EngineVersion,
  /**
   * Only `ReplicasFirstPrimaryLast` leaves the peer list out: there the operator restarts, replication-aware, the
   * pods that started with an older peer list (`DoltDB status.mesh`). With the other strategies nobody would, and
   * a running primary would never push to a new pod, so the peer list rolls pods as in the reference.
   */
  updateStrategy: string = "ReplicasFirstPrimaryLast"
): DoltConfig => {
  const cluster = config.cluster
  if (cluster === undefined || typeof cluster !== "object" || Array.isArray(cluster)) return config
  const {
    bootstrap_role: _role,
    bootstrap_epoch: _epoch,
    standby_remotes,
    ...rest
  } = cluster as {
    readonly [key: string]: YamlValue
  }
  const keepPeers =
    !supports(engineVersion, "autoCreateClusterRemotes") || updateStrategy !== "ReplicasFirstPrimaryLast"
  return {
    ...config,
    cluster: keepPeers && standby_remotes !== undefined ? { standby_remotes, ...rest } : rest
  }
}
