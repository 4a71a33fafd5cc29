/**
 * The Kube contract (contract/kubeContract.ts) against every layer we have: the in-memory API server always, a
 * real kube-apiserver when the e2e harness provides one through `DOLTDB_E2E_KUBECONFIG`. Without it, this file says
 * so plainly and registers no tests for the real server (it never pretends to have run them).
 */
import { Kube, Namespaces } from "@doltdb-op/core/services/Kube"
import { Effect, Layer } from "effect"
import * as KubeLive from "../src/live/KubeLive.ts"
import { InMemoryKube } from "../src/memory/InMemoryKube.ts"
import { kubeContract } from "./contract/kubeContract.ts"

kubeContract("Kube contract: in-memory layer", InMemoryKube.layer({ seed: 1 }), {
  namespace: "contract",
  prefix: "mem"
})

const kubeconfig = process.env.DOLTDB_E2E_KUBECONFIG

if (kubeconfig === undefined || kubeconfig === "") {
  console.log("Kube contract suite vs real kube-apiserver: NOT RUN — DOLTDB_E2E_KUBECONFIG is not set")
} else {
  const suffix = `${process.pid.toString(36)}${(Date.now() % 1_000_000).toString(36)}`
  const namespace = `kube-contract-${suffix}`
  // the suite's own namespace, deleted (with everything in it) when the suite ends
  const withNamespace = Layer.effectDiscard(
    Effect.gen(function* () {
      const kube = yield* Kube
      yield* Effect.acquireRelease(
        kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }),
        () => kube.delete(Namespaces, namespace).pipe(Effect.ignore)
      )
    })
  )
  const live = Layer.unwrap(
    KubeLive.loadKubeConfig(kubeconfig).pipe(Effect.map((kc) => KubeLive.layerFromKubeConfig(kc)))
  )
  kubeContract("Kube contract: real kube-apiserver", Layer.provideMerge(withNamespace, live), {
    namespace,
    prefix: "live"
  })
}
