/**
 * Field ownership for the in-memory API server: which manager owns which field paths (`FieldSet.ts`), how a
 * server-side apply merges into the live object (conflicts, force, removal of fields a manager stopped applying),
 * and how an ordinary write (create, replace, merge patch, status patch) moves ownership of what it changed.
 * Pure functions over immutable values; `ApiServerState` stores the result.
 */
import { Result } from "effect"
import { fieldsOf, type Json, jsonEqual, merge, removeAt, renderPath, SEP, valueAt } from "./FieldSet.ts"

type JsonObject = Record<string, Json>
export type Scope = "main" | "status"

export interface ManagedFieldsEntry {
  readonly manager: string
  readonly operation: "Apply" | "Update"
  readonly subresource: Scope
  readonly fields: ReadonlySet<string>
}

/** Keyed by manager, operation and subresource, like `metadata.managedFields`. */
export type Managers = ReadonlyMap<string, ManagedFieldsEntry>

export const managerKey = (manager: string, operation: string, scope: Scope): string =>
  `${manager}${SEP}${operation}${SEP}${scope}`

export const noManagers: Managers = new Map()

/** The managers of a freshly created object: the creator owns everything it set. */
export const createdBy = (object: JsonObject, manager: string, operation: "Apply" | "Update"): Managers => {
  const fields = fieldsOf(object, "all")
  if (fields.size === 0) return noManagers
  return new Map([[managerKey(manager, operation, "main"), { manager, operation, subresource: "main", fields }]])
}

export interface ApplyConflict {
  readonly manager: string
  readonly path: string
}

export const describeConflicts = (conflicts: ReadonlyArray<ApplyConflict>): string =>
  `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"}: ${conflicts
    .map((c) => `conflict with "${c.manager}": ${renderPath(c.path)}`)
    .join("; ")}`

/**
 * Server-side apply of `config` (status already dropped where it is a subresource) onto `live`: fails with the
 * conflicting fields unless `force`; otherwise merges, removes the fields this manager applied last time and
 * nobody else owns any more, and records `config`'s fields as this manager's.
 */
export const serverSideApply = (
  live: JsonObject,
  config: JsonObject,
  managers: Managers,
  fieldManager: string,
  force: boolean
): Result.Result<{ readonly object: JsonObject; readonly managers: Managers }, ReadonlyArray<ApplyConflict>> => {
  const appliedFields = fieldsOf(config, "all")
  const key = managerKey(fieldManager, "Apply", "main")
  // conflicts: a leaf another manager owns whose value this apply would change
  const conflicts: Array<ApplyConflict> = []
  for (const [k, m] of managers) {
    if (k === key || m.subresource !== "main") continue
    for (const f of m.fields) {
      if (!appliedFields.has(f) || !f.slice(f.lastIndexOf(SEP) + 1).startsWith("f:")) continue
      if (!jsonEqual(valueAt(config, f), valueAt(live, f))) conflicts.push({ manager: m.manager, path: f })
    }
  }
  const next = new Map(managers)
  if (conflicts.length > 0) {
    if (!force) return Result.fail(conflicts)
    const taken = new Set(conflicts.map((c) => c.path))
    for (const [k, m] of next) {
      if (k === key) continue
      const fields = new Set([...m.fields].filter((f) => !taken.has(f)))
      if (fields.size === 0) next.delete(k)
      else next.set(k, { ...m, fields })
    }
  }
  const { metadata: appliedMeta, apiVersion: _a, kind: _k, ...appliedBody } = config
  let object = merge(live, appliedBody) as JsonObject
  object = { ...object, metadata: merge(live.metadata, appliedMeta ?? {}) }
  const ownedByOthers = (f: string) => {
    for (const [k, m] of next) {
      if (k === key || m.subresource !== "main") continue
      for (const g of m.fields) if (g === f || g.startsWith(f + SEP)) return true
    }
    return false
  }
  for (const f of managers.get(key)?.fields ?? []) {
    if (!appliedFields.has(f) && !ownedByOthers(f)) object = removeAt(object, f) as JsonObject
  }
  next.set(key, { manager: fieldManager, operation: "Apply", subresource: "main", fields: appliedFields })
  return Result.succeed({ object, managers: next })
}

/**
 * Ownership after an ordinary write by `manager` (operation Update) to `scope`: it takes every field it changed
 * (from whoever owned it, without conflict), and fields it removed are owned by nobody.
 */
export const updatedBy = (
  old: JsonObject,
  updated: JsonObject,
  managers: Managers,
  manager: string,
  scope: Scope
): Managers => {
  const pick = (o: JsonObject): JsonObject => (scope === "status" ? { status: o.status ?? null } : o)
  // most writes of a converged object change nothing: skip the field bookkeeping
  if (jsonEqual(pick(old), pick(updated))) return managers
  const oldFields = fieldsOf(pick(old), scope === "status" ? "status" : "all")
  const newFields = fieldsOf(pick(updated), scope === "status" ? "status" : "all")
  const touched = new Set<string>()
  for (const f of newFields) if (!oldFields.has(f) || !jsonEqual(valueAt(old, f), valueAt(updated, f))) touched.add(f)
  for (const f of oldFields) if (!newFields.has(f)) touched.add(f)
  if (touched.size === 0) return managers
  const next = new Map<string, ManagedFieldsEntry>()
  for (const [k, m] of managers) {
    if (m.subresource !== scope) {
      next.set(k, m)
      continue
    }
    const fields = new Set([...m.fields].filter((f) => !touched.has(f)))
    if (fields.size > 0) next.set(k, { ...m, fields })
  }
  const key = managerKey(manager, "Update", scope)
  const mine = new Set(next.get(key)?.fields ?? [])
  for (const f of touched) if (newFields.has(f)) mine.add(f)
  if (mine.size > 0) next.set(key, { manager, operation: "Update", subresource: scope, fields: mine })
  return next
}

export const sameManagers = (a: Managers, b: Managers): boolean => {
  if (a === b) return true
  if (a.size !== b.size) return false
  for (const [k, m] of a) {
    const n = b.get(k)
    if (n === undefined || n.fields.size !== m.fields.size) return false
    for (const f of m.fields) if (!n.fields.has(f)) return false
  }
  return true
}

/** Readable ownership, for tests and debugging. */
export const renderManagers = (managers: Managers) =>
  [...managers.values()].map((m) => ({
    manager: m.manager,
    operation: m.operation,
    subresource: m.subresource,
    fields: [...m.fields].map(renderPath).sort()
  }))
