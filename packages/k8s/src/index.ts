/**
 * @doltdb-op/k8s: layers for the `Kube` service (`@doltdb-op/core/services/Kube`).
 * - `InMemoryKube`: an in-memory API server with kube-apiserver semantics, fault injection and controls.
 */
export { ApiServerState } from "./memory/ApiServerState.ts"
export { type Faults, InMemoryKube, type InMemoryKubeShape, type Verb } from "./memory/InMemoryKube.ts"
