/**
 * Label and annotation keys shared with the reference operator (reference-operator.md §2.2), and the rules for
 * which DoltDB metadata is copied onto child objects.
 */

export const NameLabel = "app.kubernetes.io/name"
export const VersionLabel = "app.kubernetes.io/version"
export const ClusterRoleLabel = "k8s.dolthub.com/cluster-role"
export const PodNameLabel = "statefulset.kubernetes.io/pod-name"
export const PvcRoleLabel = "pvc.k8s.dolthub.com/role"

export const DoltDBAnnotation = "k8s.dolthub.com/doltdb"
export const ReplicationAnnotation = "k8s.dolthub.com/replication"
export const ConfigHashAnnotation = "k8s.dolthub.com/configmap-hash"

/** kubectl's client-side-apply record: never copied to children (it would mark them as kubectl-applied). */
export const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

export type StringMap = Readonly<Record<string, string>>

/** The only selector label, as in the reference: StatefulSet selector, every Service, the PDB. */
export const selectorLabels = (name: string): StringMap => ({ [NameLabel]: name })

/** Kubernetes label values: at most 63 characters, alphanumeric at both ends, `-_.` inside. */
const labelValuePattern = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/u

/** Whether an image tag can be the `app.kubernetes.io/version` label (a tag may be longer, or hold `+`). */
export const isValidLabelValue = (value: string): boolean => labelValuePattern.test(value)

/** Labels every child object carries besides the DoltDB's own; the version label only when the tag is a valid value. */
export const commonLabels = (name: string, engineVersion: string): StringMap => ({
  [NameLabel]: name,
  ...(isValidLabelValue(engineVersion) ? { [VersionLabel]: engineVersion } : {})
})

/** The DoltDB's annotations minus the ones that must not propagate. */
export const inheritedAnnotations = (annotations: StringMap | undefined): StringMap => {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (key !== LastAppliedAnnotation) out[key] = value
  }
  return out
}

/** Merges maps left to right (later wins), dropping nothing; returns `undefined` for an empty result. */
export const mergeMaps = (...maps: ReadonlyArray<StringMap | undefined>): StringMap | undefined => {
  const out: Record<string, string> = {}
  for (const map of maps) Object.assign(out, map)
  return Object.keys(out).length === 0 ? undefined : sortKeys(out)
}

/** Sorted keys make rendered objects and golden files stable. */
export const sortKeys = (map: StringMap): StringMap =>
  Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
