/**
 * The operator's generated RBAC rules against what the operator does.
 *
 * - The chart's rule files are exactly what `npm run gen:rbac` writes (drift).
 * - One run drives every code path that talks to the API server (a replicated DoltDB from nothing, SQL resources
 *   with a labelled password Secret, a password rotation, a rolling update, a storage resize, scheduled snapshots
 *   with retention, their deletion, a switch to standalone,
 *   leader election), through the in-memory authorizer (`guardKube`) holding exactly the generated rules: it fails
 *   when the code needed a verb the rules lack, or when a rule grants something the run never used.
 *
 * A new API call: add it to `src/rbac/Permissions.ts`, run `npm run gen:rbac`, and extend this run so it uses it.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import {
  Kube,
  type KubeObject,
  resource,
  Secrets,
  StorageClasses,
  VolumeSnapshotClasses
} from "@doltdb-op/core/services/Kube"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope, SubscriptionRef } from "effect"
import { chartFilesDir, renderRbacFiles } from "../../scripts/gen-rbac.ts"
import { AccessRecorder, guardKube } from "../../src/rbac/AccessGuard.ts"
import {
  accessKey,
  grantedAccesses,
  LeaderElectionPermissions,
  OperatorPermissions
} from "../../src/rbac/Permissions.ts"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import * as LeaderElection from "../../src/runtime/LeaderElection.ts"
import { LeaseClient } from "../../src/runtime/LeaseClient.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { setupDoltDB } from "../inmemory/fixtures.ts"

const ns = "default"
const apiVersion = "k8s.dolthub.com/v1alpha"
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")
const raw = (kind: string, plural: string) => resource({ apiVersion, kind, plural, namespaced: true })
const rawDatabases = raw("Database", "databases")
const rawUsers = raw("User", "users")
const rawGrants = raw("Grant", "grants")
const rawBackups = raw("Backup", "backups")
const rawSchedules = raw("BackupSchedule", "backupschedules")
const rawSnapshots = raw("Snapshot", "snapshots")

const get = (res: typeof rawDoltDBs, name: string) =>
  Effect.flatMap(Kube, (kube) =>
    kube.get(res, name, { namespace: ns }).pipe(Effect.catch(() => Effect.succeed(undefined)))
  )
const readyIs = (o: KubeObject | undefined) =>
  ((o?.status as { conditions?: ReadonlyArray<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
    (c) => c.type === "Ready" && c.status === "True"
  )
const ready = (res: typeof rawDoltDBs, name: string) => Effect.map(get(res, name), readyIs)
const gone = (res: typeof rawDoltDBs, name: string) => Effect.map(get(res, name), (o) => o === undefined)

describe("operator RBAC", () => {
  it("charts/doltdb-operator/files/*-rules.yaml are up to date (run `npm run gen:rbac`)", () => {
    for (const [file, text] of renderRbacFiles())
      assert.strictEqual(readFileSync(join(chartFilesDir, file), "utf8"), text, `${file} is stale`)
  })

  it.effect(
    "the operator needs every rule it is granted and nothing more",
    () =>
      Effect.gen(function* () {
        const operator = yield* startOperator()
        const kube = yield* Kube
        const until = (what: string, done: Effect.Effect<boolean, unknown, Kube>, limitMillis = 300_000) =>
          Effect.flatMap(runUntil(done, { limitMillis }), (took) =>
            Effect.sync(() => assert.isAtLeast(took, 0, `${what} did not happen`))
          )
        // Tried counts: a refused call ends the wait, and the assertions below name it.
        const used = (key: string) => Effect.sync(() => operator.rbac.used.has(key) || operator.rbac.refused.has(key))

        yield* kube.create(StorageClasses, {
          apiVersion: "storage.k8s.io/v1",
          kind: "StorageClass",
          metadata: { name: "standard" },
          provisioner: "sim",
          allowVolumeExpansion: true
        })
        yield* setupDoltDB({
          namespace: ns,
          replicas: 2,
          spec: { storage: { size: "1Gi", storageClassName: "standard" }, networkPolicy: { enabled: true } }
        })

        // SQL resources, with a password Secret labelled for rotation.
        yield* kube.create(Secrets, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "app-password", namespace: ns, labels: { "k8s.dolthub.com/watch": "" } },
          data: { password: b64("one") }
        })
        const sqlObject = (kind: string, name: string, spec: Record<string, unknown>) =>
          ({
            apiVersion,
            kind,
            metadata: { name, namespace: ns },
            spec: { doltDBRef: { name: "db" }, ...spec }
          }) as unknown as KubeObject
        yield* kube.create(rawDatabases, sqlObject("Database", "app", { name: "app" }))
        yield* kube.create(
          rawUsers,
          sqlObject("User", "app", { name: "app", passwordSecretKeyRef: { name: "app-password", key: "password" } })
        )
        yield* kube.create(
          rawGrants,
          sqlObject("Grant", "app", { username: "app", database: "app", privileges: ["SELECT"] })
        )
        yield* until("Database Ready", ready(rawDatabases, "app"))
        yield* until("User Ready", ready(rawUsers, "app"))
        yield* until("Grant Ready", ready(rawGrants, "app"))
        const secret = yield* kube.get(Secrets, "app-password", { namespace: ns })
        yield* kube.replace(Secrets, { ...secret, data: { password: b64("two") } })
        yield* until(
          "password rotated",
          Effect.map(get(rawUsers, "app"), (u) => {
            const rv = (u?.status as { passwordSecret?: { resourceVersion?: string } } | undefined)?.passwordSecret
            return rv?.resourceVersion !== undefined && rv.resourceVersion !== secret.metadata.resourceVersion
          })
        )

        // A Backup to S3 (the credentials Secret is written), then a schedule that prunes what it created.
        yield* kube.create(Secrets, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "aws", namespace: ns },
          data: { id: b64("AK"), secret: b64("SK") }
        })
        const s3 = {
          s3: {
            bucket: "bkt",
            accessKeyIdSecretKeyRef: { name: "aws", key: "id" },
            secretAccessKeySecretKeyRef: { name: "aws", key: "secret" }
          }
        }
        yield* kube.create(rawBackups, sqlObject("Backup", "bk", { storage: s3 }))
        const phase = (o: KubeObject | undefined) => (o?.status as { phase?: string } | undefined)?.phase
        yield* until(
          "Backup Completed",
          Effect.map(get(rawBackups, "bk"), (o) => phase(o) === "Completed")
        )
        yield* kube.create(
          rawSchedules,
          sqlObject("BackupSchedule", "every-minute", {
            schedule: "* * * * *",
            storage: { local: { path: "/db/backups" } },
            successfulBackupsHistoryLimit: 0
          })
        )
        yield* until("a scheduled Backup pruned", used("delete k8s.dolthub.com/backups"))
        yield* kube.delete(rawSchedules, "every-minute", { namespace: ns })

        // A rolling update deletes pods.
        const db = yield* kube.get(rawDoltDBs, "db", { namespace: ns })
        const spec = db.spec as Record<string, unknown>
        yield* kube.replace(rawDoltDBs, { ...db, spec: { ...spec, podAnnotations: { rollout: "1" } } })
        yield* until("a pod deleted by the rollout", used("delete core/pods"))
        yield* until("DoltDB Ready after the rollout", ready(rawDoltDBs, "db"))
        // Storage resize: the claims are patched, the StatefulSet re-created (orphan delete).
        yield* kube.mergePatch(rawDoltDBs, "db", { spec: { storage: { size: "2Gi" } } }, { namespace: ns })
        yield* until("StatefulSet orphan-deleted", used("delete apps/statefulsets"))
        yield* until("DoltDB Ready after the resize", ready(rawDoltDBs, "db"))
        // Scheduled snapshots with retention: VolumeSnapshots taken (apply) and expired ones deleted.
        yield* kube.create(VolumeSnapshotClasses, {
          apiVersion: "snapshot.storage.k8s.io/v1",
          kind: "VolumeSnapshotClass",
          metadata: { name: "csi" },
          driver: "sim",
          deletionPolicy: "Delete"
        })
        yield* kube.create(
          rawSnapshots,
          sqlObject("Snapshot", "minutely", { frequencySchedule: "* * * * *", volumeSnapshotClassName: "csi", keep: 1 })
        )
        yield* until("an expired VolumeSnapshot deleted", used("delete snapshot.storage.k8s.io/volumesnapshots"))
        yield* kube.delete(rawSnapshots, "minutely", { namespace: ns })

        for (const res of [rawGrants, rawUsers, rawDatabases]) yield* kube.delete(res, "app", { namespace: ns })
        for (const res of [rawGrants, rawUsers, rawDatabases]) yield* until(`${res.kind} deleted`, gone(res, "app"))

        // Standalone: the replicated topology's Services and the PodDisruptionBudget go away; so does the disabled
        // NetworkPolicy.
        const db2 = yield* kube.get(rawDoltDBs, "db", { namespace: ns })
        const spec2 = db2.spec as Record<string, unknown>
        yield* kube.replace(rawDoltDBs, {
          ...db2,
          spec: { ...spec2, replicas: 1, replication: { enabled: false }, networkPolicy: { enabled: false } }
        })
        yield* until("Service deleted", used("delete core/services"))
        yield* until("PodDisruptionBudget deleted", used("delete policy/poddisruptionbudgets"))
        yield* until("NetworkPolicy deleted", used("delete networking.k8s.io/networkpolicies"))

        // Leader election, under its own rules: acquire (create), renew (update), read (get).
        const leases = new AccessRecorder()
        const scope = yield* Scope.make()
        const election = yield* LeaderElection.elect({ namespace: ns, name: "doltdb-operator", identity: "a" }).pipe(
          Effect.provide(
            LeaseClient.layerKube.pipe(
              Layer.provide(Layer.succeed(Kube, guardKube(kube, LeaderElectionPermissions, leases)))
            )
          ),
          Scope.provide(scope)
        )
        yield* election.decided
        assert.isTrue(yield* SubscriptionRef.get(election.isLeader))
        yield* runUntil(Effect.succeed(false), { limitMillis: 10_000 })
        yield* Scope.close(scope, Exit.void)

        const refused = [...operator.rbac.refused, ...leases.refused]
        assert.deepStrictEqual(refused, [], "the code used what the generated rules do not grant")
        const usedAll = new Set([...operator.rbac.used, ...leases.used])
        const unused = grantedAccesses([...OperatorPermissions, ...LeaderElectionPermissions])
          .map(accessKey)
          .filter((k) => !usedAll.has(k))
        assert.deepStrictEqual(unused, [], "the generated rules grant what the operator never used")
      }).pipe(Effect.provide(Layer.fresh(clusterLayer({ seed: 13 })))),
    120_000
  )
})
