/**
 * @doltdb-op/dolt: layers for the `Dolt` service of `@doltdb-op/core/services/Dolt`.
 * - `DoltLive.layer(options)`: real servers over mysql2.
 * - `DoltModel.layer(options)`: the in-memory Dolt cluster in `SimWorld` (plus its `DoltCluster` client API).
 */
export type { DoltSession } from "./DoltSession.ts"
export * as DoltLive from "./live/DoltLive.ts"
export { openSession } from "./live/session.ts"
export { targetFromUrl } from "./live/targetFromUrl.ts"
export * as DoltModel from "./memory/index.ts"
