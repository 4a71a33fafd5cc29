// Applies every CRD under the given directories (server-side apply) and waits until each is Established,
// then installs the e2e CSI driver's CSIDriver object, the default StorageClass served by the node agent's
// volume provisioner and, when the VolumeSnapshot CRDs are among them, its default VolumeSnapshotClass.
// Usage: KUBECONFIG=... node e2e/apply.ts <crds dir> [<crds dir> ...]
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { parseAllDocuments } from "yaml"
import { group, Kube, type KubeObject } from "./lib/kube.ts"
import { PROVISIONER, SNAPSHOT_CLASS, STORAGE_CLASS } from "./lib/names.ts"

const dirs = process.argv.slice(2)
if (dirs.length === 0) throw new Error("usage: apply.ts <crds dir> [<crds dir> ...]")
const kube = new Kube(process.env.KUBECONFIG ?? "")
const crdPath = (name?: string) => group("apiextensions.k8s.io/v1", "customresourcedefinitions", undefined, name)

const files = dirs.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort()
    .map((f) => join(dir, f))
)
const crds: Array<KubeObject> = []
for (const f of files) {
  for (const doc of parseAllDocuments(readFileSync(f, "utf8"))) {
    const obj = doc.toJSON() as KubeObject | null
    if (obj?.kind === "CustomResourceDefinition") crds.push(obj)
  }
}
for (const crd of crds) await kube.apply(crdPath(crd.metadata.name), crd)
const deadline = Date.now() + 30_000
for (const crd of crds) {
  for (;;) {
    const live = await kube.get(crdPath(crd.metadata.name))
    const established = (live.status?.conditions ?? []).some(
      (c: { type: string; status: string }) => c.type === "Established" && c.status === "True"
    )
    if (established) break
    if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established after 30s`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
console.error(`[e2e-apply] ${crds.length} CRDs from ${dirs.join(", ")} applied and Established`)

// The node agent mounts the volumes itself: no attach step (the nodes run no attach-detach either).
await kube.apply(group("storage.k8s.io/v1", "csidrivers", undefined, PROVISIONER), {
  apiVersion: "storage.k8s.io/v1",
  kind: "CSIDriver",
  metadata: { name: PROVISIONER },
  spec: { attachRequired: false, podInfoOnMount: false, volumeLifecycleModes: ["Persistent"] }
})
if (crds.some((c) => c.metadata.name === "volumesnapshotclasses.snapshot.storage.k8s.io"))
  await kube.apply(group("snapshot.storage.k8s.io/v1", "volumesnapshotclasses", undefined, SNAPSHOT_CLASS), {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshotClass",
    metadata: { name: SNAPSHOT_CLASS, annotations: { "snapshot.storage.kubernetes.io/is-default-class": "true" } },
    driver: PROVISIONER,
    deletionPolicy: "Delete"
  })

await kube.apply(group("storage.k8s.io/v1", "storageclasses", undefined, STORAGE_CLASS), {
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: { name: STORAGE_CLASS, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
  provisioner: PROVISIONER,
  reclaimPolicy: "Delete",
  volumeBindingMode: "Immediate",
  allowVolumeExpansion: true
})
kube.close()
