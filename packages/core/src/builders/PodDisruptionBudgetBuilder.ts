/**
 * PodDisruptionBudget `<name>-pdb`: `spec.podDisruptionBudget` when set (the reference ignored it and always used
 * `minAvailable: 50%`), that default otherwise, and no PDB at all when the budget would block every voluntary
 * eviction (e.g. one replica): a PDB that allows no disruption makes node drains hang forever.
 */
import type { PodDisruptionBudget } from "./KubeObjects.ts"
import { selectorLabels } from "./Labels.ts"
import { podDisruptionBudgetName } from "./Names.ts"
import { childMetadata, type IdentifiedDoltDB } from "./Owner.ts"

export const DefaultBudget = { minAvailable: "50%" } as const

type Budget = { readonly minAvailable: number | string } | { readonly maxUnavailable: number | string }

export type BudgetDecision =
  | { readonly _tag: "Create"; readonly budget: Budget; readonly allowedDisruptions: number }
  | { readonly _tag: "Skip"; readonly reason: string }

/** Scales an int-or-percent against `replicas`, rounding up like the disruption controller does. */
const scaled = (value: number | string, replicas: number): number | undefined => {
  if (typeof value === "number") return value
  const match = /^(\d+)%$/u.exec(value)
  return match === null ? undefined : Math.ceil((Number(match[1]) * replicas) / 100)
}

/** What to build for this DoltDB, and why not when nothing is built. */
export const decideBudget = (doltdb: IdentifiedDoltDB): BudgetDecision => {
  const replicas = doltdb.spec.replicas
  const wanted = doltdb.spec.podDisruptionBudget
  const budget: Budget =
    wanted?.minAvailable !== undefined
      ? { minAvailable: wanted.minAvailable }
      : wanted?.maxUnavailable !== undefined
        ? { maxUnavailable: wanted.maxUnavailable }
        : DefaultBudget
  const [field, value] =
    "minAvailable" in budget ? ["minAvailable", budget.minAvailable] : ["maxUnavailable", budget.maxUnavailable]
  const amount = scaled(value, replicas)
  if (amount === undefined) {
    return {
      _tag: "Skip",
      reason: `spec.podDisruptionBudget.${field} ${JSON.stringify(value)} is neither an integer nor a percentage`
    }
  }
  const allowedDisruptions = field === "minAvailable" ? replicas - amount : Math.min(amount, replicas)
  if (allowedDisruptions <= 0) {
    return {
      _tag: "Skip",
      reason: `no PodDisruptionBudget: ${field} ${JSON.stringify(value)} with ${replicas} replica(s) would block every eviction`
    }
  }
  return { _tag: "Create", budget, allowedDisruptions }
}

export const budgetWarnings = (doltdb: IdentifiedDoltDB): ReadonlyArray<string> => {
  const wanted = doltdb.spec.podDisruptionBudget
  const warnings: Array<string> = []
  if (wanted?.minAvailable !== undefined && wanted.maxUnavailable !== undefined) {
    warnings.push("spec.podDisruptionBudget sets both minAvailable and maxUnavailable; minAvailable is used")
  }
  const decision = decideBudget(doltdb)
  // One replica without a budget of its own is the normal standalone case, not worth a warning.
  if (decision._tag === "Skip" && (wanted !== undefined || doltdb.spec.replicas > 1)) warnings.push(decision.reason)
  return warnings
}

export const buildPodDisruptionBudget = (doltdb: IdentifiedDoltDB): PodDisruptionBudget | undefined => {
  const decision = decideBudget(doltdb)
  if (decision._tag === "Skip") return undefined
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: childMetadata(doltdb, podDisruptionBudgetName(doltdb.metadata.name)),
    spec: { selector: { matchLabels: selectorLabels(doltdb.metadata.name) }, ...decision.budget }
  }
}
