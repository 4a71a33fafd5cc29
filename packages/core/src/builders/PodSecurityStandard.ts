/**
 * The Kubernetes Pod Security Standards' "restricted" profile (kubernetes.io/docs/concepts/security/
 * pod-security-standards, policy version latest), as checks over a pod spec: what the API server's Pod Security
 * Admission would refuse in a namespace labelled `pod-security.kubernetes.io/enforce: restricted`. Used to warn
 * when a DoltDB's overrides leave the profile, and by the tests on every rendered pod.
 */

// biome-ignore lint/suspicious/noExplicitAny: any pod spec shape (ours or a user's override)
type Any = any

/** Volume types the restricted profile allows. */
const allowedVolumeTypes = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret"
])

/** Sysctls the baseline profile allows. */
const safeSysctls = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes"
])

const okSeccomp = (type: unknown) => type === "RuntimeDefault" || type === "Localhost"

/** The rules the pod breaks, each naming the field; empty when it passes the restricted profile. */
export const restrictedViolations = (spec: Any): ReadonlyArray<string> => {
  const out: Array<string> = []
  const pod = spec.securityContext ?? {}
  if (spec.hostNetwork === true) out.push("spec.hostNetwork must not be true")
  if (spec.hostPID === true) out.push("spec.hostPID must not be true")
  if (spec.hostIPC === true) out.push("spec.hostIPC must not be true")
  if (pod.windowsOptions?.hostProcess === true)
    out.push("spec.securityContext.windowsOptions.hostProcess must not be true")
  if (pod.runAsUser === 0) out.push("spec.securityContext.runAsUser must not be 0")
  if (pod.seLinuxOptions?.user !== undefined || pod.seLinuxOptions?.role !== undefined)
    out.push("spec.securityContext.seLinuxOptions.user/role must not be set")
  if (pod.seccompProfile !== undefined && !okSeccomp(pod.seccompProfile.type))
    out.push("spec.securityContext.seccompProfile.type must be RuntimeDefault or Localhost")
  if (pod.appArmorProfile !== undefined && pod.appArmorProfile.type === "Unconfined")
    out.push("spec.securityContext.appArmorProfile.type must not be Unconfined")
  for (const s of pod.sysctls ?? [])
    if (!safeSysctls.has(s.name)) out.push(`spec.securityContext.sysctls ${s.name} is not a safe sysctl`)
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== "name")
    if (type === undefined || !allowedVolumeTypes.has(type))
      out.push(`spec.volumes ${v.name}: ${type} volumes are not allowed`)
  }
  const containers: ReadonlyArray<readonly [string, Any]> = [
    ...(spec.initContainers ?? []).map((c: Any, i: number) => [`spec.initContainers[${i}]`, c] as const),
    ...(spec.containers ?? []).map((c: Any, i: number) => [`spec.containers[${i}]`, c] as const)
  ]
  for (const [path, c] of containers) {
    const sc = c.securityContext ?? {}
    const at = `${path}.securityContext`
    if (sc.privileged === true) out.push(`${at}.privileged must not be true`)
    if (sc.allowPrivilegeEscalation !== false) out.push(`${at}.allowPrivilegeEscalation must be false`)
    const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot
    if (nonRoot !== true) out.push(`${at}.runAsNonRoot (or the pod's) must be true`)
    if (sc.runAsUser === 0) out.push(`${at}.runAsUser must not be 0`)
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type
    if (!okSeccomp(seccomp)) out.push(`${at}.seccompProfile.type (or the pod's) must be RuntimeDefault or Localhost`)
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`${at}.capabilities.drop must include ALL`)
    for (const cap of sc.capabilities?.add ?? [])
      if (cap !== "NET_BIND_SERVICE") out.push(`${at}.capabilities.add ${cap} is not allowed`)
    if (sc.procMount !== undefined && sc.procMount !== "Default") out.push(`${at}.procMount must be Default`)
    if (sc.seLinuxOptions?.user !== undefined || sc.seLinuxOptions?.role !== undefined)
      out.push(`${at}.seLinuxOptions.user/role must not be set`)
    if (sc.appArmorProfile?.type === "Unconfined") out.push(`${at}.appArmorProfile.type must not be Unconfined`)
    if (sc.windowsOptions?.hostProcess === true) out.push(`${at}.windowsOptions.hostProcess must not be true`)
    for (const p of c.ports ?? [])
      if ((p.hostPort ?? 0) !== 0) out.push(`${path}.ports ${p.name ?? p.containerPort}: hostPort must not be set`)
  }
  return out
}
