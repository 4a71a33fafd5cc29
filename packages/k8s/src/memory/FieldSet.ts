/**
 * Server-side apply bookkeeping for the in-memory API server: field paths, merging an applied configuration into
 * a live object, and removing fields a manager stopped applying.
 *
 * A path is a list of segments joined by NUL: `f:<key>` (map key), `k:<json key>` (an item of a keyed list),
 * `v:<json value>` (a member of a set list). Lists are atomic unless their field name is known to be keyed
 * (containers, env, volumes, ports, conditions, ...) like the built-in schemas' `listType=map`. The structured-merge
 * library the API server uses is Go-only; this is its subset that our controllers exercise.
 */

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
type JsonObject = { readonly [key: string]: Json }

export const SEP = "\u0000"

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v)

/** Lists whose items are identified by key fields instead of position. */
const keyedLists: Readonly<Record<string, ReadonlyArray<string>>> = {
  containers: ["name"],
  initContainers: ["name"],
  ephemeralContainers: ["name"],
  volumes: ["name"],
  env: ["name"],
  envFrom: [],
  imagePullSecrets: ["name"],
  volumeMounts: ["mountPath"],
  volumeDevices: ["devicePath"],
  conditions: ["type"],
  ownerReferences: ["uid"],
  hostAliases: ["ip"]
}

/** Scalar lists treated as sets. */
const setLists: ReadonlySet<string> = new Set(["finalizers"])

const itemKey = (field: string, item: Json): string | undefined => {
  if (!isObject(item)) return undefined
  if (field === "ports") {
    // container ports are keyed by containerPort+protocol, Service ports by port+protocol
    const port = item.containerPort ?? item.port
    if (typeof port !== "number") return undefined
    return JSON.stringify({ port, protocol: item.protocol ?? "TCP" })
  }
  const keys = keyedLists[field]
  if (keys === undefined || keys.length === 0) return undefined
  const key: Record<string, Json> = {}
  for (const k of keys) {
    const v = item[k]
    if (v === undefined) return undefined
    key[k] = v
  }
  return JSON.stringify(key)
}

const listKind = (field: string, items: ReadonlyArray<Json>): "keyed" | "set" | "atomic" => {
  if (setLists.has(field) && items.every((i) => typeof i === "string")) return "set"
  if (field !== "ports" && keyedLists[field] === undefined) return "atomic"
  return items.every((i) => itemKey(field, i) !== undefined) ? "keyed" : "atomic"
}

const collect = (value: Json, field: string, prefix: string, out: Set<string>): void => {
  if (isObject(value)) {
    const keys = Object.keys(value)
    if (keys.length === 0) {
      if (prefix !== "") out.add(prefix)
      return
    }
    for (const k of keys) collect(value[k]!, k, `${prefix}${SEP}f:${k}`, out)
    return
  }
  if (Array.isArray(value)) {
    const items = value as ReadonlyArray<Json>
    const kind = items.length === 0 ? "atomic" : listKind(field, items)
    if (kind === "atomic") {
      out.add(prefix)
    } else if (kind === "set") {
      for (const i of items) out.add(`${prefix}${SEP}v:${JSON.stringify(i)}`)
    } else {
      for (const i of items) {
        const itemPath = `${prefix}${SEP}k:${itemKey(field, i)}`
        out.add(itemPath)
        collect(i, "", itemPath, out)
      }
    }
    return
  }
  out.add(prefix)
}

/** Top-level fields that are identity or server-owned, never tracked. */
const untrackedMetadata = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "generateName",
  "selfLink"
])

/**
 * The fields set in `object`. `scope` picks the main resource (everything but status) or the status subresource.
 */
export const fieldsOf = (object: JsonObject, scope: "main" | "status" | "all"): Set<string> => {
  const out = new Set<string>()
  for (const [k, v] of Object.entries(object)) {
    if (k === "apiVersion" || k === "kind") continue
    if (k === "status" ? scope === "main" : scope === "status") continue
    if (k === "metadata" && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (!untrackedMetadata.has(mk)) collect(mv, mk, `${SEP}f:metadata${SEP}f:${mk}`, out)
      }
      continue
    }
    collect(v, k, `${SEP}f:${k}`, out)
  }
  return out
}

