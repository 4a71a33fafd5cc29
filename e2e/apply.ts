// Applies every CRD under the given directory (server-side apply) and waits until each is Established,
// then installs the default StorageClass served by the node agent's volume provisioner.
// Usage: KUBECONFIG=... node e2e/apply.ts <crds dir>
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { parseAllDocuments } from "yaml"
import { group, Kube, type KubeObject } from "./lib/kube.ts"
import { PROVISIONER, STORAGE_CLASS } from "./lib/names.ts"

const dir = process.argv[2]
if (!dir) throw new Error("usage: apply.ts <crds dir>")
const kube = new Kube(process.env.KUBECONFIG ?? "")
const crdPath = (name?: string) => group("apiextensions.k8s.io/v1", "customresourcedefinitions", undefined, name)

const files = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
  .sort()
const crds: Array<KubeObject> = []
for (const f of files) {
  for (const doc of parseAllDocuments(readFileSync(join(dir, f), "utf8"))) {
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
console.error(`[e2e-apply] ${crds.length} CRDs from ${dir} applied and Established`)

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
