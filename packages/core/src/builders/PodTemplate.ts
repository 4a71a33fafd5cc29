/**
 * The pod template of the Dolt StatefulSet: the `dolt-init` and `dolt` containers, their environment, volumes and
 * scheduling. Same layout as the reference (reference-operator.md §4.2: `/db` is the PVC, working directory and
 * `DOLT_ROOT_PATH`; the per-pod config is copied from `/etc/doltdb/${POD_NAME}.yaml`), with its flaws fixed:
 * - `DOLT_ROOT_PATH` on the PVC keeps the persisted cluster role and epoch across restarts (dolt-cluster.md §1.3);
 * - credentials come from the `<name>-credentials` Secret as env vars, never from the ConfigMap, and never on a
 *   command line: the init container feeds the `CREATE USER` statement to `dolt sql` on stdin;
 * - `topologySpreadConstraints` is honoured;
 * - the template carries only our annotations and `spec.podAnnotations`, not the DoltDB's annotations (the
 *   reference copied all of them, `kubectl.kubernetes.io/last-applied-configuration` included, so any metadata
 *   edit restarted every pod). The DoltDB's labels are still copied, as selectors written for the reference
 *   (NetworkPolicies, dashboards) rely on them. To restart pods on purpose, set
 *   `spec.podAnnotations["kubectl.kubernetes.io/restartedAt"]`.
 */
import type { DoltDB } from "../api/DoltDB.ts"
import type { EnvVar } from "../api/k8s/Models.generated.ts"
import {
  BackupCredentialsMountPath,
  BackupCredentialsVolumeName,
  backupCredentialsEnv,
  backupCredentialsSecretName,
  doltHubCredsInit
} from "../backup/BackupCredentials.ts"
import { BootstrapScriptKey } from "./BootstrapScript.ts"
import { configHash, isMcpServerEnabled, isReplicated } from "./ConfigMapBuilder.ts"
import { McpPasswordEnv, McpUserEnv, UsernameEnv } from "./DoltConfig.ts"
import { parseEngineVersion, supports } from "./EngineVersion.ts"
import { buildGuardContainer, buildGuardTokenVolume } from "./GuardSidecar.ts"
import type { CommandContainer, ContainerPort, PodTemplate, ResourceRequirements, VolumeMount } from "./KubeObjects.ts"
import { ConfigHashAnnotation, DoltDBAnnotation, mergeMaps, ReplicationAnnotation } from "./Labels.ts"
import {
  configMapName,
  credentialsPasswordKey,
  credentialsSecretName,
  credentialsUserKey,
  dataVolumeName,
  serviceAccountName
} from "./Names.ts"
import { childLabels, type IdentifiedDoltDB } from "./Owner.ts"
import { buildPreStop, buildProbes } from "./Probes.ts"
import { containerSecurityContext, podSecurityContext } from "./SecurityContext.ts"
import { isTlsEnabled, TlsHashAnnotation, tlsVolume, tlsVolumeMount } from "./TlsBuilder.ts"

/** Observed facts the pod template depends on (the builders are otherwise a function of the DoltDB alone). */
export interface BuildContext {
  /** Hash of the mounted server certificate (`tls.crt` + `ca.crt`): a change restarts the pods (TlsBuilder.ts). */
  readonly tlsHash?: string | undefined
  /** The existing StatefulSet's (immutable; StatefulSetBuilder.ts): absent for a new one. */
  readonly podManagementPolicy?: "OrderedReady" | "Parallel" | undefined
  /**
   * The pods that stay after a scale-down the primary's position still holds up (`DoltConfigInput.members`): their
   * peer lists name only each other. Absent: every pod lists every other.
   */
  readonly peerMembers?: number | undefined
}

export const DoltContainerName = "dolt"
export const DoltInitContainerName = "dolt-init"
export const ConfigVolumeName = "dolt-config"
/** An emptyDir at /tmp: the root filesystem is read-only. */
export const TmpVolumeName = "tmp"
export const DataMountPath = "/db"
export const ConfigMountPath = "/etc/doltdb"
export const ProfilerPort = 6060

