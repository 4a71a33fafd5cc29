/**
 * Children the API server would refuse for their size. Its limits: a ConfigMap's or Secret's data at most 1 MiB
 * (the values; checked against kube-apiserver in e2e/test/sizelimits.test.ts), an object's annotations (and a pod template's) at most 256 KiB, and the whole object at most
 * ~1.5 MiB (etcd's default request limit; measured here on the JSON the operator sends, which is larger than the
 * protobuf etcd stores, so the check errs on the side of refusing). The per-pod Dolt configs grow with
 * replicas × (peers + metrics labels), pod annotations are free text: a spec can build such a child.
 *
 * The operator then applies no child at all (a StatefulSet scaled past a ConfigMap that could not be written
 * would start pods without their config) and reports it: Ready False, reason `ChildTooLarge`, naming each object,
 * its size and the limit, plus one Warning event, instead of failing the apply on every pass.
 */
import type { Condition } from "../api/Common.ts"
import type { DesiredChild } from "./desiredChildren.ts"

export const ChildTooLargeReason = "ChildTooLarge"

/** `MaxSecretSize` in k8s.io/kubernetes/pkg/apis/core: ConfigMap data + binaryData, Secret data. */
export const MaxDataBytes = 1024 * 1024
/** `TotalAnnotationSizeLimitB` in apimachinery's ObjectMeta validation. */
export const MaxAnnotationBytes = 256 * 1024
/** etcd's default `--max-request-bytes`. */
export const MaxObjectBytes = 1.5 * 1024 * 1024

export interface OversizedChild {
  readonly kind: string
  readonly name: string
  /** What is too large: `data`, `annotations`, `pod template annotations`, `object`. */
  readonly part: string
  readonly bytes: number
  readonly limit: number
}

interface SizedObject {
  readonly kind: string
  readonly metadata: { readonly name: string; readonly annotations?: Readonly<Record<string, string>> | undefined }
}

const encoder = new TextEncoder()
const utf8 = (text: string) => encoder.encode(text).length

/** Annotations count keys and values (apimachinery's ValidateAnnotationsSize). */
const mapBytes = (map: Readonly<Record<string, string>> | undefined): number =>
  Object.entries(map ?? {}).reduce((sum, [key, value]) => sum + utf8(key) + utf8(value), 0)

/** ConfigMap and Secret data count values only (ValidateConfigMap, ValidateSecret); base64 counts decoded. */
const valueBytes = (map: Readonly<Record<string, string>> | undefined, base64 = false): number =>
  Object.values(map ?? {}).reduce(
    (sum, value) => sum + (base64 ? Math.floor((value.replace(/=+$/u, "").length * 3) / 4) : utf8(value)),
    0
  )

const dataBytes = (object: SizedObject): number | undefined => {
  const o = object as unknown as {
    readonly data?: Readonly<Record<string, string>>
    readonly binaryData?: Readonly<Record<string, string>>
    readonly stringData?: Readonly<Record<string, string>>
  }
  if (object.kind === "ConfigMap") return valueBytes(o.data) + valueBytes(o.binaryData, true)
  if (object.kind === "Secret") return valueBytes(o.data, true) + valueBytes(o.stringData)
  return undefined
}

const templateAnnotations = (object: SizedObject): Readonly<Record<string, string>> | undefined =>
  (object as { readonly spec?: { readonly template?: { readonly metadata?: { readonly annotations?: never } } } }).spec
    ?.template?.metadata?.annotations

/** Every part of every object over its limit, in the objects' order. */
export const oversizedChildren = (objects: ReadonlyArray<SizedObject>): ReadonlyArray<OversizedChild> =>
  objects.flatMap((object) => {
    const found: Array<OversizedChild> = []
    const over = (part: string, bytes: number | undefined, limit: number) => {
      if (bytes !== undefined && bytes > limit)
        found.push({ kind: object.kind, name: object.metadata.name, part, bytes, limit })
    }
    over("data", dataBytes(object), MaxDataBytes)
    over("annotations", mapBytes(object.metadata.annotations), MaxAnnotationBytes)
    over("pod template annotations", mapBytes(templateAnnotations(object)), MaxAnnotationBytes)
    over("object", utf8(JSON.stringify(object)), MaxObjectBytes)
    return found
  })

/** Sizes measured once per built child set (desiredChildren returns the same array while the spec is unchanged). */
const oversizedMemo = new WeakMap<ReadonlyArray<DesiredChild>, ReadonlyArray<OversizedChild>>()
export const oversizedOf = (desired: ReadonlyArray<DesiredChild>): ReadonlyArray<OversizedChild> => {
  const known = oversizedMemo.get(desired)
  if (known !== undefined) return known
  const found = oversizedChildren(desired.map(({ child }) => child))
  oversizedMemo.set(desired, found)
  return found
}

const sizeText = (bytes: number) => `${bytes.toLocaleString("en-US")} bytes`

/** `ConfigMap db-config data is 1,310,000 bytes, over the API server's limit of 1,048,576 bytes; ...` */
export const oversizedChildrenList = (oversized: ReadonlyArray<OversizedChild>): string =>
  oversized
    .map(
      (o) =>
        `${o.kind} ${o.name} ${o.part} is ${sizeText(o.bytes)}, over the API server's limit of ${sizeText(o.limit)}`
    )
    .join("; ")

export const oversizedChildrenMessage = (oversized: ReadonlyArray<OversizedChild>): string =>
  `${oversizedChildrenList(oversized)}: no child object is applied until the spec makes ${oversized.length === 1 ? "it" : "them"} smaller (fewer replicas, shorter metrics labels or pod annotations)`

/** Ready False naming the oversized children. */
export const oversizedChildrenReady = (
  oversized: ReadonlyArray<OversizedChild>
): Pick<Condition, "type" | "status" | "reason" | "message"> => ({
  type: "Ready",
  status: "False",
  reason: ChildTooLargeReason,
  message: oversizedChildrenMessage(oversized)
})
