/** The in-memory Dolt cluster: model servers in `SimWorld`, the `Dolt` service over them, and a client API. */

import type { Dolt } from "@doltdb-op/core/services/Dolt"
import type { SimWorld } from "@doltdb-op/core/sim/SimWorld"
import { Layer } from "effect"
import { DoltCluster } from "./DoltCluster.ts"
import type { DoltClusterOptions } from "./DoltClusterShape.ts"
import * as DoltModelLayer from "./DoltModelLayer.ts"

export { ClientEndpoint, DoltCluster, type LedgerEntry } from "./DoltCluster.ts"
export type { DoltClusterOptions, ServerInfo } from "./DoltClusterShape.ts"
export { GracefulTransitionWaitMillis } from "./DoltModelLayer.ts"
/** `Dolt` over an existing `DoltCluster`, from another endpoint (`from`: e.g. a pod's in-pod guard). */
export const modelLayer = DoltModelLayer.layer
export * as ModelPods from "./ModelPods.ts"

/** `Dolt` over the model plus the `DoltCluster` client API, in the world's `SimWorld`. */
export const layer = (
  options: DoltClusterOptions & DoltModelLayer.DoltModelOptions = {}
): Layer.Layer<Dolt | DoltCluster, never, SimWorld> =>
  DoltModelLayer.layer(options).pipe(Layer.provideMerge(DoltCluster.layer(options)))
