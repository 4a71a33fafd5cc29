/**
 * metav1.Condition lists, maintained the way the API conventions ask: one entry per type, `lastTransitionTime`
 * moves only when `status` changes, and every condition carries the generation it was computed from.
 *
 * Planners compute whole status objects and the runtime writes them only when they differ from what the API
 * server has, so these helpers must return structurally equal values for equal inputs (no fresh timestamps
 * unless something transitioned).
 */
import type { Condition } from "../api/Common.ts"

export interface ConditionInput {
  readonly type: string
  readonly status: "True" | "False" | "Unknown"
  readonly reason: string
  readonly message: string
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export const rfc3339 = (millis: number): string =>
  new Date(Math.floor(millis / 1000) * 1000).toISOString().replace(".000Z", "Z")

export const parseTime = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const millis = Date.parse(value)
  return Number.isNaN(millis) ? undefined : millis
}

/** Sets (or replaces) the conditions in `inputs`, keeping the others and their order. */
export const setConditions = (
  current: ReadonlyArray<Condition> | undefined,
  inputs: ReadonlyArray<ConditionInput>,
  generation: number | undefined,
  now: number
): ReadonlyArray<Condition> => {
  const out: Array<Condition> = [...(current ?? [])]
  for (const input of inputs) {
    const index = out.findIndex((c) => c.type === input.type)
    const previous = index === -1 ? undefined : out[index]
    const next: Condition = {
      type: input.type,
      status: input.status,
      reason: input.reason,
      message: input.message,
      lastTransitionTime:
        previous !== undefined && previous.status === input.status ? previous.lastTransitionTime : rfc3339(now),
      ...(generation === undefined ? {} : { observedGeneration: generation })
    }
    if (index === -1) out.push(next)
    else out[index] = next
  }
  return out
}

export const findCondition = (conditions: ReadonlyArray<Condition> | undefined, type: string) =>
  conditions?.find((c) => c.type === type)

/** Structural equality of JSON-shaped values (key order ignored), to skip status writes that change nothing. */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]))
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined)
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined)
  return (
    ka.length === kb.length &&
    ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  )
}
