/**
 * The isolation guard sidecar (`spec.replication.guard.enabled`; docs/guard.md): the operator image run as
 * `doltdb-operator guard` next to `dolt`, reading its own pod and its DoltDB through the API server and talking
 * to the local server on loopback and to its peers over the headless Service.
 *
 * Opt-in, not default: it adds a container to every Dolt pod (enabling it restarts them, so an operator upgrade
 * never does), it needs the operator image pullable on the database nodes and an API token inside the pod, and it
 * makes failovers of an unreachable primary wait for its threshold.
 *
 * Least privilege: the pod keeps `automountServiceAccountToken: false`; only this container mounts a projected,
 * short-lived token (the `dolt` container, which runs user SQL, has none). The pods' Role then grants only `get`
 * on this DoltDB and on its own pods (see RbacBuilder). The container runs as non-root with a read-only root
 * filesystem, no privilege escalation, no capabilities and the runtime's seccomp profile (restricted PSS).
 */
import type { DoltDB } from "../api/DoltDB.ts"
import type { EnvVar } from "../api/k8s/Models.generated.ts"
import { GuardContainerName, guardEnabled, guardSettingsOf } from "../guard/GuardView.ts"
import { UsernameEnv } from "./DoltConfig.ts"
import type { Container, Volume, VolumeMount } from "./KubeObjects.ts"
import { credentialsPasswordKey, credentialsSecretName, credentialsUserKey } from "./Names.ts"
import { isTlsEnabled, TlsPaths, tlsVolumeMount } from "./TlsBuilder.ts"

/**
 * The operator image when `spec.replication.guard.image` is not set: the Helm chart's default (`image.repository`
 * `doltdb-operator`, tag = appVersion). An operator installed from another registry needs `guard.image` set.
 */
export const DefaultGuardImage = "doltdb-operator:0.1.0"
export const GuardTokenVolumeName = "guard-token"
export const ServiceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
/** The token expires (and the kubelet rotates it) every hour; client-node re-reads the file. */
export const GuardTokenExpirationSeconds = 3_607
export const GuardNodeOptions = "--max-semi-space-size=1 --max-old-space-size=96"

const fieldEnv = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } })
const secretEnv = (name: string, secret: string, key: string): EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } }
})

export const guardImage = (doltdb: DoltDB): string => doltdb.spec.replication.guard?.image ?? DefaultGuardImage

/** `configMount`: the pod's Dolt config volume, read-only (its own config lists the peers). */
export const buildGuardContainer = (doltdb: DoltDB, configMount: VolumeMount): Container | undefined => {
  if (!guardEnabled(doltdb)) return undefined
  const name = doltdb.metadata.name ?? ""
  const credentials = credentialsSecretName(name)
  return {
    name: GuardContainerName,
    image: guardImage(doltdb),
    imagePullPolicy: "IfNotPresent",
    args: [
      "guard",
      "--doltdb",
      name,
      "--dolt-port",
      String(doltdb.spec.server.listener.port),
      "--threshold",
      `${guardSettingsOf(doltdb).thresholdMillis}ms`,
      // With TLS on, the servers may refuse plaintext: the guard verifies them against the mounted CA.
      ...(isTlsEnabled(doltdb) ? ["--tls-ca", TlsPaths.ca] : [])
    ],
    env: [
      fieldEnv("POD_NAME", "metadata.name"),
      fieldEnv("POD_NAMESPACE", "metadata.namespace"),
      fieldEnv("POD_UID", "metadata.uid"),
      secretEnv(UsernameEnv, credentials, credentialsUserKey),
      secretEnv("DOLT_PASSWORD", credentials, credentialsPasswordKey),
      // Keeps V8's heap small: measured RSS ~170 MiB with these flags (~245 MiB without), docs/guard.md.
      { name: "NODE_OPTIONS", value: GuardNodeOptions }
    ],
    resources: { requests: { cpu: "10m", memory: "192Mi" }, limits: { memory: "256Mi" } },
    volumeMounts: [
      { name: GuardTokenVolumeName, mountPath: ServiceAccountMountPath, readOnly: true },
      // Its own Dolt config lists the peers, so a guard that starts while the API server is down knows them.
      { ...configMount, readOnly: true },
      ...(isTlsEnabled(doltdb) ? [tlsVolumeMount] : [])
    ],
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" }
    }
  }
}

/** The projected service-account token, CA and namespace, the layout in-cluster clients read. */
export const buildGuardTokenVolume = (doltdb: DoltDB): Volume | undefined =>
  guardEnabled(doltdb)
    ? {
        name: GuardTokenVolumeName,
        projected: {
          sources: [
            { serviceAccountToken: { path: "token", expirationSeconds: GuardTokenExpirationSeconds } },
            { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
            {
              downwardAPI: {
                items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }]
              }
            }
          ]
        }
      }
    : undefined
