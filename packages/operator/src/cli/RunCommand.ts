/**
 * `doltdb-operator run` (also what the bare `doltdb-operator` does): the operator against a real cluster, from a
 * kubeconfig (`--kubeconfig`, `KUBECONFIG`, `~/.kube/config`) or the in-cluster service account.
 */
import { Backups, type DoltDBPlanner, Replication, SqlResources } from "@doltdb-op/core"
import { DoltLive } from "@doltdb-op/dolt"
import { KubeLive } from "@doltdb-op/k8s"
import { Duration, Effect, Layer } from "effect"
import { Command } from "effect/cli"
import { controllers, FieldManager } from "../Operator.ts"
import { makeIdentity } from "../runtime/LeaderElection.ts"
import { fromFlags, type OperatorConfig, operatorConfigFlags } from "../runtime/OperatorConfig.ts"
import * as OperatorRuntime from "../runtime/OperatorRuntime.ts"
import { signalMeansShutdown } from "./Interrupt.ts"

const replicationDefaults: DoltDBPlanner.ReplicationDefaults = {
  failoverDelayMillis: Replication.defaultPolicy.failoverDelayMillis,
  allowUnsafeFailover: Replication.defaultPolicy.allowUnsafeFailover,
  caughtUpSlackMillis: Replication.defaultPolicy.caughtUpSlackMillis,
  maxSwitchoverLagMillis: Replication.defaultPolicy.maxSwitchoverLagMillis,
  transitionTimeoutMillis: Replication.defaultPolicy.transitionTimeoutMillis
}

/** The operator program for a config (exported for tests that run it against other layers). */
export const operatorControllers = (config: OperatorConfig, instance: string) =>
  controllers({
    namespaces: config.watchNamespaces,
    doltdbWorkers: config.maxDoltdbConcurrentReconciles,
    workers: config.maxConcurrentReconciles,
    fieldManager: FieldManager,
    instance,
    clusterDomain: config.clusterName,
    replicationDefaults,
    sqlPlanner: { ...SqlResources.defaultPlannerOptions, defaultRequeueMillis: Duration.toMillis(config.requeueSql) },
    backupPlanner: {
      ...Backups.defaultBackupPlannerOptions,
      propagationMillis: Duration.toMillis(config.backupCredentialsPropagation)
    }
  })

export const runOperator = (config: OperatorConfig) =>
  Effect.gen(function* () {
    yield* signalMeansShutdown
    const instance = yield* makeIdentity
    const kubeconfig = yield* KubeLive.loadKubeConfig(config.kubeconfig)
    return yield* OperatorRuntime.launch(config, operatorControllers(config, instance)).pipe(
      Effect.provide(Layer.mergeAll(KubeLive.layerFromKubeConfig(kubeconfig), DoltLive.layerConfig))
    )
  })

export const runCommand = Command.make("run", { config: operatorConfigFlags }, ({ config }) =>
  runOperator(fromFlags(config))
).pipe(Command.withDescription("Run the operator against a cluster (the default command)"))
