/**
 * The API server's defaulting for the built-in kinds the operator writes and reads back (checked against
 * kube-apiserver v1.36): what a real server fills in, so an object read from the in-memory layer looks like one read
 * from a cluster. Service cluster IPs come from `allocateIP`. Other kinds are stored as written.
 */
import type { KubeObject } from "@doltdb-op/core/services/Kube"

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v)
const withDefaults = (o: Obj, defaults: Obj): Obj => {
  const out: Obj = { ...o }
  for (const [k, v] of Object.entries(defaults)) if (out[k] === undefined) out[k] = v
  return out
}

const probe = (p: unknown) =>
  isObj(p) ? withDefaults(p, { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 }) : p

const container = (c: unknown) => {
  if (!isObj(c)) return c
  const image = typeof c.image === "string" ? c.image : ""
  const tag = image.includes("@") ? "digest" : (/:([^/:]+)$/.exec(image)?.[1] ?? "latest")
  const out = withDefaults(c, {
    resources: {},
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: tag === "latest" ? "Always" : "IfNotPresent"
  })
  for (const k of ["readinessProbe", "livenessProbe", "startupProbe"]) if (out[k] !== undefined) out[k] = probe(out[k])
  return out
}

export const podSpecDefaults = (spec: unknown): unknown => {
  if (!isObj(spec)) return spec
  const out = withDefaults(spec, {
    restartPolicy: "Always",
    terminationGracePeriodSeconds: 30,
    dnsPolicy: "ClusterFirst",
    securityContext: {},
    schedulerName: "default-scheduler"
  })
  if (Array.isArray(out.containers)) out.containers = out.containers.map(container)
  if (Array.isArray(out.initContainers)) out.initContainers = out.initContainers.map(container)
  return out
}

const statefulSetSpec = (spec: Obj): Obj => {
  const out = withDefaults(spec, {
    replicas: 1,
    podManagementPolicy: "OrderedReady",
    updateStrategy: { type: "RollingUpdate" },
    revisionHistoryLimit: 10,
    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" }
  })
  const strategy = out.updateStrategy as Obj
  if (strategy.type === "RollingUpdate") {
    out.updateStrategy = {
      ...strategy,
      rollingUpdate: withDefaults((strategy.rollingUpdate as Obj) ?? {}, { partition: 0 })
    }
  }
  if (isObj(out.template)) out.template = { ...out.template, spec: podSpecDefaults(out.template.spec) }
  if (Array.isArray(out.volumeClaimTemplates)) {
    out.volumeClaimTemplates = out.volumeClaimTemplates.map((t: unknown) =>
      isObj(t)
        ? withDefaults(
            { ...t, spec: isObj(t.spec) ? withDefaults(t.spec, { volumeMode: "Filesystem" }) : t.spec },
            { apiVersion: "v1", kind: "PersistentVolumeClaim", status: { phase: "Pending" } }
          )
        : t
    )
  }
  return out
}

const serviceSpec = (spec: Obj, previous: Obj | undefined, allocateIP: () => string): Obj => {
  const ports = Array.isArray(spec.ports)
    ? spec.ports.map((p: unknown) =>
        isObj(p) ? withDefaults(p, { protocol: "TCP", ...(p.port === undefined ? {} : { targetPort: p.port }) }) : p
      )
    : spec.ports
  // the cluster IP is allocated once and kept (it is immutable)
  const clusterIP = spec.clusterIP ?? previous?.clusterIP ?? allocateIP()
  return withDefaults(
    { ...spec, ...(ports === undefined ? {} : { ports }), clusterIP },
    {
      clusterIPs: [clusterIP],
      type: "ClusterIP",
      sessionAffinity: "None",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
      internalTrafficPolicy: "Cluster"
    }
  )
}

/** `object` as the API server would store it; `previous` is the stored version on an update. */
export const applyDefaults = (
  object: KubeObject,
  previous: KubeObject | undefined,
  allocateIP: () => string
): KubeObject => {
  const spec = object.spec
  if (!isObj(spec)) return object
  const key = `${object.apiVersion}/${object.kind}`
  switch (key) {
    case "apps/v1/StatefulSet":
      return { ...object, spec: statefulSetSpec(spec) }
    case "v1/Service":
      return { ...object, spec: serviceSpec(spec, previous?.spec as Obj | undefined, allocateIP) }
    case "v1/Pod":
      return { ...object, spec: podSpecDefaults(spec) }
    case "v1/PersistentVolumeClaim":
      return { ...object, spec: withDefaults(spec, { volumeMode: "Filesystem" }) }
    default:
      return object
  }
}
