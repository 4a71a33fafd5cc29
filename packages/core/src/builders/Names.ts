/**
 * Names of the objects the operator creates for a DoltDB `<name>`: identical to the reference operator
 * (reference-operator.md §2.1), so clients, dashboards and scripts written for it keep working.
 */

export const statefulSetName = (name: string): string => name
export const podName = (name: string, ordinal: number): string => `${name}-${ordinal}`
/** The volumeClaimTemplate name; PVCs are `dolt-data-<name>-<i>`. */
export const dataVolumeName = "dolt-data"
export const pvcName = (name: string, ordinal: number): string => `${dataVolumeName}-${podName(name, ordinal)}`
export const configMapName = (name: string): string => `${name}-config`
/** The ConfigMap key holding pod `<name>-<i>`'s Dolt sql-server config. */
export const configKey = (name: string, ordinal: number): string => `${podName(name, ordinal)}.yaml`
export const internalServiceName = (name: string): string => `${name}-internal`
/** The single Service of a standalone (replication disabled) DoltDB. */
export const standaloneServiceName = (name: string): string => name
export const primaryServiceName = (name: string): string => `${name}-primary`
export const readerServiceName = (name: string): string => `${name}-reader`
export const podDisruptionBudgetName = (name: string): string => `${name}-pdb`
/** User-provided Secret with keys `admin-user` and `admin-password` (never created by the operator). */
export const credentialsSecretName = (name: string): string => `${name}-credentials`
export const credentialsUserKey = "admin-user"
export const credentialsPasswordKey = "admin-password"
/** ServiceAccount, Role and RoleBinding share this name. */
export const serviceAccountName = (name: string, override: string | undefined): string =>
  override !== undefined && override !== "" ? override : name

/**
 * A pod's DNS name through the headless Service, in the short form the reference and doltclusterctl put in
 * `remote_url_template` (`<pod>.<name>-internal.<namespace>`; the pod's resolv.conf search path completes it).
 */
export const podHost = (name: string, namespace: string, ordinal: number): string =>
  `${podName(name, ordinal)}.${internalServiceName(name)}.${namespace}`

/** The fully qualified per-pod host the operator dials (`CLUSTER_NAME` defaults to `cluster.local`). */
export const podFqdn = (name: string, namespace: string, ordinal: number, clusterDomain = "cluster.local"): string =>
  `${podHost(name, namespace, ordinal)}.svc.${clusterDomain}`
