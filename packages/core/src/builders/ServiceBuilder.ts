/**
 * Services (reference-operator.md §3.10, §6.8): the headless `<name>-internal` always; `<name>-primary` and
 * `<name>-reader` when replicated, `<name>` when standalone. Same names, selectors and port names as the reference.
 *
 * `<name>-internal` publishes not-ready addresses: peers replicate to each other through its per-pod DNS names,
 * and with probes that react within seconds a standby that is briefly NotReady must not drop out of DNS
 * (dolt-cluster.md §5). Clients never use it for routing; they use the primary/reader Services.
 */
import { isMcpServerEnabled, isReplicated } from "./ConfigMapBuilder.ts"
import type { Service, ServicePort } from "./KubeObjects.ts"
import { ClusterRoleLabel, PodNameLabel, type StringMap, selectorLabels, sortKeys } from "./Labels.ts"
import { internalServiceName, podName, primaryServiceName, readerServiceName, standaloneServiceName } from "./Names.ts"
import { childMetadata, type IdentifiedDoltDB } from "./Owner.ts"
import { PortNames } from "./PodTemplate.ts"

const port = (name: string, number: number): ServicePort => ({
  name,
  port: number,
  targetPort: number,
  protocol: "TCP"
})

/** `tcp-dolt`, plus `http-mcp` when the MCP server runs. */
const clientPorts = (doltdb: IdentifiedDoltDB): ReadonlyArray<ServicePort> => {
  const { server } = doltdb.spec
  return [
    port(PortNames.sql, server.listener.port),
    ...(server.mcpServer !== undefined && isMcpServerEnabled(doltdb)
      ? [port(PortNames.mcp, server.mcpServer.port)]
      : [])
  ]
}

const service = (
  doltdb: IdentifiedDoltDB,
  name: string,
  selector: StringMap,
  ports: ReadonlyArray<ServicePort>,
  headless = false
): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: childMetadata(doltdb, name),
  spec: {
    type: "ClusterIP",
    ...(headless ? { clusterIP: "None", publishNotReadyAddresses: true } : {}),
    selector: sortKeys(selector),
    ports
  }
})

export const buildInternalService = (doltdb: IdentifiedDoltDB): Service => {
  const [sql, ...rest] = clientPorts(doltdb)
  const ports = [
    sql!,
    ...(isReplicated(doltdb) ? [port(PortNames.remotesApi, doltdb.spec.server.cluster.remotesAPI.port)] : []),
    ...rest
  ]
  return service(doltdb, internalServiceName(doltdb.metadata.name), selectorLabels(doltdb.metadata.name), ports, true)
}

/** The ordinal the primary Service routes to: the operator's current primary, else the desired one. */
export const primaryOrdinal = (doltdb: IdentifiedDoltDB): number =>
  doltdb.status?.currentPrimaryPodIndex ?? doltdb.spec.replication.primary.podIndex

export const buildPrimaryService = (doltdb: IdentifiedDoltDB): Service => {
  const name = doltdb.metadata.name
  return service(
    doltdb,
    primaryServiceName(name),
    {
      ...selectorLabels(name),
      [ClusterRoleLabel]: "primary",
      [PodNameLabel]: podName(name, primaryOrdinal(doltdb))
    },
    clientPorts(doltdb)
  )
}

export const buildReaderService = (doltdb: IdentifiedDoltDB): Service => {
  const name = doltdb.metadata.name
  return service(
    doltdb,
    readerServiceName(name),
    { ...selectorLabels(name), [ClusterRoleLabel]: "standby" },
    clientPorts(doltdb)
  )
}

export const buildStandaloneService = (doltdb: IdentifiedDoltDB): Service =>
  service(
    doltdb,
    standaloneServiceName(doltdb.metadata.name),
    selectorLabels(doltdb.metadata.name),
    clientPorts(doltdb)
  )

/** The Services of this DoltDB's current mode (the operator deletes the other mode's Services). */
export const buildServices = (doltdb: IdentifiedDoltDB): ReadonlyArray<Service> =>
  isReplicated(doltdb)
    ? [buildInternalService(doltdb), buildPrimaryService(doltdb), buildReaderService(doltdb)]
    : [buildInternalService(doltdb), buildStandaloneService(doltdb)]
