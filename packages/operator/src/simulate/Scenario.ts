/**
 * The `simulate` scenario format: initial objects, then timed events against the simulated cluster.
 *
 * ```yaml
 * name: failover
 * duration: 90s            # simulated time to run
 * seed: 7                  # optional; `--seed` overrides
 * objects:                 # applied at t=0 (a DoltDB and its credentials Secret, Databases, Users, ...)
 *   - { apiVersion: v1, kind: Secret, metadata: { name: db-credentials }, stringData: { admin-user: root, admin-password: pw } }
 *   - { apiVersion: k8s.dolthub.com/v1alpha, kind: DoltDB, metadata: { name: db }, spec: { ... } }
 * events:
 *   - { at: 5s, writes: { every: 200ms, until: 80s, database: app } }   # a client writing through db-primary
 *   - { at: 20s, kill: db-0 }                                          # SIGKILL the pod's dolt (it restarts)
 *   - { at: 40s, partition: { pod: db-1, from: peers } }               # peers | operator | clients | all
 *   - { at: 50s, heal: db-1 }
 *   - { at: 55s, slowReplication: { pod: db-2, delay: 3s } }
 *   - { at: 60s, deletePod: db-2 }
 *   - { at: 65s, operatorRestart: {} }
 *   - { at: 70s, patch: { kind: DoltDB, name: db, spec: { replication: { primary: { podIndex: 2 } } } } }
 * ```
 * Times are Go-style durations (`500ms`, `5s`, `1m30s`) from the start of the run.
 */
import { Schema } from "effect"

const DurationText = Schema.String.check(
  Schema.isPattern(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/u, { expected: 'a duration such as "500ms", "5s" or "1m30s"' })
)

const PodName = Schema.String.check(Schema.isMinLength(1))

export const PartitionScope = Schema.Literals(["peers", "operator", "clients", "all"])
export type PartitionScope = typeof PartitionScope.Type

const at = { at: DurationText }

export const ScenarioEvent = Schema.Union([
  Schema.Struct({ ...at, kill: PodName }),
  Schema.Struct({ ...at, crashLoop: PodName }),
  Schema.Struct({ ...at, deletePod: PodName }),
  Schema.Struct({ ...at, partition: Schema.Struct({ pod: PodName, from: PartitionScope }) }),
  Schema.Struct({ ...at, heal: PodName }),
  Schema.Struct({ ...at, healAll: Schema.Struct({}) }),
  Schema.Struct({ ...at, slowReplication: Schema.Struct({ pod: PodName, delay: DurationText }) }),
  Schema.Struct({
    ...at,
    writes: Schema.Struct({
      every: DurationText,
      until: DurationText,
      database: Schema.optionalKey(Schema.String),
      /** `dolt_cluster_ack_writes_timeout_secs` the client's session uses (0 = asynchronous). */
      ackTimeoutSeconds: Schema.optionalKey(
        Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 60 }))
      )
    })
  }),
  Schema.Struct({ ...at, operatorRestart: Schema.Struct({}) }),
  Schema.Struct({
    ...at,
    patch: Schema.Struct({
      kind: Schema.String,
      name: Schema.String,
      spec: Schema.Record(Schema.String, Schema.Unknown)
    })
  })
])
export type ScenarioEvent = typeof ScenarioEvent.Type

export const Scenario = Schema.Struct({
  name: Schema.String,
  description: Schema.optionalKey(Schema.String),
  duration: DurationText,
  seed: Schema.optionalKey(Schema.Number.check(Schema.isInt())),
  namespace: Schema.optionalKey(Schema.String),
  objects: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)).check(Schema.isMinLength(1)),
  events: Schema.Array(ScenarioEvent)
})
export type Scenario = typeof Scenario.Type

/** Milliseconds of a scenario duration (already validated by the schema). */
export const durationMillis = (text: string): number => {
  let total = 0
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/gu)) {
    const unit = m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : m[2] === "m" ? 60_000 : 3_600_000
    total += Number(m[1]) * unit
  }
  return total
}
