/**
 * Where a DoltDB's TLS material lives and how the pods see it (`spec.tls`).
 *
 * - One server certificate per DoltDB, used by every pod for both listeners (SQL and cluster remotesapi): its
 *   names cover every pod and Service of the DoltDB, so a pod that becomes primary needs nothing new.
 * - The pods mount only that Secret (`tls.crt`, `tls.key`, `ca.crt`) read-only at `/etc/doltdb-tls`; the
 *   operator-managed CA's private key stays in `<name>-tls-ca`, which no pod mounts.
 * - Peers verify each other the way Dolt does with `cluster.remotesapi.tls_ca` (dolt `cluster/controller.go`
 *   `outboundTlsConfig`): the chain must end at a root in `ca.crt` with EKU serverAuth, and, because we set
 *   `server_name_dns`, the certificate must carry `<name>-internal.<namespace>.svc`. Dolt does not check the URL's
 *   host name, so that name pins the peer to this DoltDB even when a CA (cert-manager's) signs for others too.
 * - Dolt reads its certificates at startup only (`tls.LoadX509KeyPair` in `sqlserver/server.go` and
 *   `servercfg.LoadTLSConfig`), so a renewed certificate needs a restart: the pod template carries the
 *   certificate's hash (`TlsHashAnnotation`), and the usual replication-aware rollout applies it.
 */
import type { DoltDB } from "../api/DoltDB.ts"
import type { Volume, VolumeMount } from "./KubeObjects.ts"
import { internalServiceName, primaryServiceName, readerServiceName } from "./Names.ts"

export const tlsSecretName = (name: string): string => `${name}-tls`
export const tlsCaSecretName = (name: string): string => `${name}-tls-ca`

/** The `kubernetes.io/tls` keys (and cert-manager's `ca.crt`). */
export const TlsCertKey = "tls.crt"
export const TlsKeyKey = "tls.key"
export const TlsCaKey = "ca.crt"

export const TlsVolumeName = "dolt-tls"
export const TlsMountPath = "/etc/doltdb-tls"
export const TlsPaths = {
  cert: `${TlsMountPath}/${TlsCertKey}`,
  key: `${TlsMountPath}/${TlsKeyKey}`,
  ca: `${TlsMountPath}/${TlsCaKey}`
} as const

/** The pod-template annotation whose change restarts the pods when the certificate changes. */
export const TlsHashAnnotation = "k8s.dolthub.com/tls-hash"

export const isTlsEnabled = (doltdb: DoltDB): boolean => doltdb.spec.tls?.enabled === true

/** Whether the operator issues the certificates (no `serverCertSecretRef`). */
export const isTlsOperatorManaged = (doltdb: DoltDB): boolean =>
  isTlsEnabled(doltdb) && doltdb.spec.tls?.serverCertSecretRef === undefined

/** The Secret the pods mount: the user's, or the operator-managed `<name>-tls`. */
export const serverCertSecretName = (doltdb: DoltDB & { readonly metadata: { readonly name: string } }): string =>
  doltdb.spec.tls?.serverCertSecretRef?.name ?? tlsSecretName(doltdb.metadata.name)

/** The DNS name every peer's certificate must carry (`cluster.remotesapi.server_name_dns`). */
export const peerServerName = (name: string, namespace: string): string =>
  `${internalServiceName(name)}.${namespace}.svc`

/**
 * The DNS names of the certificate the operator issues: the headless Service (which peers require), wildcards
 * under it for every pod (so scaling never re-issues the certificate, which would restart every pod), each Service
 * in its short, `.svc` and fully qualified forms, and `localhost` (in-pod clients: the probes).
 */
export const certificateDnsNames = (name: string, namespace: string, clusterDomain: string): ReadonlyArray<string> => {
  const headless = `${internalServiceName(name)}.${namespace}`
  const services = [name, primaryServiceName(name), readerServiceName(name), internalServiceName(name)]
  const names = [
    peerServerName(name, namespace),
    `*.${headless}.svc.${clusterDomain}`,
    `*.${headless}.svc`,
    `*.${headless}`,
    ...services.flatMap((s) => [
      `${s}.${namespace}.svc.${clusterDomain}`,
      `${s}.${namespace}.svc`,
      `${s}.${namespace}`
    ]),
    "localhost"
  ]
  return [...new Set(names)]
}

export const tlsVolume = (doltdb: DoltDB & { readonly metadata: { readonly name: string } }): Volume => ({
  name: TlsVolumeName,
  secret: { secretName: serverCertSecretName(doltdb) }
})

export const tlsVolumeMount: VolumeMount = { name: TlsVolumeName, mountPath: TlsMountPath, readOnly: true }
