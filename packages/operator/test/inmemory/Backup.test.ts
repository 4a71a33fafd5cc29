/**
 * The Backup controller end to end in memory: real controllers, the in-memory API server, kubelet and Dolt model
 * (whose syncs take simulated time and fail when their server goes away), on the TestClock.
 */
import { Backups as B } from "@doltdb-op/core"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Pods, resource, Secrets } from "@doltdb-op/core/services/Kube"
import { DoltModel } from "@doltdb-op/dolt"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, setupDoltDB } from "./fixtures.ts"

const ns = "default"
const apiVersion = "k8s.dolthub.com/v1alpha"
/** The admin user of every DoltDB here: a password that needs quoting. */
const admin = { adminPassword: "s3cret!'pw" }
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")
const rawBackups = resource({ apiVersion, kind: "Backup", plural: "backups", namespaced: true })
const rawSchedules = resource({ apiVersion, kind: "BackupSchedule", plural: "backupschedules", namespaced: true })

interface BackupStatusView {
  readonly phase?: string
  readonly pod?: string
  readonly error?: string
  readonly retryCount?: number
  readonly podLosses?: number
  readonly databases?: ReadonlyArray<{
    name: string
    url: string
    pod?: string
    hash?: string
    completedAt?: string
    error?: string
  }>
  readonly conditions?: ReadonlyArray<{ type: string; status: string; reason: string; message: string }>
}

const get = (res: typeof rawDoltDBs, name: string) =>
  Effect.flatMap(Kube, (kube) =>
    kube.get(res, name, { namespace: ns }).pipe(Effect.catch(() => Effect.succeed(undefined)))
  )
const statusOf = (name: string) => Effect.map(get(rawBackups, name), (o) => (o?.status ?? {}) as BackupStatusView)
const phaseIs = (name: string, ...phases: ReadonlyArray<string>) =>
  Effect.map(statusOf(name), (s) => s.phase !== undefined && phases.includes(s.phase))

/** Admin Secret, a 3-replica DoltDB with database `app` holding one row, replicated. */
const clusterWithData = Effect.gen(function* () {
  yield* setupDoltDB(admin)
  const dolt = yield* Dolt
  yield* dolt.createDatabase(yield* adminTarget("db-0", admin), { name: "app" })
  const model = yield* DoltModel.DoltCluster
  yield* model.write("db-primary.default.svc.cluster.local", "app", "k", "v1")
  yield* runUntil(Effect.succeed(false), { limitMillis: 5_000 })
})