export const PortNames = {
  sql: "tcp-dolt",
  remotesApi: "grpc-remotesapi",
  metrics: "http-metrics",
  profiler: "http-profiler",
  mcp: "http-mcp"
} as const

/**
 * Used when `spec.resources` is absent: small enough that a 3-replica DoltDB schedules on kind or minikube (the
 * reference asked 4 CPUs and 2Gi per pod). Size production clusters explicitly (docs/security.md, README).
 */
export const DefaultResources: ResourceRequirements = {
  requests: { cpu: "250m", memory: "512Mi" },
  limits: { memory: "2Gi" }
}

export const image = (doltdb: DoltDB): string => `${doltdb.spec.image}:${doltdb.spec.engineVersion}`

const secretEnv = (name: string, secret: string, key: string): EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } }
})

/**
 * Environment of both containers, in the reference's order, then `spec.env`. On Dolt >= 1.49 the server creates
 * its implicit superuser from `DOLT_ROOT_PASSWORD`/`DOLT_ROOT_HOST` (YAML users are ignored since then); we give
 * it the admin password and keep it on `localhost`, so it is never a password-less root.
 */
export const buildEnv = (doltdb: IdentifiedDoltDB): ReadonlyArray<EnvVar> => {
  const name = doltdb.metadata.name
  const credentials = credentialsSecretName(name)
  const env: Array<EnvVar> = [
    { name: "DOLT_ROOT_PATH", value: DataMountPath },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    secretEnv(UsernameEnv, credentials, credentialsUserKey),
    secretEnv("DOLT_PASSWORD", credentials, credentialsPasswordKey)
  ]
  if (supports(parseEngineVersion(doltdb.spec.engineVersion), "rootUserFromEnv")) {
    env.push(secretEnv("DOLT_ROOT_PASSWORD", credentials, credentialsPasswordKey))
    env.push({ name: "DOLT_ROOT_HOST", value: "localhost" })
  }
  const mcp = doltdb.spec.server.mcpServer
  if (mcp !== undefined && isMcpServerEnabled(doltdb)) {
    if (mcp.user !== undefined && mcp.user !== "") env.push({ name: McpUserEnv, value: mcp.user })
    const ref = mcp.passwordSecretKeyRef
    env.push(
      ref === undefined
        ? secretEnv(McpPasswordEnv, credentials, credentialsPasswordKey)
        : secretEnv(McpPasswordEnv, ref.name ?? credentials, ref.key)
    )
  }
  // Object-store credentials for backups and restores: files in an operator-managed Secret (see BackupCredentials).
  env.push(...backupCredentialsEnv)
  return [...env, ...(doltdb.spec.env ?? [])]
}

