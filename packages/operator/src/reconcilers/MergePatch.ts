/**
 * RFC 7386 merge patch from one JSON value to another. A merge patch leaves absent keys alone, so turning a whole
 * "desired status" into a patch needs `null` for every key that went away; arrays are replaced whole.
 */
const isObject = (v: unknown): v is Readonly<Record<string, unknown>> =>
  v !== null && typeof v === "object" && !Array.isArray(v)

export const mergePatch = (from: unknown, to: unknown): unknown => {
  if (!isObject(from) || !isObject(to)) return to === undefined ? null : to
  const patch: Record<string, unknown> = {}
  for (const key of Object.keys(from)) if (from[key] !== undefined && to[key] === undefined) patch[key] = null
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue
    const before = from[key]
    if (isObject(before) && isObject(value)) {
      const inner = mergePatch(before, value) as Record<string, unknown>
      if (Object.keys(inner).length > 0) patch[key] = inner
    } else if (JSON.stringify(before) !== JSON.stringify(value)) patch[key] = value
  }
  return patch
}
