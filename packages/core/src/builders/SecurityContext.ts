/**
 * The security contexts of the Dolt pods. Defaults pass the Kubernetes "restricted" Pod Security Standard: a fixed
 * non-root user whose group owns the volume (fsGroup, changed only when the volume root does not match, so a large
 * volume is not walked on every start), no privilege escalation, no capabilities, the runtime's seccomp profile
 * and a read-only root filesystem (Dolt writes only under /db and /tmp, both volumes). Every field the DoltDB sets
 * (`spec.securityContext`, `spec.containerSecurityContext`) replaces the default of that field.
 */
import type { DoltDB } from "../api/DoltDB.ts"
import type { PodSecurityContext, SecurityContext } from "../api/k8s/Models.generated.ts"

/** The dolthub/dolt image has no user of its own; any non-root UID works, 1000 is the common choice. */
export const DoltUid = 1000
export const DoltGid = 1000

export const DefaultPodSecurityContext: PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: DoltUid,
  runAsGroup: DoltGid,
  fsGroup: DoltGid,
  fsGroupChangePolicy: "OnRootMismatch",
  seccompProfile: { type: "RuntimeDefault" }
}

export const DefaultContainerSecurityContext: SecurityContext = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" }
}

export const podSecurityContext = (doltdb: DoltDB): PodSecurityContext => ({
  ...DefaultPodSecurityContext,
  ...doltdb.spec.securityContext
})

export const containerSecurityContext = (doltdb: DoltDB): SecurityContext => ({
  ...DefaultContainerSecurityContext,
  ...doltdb.spec.containerSecurityContext
})
