/**
 * Hand-built DoltDB states in the in-memory API server, for the plugin's golden tests: what the operator and the
 * kubelet would have written (DoltDB status, pods, Events, Backups), plus a Dolt stub answering per pod IP as the
 * servers would. Built by hand so each golden file pins one state exactly and no planner change moves it.
 */
import { ClusterStatusRow, Dolt, type DoltShape, RoleAndEpoch } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Pods, Secrets } from "@doltdb-op/core/services/Kube"
import { InMemoryKube } from "@doltdb-op/k8s"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { rawBackups } from "../../src/plugin/Inspect.ts"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"

export const ns = "default"
const iso = (millis: number) => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

export interface ServerState {
  readonly role: "primary" | "standby"
  readonly epoch: number
  /** Primary only: lag per standby pod name (null = never replicated), and an optional error. */
  readonly standbys?: Readonly<Record<string, { readonly lag: number | null; readonly error?: string }>>
}

/** A Dolt service whose servers are the given IPs; any other host is unreachable. */
export const doltStub = (servers: ReadonlyMap<string, ServerState>) => {
  const unreachable = (host: string) =>
    Effect.fail({ _tag: "DoltUnavailable", message: `connect ECONNREFUSED ${host}:3306` } as never)
  const shape: Partial<DoltShape> = {
    roleAndEpoch: (target) => {
      const s = servers.get(target.host)
      return s === undefined
        ? unreachable(target.host)
        : Effect.succeed(new RoleAndEpoch({ role: s.role, epoch: s.epoch }))
    },
    clusterStatus: (target) => {
      const s = servers.get(target.host)
      if (s === undefined) return unreachable(target.host)
      return Effect.succeed(
        Object.entries(s.standbys ?? {}).flatMap(([remote, v]) =>
          ["app", "mysql"].map(
            (database) =>
              new ClusterStatusRow({
                database,
                standbyRemote: remote,
                role: s.role,
                epoch: s.epoch,
                replicationLagMillis: v.lag,
                lastUpdateMillis: 0,
                currentError: v.error ?? null
              })
          )
        )
      )
    }
  }
  return Layer.succeed(
    Dolt,
    new Proxy(shape, {
      get: (target, p) =>
        (target as Record<string | symbol, unknown>)[p] ?? (() => Effect.die(`unexpected Dolt.${String(p)}`))
    }) as DoltShape
  )
}

export const layer = (servers: ReadonlyMap<string, ServerState>) =>
  Layer.mergeAll(InMemoryKube.layer({ seed: 1 }), doltStub(servers))

export interface PodState {
  readonly ordinal: number
  readonly ready: boolean
  readonly ip?: string
  readonly role?: string
  readonly phase?: string
  readonly restarts?: number
}

/** Create the credentials Secret, the DoltDB with `status`, its pods, then advance the clock by `ageMillis`. */
export const seed = (options: {
  readonly status: Record<string, unknown> | undefined
  readonly pods: ReadonlyArray<PodState>
  readonly replicas?: number
}) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    yield* TestClock.setTime(Date.parse("2026-12-06T12:00:00Z"))
    yield* kube.create(Secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db-credentials", namespace: ns },
      data: { "admin-user": "cm9vdA==", "admin-password": "cHc=" }
    })
    yield* kube.create(rawDoltDBs, {
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "DoltDB",
      metadata: { name: "db", namespace: ns },
      spec: {
        engineVersion: "1.86.4",
        replicas: options.replicas ?? 3,
        storage: { size: "1Gi" },
        replication: { enabled: true }
      }
    } as unknown as KubeObject)
    if (options.status !== undefined) yield* kube.patchStatus(rawDoltDBs, "db", options.status, { namespace: ns })
    for (const p of options.pods) {
      const name = `db-${p.ordinal}`
      yield* kube.create(Pods, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name,
          namespace: ns,
          labels: {
            "app.kubernetes.io/name": "db",
            ...(p.role === undefined ? {} : { "k8s.dolthub.com/cluster-role": p.role })
          }
        },
        spec: {
          nodeName: `node-${p.ordinal + 1}`,
          containers: [{ name: "dolt", image: "dolthub/dolt-sql-server:1.86.4" }]
        }
      } as unknown as KubeObject)
      yield* kube.patchStatus(
        Pods,
        name,
        {
          phase: p.phase ?? "Running",
          ...(p.ip === undefined ? {} : { podIP: p.ip }),
          conditions: [{ type: "Ready", status: p.ready ? "True" : "False" }],
          containerStatuses: [{ name: "dolt", ready: p.ready, restartCount: p.restarts ?? 0 }]
        },
        { namespace: ns }
      )
    }
  })

export const event = (type: "Normal" | "Warning", reason: string, note: string) =>
  Effect.flatMap(Kube, (kube) =>
    kube.emitEvent({
      regarding: { apiVersion: "k8s.dolthub.com/v1alpha", kind: "DoltDB", name: "db", namespace: ns, uid: "u" },
      type,
      reason,
      action: reason,
      note,
      reportingController: "doltdb-operator",
      reportingInstance: "test"
    })
  )

export const backupObject = (name: string, status: Record<string, unknown>) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    yield* kube.create(rawBackups, {
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "Backup",
      metadata: { name, namespace: ns },
      spec: { doltDBRef: { name: "db" }, storage: { local: { path: "/backups" } } }
    } as unknown as KubeObject)
    yield* kube.patchStatus(rawBackups, name, status, { namespace: ns })
  })

export const condition = (type: string, status: string, reason: string, message: string, at: number) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: iso(at)
})

export const at = (hhmmss: string) => Date.parse(`2026-12-06T${hhmmss}Z`)
export const advanceTo = (hhmmss: string) => TestClock.setTime(at(hhmmss))
