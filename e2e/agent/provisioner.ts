// Volume provisioner and resizer for the e2e StorageClass (what a CSI driver with its external provisioner
// and resizer would do): a claim of the class gets a CSI PersistentVolume (driver hostpath.e2e.doltdb.io, the
// directory $E2E_WORK/volumes/<handle> in its volumeAttributes), pre-bound through claimRef (the controller
// manager completes the binding); a claim whose dataSource is a VolumeSnapshot starts as a copy of it; a released
// volume with reclaimPolicy Delete is removed with its directory; a larger request grows the volume. CSI volumes,
// not hostPath, because the snapshot-controller only snapshots CSI volumes.
// Plain async Node (test infrastructure).
import { cpSync, mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { core, group, type Kube, KubeError, type WatchEvent } from "../lib/kube.ts"
import { PROVISIONER } from "../lib/names.ts"
import { restoreSource } from "./snapshotter.ts"

const UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50
}

/** Bytes of a resource.Quantity such as "1Gi", "500M" or "1073741824". */
export const bytes = (q: string | undefined): number => {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q ?? "")
  const unit = m ? UNITS[m[2]!] : undefined
  if (!m || unit === undefined) throw new Error(`unsupported quantity ${q}`)
  return Number(m[1]) * unit
}

export const onClaim = async (kube: Kube, workDir: string, e: WatchEvent) => {
  const pvc = e.object
  if (e.type === "DELETED" || pvc.metadata.deletionTimestamp) return
  const ann = pvc.metadata.annotations ?? {}
  const provisioner =
    ann["volume.kubernetes.io/storage-provisioner"] ?? ann["volume.beta.kubernetes.io/storage-provisioner"]
  if (pvc.spec.volumeName) return resize(kube, pvc)
  if (provisioner !== PROVISIONER) return
  const name = `pvc-${pvc.metadata.uid}`
  const path = join(workDir, "volumes", name)
  const source = pvc.spec.dataSourceRef ?? pvc.spec.dataSource
  if (source?.kind === "VolumeSnapshot") {
    const from = await restoreSource(kube, workDir, pvc.metadata.namespace ?? "default", source.name)
    rmSync(path, { recursive: true, force: true })
    cpSync(from, path, { recursive: true, preserveTimestamps: true })
    console.error(`[provisioner] ${name} restored from VolumeSnapshot ${source.name}`)
  }
  mkdirSync(path, { recursive: true })
  const sc = await kube.find(group("storage.k8s.io/v1", "storageclasses", undefined, pvc.spec.storageClassName))
  try {
    await kube.create(core("persistentvolumes"), {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name, annotations: { "pv.kubernetes.io/provisioned-by": PROVISIONER } },
      spec: {
        capacity: { storage: pvc.spec.resources?.requests?.storage ?? "1Gi" },
        accessModes: pvc.spec.accessModes ?? ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: sc?.reclaimPolicy ?? "Delete",
        storageClassName: pvc.spec.storageClassName,
        volumeMode: pvc.spec.volumeMode ?? "Filesystem",
        csi: { driver: PROVISIONER, volumeHandle: name, volumeAttributes: { path } },
        claimRef: {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          namespace: pvc.metadata.namespace,
          name: pvc.metadata.name,
          uid: pvc.metadata.uid
        }
      }
    })
    console.error(`[provisioner] ${name} for ${pvc.metadata.namespace}/${pvc.metadata.name}`)
  } catch (err) {
    if (!(err instanceof KubeError && err.code === 409)) throw err
  }
}

/** Grows a bound volume of ours to the claim's request (a directory has no size: only the records change). */
const resize = async (kube: Kube, pvc: import("../lib/kube.ts").KubeObject) => {
  if (pvc.status?.phase !== "Bound") return
  const want = pvc.spec.resources?.requests?.storage
  const have = pvc.status?.capacity?.storage
  if (!want || !have || bytes(want) <= bytes(have)) return
  const pv = await kube.find(core("persistentvolumes", undefined, pvc.spec.volumeName))
  if (pv?.metadata.annotations?.["pv.kubernetes.io/provisioned-by"] !== PROVISIONER) return
  await kube.mergePatch(core("persistentvolumes", undefined, pv.metadata.name), {
    spec: { capacity: { storage: want } }
  })
  await kube.mergePatch(`${core("persistentvolumeclaims", pvc.metadata.namespace, pvc.metadata.name)}/status`, {
    status: { capacity: { storage: want }, allocatedResources: { storage: want }, conditions: null }
  })
  console.error(`[provisioner] resized ${pv.metadata.name} from ${have} to ${want}`)
}

export const onVolume = async (kube: Kube, e: WatchEvent) => {
  const pv = e.object
  if (e.type === "DELETED" || pv.metadata.annotations?.["pv.kubernetes.io/provisioned-by"] !== PROVISIONER) return
  if (pv.status?.phase !== "Released" || pv.spec.persistentVolumeReclaimPolicy !== "Delete") return
  const path = pv.spec.csi?.volumeAttributes?.path ?? pv.spec.hostPath?.path
  if (path) rmSync(path, { recursive: true, force: true })
  await kube.delete(core("persistentvolumes", undefined, pv.metadata.name)).catch(() => {})
  console.error(`[provisioner] deleted released ${pv.metadata.name}`)
}
