/**
 * @doltdb-op/k8s: layers for the `Kube` service (`@doltdb-op/core/services/Kube`).
 * - `KubeLive`: the real API server through @kubernetes/client-node (kubeconfig or in-cluster).
 * - `InMemoryKube`: an in-memory API server with kube-apiserver semantics, fault injection and controls.
 * - `SimCluster`: simulated StatefulSet/EndpointSlice controllers and kubelet on top of `InMemoryKube` + `SimWorld`.
 */
export * as KubeLive from "./live/KubeLive.ts"
export { KubeConfigError } from "./live/KubeLive.ts"
export { ApiServerState } from "./memory/ApiServerState.ts"
export { type Faults, InMemoryKube, type InMemoryKubeShape, type Verb } from "./memory/InMemoryKube.ts"
export { SimCluster, type SimClusterOptions, type SimClusterShape } from "./sim/SimCluster.ts"