/** Quotes a value for POSIX sh (single quotes; an embedded `'` becomes `'\''`). */
export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`

/**
 * Waits, at most `PeerNameWaitSeconds`, until every peer named in the pod's `config.yaml` resolves. Dolt dials its
 * standbys through gRPC channels whose name resolution backs off for seconds after a failed lookup, and the operator's
 * re-send of users and grants does not reset that back-off: a pod started before a peer's name was published (pods
 * of a new cluster start together) replicated to that peer late, and the first hand-over to it waited seconds in its
 * drain. An init container runs once per pod, never at a container restart, so a crashed primary's restart is not
 * delayed; a peer whose pod is gone (its node lost) costs the bound once. Skipped where the image has no `getent`.
 */
export const PeerNameWaitSeconds = 10

const peerNamesWait = [
  "if command -v getent >/dev/null 2>&1 && [ -f config.yaml ]; then",
  `  deadline=$(( $(date +%s) + ${PeerNameWaitSeconds} ))`,
  String.raw`  for peer in $(sed -n 's#.*remote_url_template: *"\{0,1\}[a-z]*://\([^:/"]*\).*#\1#p' config.yaml); do`,
  '    until getent hosts "$peer" >/dev/null 2>&1 || [ "$(date +%s)" -ge "$deadline" ]; do sleep 0.2; done',
  "  done",
  "fi"
]

/**
 * The init script. The admin user is created once (when `privileges.db` does not exist yet), with the name and
 * password escaped for SQL string literals by `sed` and the statements fed to `dolt sql` on stdin, so neither
 * appears in any process's arguments (`printf` is a shell builtin).
 */
export const initScript = (doltdb: DoltDB): string => {
  const { commitAuthor, disableClientUsageMetricsCollection } = doltdb.spec.globalConfig
  return [
    `dolt config --global --add user.name ${shellQuote(commitAuthor.name)}`,
    `dolt config --global --add user.email ${shellQuote(commitAuthor.email)}`,
    `dolt config --global --add metrics.disabled ${disableClientUsageMetricsCollection ? "true" : "false"}`,
    `cp "${ConfigMountPath}/\${POD_NAME}.yaml" config.yaml || exit 1`,
    ...peerNamesWait,
    // DoltHub's key for backups and restores, read from the backup credentials volume (see BackupCredentials).
    ...doltHubCredsInit,
    // Bootstrap from a backup (the ConfigMap carries the step until the DoltDB reports Bootstrapped).
    `if [ -f "${ConfigMountPath}/${BootstrapScriptKey}" ]; then sh "${ConfigMountPath}/${BootstrapScriptKey}" || exit 1; fi`,
    'if [ -n "$DOLT_PASSWORD" ] && [ ! -f .doltcfg/privileges.db ]; then',
    `  sql_string() { printf '%s' "$1" | sed -e 's/\\\\/\\\\\\\\/g' -e "s/'/''/g"; }`,
    '  user=$(sql_string "$DOLT_USERNAME")',
    '  password=$(sql_string "$DOLT_PASSWORD")',
    `  printf "CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\\nGRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION;\\n" "$user" "$password" "$user" | dolt sql || exit 1`,
    "fi"
  ].join("\n")
}

const baseVolumeMounts: ReadonlyArray<VolumeMount> = [
  { name: ConfigVolumeName, mountPath: ConfigMountPath, readOnly: true },
  { name: dataVolumeName, mountPath: DataMountPath },
  { name: BackupCredentialsVolumeName, mountPath: BackupCredentialsMountPath, readOnly: true },
  { name: TmpVolumeName, mountPath: "/tmp" }
]

const volumeMounts = (doltdb: DoltDB): ReadonlyArray<VolumeMount> =>
  isTlsEnabled(doltdb) ? [...baseVolumeMounts, tlsVolumeMount] : baseVolumeMounts

const tcp = (name: string, containerPort: number): ContainerPort => ({ name, containerPort, protocol: "TCP" })

export const containerPorts = (doltdb: IdentifiedDoltDB): ReadonlyArray<ContainerPort> => {
  const { server } = doltdb.spec
  return [
    tcp(PortNames.sql, server.listener.port),
    ...(isReplicated(doltdb) ? [tcp(PortNames.remotesApi, server.cluster.remotesAPI.port)] : []),
    ...(server.metrics.enabled ? [tcp(PortNames.metrics, server.metrics.port)] : []),
    ...(server.profiler.enablePProf ? [tcp(PortNames.profiler, ProfilerPort)] : []),
    ...(server.mcpServer !== undefined && isMcpServerEnabled(doltdb) ? [tcp(PortNames.mcp, server.mcpServer.port)] : [])
  ]
}

export const buildDoltContainer = (doltdb: IdentifiedDoltDB): CommandContainer => {
  const pprof = doltdb.spec.server.profiler.enablePProf ? ["--prof", "mem", "--pprof-server"] : []
  const lifecycle = buildPreStop(doltdb)
  return {
    name: DoltContainerName,
    image: image(doltdb),
    imagePullPolicy: "IfNotPresent",
    command: ["tini", "--", "/usr/local/bin/dolt", ...pprof, "sql-server", "--config", "config.yaml"],
    workingDir: DataMountPath,
    env: buildEnv(doltdb),
    ports: containerPorts(doltdb),
    resources: doltdb.spec.resources ?? DefaultResources,
    volumeMounts: volumeMounts(doltdb),
    ...buildProbes(doltdb),
    ...(lifecycle === undefined ? {} : { lifecycle }),
    securityContext: containerSecurityContext(doltdb)
  }
}

export const buildInitContainer = (doltdb: IdentifiedDoltDB): CommandContainer => ({
  name: DoltInitContainerName,
  image: image(doltdb),
  imagePullPolicy: "IfNotPresent",
  command: ["/bin/sh", "-c", initScript(doltdb)],
  workingDir: DataMountPath,
  env: buildEnv(doltdb),
  volumeMounts: volumeMounts(doltdb),
  // A failed bootstrap restore reports its log tail (never a secret: credentials are files) in the pod status.
  terminationMessagePolicy: "FallbackToLogsOnError",
  securityContext: containerSecurityContext(doltdb)
})

/**
 * The pod-template annotations: `spec.podAnnotations` plus ours (never the DoltDB's own annotations). Ours win a
 * clash: the pod controller finds the DoltDB through them, and the hash must be the one we computed.
 */
export const podAnnotations = (
  doltdb: IdentifiedDoltDB,
  context: BuildContext = {}
): Readonly<Record<string, string>> | undefined =>
  mergeMaps(doltdb.spec.podAnnotations, {
    [DoltDBAnnotation]: doltdb.metadata.name,
    [ReplicationAnnotation]: String(doltdb.spec.replication.enabled),
    // `Never` promises no operator-driven restarts, so a config change must not change the template either.
    ...(doltdb.spec.updateStrategy === "Never"
      ? {}
      : { [ConfigHashAnnotation]: configHash(doltdb, context.peerMembers) }),
    ...(doltdb.spec.updateStrategy === "Never" || !isTlsEnabled(doltdb) || context.tlsHash === undefined
      ? {}
      : { [TlsHashAnnotation]: context.tlsHash })
  })

export const buildPodTemplate = (doltdb: IdentifiedDoltDB, context: BuildContext = {}): PodTemplate => {
  const { spec } = doltdb
  const annotations = podAnnotations(doltdb, context)
  const guard = buildGuardContainer(doltdb, { name: ConfigVolumeName, mountPath: ConfigMountPath })
  const guardToken = buildGuardTokenVolume(doltdb)
  return {
    metadata: { labels: childLabels(doltdb), ...(annotations === undefined ? {} : { annotations }) },
    spec: {
      automountServiceAccountToken: false,
      serviceAccountName: serviceAccountName(doltdb.metadata.name, spec.serviceAccountName),
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      ...(spec.imagePullSecrets === undefined ? {} : { imagePullSecrets: spec.imagePullSecrets }),
      securityContext: podSecurityContext(doltdb),
      ...(spec.affinity === undefined ? {} : { affinity: spec.affinity }),
      ...(spec.nodeSelector === undefined ? {} : { nodeSelector: spec.nodeSelector }),
      ...(spec.tolerations === undefined ? {} : { tolerations: spec.tolerations }),
      ...(spec.topologySpreadConstraints === undefined
        ? {}
        : { topologySpreadConstraints: spec.topologySpreadConstraints }),
      initContainers: [buildInitContainer(doltdb)],
      containers: [buildDoltContainer(doltdb), ...(guard === undefined ? [] : [guard])],
      volumes: [
        { name: ConfigVolumeName, configMap: { name: configMapName(doltdb.metadata.name) } },
        // Optional: it exists once a Backup needed credentials; its updates need no restart.
        {
          name: BackupCredentialsVolumeName,
          secret: { secretName: backupCredentialsSecretName(doltdb.metadata.name), optional: true }
        },
        ...(guardToken === undefined ? [] : [guardToken]),
        ...(isTlsEnabled(doltdb) ? [tlsVolume(doltdb)] : []),
        { name: TmpVolumeName, emptyDir: {} }
      ]
    }
  }
}
