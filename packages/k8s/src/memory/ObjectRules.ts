/**
 * The object rules of the in-memory API server that do not depend on its state: validation of names, the
 * preconditions of a write, what metadata an update keeps, JSON merge patch, and the spec-like part of an object
 * (whose changes move `generation`).
 */
import { type KubeError, type KubeObject, kubeError, type Resource } from "@doltdb-op/core/services/Kube"
import type { Json } from "./FieldSet.ts"

export type Res = Pick<Resource<unknown>, "apiVersion" | "kind" | "plural" | "namespaced" | "statusSubresource">
type JsonObject = Record<string, Json>

export const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export const deepFreeze = <A>(value: A): A => {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/** RFC 7386 JSON merge patch. */
export const applyMergePatch = (target: Json | undefined, patch: Json): Json => {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch
  const base: Record<string, Json> =
    target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as JsonObject) } : {}
  for (const [k, v] of Object.entries(patch as JsonObject)) {
    if (v === null) delete base[k]
    else base[k] = applyMergePatch(base[k], v)
  }
  return base
}

export const mainPart = (o: KubeObject, res: Res): JsonObject => {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(o)) {
    if (k === "metadata" || k === "apiVersion" || k === "kind") continue
    if (k === "status" && res.statusSubresource) continue
    out[k] = v as Json
  }
  return out
}

export const notFoundError = (verb: string, res: Res, namespace: string | undefined, name: string): KubeError =>
  kubeError("NotFound", { verb, kind: res.kind, namespace, name }, `${res.plural} "${name}" not found`)

export const invalidError = (
  verb: string,
  res: Res,
  namespace: string | undefined,
  name: string | undefined,
  message: string
): KubeError => {
  return kubeError(
    "Invalid",
    { verb, kind: res.kind, namespace, name },
    `${res.kind} "${name ?? ""}" is invalid: ${message}`
  )
}

/** Why `o` cannot be written as `res` (kind, name, generateName, namespace), or undefined. */
export const validateObject = (
  verb: string,
  res: Res,
  o: KubeObject,
  namespace: string | undefined,
  name: string | undefined
): KubeError | undefined => {
  if (o.apiVersion !== res.apiVersion || o.kind !== res.kind) {
    return invalidError(
      verb,
      res,
      namespace,
      name,
      `apiVersion/kind: expected ${res.apiVersion} ${res.kind}, got ${String(o.apiVersion)} ${String(o.kind)}`
    )
  }
  const prefix = o.metadata.generateName
  if (prefix !== undefined && prefix !== "" && !dns1123Subdomain.test(prefix.replace(/-$/, "a"))) {
    return invalidError(
      verb,
      res,
      namespace,
      name,
      `metadata.generateName: Invalid value "${prefix}": a lowercase RFC 1123 subdomain prefix is required`
    )
  }
  if (name === undefined || name === "") {
    return invalidError(verb, res, namespace, name, "metadata.name: Required value")
  }
  if (name.length > 253 || !dns1123Subdomain.test(name)) {
    return invalidError(
      verb,
      res,
      namespace,
      name,
      `metadata.name: Invalid value "${name}": a lowercase RFC 1123 subdomain is required`
    )
  }
  if (res.namespaced && (namespace === undefined || namespace === "")) {
    return invalidError(verb, res, namespace, name, "metadata.namespace: Required value")
  }
  return undefined
}

export const preconditionFailure = (
  verb: string,
  res: Res,
  object: KubeObject,
  resourceVersion: string | undefined,
  uid: string | undefined
): KubeError | undefined => {
  const m = object.metadata
  const ctx = { verb, kind: res.kind, namespace: m.namespace, name: m.name }
  if (uid !== undefined && uid !== "" && uid !== m.uid) {
    return kubeError("Conflict", ctx, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${m.uid}`)
  }
  if (resourceVersion !== undefined && resourceVersion !== "" && resourceVersion !== m.resourceVersion) {
    return kubeError(
      "Conflict",
      ctx,
      `Operation cannot be fulfilled on ${res.plural} "${m.name}": the object has been modified; please apply your changes to the latest version and try again`
    )
  }
  return undefined
}

/** Metadata of an update: the client's labels/annotations/finalizers/owners, the server's identity fields. */
export const keptMetadata = (old: KubeObject, incoming: KubeObject["metadata"] | undefined): KubeObject["metadata"] => {
  const { managedFields: _m, ...rest } = incoming ?? old.metadata
  const m = old.metadata
  const out: Record<string, unknown> = {
    ...rest,
    name: m.name,
    uid: m.uid,
    creationTimestamp: m.creationTimestamp,
    generation: m.generation,
    resourceVersion: m.resourceVersion
  }
  if (m.namespace !== undefined) out.namespace = m.namespace
  else delete out.namespace
  if (m.deletionTimestamp !== undefined) out.deletionTimestamp = m.deletionTimestamp
  else delete out.deletionTimestamp
  if (m.deletionGracePeriodSeconds !== undefined) out.deletionGracePeriodSeconds = m.deletionGracePeriodSeconds
  else delete out.deletionGracePeriodSeconds
  return out as unknown as KubeObject["metadata"]
}
