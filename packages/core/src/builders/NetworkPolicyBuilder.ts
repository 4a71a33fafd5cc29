/**
 * NetworkPolicy `<name>` (`spec.networkPolicy.enabled`, off by default): ingress to the DoltDB's pods is limited to
 * - the replication port (cluster remotesapi): only the DoltDB's own pods, so no other workload can push to or
 *   read from a standby (Dolt authenticates peers by JWKS fetched from the configured peers, but the port itself
 *   answers anyone: dolt-cluster.md §1.1);
 * - the SQL (and MCP) ports: `sqlFrom` plus the DoltDB's own pods, or anyone when `sqlFrom` is absent. The
 *   operator connects over SQL, so `sqlFrom` must include it;
 * - the metrics port: anyone (Prometheus).
 * Any other port (the profiler's) is closed. Egress is not restricted.
 */
import type { DoltDB } from "../api/DoltDB.ts"
import { isMcpServerEnabled, isReplicated } from "./ConfigMapBuilder.ts"
import type { NetworkPolicy, NetworkPolicyRule } from "./KubeObjects.ts"
import { selectorLabels } from "./Labels.ts"
import { childMetadata, type IdentifiedDoltDB } from "./Owner.ts"

export const networkPolicyName = (name: string): string => name

export const isNetworkPolicyEnabled = (doltdb: DoltDB): boolean => doltdb.spec.networkPolicy?.enabled === true

const tcp = (port: number) => ({ protocol: "TCP" as const, port })

export const buildNetworkPolicy = (doltdb: IdentifiedDoltDB): NetworkPolicy | undefined => {
  if (!isNetworkPolicyEnabled(doltdb)) return undefined
  const { server } = doltdb.spec
  const ownPods = { podSelector: { matchLabels: selectorLabels(doltdb.metadata.name) } }
  const sqlPorts = [
    tcp(server.listener.port),
    ...(server.mcpServer !== undefined && isMcpServerEnabled(doltdb) ? [tcp(server.mcpServer.port)] : [])
  ]
  const sqlFrom = doltdb.spec.networkPolicy?.sqlFrom
  const ingress: Array<NetworkPolicyRule> = [
    sqlFrom === undefined ? { ports: sqlPorts } : { from: [ownPods, ...sqlFrom], ports: sqlPorts },
    ...(isReplicated(doltdb) ? [{ from: [ownPods], ports: [tcp(server.cluster.remotesAPI.port)] }] : []),
    ...(server.metrics.enabled ? [{ ports: [tcp(server.metrics.port)] }] : [])
  ]
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: childMetadata(doltdb, networkPolicyName(doltdb.metadata.name)),
    spec: {
      podSelector: { matchLabels: selectorLabels(doltdb.metadata.name) },
      policyTypes: ["Ingress"],
      ingress
    }
  }
}
