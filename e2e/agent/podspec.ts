// Turns a Pod's spec into what the agent runs: host directories for its volumes, the mounts, each
// container's environment and argv. Unsupported features fail loudly instead of being ignored.
import { execFile } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { core, type Kube, KubeError, type KubeObject } from "../lib/kube.ts"
import type { Identity } from "./container.ts"
import { imageKind, knownImages, operatorEntrypoint } from "./images.ts"
import type { Mount } from "./sandbox.ts"

/** Failures that clear up by themselves (an unbound PVC, a Secret created later): retry, don't crash. */
export class NotYet extends Error {}

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes wire objects
type Any = any

const fetchOrNotYet = async (kube: Kube, path: string, optional: boolean, what: string) => {
  try {
    return await kube.get(path)
  } catch (e) {
    if (e instanceof KubeError && e.code === 404) {
      if (optional) return undefined
      throw new NotYet(`${what} not found`)
    }
    throw e
  }
}

const decode = (kind: "ConfigMap" | "Secret", obj: KubeObject | undefined): Record<string, Buffer> => {
  const out: Record<string, Buffer> = {}
  if (!obj) return out
  if (kind === "Secret")
    for (const [k, v] of Object.entries(obj.data ?? {})) out[k] = Buffer.from(v as string, "base64")
  else {
    for (const [k, v] of Object.entries(obj.data ?? {})) out[k] = Buffer.from(v as string, "utf8")
    for (const [k, v] of Object.entries(obj.binaryData ?? {})) out[k] = Buffer.from(v as string, "base64")
  }
  return out
}

const fieldValue = (pod: KubeObject, fieldPath: string): string => {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath)
  if (m) return pod.metadata[m[1] as "labels" | "annotations"]?.[m[2]!] ?? ""
  switch (fieldPath) {
    case "metadata.name":
      return pod.metadata.name
    case "metadata.namespace":
      return pod.metadata.namespace ?? "default"
    case "metadata.uid":
      return pod.metadata.uid ?? ""
    case "spec.nodeName":
      return pod.spec.nodeName ?? ""
    case "spec.serviceAccountName":
      return pod.spec.serviceAccountName ?? "default"
    case "status.podIP":
    case "status.podIPs":
      return pod.status?.podIP ?? ""
    case "status.hostIP":
    case "status.hostIPs":
      return pod.status?.hostIP ?? ""
  }
  throw new Error(`fieldRef ${fieldPath} is not supported by the e2e agent`)
}

