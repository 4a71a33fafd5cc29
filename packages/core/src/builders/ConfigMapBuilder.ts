/**
 * ConfigMap `<name>-config`: one Dolt sql-server config per pod (`<name>-<i>.yaml`), and the hash that rolls pods
 * when a config change needs a restart.
 */
import type { DoltDB } from "../api/DoltDB.ts"
import { BootstrapScriptKey, bootstrapScript } from "./BootstrapScript.ts"
import {
  buildDoltConfigs,
  type DoltConfig,
  type DoltConfigInput,
  hasClusterSection,
  rolloutRelevantConfig
} from "./DoltConfig.ts"
import { toYaml } from "./DoltYaml.ts"
import { parseEngineVersion, supports } from "./EngineVersion.ts"
import type { ConfigMap } from "./KubeObjects.ts"
import { configKey, configMapName } from "./Names.ts"
import { childMetadata, type IdentifiedDoltDB } from "./Owner.ts"
import { sha256Hex } from "./Sha256.ts"
import { peerServerName } from "./TlsBuilder.ts"

/** The generator input for a decoded DoltDB (every default is already filled by decoding). */
export const doltConfigInput = (
  doltdb: DoltDB & { readonly metadata: { readonly name: string; readonly namespace: string } },
  members?: number
): DoltConfigInput => {
  const { spec } = doltdb
  const { server } = spec
  return {
    name: doltdb.metadata.name,
    namespace: doltdb.metadata.namespace,
    replicas: spec.replicas,
    ...(members === undefined || members >= spec.replicas ? {} : { members }),
    engineVersion: parseEngineVersion(spec.engineVersion),
    logLevel: server.logLevel,
    autoGcEnabled: server.behavior.autoGCBehavior.enabled,
    listener: server.listener,
    metrics: server.metrics.enabled
      ? { host: server.metrics.host, port: server.metrics.port, labels: server.metrics.labels }
      : undefined,
    mcpServer:
      server.mcpServer === undefined
        ? undefined
        : {
            port: server.mcpServer.port,
            customUser: server.mcpServer.user !== undefined && server.mcpServer.user !== "",
            database: server.mcpServer.database
          },
    replication: spec.replication.enabled
      ? { bootstrapPrimary: spec.replication.primary.podIndex, remotesApiPort: server.cluster.remotesAPI.port }
      : undefined,
    tls:
      spec.tls?.enabled === true
        ? {
            requireSecureTransport: spec.tls.requireSecureTransport,
            peerServerName: peerServerName(doltdb.metadata.name, doltdb.metadata.namespace)
          }
        : undefined
  }
}

/** Whether the cluster (replication) section is written for this DoltDB. */
export const isReplicated = (doltdb: IdentifiedDoltDB): boolean => hasClusterSection(doltConfigInput(doltdb))

/** Whether the MCP server block is written (the engine must expand `${VAR}` placeholders). */
export const isMcpServerEnabled = (doltdb: DoltDB): boolean =>
  doltdb.spec.server.mcpServer !== undefined &&
  supports(parseEngineVersion(doltdb.spec.engineVersion), "envInterpolation")

export const buildConfigData = (doltdb: IdentifiedDoltDB, members?: number): Readonly<Record<string, string>> =>
  Object.fromEntries(
    buildDoltConfigs(doltConfigInput(doltdb, members)).configs.map((config, ordinal) => [
      configKey(doltdb.metadata.name, ordinal),
      toYaml(config)
    ])
  )

/** `members`: see `DoltConfigInput.members`. */
export const buildConfigMap = (doltdb: IdentifiedDoltDB, members?: number): ConfigMap => {
  const bootstrap = bootstrapScript(doltdb)
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: childMetadata(doltdb, configMapName(doltdb.metadata.name)),
    data: {
      ...buildConfigData(doltdb, members),
      ...(bootstrap === undefined ? {} : { [BootstrapScriptKey]: bootstrap })
    }
  }
}

/**
 * The `k8s.dolthub.com/configmap-hash` pod-template annotation: sha256 over the rollout-relevant part of every
 * pod's config (see `rolloutRelevantConfig`). On engines that make it possible, that part is the same for every
 * pod, so the hash covers each distinct config once and does not depend on the replica count: scaling does not
 * roll the StatefulSet, while any change to a server setting does.
 */
export const configHash = (doltdb: IdentifiedDoltDB, members?: number): string => {
  const input = doltConfigInput(doltdb, members)
  // Pods a scale-down only holds for now (`members`) are left out: they go away without a restart, and the hash must
  // not change again when they do.
  const distinct = new Set(
    buildDoltConfigs(input)
      .configs.slice(0, input.members ?? input.replicas)
      .map((config: DoltConfig) =>
        toYaml(rolloutRelevantConfig(config, input.engineVersion, doltdb.spec.updateStrategy))
      )
  )
  return sha256Hex([...distinct].sort().join("\n---\n"))
}
