/**
 * The DoltDB as an owner: the identity every child object points back to, and the metadata children inherit.
 *
 * Builders need the DoltDB's name, namespace and uid (for the owner reference). Objects read from the API server
 * always have them; a manifest in a file may lack namespace and uid, so `identify` fills them (the `render` command
 * says which ones it filled).
 */
import type { DoltDB } from "../api/DoltDB.ts"
import { ApiVersion } from "../api/Group.ts"
import type { ObjectMeta, OwnerReference } from "./KubeObjects.ts"
import { commonLabels, inheritedAnnotations, mergeMaps, type StringMap, sortKeys } from "./Labels.ts"

/** A decoded DoltDB whose metadata has the fields the builders need. */
export type IdentifiedDoltDB = DoltDB & {
  readonly metadata: DoltDB["metadata"] & { readonly name: string; readonly namespace: string; readonly uid: string }
}

export const isIdentified = (doltdb: DoltDB): doltdb is IdentifiedDoltDB =>
  nonEmpty(doltdb.metadata.name) && nonEmpty(doltdb.metadata.namespace) && nonEmpty(doltdb.metadata.uid)

const nonEmpty = (value: string | undefined): value is string => value !== undefined && value !== ""

/** Placeholders for a DoltDB read from a file rather than from the API server. */
export interface IdentityDefaults {
  readonly namespace: string
  readonly uid: string
}

export const DefaultIdentity: IdentityDefaults = {
  namespace: "default",
  // Recognisably fake, and a valid UUID so schema validation of the owner reference passes.
  uid: "00000000-0000-0000-0000-000000000000"
}

export type IdentifyResult =
  | { readonly _tag: "Identified"; readonly doltdb: IdentifiedDoltDB; readonly filled: ReadonlyArray<string> }
  | { readonly _tag: "MissingName" }

/** Fills a missing namespace or uid from `defaults`; a DoltDB without a name cannot be built. */
export const identify = (doltdb: DoltDB, defaults: IdentityDefaults = DefaultIdentity): IdentifyResult => {
  const { name, namespace, uid } = doltdb.metadata
  if (!nonEmpty(name)) return { _tag: "MissingName" }
  const filled: Array<string> = []
  if (!nonEmpty(namespace)) filled.push(`metadata.namespace=${defaults.namespace}`)
  if (!nonEmpty(uid)) filled.push(`metadata.uid=${defaults.uid}`)
  return {
    _tag: "Identified",
    filled,
    doltdb: {
      ...doltdb,
      metadata: {
        ...doltdb.metadata,
        name,
        namespace: nonEmpty(namespace) ? namespace : defaults.namespace,
        uid: nonEmpty(uid) ? uid : defaults.uid
      }
    }
  }
}

/** Controller owner reference to the DoltDB (garbage collection deletes the children with it). */
export const ownerReference = (doltdb: IdentifiedDoltDB): OwnerReference => ({
  apiVersion: ApiVersion,
  kind: "DoltDB",
  name: doltdb.metadata.name,
  uid: doltdb.metadata.uid,
  controller: true,
  blockOwnerDeletion: true
})

/** The DoltDB's own labels plus the name and version labels (children carry these). */
export const childLabels = (doltdb: IdentifiedDoltDB, extra?: StringMap): StringMap =>
  sortKeys({
    ...doltdb.metadata.labels,
    ...commonLabels(doltdb.metadata.name, doltdb.spec.engineVersion),
    ...extra
  })

/**
 * Metadata of a namespaced child: the DoltDB's labels and annotations (as the reference copies them, minus
 * kubectl's last-applied record) plus our own, and the owner reference.
 */
export const childMetadata = (
  doltdb: IdentifiedDoltDB,
  name: string,
  extra: { readonly labels?: StringMap; readonly annotations?: StringMap } = {}
): ObjectMeta => {
  const annotations = mergeMaps(inheritedAnnotations(doltdb.metadata.annotations), extra.annotations)
  return {
    name,
    namespace: doltdb.metadata.namespace,
    labels: childLabels(doltdb, extra.labels),
    ...(annotations === undefined ? {} : { annotations }),
    ownerReferences: [ownerReference(doltdb)]
  }
}