/** Files of a ConfigMap/Secret/downwardAPI/projected volume, as relative path -> content. */
const sourceFiles = async (kube: Kube, pod: KubeObject, ns: string, v: Any): Promise<Record<string, Buffer>> => {
  const pick = (all: Record<string, Buffer>, items: Array<{ key: string; path: string }> | undefined) => {
    if (!items) return all
    const out: Record<string, Buffer> = {}
    for (const i of items) if (all[i.key]) out[i.path] = all[i.key]!
    return out
  }
  if (v.configMap) {
    const cm = await fetchOrNotYet(kube, core("configmaps", ns, v.configMap.name), !!v.configMap.optional, "ConfigMap")
    return pick(decode("ConfigMap", cm), v.configMap.items)
  }
  if (v.secret) {
    const name = v.secret.secretName ?? v.secret.name
    const s = await fetchOrNotYet(kube, core("secrets", ns, name), !!v.secret.optional, `Secret ${name}`)
    return pick(decode("Secret", s), v.secret.items)
  }
  if (v.downwardAPI) {
    const out: Record<string, Buffer> = {}
    for (const i of v.downwardAPI.items ?? []) {
      if (!i.fieldRef) throw new Error("downwardAPI resourceFieldRef is not supported by the e2e agent")
      out[i.path] = Buffer.from(fieldValue(pod, i.fieldRef.fieldPath))
    }
    return out
  }
  if (v.serviceAccountToken) {
    const sa = pod.spec.serviceAccountName ?? "default"
    const tr = await kube.create(`${core("serviceaccounts", ns, sa)}/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        ...(v.serviceAccountToken.audience && { audiences: [v.serviceAccountToken.audience] }),
        expirationSeconds: v.serviceAccountToken.expirationSeconds ?? 3600,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid }
      }
    })
    return { [v.serviceAccountToken.path]: Buffer.from(tr.status.token) }
  }
  if (v.projected) {
    const out: Record<string, Buffer> = {}
    for (const s of v.projected.sources ?? []) Object.assign(out, await sourceFiles(kube, pod, ns, s))
    return out
  }
  throw new Error(`volume source ${Object.keys(v).join(",")} is not supported by the e2e agent`)
}

/** Writes files into dir, rewriting only what changed and removing what disappeared (so refreshes are cheap). */
const syncFiles = (dir: string, files: Record<string, Buffer>) => {
  mkdirSync(dir, { recursive: true })
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel)
    mkdirSync(dirname(p), { recursive: true })
    let old: Buffer | undefined
    try {
      old = readFileSync(p)
    } catch {}
    if (!old?.equals(content)) writeFileSync(p, content)
  }
  for (const f of readdirSync(dir))
    if (!(f in files) && !Object.keys(files).some((k) => k.startsWith(`${f}/`))) {
      rmSync(join(dir, f), { recursive: true, force: true })
    }
}

/** Volumes whose content comes from API objects and is refreshed while the pod runs (as the kubelet does). */
export const isProjectedKind = (v: Any) => !!(v.configMap || v.secret || v.downwardAPI || v.projected)

/**
 * Materialises every volume of the pod: returns volume name -> host directory. PVCs resolve to their
 * bound PersistentVolume's host path (NotYet while unbound); emptyDir lives in the pod directory.
 */
export const prepareVolumes = async (kube: Kube, pod: KubeObject, podDir: string) => {
  const ns = pod.metadata.namespace ?? "default"
  const out = new Map<string, string>()
  for (const v of (pod.spec.volumes ?? []) as Array<Any>) {
    const dir = join(podDir, "volumes", v.name)
    if (v.persistentVolumeClaim) {
      const claim = v.persistentVolumeClaim.claimName
      const pvc = await fetchOrNotYet(kube, core("persistentvolumeclaims", ns, claim), false, `PVC ${claim}`)
      if (pvc?.status?.phase !== "Bound" || !pvc.spec.volumeName) throw new NotYet(`PVC ${claim} is not bound yet`)
      const pv = await kube.get(core("persistentvolumes", undefined, pvc.spec.volumeName))
      const path = pv.spec.csi?.volumeAttributes?.path ?? pv.spec.hostPath?.path ?? pv.spec.local?.path
      if (!path) throw new Error(`PV ${pv.metadata.name} has no csi/hostPath/local path`)
      mkdirSync(path, { recursive: true })
      out.set(v.name, path)
    } else if (v.emptyDir) {
      mkdirSync(dir, { recursive: true })
      out.set(v.name, dir)
    } else if (isProjectedKind(v)) {
      syncFiles(dir, await sourceFiles(kube, pod, ns, v))
      out.set(v.name, dir)
    } else {
      throw new Error(`volume ${v.name}: source ${Object.keys(v).join(",")} is not supported by the e2e agent`)
    }
  }
  return out
}

/** Re-fetches ConfigMap/Secret/downwardAPI/projected volumes into their directories. */
export const refreshVolumes = async (kube: Kube, pod: KubeObject, podDir: string) => {
  const ns = pod.metadata.namespace ?? "default"
  for (const v of (pod.spec.volumes ?? []) as Array<Any>) {
    if (isProjectedKind(v) && !v.projected?.sources?.some((s: Any) => s.serviceAccountToken)) {
      syncFiles(join(podDir, "volumes", v.name), await sourceFiles(kube, pod, ns, v))
    }
  }
}

/** The union of all containers' volume mounts (one mount namespace per pod); conflicting mounts fail. */
export const podMounts = (pod: KubeObject, volumes: Map<string, string>): Array<Mount> => {
  const byTarget = new Map<string, Mount>()
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers] as Array<Any>
  for (const c of containers) {
    for (const m of (c.volumeMounts ?? []) as Array<Any>) {
      const base = volumes.get(m.name)
      if (!base) throw new Error(`container ${c.name}: volumeMount ${m.name} has no volume`)
      if (m.subPathExpr) throw new Error("subPathExpr is not supported by the e2e agent")
      const source = m.subPath ? join(base, m.subPath) : base
      if (m.subPath && !isFile(source)) mkdirSync(source, { recursive: true })
      const mount = { source, target: m.mountPath.replace(/\/+$/, "") || "/", readOnly: !!m.readOnly }
      const prev = byTarget.get(mount.target)
      if (prev && prev.source !== mount.source) {
        throw new Error(`two containers mount different volumes at ${mount.target}; the e2e agent shares one view`)
      }
      byTarget.set(mount.target, mount)
    }
  }
  // Parents before children, so nested mounts land on top of their parent mount.
  return [...byTarget.values()].sort((a, b) => a.target.length - b.target.length)
}

const isFile = (p: string) => {
  try {
    readFileSync(p)
    return true
  } catch {
    return false
  }
}

const expand = (s: string, env: Record<string, string>) =>
  s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name: string | undefined) =>
    name === undefined ? "$" : (env[name] ?? all)
  )

/** The container's environment: image defaults, envFrom, env (with valueFrom and $(VAR) expansion). */
export const containerEnv = async (kube: Kube, pod: KubeObject, c: Any): Promise<Record<string, string>> => {
  const ns = pod.metadata.namespace ?? "default"
  // What the kubelet adds for the `kubernetes` Service: here the API server's own address on the pod bridge
  // (no kube-proxy), which client libraries' in-cluster configuration reads.
  const api = kube.server
  const port = api.port || "443"
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOSTNAME: pod.spec.hostname ?? pod.metadata.name,
    HOME: "/root",
    KUBERNETES_SERVICE_HOST: api.hostname,
    KUBERNETES_SERVICE_PORT: port,
    KUBERNETES_SERVICE_PORT_HTTPS: port,
    KUBERNETES_PORT: `tcp://${api.hostname}:${port}`,
    [`KUBERNETES_PORT_${port}_TCP`]: `tcp://${api.hostname}:${port}`,
    [`KUBERNETES_PORT_${port}_TCP_PROTO`]: "tcp",
    [`KUBERNETES_PORT_${port}_TCP_PORT`]: port,
    [`KUBERNETES_PORT_${port}_TCP_ADDR`]: api.hostname
  }
  for (const from of (c.envFrom ?? []) as Array<Any>) {
    const ref = from.configMapRef ?? from.secretRef
    const kind = from.configMapRef ? "ConfigMap" : "Secret"
    const obj = await fetchOrNotYet(
      kube,
      core(kind === "ConfigMap" ? "configmaps" : "secrets", ns, ref.name),
      !!ref.optional,
      `${kind} ${ref.name}`
    )
    for (const [k, v] of Object.entries(decode(kind, obj))) env[`${from.prefix ?? ""}${k}`] = v.toString("utf8")
  }
  for (const e of (c.env ?? []) as Array<Any>) {
    if (e.valueFrom === undefined) {
      env[e.name] = expand(e.value ?? "", env)
      continue
    }
    const vf = e.valueFrom
    if (vf.fieldRef) env[e.name] = fieldValue(pod, vf.fieldRef.fieldPath)
    else if (vf.secretKeyRef || vf.configMapKeyRef) {
      const ref = vf.secretKeyRef ?? vf.configMapKeyRef
      const kind = vf.secretKeyRef ? "Secret" : "ConfigMap"
      const path = core(kind === "Secret" ? "secrets" : "configmaps", ns, ref.name)
      const value = decode(kind, await fetchOrNotYet(kube, path, !!ref.optional, `${kind} ${ref.name}`))[ref.key]
      if (value === undefined && !ref.optional) throw new NotYet(`key ${ref.key} not found in ${kind} ${ref.name}`)
      if (value !== undefined) env[e.name] = value.toString("utf8")
    } else throw new Error(`env ${e.name}: valueFrom ${Object.keys(vf).join(",")} is not supported by the e2e agent`)
  }
  return env
}

/**
 * argv for a container (images.ts): dolt's `tini --` prefix is dropped (no PID 1 duty); the operator image's
 * entrypoint (or a `command` naming it) is the repository's operator run by Node 24, followed by the args.
 */
export const containerArgv = (c: Any, env: Record<string, string>): Array<string> => {
  const kind = imageKind(c.image)
  if (!kind) throw new Error(`image ${c.image} is not mapped by the e2e agent (known: ${knownImages()})`)
  const args = ((c.args ?? []) as Array<string>).map((a) => expand(a, env))
  if (kind === "operator") {
    // An explicit command replaces the entrypoint; its first word is the operator binary whatever its path.
    const command = ((c.command ?? []) as Array<string>).map((a) => expand(a, env))
    return [...operatorEntrypoint(), ...command.slice(1), ...args]
  }
  let argv = c.command?.length
    ? [...(c.command as Array<string>).map((a) => expand(a, env)), ...args]
    : // The image's entrypoint serves on all interfaces at 3306.
      ["/usr/local/bin/dolt", "sql-server", "--host=0.0.0.0", "--port=3306", ...args]
  if (argv[0] !== undefined && /(^|\/)tini$/.test(argv[0])) {
    argv = argv.slice(1)
    if (argv[0] === "--") argv = argv.slice(1)
  }
  return argv
}

/**
 * The user a container runs as: `runAsUser`/`runAsGroup` of the container, else the pod's; supplementary groups
 * are the pod's `fsGroup` and `supplementalGroups`; `allowPrivilegeEscalation: false` sets no_new_privs.
 */
export const containerIdentity = (pod: KubeObject, c: Any): Identity => {
  const podSc = pod.spec.securityContext ?? {}
  const sc = c.securityContext ?? {}
  const uid = sc.runAsUser ?? podSc.runAsUser
  const gid = sc.runAsGroup ?? podSc.runAsGroup ?? (uid === undefined ? undefined : 0)
  const groups = [...(podSc.fsGroup === undefined ? [] : [podSc.fsGroup]), ...(podSc.supplementalGroups ?? [])]
  if (sc.runAsNonRoot === true || (sc.runAsNonRoot === undefined && podSc.runAsNonRoot === true)) {
    if (uid === undefined || uid === 0) throw new Error("container has runAsNonRoot and would run as root")
  }
  return { uid, gid, groups, noNewPrivileges: sc.allowPrivilegeEscalation === false }
}

/**
 * `fsGroup`, as the kubelet applies it to volumes that support ownership management: the group owns every file,
 * can read and write it, and new files inherit the group (setgid directories).
 */
export const applyFsGroup = async (pod: KubeObject, volumes: Map<string, string>) => {
  const fsGroup = pod.spec.securityContext?.fsGroup
  if (fsGroup === undefined) return
  for (const v of (pod.spec.volumes ?? []) as Array<Any>) {
    const dir = volumes.get(v.name)
    if (dir === undefined) continue
    await run("chgrp", ["-R", String(fsGroup), dir])
    await run("chmod", ["-R", isProjectedKind(v) ? "g+rX" : "g+rwX", dir])
    await run("find", [dir, "-type", "d", "-exec", "chmod", "g+s", "{}", "+"])
  }
}

const run = (file: string, args: ReadonlyArray<string>) =>
  new Promise<void>((resolve, reject) =>
    execFile(file, args, { timeout: 60_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`${file} ${args.join(" ")}: ${stderr || err.message}`)) : resolve()
    )
  )
