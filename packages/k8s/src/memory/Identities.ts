/**
 * Uids and generated names for new objects, from one counter per API server: deterministic, so two simulation runs
 * with the same seed create the same objects.
 */
import type { KubeObject } from "@doltdb-op/core/services/Kube"
import { formatTime } from "@doltdb-op/core/services/kube/Resource"

export class Identities {
  private counter = 0

  nextUid(): string {
    const n = ++this.counter
    return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`
  }

  /** A `generateName` suffix: five characters of the alphabet the API server uses. */
  nextSuffix(): string {
    const alphabet = "bcdfghjklmnpqrstvwxz2456789"
    let n = ++this.counter * 2654435761
    let out = ""
    for (let i = 0; i < 5; i++) {
      out += alphabet[n % alphabet.length]
      n = Math.floor(n / alphabet.length)
    }
    return out
  }
}

/** A created object's metadata: the server's fields (uid, generation 1, creation time) replace the client's. */
export const freshMetadata = (
  metadata: KubeObject["metadata"],
  name: string,
  namespace: string | undefined,
  uid: string,
  now: number
): KubeObject["metadata"] => {
  const {
    deletionTimestamp: _d,
    deletionGracePeriodSeconds: _g,
    managedFields: _m,
    resourceVersion: _r,
    ...rest
  } = metadata
  return {
    ...rest,
    name,
    ...(namespace === undefined ? {} : { namespace }),
    uid,
    generation: 1,
    creationTimestamp: formatTime(now)
  }
}
