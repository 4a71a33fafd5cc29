/**
 * One SQL connection kept open across statements, for what the `Dolt` service deliberately never does (it opens a
 * fresh connection per role change): observing that Dolt taints the caller's connection and kills the others.
 * Contract tests use it against the live layer and the model alike.
 */
import type { DoltError, RoleAndEpoch } from "@doltdb-op/core/services/Dolt"
import type { Effect } from "effect"

export interface DoltSession {
  readonly roleAndEpoch: Effect.Effect<RoleAndEpoch, DoltError>
  /** `CALL dolt_assume_cluster_role(role, epoch)`; `role` is not checked here so invalid roles can be tried. */
  readonly assumeRole: (role: string, epoch: number) => Effect.Effect<void, DoltError>
  readonly close: Effect.Effect<void>
}
