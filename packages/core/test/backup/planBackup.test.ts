import { Api, Backups as B } from "@doltdb-op/core"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"

const now = Date.parse("2026-12-01T10:00:00Z")

const backup = (
  spec: Record<string, unknown> = {},
  status?: Record<string, unknown>,
  metadata: Record<string, unknown> = {}
) =>
  Effect.runSync(
    Api.decodeBackup({
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "Backup",
      metadata: { name: "bk", namespace: "ns", uid: "u1", generation: 1, finalizers: [B.BackupFinalizer], ...metadata },
      spec: { doltDBRef: { name: "db" }, storage: { local: { path: "/db/backups" } }, ...spec },
      ...(status === undefined ? {} : { status })
    })
  )

const pod = (ordinal: number, role: "primary" | "standby" | undefined, caughtUp = true): B.BackupPod => ({
  ordinal,
  name: `db-${ordinal}`,
  ready: role !== undefined,
  role,
  caughtUp: role === "standby" && caughtUp,
  target: { ordinal, pod: `db-${ordinal}`, host: `10.0.0.${ordinal}`, port: 3306 }
})

const cluster = [pod(0, "primary"), pod(1, "standby"), pod(2, "standby")]

const observed = (over: Partial<B.BackupObserved> = {}): B.BackupObserved => ({
  now,
  backup: backup(),
  parent: { _tag: "Found", name: "db", uid: "d1", pods: cluster, changingPrimary: false },
  ahead: undefined,
  databases: ["app", "crm"],
  credentials: { _tag: "NotNeeded" },
  lastOutcome: undefined,
  ...over
})

const tags = (plan: B.BackupPlan) => plan.actions.map((a) => (a._tag === "Backup" ? `Backup:${a.op._tag}` : a._tag))
const syncOf = (plan: B.BackupPlan) => {
  const a = plan.actions.find((x) => x._tag === "Backup" && x.op._tag === "Sync")
  return a?._tag === "Backup" && a.op._tag === "Sync" ? a.op : undefined
}

describe("chooseTarget", () => {
  it("PreferStandby takes a caught-up standby, the one used before first, and falls back to the primary", () => {
    expect(B.chooseTarget("PreferStandby", cluster, undefined, undefined)?.name).toBe("db-1")
    expect(B.chooseTarget("PreferStandby", cluster, "db-2", undefined)?.name).toBe("db-2")
    expect(
      B.chooseTarget("PreferStandby", [pod(0, "primary"), pod(1, "standby", false)], undefined, undefined)?.name
    ).toBe("db-0")
    expect(B.chooseTarget("PreferStandby", [pod(0, undefined), pod(1, "standby", false)], undefined, undefined)).toBe(
      undefined
    )
  })
  it("Primary takes the primary; a pod just lost is avoided while another can do the work", () => {
    expect(B.chooseTarget("Primary", cluster, "db-1", undefined)?.name).toBe("db-0")
    expect(B.chooseTarget("PreferStandby", cluster, "db-1", "db-1")?.name).toBe("db-2")
    expect(B.chooseTarget("Primary", cluster, undefined, "db-0")?.name).toBe("db-0")
  })
})

describe("backupUrl", () => {
  it("gives every database its own URL", () => {
    expect(B.backupUrl({ s3: { bucket: "bkt", prefix: "/team/" } }, "app")).toBe("aws://[bkt:bkt]/team/app")
    expect(B.backupUrl({ s3: { bucket: "bkt", dynamoDBTable: "t" } }, "app")).toBe("aws://[t:bkt]/app")
    expect(B.backupUrl({ gcs: { bucket: "g-b", prefix: "p" } }, "app")).toBe("gs://g-b/p/app")
    expect(B.backupUrl({ doltHub: { remoteUrl: "https://doltremoteapi.dolthub.com/org/" } }, "app")).toBe(
      "https://doltremoteapi.dolthub.com/org/app"
    )
    expect(B.backupUrl({ local: { path: "/db/backups" } }, "app")).toBe("file:///db/backups/app")
  })
})

