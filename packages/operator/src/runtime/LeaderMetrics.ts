/**
 * `leader_election_master_status{name}` (client-go's leader-election metric): 1 while this replica leads, else 0.
 * The chart's "operator not leader anywhere" alert fires when no replica reports 1.
 */
import { Effect, Layer, Metric, SubscriptionRef } from "effect"
import * as Stream from "effect/Stream"
import { LeaderElection } from "./LeaderElection.ts"

export const masterStatus = Metric.gauge("leader_election_master_status", {
  description:
    "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master"
})

/** Publish this replica's leadership of the lease `name` for as long as the layer lives. */
export const layer = (name: string): Layer.Layer<never, never, LeaderElection> =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const election = yield* LeaderElection
      const gauge = Metric.withAttributes(masterStatus, { name })
      yield* Metric.update(gauge, 0)
      yield* Effect.forkScoped(
        SubscriptionRef.changes(election.isLeader).pipe(
          Stream.runForEach((leading) => Metric.update(gauge, leading ? 1 : 0))
        )
      )
    })
  )
