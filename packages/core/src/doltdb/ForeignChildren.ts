/**
 * Children the operator would create under a name that another object already holds (a `<name>-primary` Service
 * someone made, `serviceAccountName: default`): the operator never takes such an object over. Applying it with
 * force would rewrite it and add our owner reference, and the garbage collector would then delete it with the
 * DoltDB. Instead the DoltDB reports it (Ready False, reason `ChildNotOwned`, and a Warning event naming it) until
 * the name is free.
 */
import type { Condition } from "../api/Common.ts"

export interface ForeignChild {
  readonly kind: string
  readonly name: string
  /** Who controls it, in words (`no owner`, `DoltDB other`), for the message. */
  readonly owner: string
}

export const ChildNotOwnedReason = "ChildNotOwned"

export const foreignChildrenMessage = (foreign: ReadonlyArray<ForeignChild>): string =>
  `${foreign.map((f) => `${f.kind} ${f.name} (${f.owner})`).join(", ")} already exist${foreign.length === 1 ? "s" : ""} and ${foreign.length === 1 ? "is" : "are"} not owned by this DoltDB; the operator does not take over objects it did not create: delete or rename ${foreign.length === 1 ? "it" : "them"}${foreign.some((f) => f.kind === "ServiceAccount") ? ", or set spec.serviceAccountName to a name the operator can create" : ""}`

/** Ready False naming the foreign children (the DoltDB cannot converge while they are in the way). */
export const foreignChildrenReady = (
  foreign: ReadonlyArray<ForeignChild>
): Pick<Condition, "type" | "status" | "reason" | "message"> => ({
  type: "Ready",
  status: "False",
  reason: ChildNotOwnedReason,
  message: foreignChildrenMessage(foreign)
})

export const isForeign = (foreign: ReadonlyArray<ForeignChild> | undefined, kind: string, name: string) =>
  foreign?.some((f) => f.kind === kind && f.name === name) === true
