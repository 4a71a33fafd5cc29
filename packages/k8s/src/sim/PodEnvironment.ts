/**
 * What a container sees when the simulated kubelet starts it: environment (value, secretKeyRef, configMapKeyRef,
 * fieldRef, envFrom) and mounts (ConfigMap/Secret volumes as Files, a PVC as the Volume named by the claim's uid, so
 * the same claim always gets the same data back; everything else an empty dir), read from the in-memory API server.
 * A missing reference is the reason the container cannot start yet (CreateContainerConfigError).
 */
import { ConfigMaps, type KubeObject, PersistentVolumeClaims, Secrets } from "@doltdb-op/core/services/Kube"
import type { ContainerSpec, Mount } from "@doltdb-op/core/sim/SimWorld"
import { Result } from "effect"
import type { ApiServerState } from "../memory/ApiServerState.ts"

export interface Probe {
  readonly initialDelaySeconds?: number
  readonly periodSeconds?: number
  readonly successThreshold?: number
  readonly failureThreshold?: number
}

export interface ContainerView {
  readonly name: string
  readonly image: string
  readonly command?: ReadonlyArray<string>
  readonly args?: ReadonlyArray<string>
  readonly workingDir?: string
  readonly env?: ReadonlyArray<{
    readonly name: string
    readonly value?: string
    readonly valueFrom?: {
      readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean }
      readonly configMapKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean }
      readonly fieldRef?: { readonly fieldPath: string }
    }
  }>
  readonly envFrom?: ReadonlyArray<{
    readonly prefix?: string
    readonly configMapRef?: { readonly name: string; readonly optional?: boolean }
    readonly secretRef?: { readonly name: string; readonly optional?: boolean }
  }>
  readonly volumeMounts?: ReadonlyArray<{ readonly name: string; readonly mountPath: string }>
  readonly readinessProbe?: Probe
  readonly livenessProbe?: Probe
  readonly startupProbe?: Probe
}

export interface PodSpecView {
  readonly nodeName?: string
  readonly containers: ReadonlyArray<ContainerView>
  readonly initContainers?: ReadonlyArray<ContainerView>
  readonly volumes?: ReadonlyArray<{
    readonly name: string
    readonly configMap?: { readonly name: string; readonly items?: ReadonlyArray<{ key: string; path: string }> }
    readonly secret?: {
      readonly secretName: string
      readonly optional?: boolean
      readonly items?: ReadonlyArray<{ key: string; path: string }>
    }
    readonly persistentVolumeClaim?: { readonly claimName: string }
  }>
  readonly terminationGracePeriodSeconds?: number
}

const decodeBase64 = (s: string) => Buffer.from(s, "base64").toString("utf8")

const secretData = (secret: KubeObject): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, string>)) out[k] = decodeBase64(v)
  // the in-memory API server does not fold stringData into data
  for (const [k, v] of Object.entries((secret.stringData ?? {}) as Record<string, string>)) out[k] = v
  return out
}

/** The pod a container belongs to. */
export interface PodIdentity {
  readonly namespace: string
  readonly name: string
  readonly uid: string
  readonly podIP: string
}

export const makePodEnvironment = (state: ApiServerState) => {
  const lookup = (
    kind: "ConfigMap" | "Secret",
    namespace: string,
    name: string
  ): Record<string, string> | undefined => {
    const got = state.get(kind === "ConfigMap" ? ConfigMaps : Secrets, namespace, name)
    if (Result.isFailure(got)) return undefined
    return kind === "ConfigMap" ? ((got.success.data ?? {}) as Record<string, string>) : secretData(got.success)
  }

  const fieldRef = (pod: KubeObject, podIP: string, path: string): string => {
    const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path)
    if (label !== null) return pod.metadata[label[1] as "labels" | "annotations"]?.[label[2]!] ?? ""
    switch (path) {
      case "metadata.name":
        return pod.metadata.name
      case "metadata.namespace":
        return pod.metadata.namespace ?? ""
      case "metadata.uid":
        return pod.metadata.uid ?? ""
      case "status.podIP":
        return podIP
      case "spec.nodeName":
        return (pod.spec as PodSpecView).nodeName ?? ""
      default:
        return ""
    }
  }

  /** The container's spec for SimWorld, or the reason it cannot start yet (CreateContainerConfigError). */
  const resolve = (
    pod: KubeObject,
    rt: PodIdentity,
    c: ContainerView,
    init: boolean
  ): Result.Result<ContainerSpec, string> => {
    const ns = rt.namespace
    const env: Record<string, string> = {}
    for (const from of c.envFrom ?? []) {
      const ref = from.configMapRef ?? from.secretRef
      if (ref === undefined) continue
      const data = lookup(from.configMapRef !== undefined ? "ConfigMap" : "Secret", ns, ref.name)
      if (data === undefined) {
        if (ref.optional === true) continue
        return Result.fail(`envFrom: ${ref.name} not found`)
      }
      for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ""}${k}`] = v
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom === undefined) {
        env[e.name] = e.value ?? ""
        continue
      }
      const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef
      if (ref !== undefined) {
        const data = lookup(e.valueFrom.secretKeyRef !== undefined ? "Secret" : "ConfigMap", ns, ref.name)
        const value = data?.[ref.key]
        if (value === undefined) {
          if (ref.optional === true) continue
          return Result.fail(`env ${e.name}: key "${ref.key}" of ${ref.name} not found`)
        }
        env[e.name] = value
      } else if (e.valueFrom.fieldRef !== undefined) {
        env[e.name] = fieldRef(pod, rt.podIP, e.valueFrom.fieldRef.fieldPath)
      }
    }
    const mounts: Record<string, Mount> = {}
    const volumes = (pod.spec as PodSpecView).volumes ?? []
    for (const m of c.volumeMounts ?? []) {
      const v = volumes.find((x) => x.name === m.name)
      if (v === undefined) return Result.fail(`volumeMount ${m.name}: no such volume`)
      const projected = v.configMap ?? v.secret
      if (projected !== undefined) {
        const refName = v.configMap?.name ?? v.secret!.secretName
        const found = lookup(v.configMap !== undefined ? "ConfigMap" : "Secret", ns, refName)
        // An optional Secret that does not exist is an empty directory (as the kubelet mounts it).
        const data = found ?? (v.secret?.optional === true ? {} : undefined)
        if (data === undefined) return Result.fail(`volume ${v.name}: ${refName} not found`)
        const files: Record<string, string> = {}
        if (projected.items === undefined) Object.assign(files, data)
        else for (const item of projected.items) if (data[item.key] !== undefined) files[item.path] = data[item.key]!
        mounts[m.mountPath] = { _tag: "Files", files }
      } else if (v.persistentVolumeClaim !== undefined) {
        const claim = state.get(PersistentVolumeClaims, ns, v.persistentVolumeClaim.claimName)
        if (Result.isFailure(claim))
          return Result.fail(`volume ${v.name}: claim ${v.persistentVolumeClaim.claimName} not found`)
        mounts[m.mountPath] = { _tag: "Volume", volumeId: claim.success.metadata.uid! }
      } else {
        mounts[m.mountPath] = { _tag: "EmptyDir" }
      }
    }
    return Result.succeed({
      namespace: ns,
      pod: rt.name,
      podUid: rt.uid,
      podIP: rt.podIP,
      container: c.name,
      image: c.image,
      command: c.command ?? [],
      args: c.args ?? [],
      workingDir: c.workingDir,
      env,
      mounts,
      ...(init ? { init: true } : {})
    })
  }
  return { resolve }
}