const backup = (name: string, storage: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  Effect.flatMap(Kube, (kube) =>
    kube.create(rawBackups, {
      apiVersion,
      kind: "Backup",
      metadata: { name, namespace: ns },
      spec: { doltDBRef: { name: "db" }, storage, ...extra }
    } as unknown as KubeObject)
  )

const inCluster = (seed: number) => Layer.fresh(clusterLayer({ seed }))

describe("Backup controller in memory", () => {
  it.effect(
    "backs up from a caught-up standby to a URL per database, one Backup at a time; the copy restores; no remote is left",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* clusterWithData
        yield* backup("first", { local: { path: "/db/backups" } })
        yield* backup("second", { local: { path: "/db/backups2" } })
        const queued = yield* runUntil(
          Effect.map(statusOf("second"), (s) =>
            (s.conditions ?? []).some((c) => c.message.includes("waiting for Backup first"))
          ),
          { limitMillis: 30_000 }
        )
        assert.isAtLeast(queued, 0, "the second Backup did not say it waits for the first")
        assert.isAtLeast(yield* runUntil(phaseIs("first", "Completed"), { limitMillis: 120_000 }), 0)
        assert.isAtLeast(yield* runUntil(phaseIs("second", "Completed"), { limitMillis: 120_000 }), 0)

        const first = yield* statusOf("first")
        const primary = ((yield* get(rawDoltDBs, "db"))?.status as { currentPrimaryPodIndex: number } | undefined)
          ?.currentPrimaryPodIndex
        assert.deepStrictEqual(
          first.databases?.map((d) => d.name),
          ["app"]
        )
        const entry = first.databases?.[0]
        assert.strictEqual(entry?.url, "file:///db/backups/app")
        assert.notStrictEqual(entry?.pod, `db-${primary}`, "PreferStandby ran on the primary")
        assert.isString(entry?.hash)
        assert.isString(entry?.completedAt)
        const ready = (first.conditions ?? []).find((c) => c.type === "Ready")
        assert.strictEqual(ready?.reason, "BackupCompleted")

        const dolt = yield* Dolt
        const target = yield* adminTarget(`db-${primary}`, admin)
        yield* dolt.backupRestore(target, entry!.url, "app_restored", false)
        const model = yield* DoltModel.DoltCluster
        assert.strictEqual(yield* model.read(target.host, "app_restored", "k"), "v1")
        for (const pod of ["db-0", "db-1", "db-2"])
          assert.deepStrictEqual(
            yield* dolt.listBackups(yield* adminTarget(pod, admin), "app"),
            [],
            `remote left on ${pod}`
          )
        const finalizers = (yield* get(rawBackups, "first"))?.metadata.finalizers ?? []
        assert.notInclude(finalizers, B.BackupFinalizer)
      }).pipe(Effect.provide(inCluster(3))),
    120_000
  )

  it.effect(
    "a store that refuses every sync ends Failed with its error after backoffLimit attempts; credentials stay out of status",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* clusterWithData
        const kube = yield* Kube
        yield* kube.create(Secrets, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "aws", namespace: ns },
          data: { id: b64("AKIAEXAMPLE"), secret: b64("very-secret-key") }
        })
        const model = yield* DoltModel.DoltCluster
        model.backupFailures.set(
          "aws://[bkt:bkt]/p/app",
          "S3: GetObject, https response error StatusCode: 404, NoSuchBucket"
        )
        yield* backup(
          "s3",
          {
            s3: {
              bucket: "bkt",
              prefix: "p",
              region: "us-east-1",
              endpoint: "http://10.0.0.1:9000",
              accessKeyIdSecretKeyRef: { name: "aws", key: "id" },
              secretAccessKeySecretKeyRef: { name: "aws", key: "secret" }
            }
          },
          { backoffLimit: 2 }
        )
        const failed = yield* runUntil(phaseIs("s3", "Failed"), { limitMillis: 600_000, stepMillis: 1_000 })
        assert.isAtLeast(failed, 0, JSON.stringify(yield* statusOf("s3")))
        const s = yield* statusOf("s3")
        assert.strictEqual(s.retryCount, 2)
        assert.include(s.error ?? "", "NoSuchBucket")
        assert.include(s.error ?? "", "backoff limit exceeded after 2 attempts")
        assert.notInclude(JSON.stringify(s), "very-secret-key")

        // The credentials went to the DoltDB's Secret (mounted in every pod), not into the spec.
        const creds = yield* kube.get(Secrets, B.backupCredentialsSecretName("db"), { namespace: ns })
        const data = creds.data as Record<string, string>
        const decoded = (k: string) => Buffer.from(data[k] ?? "", "base64").toString("utf8")
        assert.include(decoded(B.AwsCredentialsKey), "aws_secret_access_key = very-secret-key")
        assert.include(decoded(B.AwsConfigKey), "endpoint_url = http://10.0.0.1:9000")
        const doltdb = yield* get(rawDoltDBs, "db")
        assert.isUndefined((doltdb?.spec as { env?: unknown } | undefined)?.env, "the DoltDB spec was edited")
      }).pipe(Effect.provide(inCluster(4))),
    120_000
  )

  it.effect(
    "a DoltHub backup: the key reaches the pods through the credentials Secret, no pod is rolled, the spec is untouched",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* clusterWithData
        const kube = yield* Kube
        const jwk = '{"d":"cHJpdmF0ZQ==","x":"cHVibGlj","kid":"example","kty":"OKP","crv":"Ed25519"}'
        yield* kube.create(Secrets, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "dolthub", namespace: ns },
          data: { "creds.jwk": b64(jwk) }
        })
        const podUids = Effect.map(kube.list(Pods, { namespace: ns }), (l) =>
          l.items.map((p) => `${p.metadata.name}/${p.metadata.uid}`).sort()
        )
        const before = yield* podUids
        yield* backup("hub", {
          doltHub: {
            remoteUrl: "https://doltremoteapi.dolthub.com/acme",
            credentialsSecretKeyRef: { name: "dolthub", key: "creds.jwk" }
          }
        })
        const done = yield* runUntil(phaseIs("hub", "Completed", "Failed"), { limitMillis: 300_000, stepMillis: 1_000 })
        assert.isAtLeast(done, 0)
        const s = yield* statusOf("hub")
        assert.strictEqual(s.phase, "Completed", s.error)
        assert.strictEqual(s.databases?.[0]?.url, "https://doltremoteapi.dolthub.com/acme/app")
        assert.notInclude(JSON.stringify(s), "cHJpdmF0ZQ")
        const creds = yield* kube.get(Secrets, B.backupCredentialsSecretName("db"), { namespace: ns })
        const data = creds.data as Record<string, string>
        assert.deepStrictEqual(Object.keys(data), [B.DoltHubCredentialsKey])
        assert.strictEqual(Buffer.from(data[B.DoltHubCredentialsKey] ?? "", "base64").toString("utf8"), jwk)
        assert.deepStrictEqual(yield* podUids, before, "pods were re-created")
        const doltdb = yield* get(rawDoltDBs, "db")
        assert.isUndefined((doltdb?.spec as { env?: unknown } | undefined)?.env, "the DoltDB spec was edited")
      }).pipe(Effect.provide(inCluster(5))),
    120_000
  )

  it.effect(
    "the pod running the sync dies mid-sync: the backup completes on another pod",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* clusterWithData
        const kube = yield* Kube
        yield* backup("killed", { local: { path: "/db/backups" } })
        const running = yield* runUntil(
          Effect.map(statusOf("killed"), (s) => s.phase === "Running" && s.pod !== undefined),
          { limitMillis: 60_000, stepMillis: 50 }
        )
        assert.isAtLeast(running, 0, "never Running")
        const victim = (yield* statusOf("killed")).pod!
        yield* kube.delete(Pods, victim, { namespace: ns, gracePeriodSeconds: 0 })
        assert.isAtLeast(yield* runUntil(phaseIs("killed", "Completed", "Failed"), { limitMillis: 120_000 }), 0)
        const s = yield* statusOf("killed")
        assert.strictEqual(s.phase, "Completed", s.error)
        assert.isAtLeast(s.podLosses ?? 0, 1, "the lost pod was not noticed")
        assert.notStrictEqual(s.databases?.[0]?.pod, victim)
        assert.strictEqual(s.retryCount ?? 0, 0, "a lost pod used an attempt")
      }).pipe(Effect.provide(inCluster(5))),
    120_000
  )

  it.effect(
    "a BackupSchedule firing every minute creates owned, labelled Backups and keeps only its history limit",
    () =>
      Effect.gen(function* () {
        yield* startOperator()
        yield* clusterWithData
        const kube = yield* Kube
        yield* kube.create(rawSchedules, {
          apiVersion,
          kind: "BackupSchedule",
          metadata: { name: "nightly", namespace: ns },
          spec: {
            doltDBRef: { name: "db" },
            schedule: "* * * * *",
            storage: { local: { path: "/db/backups" } },
            successfulBackupsHistoryLimit: 1
          }
        } as unknown as KubeObject)
        const list = Effect.map(kube.list(rawBackups, { namespace: ns }), (l) => l.items)
        const completed = (items: ReadonlyArray<KubeObject>) =>
          items.filter((b) => (b.status as { phase?: string } | undefined)?.phase === "Completed")
        // Three minutes: three Backups created (one a minute), the older ones pruned.
        const seen = new Set<string>()
        const collect = Effect.map(list, (items) => {
          for (const b of items) seen.add(b.metadata.name)
          return false
        })
        yield* runUntil(collect, { limitMillis: 3 * 60_000 + 30_000, stepMillis: 1_000 })
        const items = yield* list
        assert.isAtLeast(seen.size, 3, `created: ${[...seen].join(", ")}`)
        const schedule = yield* get(rawSchedules, "nightly")
        const st = (schedule?.status ?? {}) as { lastBackupRef?: string; nextScheduleTime?: string }
        assert.isAtMost(completed(items).length, 1, `history limit: ${items.map((b) => b.metadata.name).join(", ")}`)
        assert.isAtMost(items.length, 2)
        assert.include(
          items.map((b) => b.metadata.name),
          st.lastBackupRef
        )
        for (const b of items) {
          assert.strictEqual(b.metadata.labels?.[B.ScheduleLabel], "nightly")
          const owner = (
            b.metadata.ownerReferences as ReadonlyArray<{ kind: string; uid: string; controller: boolean }>
          )[0]
          assert.strictEqual(owner?.kind, "BackupSchedule")
          assert.strictEqual(owner?.uid, schedule?.metadata.uid)
        }
        const now = Date.parse(new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString())
        const next = Date.parse(st.nextScheduleTime ?? "")
        assert.isAbove(next, now - 1_000, "nextScheduleTime is in the past")
        assert.isAtMost(next - now, 60_000)
      }).pipe(Effect.provide(inCluster(6))),
    120_000
  )
})