const segmentsOf = (path: string): Array<string> => path.split(SEP).slice(1)

const findItem = (items: ReadonlyArray<Json>, field: string, segment: string): number => {
  const key = segment.slice(2)
  return items.findIndex((i) => itemKey(field, i) === key)
}

/** The value at `path`, or `undefined` when absent. */
export const valueAt = (object: Json, path: string): Json | undefined => {
  let current: Json | undefined = object
  let field = ""
  for (const seg of segmentsOf(path)) {
    if (current === undefined) return undefined
    if (seg.startsWith("f:")) {
      if (!isObject(current)) return undefined
      field = seg.slice(2)
      current = current[field]
    } else if (seg.startsWith("k:")) {
      if (!Array.isArray(current)) return undefined
      const items = current as ReadonlyArray<Json>
      const at = findItem(items, field, seg)
      current = at < 0 ? undefined : items[at]
      field = ""
    } else {
      if (!Array.isArray(current)) return undefined
      const value = JSON.parse(seg.slice(2)) as Json
      return (current as ReadonlyArray<Json>).includes(value) ? value : undefined
    }
  }
  return current
}

export const jsonEqual = (a: Json | undefined, b: Json | undefined): boolean => {
  if (a === b) return true
  if (a === undefined || b === undefined || a === null || b === null) return false
  if (typeof a !== "object" || typeof b !== "object") return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ao = a as JsonObject
  const bo = b as JsonObject
  const ak = Object.keys(ao)
  if (ak.length !== Object.keys(bo).length) return false
  for (const k of ak) if (!Object.hasOwn(bo, k) || !jsonEqual(ao[k], bo[k])) return false
  return true
}

/** `applied` merged into `live`: maps merge, keyed lists merge by key, set lists union, the rest is replaced. */
export const merge = (live: Json | undefined, applied: Json, field = ""): Json => {
  if (isObject(applied)) {
    if (!isObject(live)) return applied
    const out: Record<string, Json> = { ...live }
    for (const [k, v] of Object.entries(applied)) out[k] = merge(live[k], v, k)
    return out
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const a = applied as ReadonlyArray<Json>
    const l = live as ReadonlyArray<Json>
    const kind = listKind(field, [...l, ...a])
    if (kind === "set") return [...l, ...a.filter((v) => !l.includes(v))]
    if (kind === "keyed") {
      const out = [...l]
      for (const item of a) {
        const key = itemKey(field, item)
        const at = out.findIndex((i) => itemKey(field, i) === key)
        if (at < 0) out.push(item)
        else out[at] = merge(out[at], item, "")
      }
      return out
    }
  }
  return applied
}

/** `object` without the value at `path` (unchanged when absent). */
export const removeAt = (object: Json, path: string): Json => {
  const go = (current: Json, segs: ReadonlyArray<string>, field: string): Json => {
    const [seg, ...rest] = segs
    if (seg === undefined) return current
    if (seg.startsWith("f:")) {
      if (!isObject(current)) return current
      const key = seg.slice(2)
      if (!Object.hasOwn(current, key)) return current
      const out: Record<string, Json> = { ...current }
      if (rest.length === 0) delete out[key]
      else out[key] = go(current[key]!, rest, key)
      return out
    }
    if (!Array.isArray(current)) return current
    const items = current as ReadonlyArray<Json>
    if (seg.startsWith("v:")) {
      const value = JSON.parse(seg.slice(2)) as Json
      return items.filter((i) => i !== value)
    }
    const at = findItem(items, field, seg)
    if (at < 0) return current
    if (rest.length === 0) return items.filter((_, i) => i !== at)
    const out = [...items]
    out[at] = go(items[at]!, rest, "")
    return out
  }
  return go(object, segmentsOf(path), "")
}

/** A readable rendering: `.spec.template.spec.containers[name="dolt"].image`. */
export const renderPath = (path: string): string =>
  segmentsOf(path)
    .map((seg) => {
      if (seg.startsWith("f:")) return `.${seg.slice(2)}`
      if (seg.startsWith("v:")) return `[${seg.slice(2)}]`
      const key = JSON.parse(seg.slice(2)) as Record<string, Json>
      return `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}]`
    })
    .join("")
