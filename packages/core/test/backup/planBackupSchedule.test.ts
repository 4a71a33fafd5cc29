import { Api, Backups as B } from "@doltdb-op/core"
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"

const t = (iso: string) => Date.parse(iso)
const created = "2026-12-01T10:00:00Z"

const schedule = (spec: Record<string, unknown> = {}, status?: Record<string, unknown>) =>
  Effect.runSync(
    Api.decodeBackupSchedule({
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "BackupSchedule",
      metadata: { name: "nightly", namespace: "ns", uid: "s1", generation: 1, creationTimestamp: created },
      spec: { doltDBRef: { name: "db" }, schedule: "*/5 * * * *", storage: { local: { path: "/db/b" } }, ...spec },
      ...(status === undefined ? {} : { status })
    })
  )

const tags = (plan: B.BackupSchedulePlan) => plan.actions.map((a) => a._tag)
const applied = (plan: B.BackupSchedulePlan) =>
  plan.actions.flatMap((a) => (a._tag === "Apply" ? [a.object as unknown as Api.Backup] : []))
const backup = (name: string, phase: B.ScheduledBackup["phase"], createdAt: number): B.ScheduledBackup => ({
  name,
  uid: `u-${name}`,
  createdAt,
  phase,
  deleting: false
})

describe("schedule parsing", () => {
  it("accepts 5 fields and robfig's descriptors, in a time zone; rejects the rest with a message", () => {
    const next = (text: string, tz?: string) => {
      const parsed = B.parseSchedule(text, tz)
      return Result.isSuccess(parsed) ? new Date(B.nextTime(parsed.success, t(created))).toISOString() : parsed.failure
    }
    expect(next("@daily")).toBe("2026-12-02T00:00:00.000Z")
    expect(next("@daily", "Europe/Paris")).toBe("2026-12-01T23:00:00.000Z")
    expect(next("@hourly")).toBe("2026-12-01T11:00:00.000Z")
    expect(next("@weekly")).toBe("2026-12-06T00:00:00.000Z")
    expect(next("@every 90m")).toBe("2026-12-01T11:30:00.000Z")
    expect(next("30 2 * * 1-5")).toBe("2026-12-02T02:30:00.000Z")
    expect(next("0 0 0 * * *")).toContain("expected 5 fields")
    expect(next("@every 0s")).toContain("@every")
    expect(next("61 * * * *")).toContain("schedule")
    expect(next("0 0 * * *", "Mars/Olympus")).toContain("timeZone")
  })

  it("a missed window gives one catch-up time: the latest", () => {
    const parsed = Result.getOrThrow(B.parseSchedule("*/5 * * * *", undefined))
    expect(B.latestDue(parsed, t(created), t("2026-12-01T10:04:00Z"))).toBeUndefined()
    expect(B.latestDue(parsed, t(created), t("2026-12-01T10:05:00Z"))).toBe(t("2026-12-01T10:05:00Z"))
    expect(B.latestDue(parsed, t(created), t("2026-12-01T13:07:00Z"))).toBe(t("2026-12-01T13:05:00Z"))
  })
})

