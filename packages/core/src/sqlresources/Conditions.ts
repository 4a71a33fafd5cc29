/**
 * Status conditions of the SQL resources: set one condition in a list so that an unchanged condition keeps its
 * `lastTransitionTime` (a converged object must produce a status structurally equal to the one it has).
 */
import type { Condition } from "../api/Common.ts"

/** A condition as a planner decides it; time and generation are filled in by `setCondition`. */
export interface ConditionInput {
  readonly type: string
  readonly status: "True" | "False" | "Unknown"
  readonly reason: string
  readonly message: string
}

/** metav1.Time has second precision: `2026-11-26T14:26:27Z`. */
export const rfc3339 = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/u, "Z")

export const findCondition = (conditions: ReadonlyArray<Condition> | undefined, type: string): Condition | undefined =>
  conditions?.find((c) => c.type === type)

/**
 * Returns `conditions` with `input` set. `lastTransitionTime` moves only when the status flips (as
 * apimachinery's `meta.SetStatusCondition`); reason, message and `observedGeneration` are always refreshed.
 */
export const setCondition = (
  conditions: ReadonlyArray<Condition> | undefined,
  input: ConditionInput,
  generation: number,
  now: number
): ReadonlyArray<Condition> => {
  const list = conditions ?? []
  const existing = list.find((c) => c.type === input.type)
  const next: Condition = {
    type: input.type,
    status: input.status,
    observedGeneration: generation,
    lastTransitionTime:
      existing !== undefined && existing.status === input.status ? existing.lastTransitionTime : rfc3339(now),
    reason: input.reason,
    message: input.message
  }
  return existing === undefined ? [...list, next] : list.map((c) => (c.type === input.type ? next : c))
}

/** Returns `conditions` without the condition of `type` (unchanged list when absent). */
export const removeCondition = (
  conditions: ReadonlyArray<Condition> | undefined,
  type: string
): ReadonlyArray<Condition> | undefined =>
  conditions?.some((c) => c.type === type) === true ? conditions.filter((c) => c.type !== type) : conditions
