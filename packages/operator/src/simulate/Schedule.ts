/**
 * Random fault schedules for the failover simulation: a seed (for the simulated cluster's own randomness) and a
 * list of steps, each a fault, a user action or a stretch of simulated time. Steps are Schema values, so a
 * schedule prints as JSON, and `effect/Arbitrary` generates and shrinks them (shrinking drops steps and simplifies
 * the remaining ones).
 *
 * Targets name pods by role when the step runs (`primary`: the running primary at the highest epoch; `standby`:
 * the first running standby) or by ordinal, so random schedules hit the primary often.
 */
import { Arbitrary, Schema } from "effect"

export const Target = Schema.Literals(["primary", "standby", "0", "1", "2"])
export type Target = typeof Target.Type

const int = (minimum: number, maximum: number) =>
  Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum, maximum }))

export const PartitionFrom = Schema.Literals(["peers", "operator", "operatorAndPeers", "clients"])
export type PartitionFrom = typeof PartitionFrom.Type

export const SpecEdit = Schema.Literals([
  /** `spec.replication.primary.failoverDelay` */
  "failoverDelay1s",
  "failoverDelay10s",
  /** A pod annotation: the pod template changes, so pods roll (the primary last, by switchover). */
  "podAnnotation",
  /** A metadata-only write to the DoltDB: the operator's guarded status writes conflict. */
  "touch",
  /** `spec.storage.size` grows by 1Gi: claims patched, the StatefulSet re-created (orphan delete). */
  "growStorage",
  /** A Snapshot (every minute, keep 2) starts taking VolumeSnapshots of a caught-up standby. */
  "snapshotSchedule"
])
export type SpecEdit = typeof SpecEdit.Type

export const Step = Schema.Union([
  /** Let simulated time pass (the invariants are checked every `stepMillis` of it). */
  Schema.TaggedStruct("Wait", { seconds: int(1, 20) }),
  /** SIGKILL the pod's containers; the kubelet restarts them with back-off. */
  Schema.TaggedStruct("Crash", { target: Target }),
  /** `kubectl delete pod` (graceful: 30 s grace and the preStop demotion; else force). */
  Schema.TaggedStruct("DeletePod", { target: Target, graceful: Schema.Boolean }),
  /** The pod's node dies (processes killed, pods stay Ready until the node controller notices). */
  Schema.TaggedStruct("NodeLost", { target: Target }),
  /**
   * The pod's node is isolated: its kubelet lives on and its processes keep running, cut off from the API server,
   * the operator and the other nodes, while a client keeps writing to the pod's address. Only with the isolation
   * guard (`guardSeconds`): without it nothing can fence such a process (a no-op then). `Heal` reconnects it.
   */
  Schema.TaggedStruct("NodeIsolated", { target: Target }),
  /** Every lost node comes back. */
  Schema.TaggedStruct("NodesRestored", {}),
  /** Cut the pod off (both directions) from its peers, the operator, both, or the clients. */
  Schema.TaggedStruct("Partition", { target: Target, from: PartitionFrom }),
  /** Heal every network cut. */
  Schema.TaggedStruct("Heal", {}),
  /** Replication pushes to this pod take `millis`. */
  Schema.TaggedStruct("SlowStandby", { target: Target, millis: Schema.Literals([20, 2_000, 8_000, 30_000]) }),
  /** `dolt_cluster_ack_writes_timeout_secs` on every server (0 = asynchronous). */
  Schema.TaggedStruct("AckWrites", { seconds: Schema.Literals([0, 5]) }),
  /** The operator crashes after `turns` scheduler turns into the next 100 ms and starts again. */
  Schema.TaggedStruct("OperatorRestart", { turns: int(0, 40) }),
  /** The API server fails this share of the operator's calls (Unavailable); 0 turns it off. */
  Schema.TaggedStruct("ApiErrors", { rate: Schema.Literals([0, 0.05, 0.2]) }),
  /** End every open watch (the informers resume or relist). */
  Schema.TaggedStruct("DropWatches", {}),
  /** The user asks for a switchover: `spec.replication.primary.podIndex`. */
  Schema.TaggedStruct("Switchover", { podIndex: int(0, 2) }),
  Schema.TaggedStruct("EditSpec", { edit: SpecEdit })
])
export type Step = typeof Step.Type

export const Schedule = Schema.Struct({
  /** Seeds the simulated cluster (API server faults, replication jitter). */
  seed: int(0, 1_000_000),
  steps: Schema.Array(Step),
  /** The isolation guard (docs/guard.md) enabled at this threshold, in seconds; absent: no guard. */
  guardSeconds: Schema.optionalKey(Schema.Literals([2, 5]))
})
export type Schedule = typeof Schedule.Type

/** Random schedules of at most `maxSteps` steps; one in three runs the isolation guard. */
export const arbitrary = (options: { readonly maxSteps: number }): Arbitrary.Arbitrary<Schedule> =>
  Arbitrary.all({
    seed: Arbitrary.schema(Schedule.fields.seed),
    steps: Arbitrary.array(Arbitrary.schema(Step), { minLength: 1, maxLength: options.maxSteps }),
    guard: Arbitrary.schema(int(0, 5))
  }).pipe(
    Arbitrary.map(
      ({ guard, ...rest }): Schedule =>
        guard === 0 ? { ...rest, guardSeconds: 2 } : guard === 1 ? { ...rest, guardSeconds: 5 } : rest
    )
  )

/** The schedule's steps as a compact text, one per line (for failure reports). */
export const describeStep = (step: Step): string => {
  switch (step._tag) {
    case "Wait":
      return `wait ${step.seconds}s`
    case "Crash":
      return `crash ${step.target}`
    case "DeletePod":
      return `delete pod ${step.target}${step.graceful ? "" : " (force)"}`
    case "NodeLost":
      return `node of ${step.target} lost`
    case "NodeIsolated":
      return `node of ${step.target} isolated (a client inside)`
    case "NodesRestored":
      return "nodes restored"
    case "Partition":
      return `partition ${step.target} from ${step.from}`
    case "Heal":
      return "heal network"
    case "SlowStandby":
      return `replication to ${step.target} takes ${step.millis}ms`
    case "AckWrites":
      return `ack-writes ${step.seconds === 0 ? "off" : `${step.seconds}s`}`
    case "OperatorRestart":
      return `operator restart after ${step.turns} turns`
    case "ApiErrors":
      return `API error rate ${step.rate}`
    case "DropWatches":
      return "drop watches"
    case "Switchover":
      return `switchover to ${step.podIndex}`
    case "EditSpec":
      return `edit spec: ${step.edit}`
  }
}
