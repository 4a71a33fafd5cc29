import { InMemoryKube } from "../src/memory/InMemoryKube.ts"
import { kubeContract } from "./contract/kubeContract.ts"

kubeContract("Kube contract: in-memory layer", InMemoryKube.layer({ seed: 1 }), {
  namespace: "contract",
  prefix: "mem"
})
