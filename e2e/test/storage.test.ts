// Storage against the real control plane, real dolt and the real snapshot-controller (v8.7.0; the node agent plays
// the CSI driver hostpath.e2e.doltdb.io: provisioner, resizer, snapshotter): a 3-replica DoltDB grown from 1Gi to
// 2Gi under writes (no failover, no pod restart, no lost write); a Snapshot @every 15s with keep 2 leaving
// exactly 2 ready VolumeSnapshots after 4 fires, while a "* * * * *" one fires on the minute; a new DoltDB bootstrapped from one of them serving the
// snapshot's rows on every replica; a Snapshot naming a class that does not exist reporting it.
// resizeSeconds and snapshotSeconds go to e2e/.work/results.json (and $E2E_RESULTS_FILE), merged, never asserted.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as mysql from "mysql2/promise"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { core, group, type Kube, type KubeObject } from "../lib/kube.ts"
import { type RunningOperator, startOperator } from "../lib/operator.ts"
import { mergeResults } from "../lib/results.ts"
import { createNamespace, deleteNamespace, isReady, kube, query, record, sleep, waitFor } from "./helpers.ts"

const work = process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")
const API = "k8s.dolthub.com/v1alpha"
const SNAP = "snapshot.storage.k8s.io/v1"
const admin = "e2e-admin"
const adminPassword = "e2e-Admin-Secret-1"

const conditionOf = (o: KubeObject | undefined, type: string) =>
  (o?.status?.conditions ?? []).find((c: { type: string }) => c.type === type) as
    | { status: string; reason: string; message: string }
    | undefined

/**
 * Merges measured figures into e2e/.work/results.json, and into $E2E_RESULTS_FILE when set (how the committed
 * e2e/results.json is refreshed on purpose: a test run never dirties the work tree).
 */
const recordResults = (figures: Record<string, unknown>) => {
  for (const file of [
    join(work, "results.json"),
    ...(process.env.E2E_RESULTS_FILE ? [process.env.E2E_RESULTS_FILE] : [])
  ]) {
    mergeResults(file, figures)
  }
}

