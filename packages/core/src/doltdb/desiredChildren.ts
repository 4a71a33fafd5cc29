/**
 * The desired children of a DoltDB, each with the hash of its content recorded on it, memoized.
 *
 * The planner renders every child and hashes it on every pass of every DoltDB (each poll, 2 s); rendering, YAML and
 * hashing were the largest cost of a converged pass and of the failover simulation. The builders only ever see
 * `builderInput`'s projection of the DoltDB (identity, labels, annotations, spec, the primary's index and the
 * Bootstrapped condition), so that projection is a complete cache key by construction: a builder that starts to
 * read another field sees it missing and its tests fail, rather than getting a stale render.
 */
import { BootstrappedCondition } from "../builders/BootstrapScript.ts"
import { buildDesiredState } from "../builders/DesiredState.ts"
import type { ChildObject } from "../builders/KubeObjects.ts"
import type { IdentifiedDoltDB } from "../builders/Owner.ts"
import type { BuildContext } from "../builders/PodTemplate.ts"
import { sha256Hex } from "../builders/Sha256.ts"
import type { KubeObject } from "../plan/Action.ts"
import { AppliedHashAnnotation } from "./DoltDBObserved.ts"

export interface DesiredChild {
  /** The rendered child, as the builders return it. */
  readonly child: ChildObject
  /** The child with `AppliedHashAnnotation` set to `hash`: what is applied. */
  readonly object: KubeObject
  readonly hash: string
}

const isArrayIndex = (key: string): boolean => /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4_294_967_295

/**
 * Object keys in the order the hash has always used (`JSON.stringify` of a copy built from the sorted entries): the
 * array-index keys first, numerically (JavaScript orders them so in any object), then the rest sorted.
 */
const hashKeyOrder = (record: Record<string, unknown>): ReadonlyArray<string> => {
  const keys = Object.keys(record).sort()
  if (!keys.some(isArrayIndex)) return keys
  const indexes = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b))
  return [...indexes, ...keys.filter((k) => !isArrayIndex(k))]
}

/** JSON with object keys sorted at every level, written directly (no intermediate sorted copies). */
export const stableJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : stableJson(v))).join(",")}]`
  const record = value as Record<string, unknown>
  const parts: Array<string> = []
  for (const key of hashKeyOrder(record)) {
    const v = record[key]
    if (v !== undefined && typeof v !== "function") parts.push(`${JSON.stringify(key)}:${stableJson(v)}`)
  }
  return `{${parts.join(",")}}`
}

/** The desired object with the hash of its own content recorded on it. */
export const withAppliedHash = (object: ChildObject): { readonly object: KubeObject; readonly hash: string } => {
  const hash = sha256Hex(stableJson(object)).slice(0, 16)
  const metadata = object.metadata as KubeObject["metadata"] & { readonly annotations?: Record<string, string> }
  return {
    hash,
    object: {
      ...(object as unknown as KubeObject),
      metadata: { ...metadata, annotations: { ...metadata.annotations, [AppliedHashAnnotation]: hash } }
    }
  }
}

/** Everything the builders read, and nothing else. */
const builderInput = (doltdb: IdentifiedDoltDB): IdentifiedDoltDB => {
  const { name, namespace, uid, labels, annotations } = doltdb.metadata
  const bootstrapped = doltdb.status?.conditions?.find((c) => c.type === BootstrappedCondition)
  const primary = doltdb.status?.currentPrimaryPodIndex
  return {
    apiVersion: doltdb.apiVersion,
    kind: doltdb.kind,
    metadata: {
      name,
      namespace,
      uid,
      ...(labels === undefined ? {} : { labels }),
      ...(annotations === undefined ? {} : { annotations })
    },
    spec: doltdb.spec,
    status: {
      ...(primary === undefined ? {} : { currentPrimaryPodIndex: primary }),
      ...(bootstrapped === undefined ? {} : { conditions: [bootstrapped] })
    }
  }
}

/** Recent renders by input; a few DoltDB versions each (primary moves, spec edits). Bounded, least recent first out. */
const memo = new Map<string, ReadonlyArray<DesiredChild>>()
const MemoEntries = 1_024

/** The children to apply, in apply order (see `buildDesiredState`), each with its applied hash. */
export const desiredChildren = (doltdb: IdentifiedDoltDB, context: BuildContext = {}): ReadonlyArray<DesiredChild> => {
  const input = builderInput(doltdb)
  const key = JSON.stringify([input, context])
  const known = memo.get(key)
  if (known !== undefined) {
    memo.delete(key)
    memo.set(key, known)
    return known
  }
  const children = buildDesiredState(input, context).objects.map((child) => ({ child, ...withAppliedHash(child) }))
  if (memo.size >= MemoEntries) memo.delete(memo.keys().next().value as string)
  memo.set(key, children)
  return children
}