describe("planBackupSchedule", () => {
  it("before the first time: nothing created, nextScheduleTime written, requeue until then", () => {
    const plan = B.planBackupSchedule({ now: t("2026-12-01T10:01:00Z"), schedule: schedule(), backups: [] })
    expect(tags(plan)).toEqual(["PatchStatus"])
    expect(plan.status.nextScheduleTime).toBe("2026-12-01T10:05:00Z")
    expect(plan.requeueAfter).toMatchObject({ millis: 240_000 })
  })

  it("due: one Backup named after its time, labelled and owned, the spec copied; next time moves on", () => {
    const plan = B.planBackupSchedule({
      now: t("2026-12-01T10:17:00Z"),
      schedule: schedule({ target: "Primary", databases: ["app"] }),
      backups: []
    })
    const [b] = applied(plan)
    expect(applied(plan)).toHaveLength(1)
    expect(b?.metadata.name).toBe(`nightly-${t("2026-12-01T10:15:00Z") / 1000}`)
    expect(b?.metadata.labels?.[B.ScheduleLabel]).toBe("nightly")
    expect((b?.metadata.ownerReferences as ReadonlyArray<unknown> | undefined)?.[0]).toMatchObject({
      kind: "BackupSchedule",
      uid: "s1",
      controller: true
    })
    expect(b?.spec).toMatchObject({
      target: "Primary",
      databases: ["app"],
      backoffLimit: 2,
      storage: { local: { path: "/db/b" } }
    })
    expect(plan.status).toMatchObject({
      lastScheduleTime: "2026-12-01T10:15:00Z",
      lastBackupRef: b?.metadata.name,
      nextScheduleTime: "2026-12-01T10:20:00Z"
    })
  })

  it("concurrencyPolicy: Forbid waits for the running Backup, Replace deletes it, Allow creates alongside", () => {
    const now = t("2026-12-01T10:06:00Z")
    const running = [backup("old", "Running", t(created))]
    const forbid = B.planBackupSchedule({ now, schedule: schedule(), backups: running })
    expect(applied(forbid)).toHaveLength(0)
    expect(forbid.status.conditions?.[0]?.message).toContain("waits for old")
    const replace = B.planBackupSchedule({
      now,
      schedule: schedule({ concurrencyPolicy: "Replace" }),
      backups: running
    })
    expect(tags(replace).slice(0, 2)).toEqual(["Delete", "Apply"])
    const allow = B.planBackupSchedule({ now, schedule: schedule({ concurrencyPolicy: "Allow" }), backups: running })
    expect(applied(allow)).toHaveLength(1)
  })

  it("startingDeadlineSeconds: a time missed by more is skipped with an event, not run late", () => {
    const plan = B.planBackupSchedule({
      now: t("2026-12-01T10:09:00Z"),
      schedule: schedule({ startingDeadlineSeconds: 60 }),
      backups: []
    })
    expect(applied(plan)).toHaveLength(0)
    expect(plan.actions.find((a) => a._tag === "Event")).toMatchObject({ reason: "MissedSchedule" })
    expect(plan.status.lastScheduleTime).toBe("2026-12-01T10:05:00Z")
    expect(plan.status.nextScheduleTime).toBe("2026-12-01T10:10:00Z")
  })

  it("history limits: finished Backups beyond them are deleted, oldest first; running ones are kept", () => {
    const backups = [
      backup("c1", "Completed", 1),
      backup("c2", "Completed", 2),
      backup("c3", "Completed", 3),
      backup("c4", "Completed", 4),
      backup("f1", "Failed", 5),
      backup("f2", "Failed", 6),
      backup("r", "Running", 7)
    ]
    const plan = B.planBackupSchedule({
      now: t("2026-12-01T10:01:00Z"),
      schedule: schedule({ concurrencyPolicy: "Allow" }),
      backups
    })
    const deleted = plan.actions.flatMap((a) => (a._tag === "Delete" ? [a.ref.name] : []))
    expect(deleted.sort()).toEqual(["c1", "f1"])
  })

  it("suspended: nothing created and no next time; an invalid schedule: a condition and one event", () => {
    const suspended = B.planBackupSchedule({
      now: t("2026-12-01T11:00:00Z"),
      schedule: schedule({ suspend: true }, { nextScheduleTime: "2026-12-01T10:05:00Z" }),
      backups: []
    })
    expect(applied(suspended)).toHaveLength(0)
    expect(suspended.status.nextScheduleTime).toBeUndefined()
    const invalid = B.planBackupSchedule({
      now: t(created),
      schedule: schedule({ schedule: "every day" }),
      backups: []
    })
    expect(invalid.status.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "InvalidSchedule"
    })
    expect(tags(invalid)).toEqual(["Event", "PatchStatus"])
    const again = B.planBackupSchedule({
      now: t(created),
      schedule: schedule({ schedule: "every day" }, invalid.status),
      backups: []
    })
    expect(tags(again)).toEqual([])
  })
})