describe("e2e: storage resize, scheduled snapshots, bootstrap from a snapshot", () => {
  let k: Kube
  let ns: string
  let operator: RunningOperator
  let engineVersion: string
  const resizeSeconds: Array<number> = []
  const snapshotSeconds: Array<number> = []

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-storage")
    engineVersion = readFileSync(join(work, "run", "dolt-release"), "utf8").trim()
    operator = startOperator([`--watch-namespaces=${ns}`])
  })
  afterAll(async () => {
    await operator?.stop()
    if (resizeSeconds.length > 0 || snapshotSeconds.length > 0)
      recordResults({
        ...(resizeSeconds.length > 0 ? { resizeSeconds } : {}),
        ...(snapshotSeconds.length > 0 ? { snapshotSeconds } : {}),
        storageMeasuredAt: new Date().toISOString(),
        storageCommand: "npm run e2e -- test/storage.test.ts (e2e/test/storage.test.ts)",
        storageDefinitions: {
          resizeSeconds:
            "spec.storage.size 1Gi -> 2Gi on a 3-replica DoltDB under writes -> every PVC at 2Gi and the DoltDB Ready with StorageResized True",
          snapshotSeconds: "schedule fire (the VolumeSnapshot's scheduled time) -> VolumeSnapshot readyToUse"
        }
      })
    if (ns) await deleteNamespace(k, ns)
    k?.close()
  })

  const doltdb = (name: string) => k.get(group(API, "doltdbs", ns, name))
  const createDoltDB = async (name: string, spec: Record<string, unknown> = {}) => {
    await k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-credentials`, namespace: ns },
      stringData: { "admin-user": admin, "admin-password": adminPassword }
    })
    await k.create(group(API, "doltdbs", ns), {
      apiVersion: API,
      kind: "DoltDB",
      metadata: { name, namespace: ns },
      spec: { engineVersion, replicas: 3, storage: { size: "1Gi" }, replication: { enabled: true }, ...spec }
    })
    return waitFor(`DoltDB ${name} Ready`, 240_000, async () => {
      const d = await doltdb(name)
      return conditionOf(d, "Ready")?.status === "True" && d.status?.currentPrimary ? d : undefined
    })
  }
  const podsOf = async (name: string) =>
    (
      await k.get<{ items: Array<KubeObject> }>(`${core("pods", ns)}?labelSelector=app.kubernetes.io%2Fname%3D${name}`)
    ).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
  const claimsOf = async (name: string) =>
    (
      await k.get<{ items: Array<KubeObject> }>(
        `${core("persistentvolumeclaims", ns)}?labelSelector=app.kubernetes.io%2Fname%3D${name}`
      )
    ).items
  const volumeSnapshots = async (snapshot: string) =>
    (
      await k.get<{ items: Array<KubeObject> }>(
        `${group(SNAP, "volumesnapshots", ns)}?labelSelector=k8s.dolthub.com%2Fsnapshot%3D${snapshot}`
      )
    ).items
  const sql = (ip: string) =>
    mysql.createConnection({ host: ip, port: 3306, user: admin, password: adminPassword, connectTimeout: 5000 })
  const ipOf = async (pod: string) => (await k.get(core("pods", ns, pod))).status.podIP as string

  it("resize 1Gi -> 2Gi on a 3-replica DoltDB under writes: no failover, no pod restart, no lost write", async () => {
    const ready = await createDoltDB("grow")
    const primary = ready.status.currentPrimary as string
    const epoch = ready.status.replicationEpoch as number
    const c = await sql(await ipOf(primary))
    await query(c, "CREATE DATABASE app")
    await query(c, "CREATE TABLE app.t (id INT PRIMARY KEY)")
    const uids = Object.fromEntries((await podsOf("grow")).map((p) => [p.metadata.name, p.metadata.uid]))

    const acked: Array<number> = []
    const errors: Array<string> = []
    let stop = false
    const writer = (async () => {
      for (let id = 1; !stop; id++) {
        try {
          await c.query({ sql: "INSERT INTO app.t VALUES (?)", values: [id], timeout: 20_000 })
          acked.push(id)
        } catch (e) {
          errors.push(`#${id}: ${(e as Error).message}`)
        }
        await sleep(50)
      }
    })()

    const t0 = Date.now()
    await k.mergePatch(group(API, "doltdbs", ns, "grow"), { spec: { storage: { size: "2Gi" } } })
    await waitFor("every PVC at 2Gi, DoltDB Ready with StorageResized True", 300_000, async () => {
      const d = await doltdb("grow")
      const claims = await claimsOf("grow")
      const done =
        claims.length === 3 &&
        claims.every((p) => p.status?.capacity?.storage === "2Gi") &&
        conditionOf(d, "StorageResized")?.status === "True" &&
        conditionOf(d, "Ready")?.status === "True"
      return done ? true : undefined
    })
    resizeSeconds.push((Date.now() - t0) / 1000)
    record("storage: resize 1Gi -> 2Gi requested -> every PVC resized and Ready", Date.now() - t0)
    await sleep(1_000)
    stop = true
    await writer

    const sts = await k.get(group("apps/v1", "statefulsets", ns, "grow"))
    assert.strictEqual(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, "2Gi")
    const after = await doltdb("grow")
    assert.strictEqual(after.status.currentPrimary, primary, "no failover")
    assert.strictEqual(after.status.replicationEpoch, epoch, "no epoch change")
    const pods = await podsOf("grow")
    assert.deepEqual(Object.fromEntries(pods.map((p) => [p.metadata.name, p.metadata.uid])), uids, "no pod restarted")
    assert.isTrue(pods.every(isReady))
    assert.deepEqual(errors, [], "writes kept flowing")
    const rows = (await query(c, "SELECT id FROM app.t")).map((r) => Number(r.id))
    const missing = acked.filter((id) => !rows.includes(id))
    assert.deepEqual(missing, [], "every acknowledged write is there")
    assert.isAbove(acked.length, 5)
    await c.end()
  })

  let restoreFrom: string | undefined
  let rowsAtSnapshot = 0

  /** A cluster without the snapshot-controller cannot run the snapshot scenarios: say so instead of timing out. */
  const requireSnapshotApi = async () => {
    if ((await k.find(group(SNAP, "volumesnapshots"))) === undefined)
      throw new Error("the VolumeSnapshot API is not served: e2e/build.sh snapshot-controller, then cluster.sh up")
  }

  it("a Snapshot @every 15s with keep 2 leaves exactly 2 ready VolumeSnapshots after 4 fires; a cron one fires on the minute", async () => {
    await requireSnapshotApi()
    const primary = (await doltdb("grow")).status.currentPrimary as string
    const c = await sql(await ipOf(primary))
    await query(c, "CREATE TABLE app.snap (id INT PRIMARY KEY, v VARCHAR(20))")
    await query(c, "INSERT INTO app.snap VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    // DOLT_COMMIT works on the session's current database.
    await query(c, "USE app")
    await query(c, "CALL DOLT_COMMIT('-Am', 'rows before the snapshots')")
    rowsAtSnapshot = 3
    // Repeated fires and retention on a 15 s period (a descriptor the reference's CronJob schedule accepts too); the
    // 5-field cron path runs alongside, at no extra wait: 4 fires take at least a minute, so a minute starts meanwhile.
    await k.create(group(API, "snapshots", ns), {
      apiVersion: API,
      kind: "Snapshot",
      metadata: { name: "quarter", namespace: ns },
      spec: { doltDBRef: { name: "grow" }, frequencySchedule: "@every 15s", keep: 2 }
    })
    await k.create(group(API, "snapshots", ns), {
      apiVersion: API,
      kind: "Snapshot",
      metadata: { name: "minutely", namespace: ns },
      spec: { doltDBRef: { name: "grow" }, frequencySchedule: "* * * * *", keep: 1 }
    })
    const fires = new Set<string>()
    const readyAt = new Map<string, number>()
    // Writes keep coming while the snapshots are taken (a crash-consistent copy of a live server).
    let stop = false
    const writer = (async () => {
      for (let id = 1000; !stop; id++) {
        await c.query("INSERT INTO app.t VALUES (?)", [id]).catch(() => {})
        await sleep(200)
      }
    })()
    await waitFor("4 fires, exactly 2 ready VolumeSnapshots", 150_000, async () => {
      const s = await k.get(group(API, "snapshots", ns, "quarter"))
      if (s.status?.lastScheduleTime) fires.add(s.status.lastScheduleTime)
      const all = await volumeSnapshots("quarter")
      for (const v of all) {
        if (v.status?.readyToUse === true && !readyAt.has(v.metadata.name)) {
          readyAt.set(v.metadata.name, Date.now())
          const scheduled = Date.parse(v.metadata.annotations?.["k8s.dolthub.com/scheduled-time"] ?? "")
          snapshotSeconds.push((Date.now() - scheduled) / 1000)
        }
      }
      const ready = all.filter((v) => v.status?.readyToUse === true && !v.metadata.deletionTimestamp)
      return fires.size >= 4 && all.length === 2 && ready.length === 2 ? ready : undefined
    })
    const onTheMinute = await waitFor("the cron Snapshot's fire on the minute, ready", 70_000, async () => {
      const ready = (await volumeSnapshots("minutely")).filter((v) => v.status?.readyToUse === true)
      return ready.length > 0 ? ready : undefined
    })
    stop = true
    await writer
    await c.end()
    const s = await k.get(group(API, "snapshots", ns, "quarter"))
    assert.strictEqual(conditionOf(s, "Ready")?.status, "True", JSON.stringify(s.status))
    assert.strictEqual(s.status.snapshots.length, 2)
    assert.isTrue(
      s.status.snapshots.every((r: { readyToUse: boolean; restoreSize?: string }) => r.readyToUse && r.restoreSize)
    )
    const all = await volumeSnapshots("quarter")
    for (const v of all) assert.strictEqual(v.metadata.annotations?.["k8s.dolthub.com/source-role"], "standby")
    // @every counts from the Snapshot's creation: consecutive fires 15 s apart.
    const times = [...fires].map((t) => Date.parse(t)).sort((a, b) => a - b)
    for (let i = 1; i < times.length; i++)
      assert.strictEqual((times[i]! - times[i - 1]!) % 15_000, 0, [...fires].join())
    for (const v of onTheMinute) {
      const scheduled = new Date(Date.parse(v.metadata.annotations?.["k8s.dolthub.com/scheduled-time"] ?? ""))
      assert.strictEqual(scheduled.getUTCSeconds(), 0, `${v.metadata.name} fired at ${scheduled.toISOString()}`)
    }
    const minutely = await k.get(group(API, "snapshots", ns, "minutely"))
    assert.strictEqual(conditionOf(minutely, "Ready")?.status, "True", JSON.stringify(minutely.status))
    restoreFrom = all.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))[0]!.metadata.name
    // Deleting a Snapshot stops its schedule and keeps its VolumeSnapshots (deletionPolicy Retain).
    await k.delete(group(API, "snapshots", ns, "quarter"))
    await k.delete(group(API, "snapshots", ns, "minutely"))
  })

  it("a DoltDB bootstrapped from one of them serves the snapshot's rows on every replica", async () => {
    assert.isDefined(restoreFrom, "needs the snapshot of the previous scenario")
    const t0 = Date.now()
    const d = await createDoltDB("restored", {
      storage: { size: "2Gi" },
      bootstrap: { from: { volumeSnapshot: restoreFrom } }
    })
    record("storage: DoltDB from a VolumeSnapshot created -> Ready", Date.now() - t0)
    for (const pod of await podsOf("restored")) {
      const c = await sql(pod.status.podIP)
      try {
        const rows = await waitFor(`${pod.metadata.name} serves app.snap`, 60_000, async () => {
          const r = await query(c, "SELECT id, v FROM app.snap ORDER BY id").catch(() => undefined)
          return r !== undefined && r.length === rowsAtSnapshot ? r : undefined
        })
        assert.deepEqual(
          rows.map((r) => r.v),
          ["one", "two", "three"]
        )
      } finally {
        await c.end()
      }
    }
    // One primary, writable, above the snapshot's epoch.
    const primary = await sql(await ipOf(d.status.currentPrimary))
    await query(primary, "INSERT INTO app.snap VALUES (4, 'four')")
    await primary.end()
    assert.isTrue((await claimsOf("restored")).every((p) => p.spec.dataSource?.name === restoreFrom))
  })

  it("a Snapshot whose VolumeSnapshotClass does not exist reports it", async () => {
    await requireSnapshotApi()
    await k.create(group(API, "snapshots", ns), {
      apiVersion: API,
      kind: "Snapshot",
      metadata: { name: "wrong-class", namespace: ns },
      spec: { doltDBRef: { name: "grow" }, frequencySchedule: "* * * * *", volumeSnapshotClassName: "no-such-class" }
    })
    const s = await waitFor("Snapshot reports the missing class", 60_000, async () => {
      const s = await k.get(group(API, "snapshots", ns, "wrong-class"))
      return conditionOf(s, "Ready")?.reason === "VolumeSnapshotClassNotFound" ? s : undefined
    })
    assert.match(conditionOf(s, "Ready")?.message ?? "", /no-such-class/)
    assert.deepEqual(await volumeSnapshots("wrong-class"), [])
  })
})
