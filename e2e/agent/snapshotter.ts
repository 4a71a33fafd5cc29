// The CSI snapshot sidecar for the e2e driver (what csi-snapshotter + a CSI driver's CreateSnapshot/DeleteSnapshot
// do): the real snapshot-controller turns a VolumeSnapshot into a VolumeSnapshotContent naming the volume handle;
// this copies the volume directory to $E2E_WORK/snapshots/<content> and reports the content ready; on deletion
// (policy Delete) it removes the copy and releases the content's finalizer. Runs on node 1's agent only.
// A copy of a running dolt's directory is what a crash at that instant leaves (dolt's journal is crash-safe).
// Plain async Node (test infrastructure).
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { group, type Kube, type KubeObject, type WatchEvent } from "../lib/kube.ts"
import { PROVISIONER } from "../lib/names.ts"
import { bytes } from "./provisioner.ts"

const contents = (name?: string) => group("snapshot.storage.k8s.io/v1", "volumesnapshotcontents", undefined, name)
const Finalizer = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"
const BeingDeleted = "snapshot.storage.kubernetes.io/volumesnapshot-being-deleted"

export const snapshotDir = (workDir: string, handle: string) => join(workDir, "snapshots", handle)
export const volumeDir = (workDir: string, handle: string) => join(workDir, "volumes", handle)

export const onContent = async (kube: Kube, workDir: string, e: WatchEvent) => {
  const c = e.object as KubeObject
  if (e.type === "DELETED" || c.spec?.driver !== PROVISIONER) return
  const handle = c.metadata.name
  if (c.metadata.deletionTimestamp) {
    if (c.metadata.annotations?.[BeingDeleted] !== "yes" && c.spec.deletionPolicy !== "Delete") return
    if (c.spec.deletionPolicy === "Delete")
      rmSync(snapshotDir(workDir, c.status?.snapshotHandle ?? handle), { recursive: true, force: true })
    const finalizers = ((c.metadata as { finalizers?: Array<string> }).finalizers ?? []).filter((f) => f !== Finalizer)
    await kube
      .mergePatch(contents(handle), { metadata: { finalizers: finalizers.length === 0 ? null : finalizers } })
      .catch(() => {})
    console.error(`[snapshotter] deleted ${handle}`)
    return
  }
  const source = c.spec.source?.volumeHandle
  if (!source || c.status?.readyToUse === true) return
  const from = volumeDir(workDir, source)
  if (!existsSync(from)) {
    await kube.mergePatch(`${contents(handle)}/status`, {
      status: { readyToUse: false, error: { message: `volume ${source} not found`, time: new Date().toISOString() } }
    })
    return
  }
  const to = snapshotDir(workDir, handle)
  const t0 = Date.now()
  mkdirSync(join(workDir, "snapshots"), { recursive: true })
  rmSync(to, { recursive: true, force: true })
  cpSync(from, to, { recursive: true, preserveTimestamps: true })
  const pv = await kube.find(`/api/v1/persistentvolumes/${source}`)
  const size = pv?.spec?.capacity?.storage ?? "1Gi"
  await kube.mergePatch(`${contents(handle)}/status`, {
    status: {
      snapshotHandle: handle,
      creationTime: t0 * 1_000_000,
      readyToUse: true,
      restoreSize: bytes(size)
    }
  })
  console.error(`[snapshotter] ${handle}: copied ${source} in ${Date.now() - t0} ms`)
}

/** The directory a claim with a VolumeSnapshot data source starts from, once the snapshot is ready. */
export const restoreSource = async (kube: Kube, workDir: string, namespace: string, snapshot: string) => {
  for (let i = 0; i < 300; i++) {
    const vs = await kube.find(group("snapshot.storage.k8s.io/v1", "volumesnapshots", namespace, snapshot))
    const bound = vs?.status?.boundVolumeSnapshotContentName
    if (vs?.status?.readyToUse === true && bound) {
      const content = await kube.get(contents(bound))
      return snapshotDir(workDir, content.status?.snapshotHandle ?? bound)
    }
    await new Promise((r) => setTimeout(r, 1_000))
  }
  throw new Error(`VolumeSnapshot ${namespace}/${snapshot} never became ready`)
}