describe("planBackup", () => {
  it("a new Backup records Running (pod, URL) before it syncs the first database on a standby", () => {
    const plan = B.planBackup(observed({ backup: backup({}, undefined, { finalizers: [] }) }))
    expect(tags(plan)).toEqual(["SetFinalizer", "PatchStatus", "Event", "Backup:Sync"])
    expect(plan.requeueAfter).toMatchObject({ millis: 0 })
    expect(syncOf(plan)).toMatchObject({ database: "app", url: "file:///db/backups/app", target: { pod: "db-1" } })
    expect(plan.status).toMatchObject({
      phase: "Running",
      pod: "db-1",
      databases: [
        { name: "app", url: "file:///db/backups/app" },
        { name: "crm", url: "file:///db/backups/crm" }
      ]
    })
  })

  it("waits, and says why: no DoltDB, a Backup ahead, a primary change, no pod", () => {
    const cases: ReadonlyArray<[Partial<B.BackupObserved>, string]> = [
      [{ parent: { _tag: "Missing" } }, "DoltDB db not found"],
      [{ ahead: "older" }, "waiting for Backup older"],
      [
        { parent: { _tag: "Found", name: "db", uid: "d1", pods: cluster, changingPrimary: true } },
        "changing its primary"
      ],
      [
        { parent: { _tag: "Found", name: "db", uid: "d1", pods: [pod(0, undefined)], changingPrimary: false } },
        "none ready"
      ]
    ]
    for (const [over, message] of cases) {
      const plan = B.planBackup(observed(over))
      expect(syncOf(plan)).toBeUndefined()
      expect(plan.status.conditions?.find((c) => c.type === "Ready")?.message).toContain(message)
      expect(plan.requeueAfter?.why).toContain(message)
    }
  })

  it("folds a success and syncs the next database; the last success completes and releases the finalizer", () => {
    const running = {
      phase: "Running",
      pod: "db-1",
      startedAt: "2026-12-01T09:59:00Z",
      databases: [
        { name: "app", url: "file:///db/backups/app" },
        { name: "crm", url: "file:///db/backups/crm" }
      ]
    }
    const outcome = (database: string): B.SyncOutcome => ({
      database,
      pod: "db-1",
      url: `file:///db/backups/${database}`,
      startedAt: now - 2000,
      durationMillis: 1500,
      result: { _tag: "Synced", hash: `h-${database}` }
    })
    const second = B.planBackup(observed({ backup: backup({}, running), lastOutcome: outcome("app") }))
    expect(syncOf(second)?.database).toBe("crm")
    expect(second.status.databases?.[0]).toMatchObject({ name: "app", hash: "h-app", durationMillis: 1500 })
    const done = B.planBackup(observed({ backup: backup({}, second.status), lastOutcome: outcome("crm") }))
    expect(done.status.phase).toBe("Completed")
    expect(tags(done)).toEqual(["PatchStatus", "Event", "Backup:RemoveRemotes", "SetFinalizer"])
    expect(done.status.conditions?.find((c) => c.type === "BackupCompleted")?.status).toBe("True")
  })

  it("a failed sync uses an attempt and waits attempt × 30 s; the last attempt ends Failed with the store's error", () => {
    const failed = (message: string): B.SyncOutcome => ({
      database: "app",
      pod: "db-1",
      url: "file:///db/backups/app",
      startedAt: now - 100,
      durationMillis: 100,
      result: { _tag: "Failed", message }
    })
    const first = B.planBackup(
      observed({ backup: backup({}, { phase: "Running", pod: "db-1" }), lastOutcome: failed("NoSuchBucket") })
    )
    expect(first.status).toMatchObject({ retryCount: 1, error: "NoSuchBucket", nextAttemptAt: "2026-12-01T10:00:30Z" })
    expect(syncOf(first)).toBeUndefined()
    const last = B.planBackup(
      observed({ now: now + 31_000, backup: backup({}, first.status), lastOutcome: failed("NoSuchBucket") })
    )
    expect(last.status.phase).toBe("Failed")
    expect(last.status.error).toBe("backoff limit exceeded after 2 attempts: NoSuchBucket")
    expect(tags(last)).toContain("SetFinalizer")
  })

  it("a pod lost mid-sync uses no attempt: the sync moves to another pod at once", () => {
    const plan = B.planBackup(
      observed({
        backup: backup({}, { phase: "Running", pod: "db-1" }),
        lastOutcome: {
          database: "app",
          pod: "db-1",
          url: "file:///db/backups/app",
          startedAt: now - 100,
          durationMillis: 100,
          result: { _tag: "PodLost", message: "Connection lost" }
        }
      })
    )
    expect(plan.status.retryCount).toBeUndefined()
    expect(plan.status.podLosses).toBe(1)
    expect(syncOf(plan)?.target.pod).toBe("db-2")
  })

  it("credentials: written when stale, then a wait for the volumes, then the sync; a missing Secret uses an attempt", () => {
    const s3 = { storage: { s3: { bucket: "bkt" } } }
    const stale = B.planBackup(observed({ backup: backup(s3), credentials: { _tag: "Stale" } }))
    expect(tags(stale)).toContain("Backup:WriteCredentials")
    expect(syncOf(stale)).toBeUndefined()
    const fresh = B.planBackup(
      observed({ backup: backup(s3), credentials: { _tag: "Current", updatedAt: now - 10_000 } })
    )
    expect(syncOf(fresh)).toBeUndefined()
    expect(fresh.requeueAfter).toMatchObject({ millis: 80_000 })
    const old = B.planBackup(
      observed({ backup: backup(s3), credentials: { _tag: "Current", updatedAt: now - 100_000 } })
    )
    expect(syncOf(old)?.url).toBe("aws://[bkt:bkt]/app")
    const invalid = B.planBackup(
      observed({ backup: backup(s3), credentials: { _tag: "Invalid", message: "Secret ns/aws not found" } })
    )
    expect(invalid.status).toMatchObject({ retryCount: 1, error: "Secret ns/aws not found" })
  })

  it("a database named in spec that the server lacks uses an attempt, named in the error", () => {
    const plan = B.planBackup(observed({ backup: backup({ databases: ["nope"] }) }))
    expect(plan.status.error).toContain("database nope does not exist")
  })

  it("finished or deleted: only the finalizer's cleanup", () => {
    expect(tags(B.planBackup(observed({ backup: backup({}, { phase: "Completed" }, { finalizers: [] }) })))).toEqual([])
    const deleting = B.planBackup(
      observed({
        backup: backup(
          {},
          { phase: "Running", databases: [{ name: "app", url: "file:///db/backups/app" }] },
          {
            deletionTimestamp: "2026-12-01T09:00:00Z"
          }
        )
      })
    )
    expect(tags(deleting)).toEqual(["Backup:RemoveRemotes", "SetFinalizer"])
  })

  it("credential files: keys, region and endpoint; nothing for local", () => {
    const files = B.credentialFiles(
      { s3: { bucket: "bkt", region: "eu-west-1", endpoint: "http://10.0.0.1:5000" } },
      { accessKeyId: "AK", secretAccessKey: "SK" }
    )
    expect(files[B.AwsConfigKey]).toBe("[default]\nregion = eu-west-1\nendpoint_url = http://10.0.0.1:5000\n")
    expect(files[B.AwsCredentialsKey]).toContain("aws_secret_access_key = SK")
    expect(B.credentialFiles({ local: { path: "/db/x" } }, {})).toEqual({})
    expect(B.fingerprint(files)).not.toBe(B.fingerprint({}))
  })

  it("DoltHub: the key file from its Secret reference, written like the other backends' files", () => {
    const doltHub = {
      doltHub: {
        remoteUrl: "https://doltremoteapi.dolthub.com/acme",
        credentialsSecretKeyRef: { name: "hub", key: "k" }
      }
    }
    expect(B.credentialRefs(doltHub)).toEqual([
      { field: "doltHubKey", path: "spec.storage.doltHub.credentialsSecretKeyRef", name: "hub", key: "k" }
    ])
    expect(B.usesCredentialFiles(doltHub)).toBe(true)
    expect(B.credentialFiles(doltHub, { doltHubKey: '{"d":"x"}' })).toEqual({ [B.DoltHubCredentialsKey]: '{"d":"x"}' })
    expect(B.credentialFiles({ doltHub: { remoteUrl: "https://h/acme" } }, {})).toEqual({})
    expect(B.usesCredentialFiles({ local: { path: "/db/x" } })).toBe(false)
  })
})
