/**
 * The `Bootstrapped` condition of a DoltDB with `spec.bootstrap`: True (reason Restored) once the bootstrap primary
 * is Ready, as its init container restored every database first; False with the init container's message while
 * the restore fails (the primary is not started); False (Restoring) meanwhile. Once True it stays True.
 */
import type { Condition } from "../api/Common.ts"
import { backendOf } from "../backup/BackupUrl.ts"
import { BootstrappedCondition, bootstrapOrdinal } from "../builders/BootstrapScript.ts"
import { findCondition } from "../status/Conditions.ts"
import type { DoltDBObserved } from "./DoltDBObserved.ts"

export const bootstrappedCondition = (
  o: DoltDBObserved
): Pick<Condition, "type" | "status" | "reason" | "message"> | undefined => {
  const from = o.doltdb.spec.bootstrap?.from.backup
  if (from === undefined) return undefined
  const current = findCondition(o.doltdb.status?.conditions, BootstrappedCondition)
  if (current?.status === "True") return { ...current }
  const pod = o.pods[bootstrapOrdinal(o.doltdb)]
  const what = `${from.databases.length} database(s) from ${backendOf(from.storage)}`
  if (pod?.ready === true)
    return { type: BootstrappedCondition, status: "True", reason: "Restored", message: `Restored ${what}` }
  if (pod?.initFailure !== undefined)
    return { type: BootstrappedCondition, status: "False", reason: "RestoreFailed", message: pod.initFailure }
  return { type: BootstrappedCondition, status: "False", reason: "Restoring", message: `Restoring ${what}` }
}
