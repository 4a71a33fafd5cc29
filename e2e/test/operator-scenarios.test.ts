// The operator against the real control plane and real dolt servers: installed by its Helm charts and running as a
// 2-replica Deployment under the chart's RBAC (e2e/lib/incluster.ts; E2E_OPERATOR=host runs it as a host process):
// a 1-replica DoltDB serving SQL; Database/User/Grant (login with the Secret's password, a granted SELECT, a
// refused INSERT, a password rotation); a 3-replica DoltDB with one primary and replicating standbys; then,
// on that DoltDB under a continuous writer that follows `<name>-primary`'s EndpointSlice: SIGKILL of the
// primary's dolt, graceful switchovers (podIndex edits), deletion of the primary pod, a rolling update, and
// an operator SIGKILLed in the middle of a switchover. With ack-writes on (`dolt_cluster_ack_writes_timeout_secs`
// persisted on every pod), every write acknowledged without a warning must survive each of them (the README's
// "Failover behaviour and guarantees"). Timings go to timings.jsonl and e2e/results.json, never asserted.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as mysql from "mysql2/promise"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { killContainer } from "../lib/faults.ts"
import { type InClusterOperator, inClusterWanted, installOperator } from "../lib/incluster.ts"
import { core, group, type Kube, type KubeObject } from "../lib/kube.ts"
import { hostOperator, type OperatorUnderTest } from "../lib/operator.ts"
import { Writer } from "../lib/writer.ts"
import {
  connect,
  createNamespace,
  deleteNamespace,
  isReady,
  kube,
  query,
  readyPod,
  record,
  sleep,
  waitFor
} from "./helpers.ts"

const work = process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")
// The committed figures (e2e/results.json) are refreshed on purpose (E2E_RESULTS_FILE=e2e/results.json), not by
// every run: tests do not dirty the work tree.
const resultsFile = process.env.E2E_RESULTS_FILE ?? join(work, "results.json")
const API = "k8s.dolthub.com/v1alpha"
const RoleLabel = "k8s.dolthub.com/cluster-role"
const RUNS = Number(process.env.E2E_RUNS ?? 3)

/** One login attempt, no retries (a refused password must fail at once). */
const tryConnect = (host: string, user: string, password: string) =>
  mysql.createConnection({ host, port: 3306, user, password, connectTimeout: 3000 })

const conditionTrue = (o: KubeObject | undefined, type: string) =>
  (o?.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === type && c.status === "True")

describe("e2e: operator scenarios against real dolt", () => {
  let k: Kube
  let ns: string
  let operator: OperatorUnderTest
  let inCluster: InClusterOperator | undefined
  const mode = inClusterWanted()
  let engineVersion: string
  const admin = "e2e-admin"
  const adminPassword = "e2e-Admin-Secret-1"
  const failoverSeconds: Array<number> = []
  const switchoverSeconds: Array<number> = []
  const leaderTakeoverSeconds: Array<number> = []
  const details: Record<string, unknown> = {}

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-opsc")
    engineVersion = readFileSync(join(work, "run", "dolt-release"), "utf8").trim()
    if (mode.ok) operator = inCluster = await installOperator(k, ns)
    else operator = hostOperator([`--watch-namespaces=${ns}`])
    console.log(`[e2e] operator: ${operator.where}${mode.ok ? "" : ` (not in-cluster: ${mode.why})`}`)
  })
  afterAll(async () => {
    await operator?.stop()
    if (failoverSeconds.length > 0 || switchoverSeconds.length > 0) {
      // Merged under its own key: failoverSeconds/switchoverSeconds at the top are the figures file's
      // (e2e/figures/failover.test.ts, 10+ samples per run); these are the scenarios' few samples.
      const scenarios = {
        failoverSeconds,
        switchoverSeconds,
        leaderTakeoverSeconds,
        operator: operator?.where,
        measuredAt: new Date().toISOString(),
        command: "npm run e2e (e2e/test/operator-scenarios.test.ts)",
        definitions: {
          failoverSeconds:
            "SIGKILL of the primary's dolt container -> first write acknowledged through the address <name>-primary's EndpointSlice points to (a write started after the kill; ack-writes on, 10 s)",
          switchoverSeconds:
            "spec.replication.primary.podIndex edited -> first write acknowledged by the new primary through <name>-primary's EndpointSlice",
          leaderTakeoverSeconds:
            "the leading operator pod SIGKILLed and force-deleted (no Lease release) -> another replica holds the Lease (default lease 10 s)"
        },
        details
      }
      const current = existsSync(resultsFile)
        ? (JSON.parse(readFileSync(resultsFile, "utf8")) as Record<string, unknown>)
        : {}
      writeFileSync(resultsFile, `${JSON.stringify({ ...current, operatorScenarios: scenarios }, null, 2)}\n`)
    }
    if (ns) await deleteNamespace(k, ns)
    k?.close()
  })

  const doltdbPath = (name: string) => group(API, "doltdbs", ns, name)
  const doltdb = (name: string) => k.get(doltdbPath(name))

  const createCredentials = (name: string) =>
    k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-credentials`, namespace: ns },
      stringData: { "admin-user": admin, "admin-password": adminPassword }
    })

  const createDoltDB = async (name: string, replicas: number) => {
    await createCredentials(name)
    await k.create(group(API, "doltdbs", ns), {
      apiVersion: API,
      kind: "DoltDB",
      metadata: { name, namespace: ns },
      spec: { engineVersion, replicas, storage: { size: "1Gi" }, replication: { enabled: replicas > 1 } }
    })
  }

  const podsOf = async (name: string) =>
    (
      await k.get<{ items: Array<KubeObject> }>(`${core("pods", ns)}?labelSelector=app.kubernetes.io%2Fname%3D${name}`)
    ).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))

  /** What each server says about its own role (dolt's system variables). */
  const roles = async (pods: Array<KubeObject>) => {
    const out: Array<{ pod: string; ip: string; role: string; epoch: number }> = []
    for (const pod of pods) {
      const c = await tryConnect(pod.status.podIP, admin, adminPassword)
      try {
        const [row] = await query(
          c,
          "SELECT @@GLOBAL.dolt_cluster_role AS role, @@GLOBAL.dolt_cluster_role_epoch AS epoch"
        )
        out.push({ pod: pod.metadata.name, ip: pod.status.podIP, role: String(row?.role), epoch: Number(row?.epoch) })
      } finally {
        c.destroy()
      }
    }
    return out
  }

  /**
   * A converged replicated DoltDB: Ready, no transition in progress, every pod Ready, exactly one pod labelled
   * primary, and exactly one server that says it is primary: that pod, at the highest epoch, named by the status.
   */
  const converged = async (name: string, replicas: number, timeoutMs = 180_000, minEpoch = 0) => {
    let seen = ""
    try {
      return await waitFor(`DoltDB ${name} converged (one primary, ${replicas} Ready pods)`, timeoutMs, async () => {
        const d = await doltdb(name)
        const pods = await podsOf(name)
        const rs = await roles(pods.filter((p) => p.status?.podIP)).catch((e: Error) => e.message)
        seen = JSON.stringify({
          status: {
            currentPrimary: d.status?.currentPrimary,
            replicationEpoch: d.status?.replicationEpoch,
            primaryTransition: d.status?.primaryTransition,
            conditions: (d.status?.conditions ?? []).map(
              (c: { type: string; status: string; reason?: string; message?: string }) =>
                `${c.type}=${c.status} ${c.reason ?? ""}: ${c.message ?? ""}`
            )
          },
          podIndex: d.spec?.replication?.primary?.podIndex,
          pods: pods.map((p) => `${p.metadata.name} ready=${isReady(p)} role=${p.metadata.labels?.[RoleLabel]}`),
          roles: rs
        })
        if (!conditionTrue(d, "Ready") || d.status?.primaryTransition || !d.status?.currentPrimary) return undefined
        if ((d.status?.replicationEpoch ?? 0) <= minEpoch) return undefined
        if (pods.length !== replicas || !pods.every((p) => isReady(p) && !p.metadata.deletionTimestamp))
          return undefined
        const labelled = pods.filter((p) => p.metadata.labels?.[RoleLabel] === "primary")
        if (labelled.length !== 1 || labelled[0]!.metadata.name !== d.status.currentPrimary) return undefined
        if (typeof rs === "string") return undefined
        const primaries = rs.filter((r) => r.role === "primary")
        if (primaries.length !== 1 || primaries[0]!.pod !== d.status.currentPrimary) return undefined
        const maxEpoch = Math.max(...rs.map((r) => r.epoch))
        if (primaries[0]!.epoch !== maxEpoch) return undefined
        return { doltdb: d, pods, roles: rs, primary: labelled[0]!, epoch: primaries[0]!.epoch }
      })
    } catch (e) {
      throw new Error(`${(e as Error).message}; last seen: ${seen}`)
    }
  }

  it("a 1-replica DoltDB becomes Ready and serves SQL", async () => {
    const t0 = Date.now()
    await createDoltDB("solo", 1)
    const d = await waitFor("DoltDB solo Ready", 180_000, async () => {
      const d = await doltdb("solo")
      return conditionTrue(d, "Ready") ? d : undefined
    })
    record("operator scenarios: 1-replica DoltDB created -> Ready", Date.now() - t0)
    const pod = await readyPod(k, ns, d.status?.currentPrimary ?? "solo-0", 30_000)
    const c = await connect(pod.status.podIP, admin, adminPassword)
    try {
      await query(c, "CREATE DATABASE smoke")
      await query(c, "CREATE TABLE smoke.t (id INT PRIMARY KEY, v VARCHAR(20))")
      await query(c, "INSERT INTO smoke.t VALUES (1, 'one')")
      assert.deepEqual(await query(c, "SELECT id, v FROM smoke.t"), [{ id: 1, v: "one" }])
    } finally {
      await c.end()
    }
  })

  it("Database, User and Grant work against real dolt, and a password rotation takes effect", async () => {
    const pod = await readyPod(k, ns, "solo-0", 30_000)
    const ip = pod.status.podIP
    const ref = { name: "solo" }
    const t0 = Date.now()
    await k.create(group(API, "databases", ns), {
      apiVersion: API,
      kind: "Database",
      metadata: { name: "app", namespace: ns },
      spec: { doltDBRef: ref, name: "app" }
    })
    await waitFor("Database app Ready", 120_000, async () =>
      conditionTrue(await k.get(group(API, "databases", ns, "app")), "Ready") ? true : undefined
    )
    record("operator scenarios: Database created -> Ready", Date.now() - t0)
    const a = await connect(ip, admin, adminPassword)
    try {
      const dbs = (await query(a, "SHOW DATABASES")).map((r) => Object.values(r)[0])
      assert.include(dbs, "app")
      await query(a, "CREATE TABLE app.items (id INT PRIMARY KEY)")
      await query(a, "INSERT INTO app.items VALUES (1), (2)")
    } finally {
      await a.end()
    }

    const password1 = "Reader-Pass-1"
    const password2 = "Reader-Pass-2"
    await k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "reader-password", namespace: ns, labels: { "k8s.dolthub.com/watch": "" } },
      stringData: { password: password1 }
    })
    await k.create(group(API, "users", ns), {
      apiVersion: API,
      kind: "User",
      metadata: { name: "reader", namespace: ns },
      spec: {
        doltDBRef: ref,
        name: "reader",
        host: "%",
        passwordSecretKeyRef: { name: "reader-password", key: "password" }
      }
    })
    await k.create(group(API, "grants", ns), {
      apiVersion: API,
      kind: "Grant",
      metadata: { name: "reader-select", namespace: ns },
      spec: { doltDBRef: ref, privileges: ["SELECT"], database: "app", table: "*", username: "reader", host: "%" }
    })
    const t1 = Date.now()
    await waitFor("User and Grant Ready", 120_000, async () =>
      conditionTrue(await k.get(group(API, "users", ns, "reader")), "Ready") &&
      conditionTrue(await k.get(group(API, "grants", ns, "reader-select")), "Ready")
        ? true
        : undefined
    )
    record("operator scenarios: User and Grant created -> Ready", Date.now() - t1)

    // The user logs in with the Secret's password; SELECT is granted, INSERT is not.
    const r = await tryConnect(ip, "reader", password1)
    try {
      assert.deepEqual(await query(r, "SELECT id FROM app.items ORDER BY id"), [{ id: 1 }, { id: 2 }])
      const insert = await query(r, "INSERT INTO app.items VALUES (3)").then(
        () => undefined,
        (e: Error) => e
      )
      assert.instanceOf(insert, Error, "INSERT without the privilege must be refused")
      assert.match(insert!.message, /denied|privilege/i)
      const other = await query(r, "SELECT id FROM smoke.t").then(
        () => undefined,
        (e: Error) => e
      )
      assert.instanceOf(other, Error, "SELECT on a database outside the grant must be refused")
    } finally {
      r.destroy()
    }
    const wrong = await tryConnect(ip, "reader", "not-the-password").then(
      (c) => {
        c.destroy()
        return undefined
      },
      (e: Error) => e
    )
    assert.instanceOf(wrong, Error, "a wrong password must be refused")

    // Rotation: edit the Secret; the new password works, the old one is refused.
    const t2 = Date.now()
    await k.mergePatch(core("secrets", ns, "reader-password"), { stringData: { password: password2 } })
    await waitFor("login with the rotated password", 120_000, async () => {
      const c = await tryConnect(ip, "reader", password2)
      c.destroy()
      return true
    })
    record("operator scenarios: Secret edited -> rotated password accepted", Date.now() - t2)
    const old = await tryConnect(ip, "reader", password1).then(
      (c) => {
        c.destroy()
        return undefined
      },
      (e: Error) => e
    )
    assert.instanceOf(old, Error, "the old password must be refused after the rotation")
    const r2 = await tryConnect(ip, "reader", password2)
    try {
      assert.deepEqual(await query(r2, "SELECT id FROM app.items ORDER BY id"), [{ id: 1 }, { id: 2 }])
    } finally {
      r2.destroy()
    }
  })

  describe("3 replicas", () => {
    const name = "ha"
    const service = `${name}-primary`
    const table = "ackdb.w"
    let writer: Writer | undefined

    afterAll(async () => {
      await writer?.stop()
    })

    /** Every warning-free acknowledged write is on the converged primary (and on each standby once caught up). */
    const assertNoPromisedWriteLost = async (what: string, c: Awaited<ReturnType<typeof converged>>) => {
      const promised = writer!.promised()
      const conn = await tryConnect(c.primary.status.podIP, admin, adminPassword)
      try {
        const ids = new Set((await query(conn, `SELECT id FROM ${table}`)).map((r) => Number(r.id)))
        const lost = promised.filter((id) => !ids.has(id))
        const latencies = writer!.acks.map((a) => a.at - a.startedAt).sort((x, y) => x - y)
        details[`${what}: writes so far`] = {
          acknowledged: writer!.acks.length,
          warned: writer!.acks.length - promised.length,
          failed: writer!.errors.length,
          lost: lost.length,
          latencyMsP50: latencies[Math.floor(latencies.length / 2)],
          latencyMsMax: latencies[latencies.length - 1]
        }
        assert.deepEqual(lost, [], `${what}: acknowledged (warning-free) writes missing on the new primary`)
      } finally {
        conn.destroy()
      }
    }

    /**
     * A podIndex that is neither the current primary nor the spec's value: a failover or a rollout moves the
     * primary without touching the spec, and re-writing the spec's own value requests nothing (edge-triggered).
     */
    const switchTarget = (c: Awaited<ReturnType<typeof converged>>) => {
      const current = c.doltdb.status.currentPrimaryPodIndex as number
      const spec = (c.doltdb.spec?.replication?.primary?.podIndex ?? 0) as number
      return [1, 2, 0].map((d) => (current + d) % 3).find((i) => i !== current && i !== spec)!
    }

    const podIpOwner = (c: Awaited<ReturnType<typeof converged>>, ip: string) =>
      c.pods.find((p) => p.status.podIP === ip)?.metadata.name

    it("a 3-replica DoltDB gets one primary and replicating standbys", async () => {
      const t0 = Date.now()
      await createDoltDB(name, 3)
      const c = await converged(name, 3)
      record("operator scenarios: 3-replica DoltDB created -> converged", Date.now() - t0)
      const standbys = c.roles.filter((r) => r.role === "standby")
      assert.strictEqual(standbys.length, 2, JSON.stringify(c.roles))
      const p = await tryConnect(c.primary.status.podIP, admin, adminPassword)
      try {
        await query(p, "CREATE DATABASE ackdb")
        await query(p, `CREATE TABLE ${table} (id INT PRIMARY KEY, via VARCHAR(20))`)
        await query(p, `INSERT INTO ${table} VALUES (0, 'setup')`)
      } finally {
        p.destroy()
      }
      const t1 = Date.now()
      for (const s of standbys) {
        await waitFor(`row replicated to ${s.pod}`, 30_000, async () => {
          const sc = await tryConnect(s.ip, admin, adminPassword)
          try {
            const rows = await query(sc, `SELECT id FROM ${table}`)
            return rows.length === 1 ? true : undefined
          } finally {
            sc.destroy()
          }
        })
        // A standby refuses writes.
        const sc = await tryConnect(s.ip, admin, adminPassword)
        try {
          const refused = await query(sc, `INSERT INTO ${table} VALUES (-1, 'standby')`).then(
            () => undefined,
            (e: Error) => e
          )
          assert.instanceOf(refused, Error, `standby ${s.pod} accepted a write`)
        } finally {
          sc.destroy()
        }
      }
      record("operator scenarios: write on the primary -> read on both standbys", Date.now() - t1)
      // Ack-writes on every pod: a commit waits (up to 10 s) for every standby.
      for (const pod of c.pods) {
        const pc = await tryConnect(pod.status.podIP, admin, adminPassword)
        try {
          await query(pc, "SET @@PERSIST.dolt_cluster_ack_writes_timeout_secs = 10")
          const [row] = await query(pc, "SELECT @@GLOBAL.dolt_cluster_ack_writes_timeout_secs AS t")
          assert.strictEqual(Number(row?.t), 10)
        } finally {
          pc.destroy()
        }
      }
      writer = new Writer(k, ns, service, admin, adminPassword, table)
      writer.start()
      await writer.firstAckAfter(Date.now(), 30_000)
    })

    it(`graceful switchover by editing podIndex (${RUNS} runs), no acknowledged write lost`, async () => {
      assert.ok(writer, "needs the 3-replica DoltDB")
      const runs: Array<unknown> = []
      for (let i = 0; i < RUNS; i++) {
        const before = await converged(name, 3)
        const from = before.doltdb.status.currentPrimaryPodIndex as number
        const to = switchTarget(before)
        const target = `${name}-${to}`
        const targetIp = before.pods.find((p) => p.metadata.name === target)!.status.podIP
        const t0 = Date.now()
        await k.mergePatch(doltdbPath(name), { spec: { replication: { primary: { podIndex: to } } } })
        const ack = await writer!.firstAckAfter(t0, 120_000, (ip) => ip === targetIp)
        const s = (ack.at - t0) / 1000
        switchoverSeconds.push(s)
        record(`operator scenarios: switchover ${from}->${to} requested -> first write on the new primary`, ack.at - t0)
        const after = await converged(name, 3, 180_000, before.epoch)
        assert.strictEqual(after.primary.metadata.name, target)
        runs.push({
          from,
          to,
          seconds: s,
          firstWriteStartedAfterSeconds: (ack.startedAt - t0) / 1000,
          epochBefore: before.epoch,
          epochAfter: after.epoch
        })
        await assertNoPromisedWriteLost(`switchover ${i + 1}`, after)
      }
      details.switchovers = runs
    })

    it(`SIGKILL of the primary's dolt: failover or recovery (${RUNS} runs), no acknowledged write lost`, async () => {
      assert.ok(writer, "needs the 3-replica DoltDB")
      const runs: Array<unknown> = []
      for (let i = 0; i < RUNS; i++) {
        const before = await converged(name, 3)
        // Steady writes first, so the kill lands among them.
        await writer!.firstAckAfter(Date.now(), 30_000)
        const t0 = Date.now()
        killContainer(before.primary, "dolt")
        const ack = await writer!.firstAckAfter(t0, 180_000)
        const s = (ack.at - t0) / 1000
        failoverSeconds.push(s)
        const after = await converged(name, 3, 180_000)
        const by = podIpOwner(after, ack.ip) ?? ack.ip
        record(`operator scenarios: primary's dolt SIGKILLed -> first write through ${service} (${by})`, ack.at - t0)
        runs.push({
          killed: before.primary.metadata.name,
          firstWriteBy: by,
          newPrimary: after.primary.metadata.name,
          seconds: s,
          firstWriteStartedAfterSeconds: (ack.startedAt - t0) / 1000,
          epochBefore: before.epoch,
          epochAfter: after.epoch
        })
        await assertNoPromisedWriteLost(`sigkill ${i + 1}`, after)
      }
      details.sigkills = runs
    })

    it("deleting the primary pod fails over, no acknowledged write lost", async () => {
      assert.ok(writer, "needs the 3-replica DoltDB")
      const before = await converged(name, 3)
      await writer!.firstAckAfter(Date.now(), 30_000)
      const oldIp = before.primary.status.podIP
      const t0 = Date.now()
      await k.delete(core("pods", ns, before.primary.metadata.name))
      const ack = await writer!.firstAckAfter(t0, 180_000, (ip) => ip !== oldIp)
      record("operator scenarios: primary pod deleted -> first write through the new primary", ack.at - t0)
      const after = await converged(name, 3, 180_000, before.epoch)
      details.podDeletion = {
        deleted: before.primary.metadata.name,
        newPrimary: after.primary.metadata.name,
        seconds: (ack.at - t0) / 1000,
        epochBefore: before.epoch,
        epochAfter: after.epoch
      }
      await assertNoPromisedWriteLost("pod deletion", after)
    })

    it("a rolling update (podAnnotations) replaces every pod and keeps one primary, no acknowledged write lost", async () => {
      assert.ok(writer, "needs the 3-replica DoltDB")
      const before = await converged(name, 3)
      const uids = new Map(before.pods.map((p) => [p.metadata.name, p.metadata.uid]))
      const stamp = `r${Date.now().toString(36)}`
      const t0 = Date.now()
      await k.mergePatch(doltdbPath(name), { spec: { podAnnotations: { "e2e.dolthub.com/rollout": stamp } } })
      // Every pod replaced by one carrying the new template; at every poll at most one pod is labelled primary.
      let maxLabelledPrimaries = 0
      await waitFor("every pod rolled", 300_000, async () => {
        const pods = await podsOf(name)
        maxLabelledPrimaries = Math.max(
          maxLabelledPrimaries,
          pods.filter((p) => p.metadata.labels?.[RoleLabel] === "primary").length
        )
        const rolled = pods.filter(
          (p) =>
            p.metadata.annotations?.["e2e.dolthub.com/rollout"] === stamp &&
            p.metadata.uid !== uids.get(p.metadata.name) &&
            isReady(p)
        )
        return rolled.length === 3 ? true : undefined
      })
      const after = await converged(name, 3, 180_000)
      record("operator scenarios: rolling update requested -> every pod replaced, converged", Date.now() - t0)
      details.rollingUpdate = {
        seconds: (Date.now() - t0) / 1000,
        primaryBefore: before.primary.metadata.name,
        primaryAfter: after.primary.metadata.name,
        epochBefore: before.epoch,
        epochAfter: after.epoch,
        maxPodsLabelledPrimary: maxLabelledPrimaries
      }
      assert.isAtMost(maxLabelledPrimaries, 1, "two pods labelled primary at once during the rollout")
      await assertNoPromisedWriteLost("rolling update", after)
    })

    it("an operator killed right after a podIndex edit: a new one converges to one primary at a higher epoch", async () => {
      assert.ok(writer, "needs the 3-replica DoltDB")
      const before = await converged(name, 3)
      const from = before.doltdb.status.currentPrimaryPodIndex as number
      const to = switchTarget(before)
      const t0 = Date.now()
      await k.mergePatch(doltdbPath(name), { spec: { replication: { primary: { podIndex: to } } } })
      // Kill it once the transition is recorded (in the middle of the switchover), or after 3 s regardless.
      const transition = await waitFor("primaryTransition recorded", 3_000, async () => {
        const d = await doltdb(name)
        return d.status?.primaryTransition ?? undefined
      }).catch(() => undefined)
      const killedAt = Date.now()
      const { takeoverMs } = await operator.crash()
      if (takeoverMs !== undefined) {
        leaderTakeoverSeconds.push(takeoverMs / 1000)
        record("operator scenarios: leader operator pod killed mid-switchover -> Lease taken over", takeoverMs)
      }
      const mid = await doltdb(name)
      const after = await converged(name, 3, 180_000, before.epoch)
      record("operator scenarios: podIndex edited, operator killed and restarted -> converged", Date.now() - t0)
      // Writes resume on the new primary, then nothing acknowledged before is missing.
      const newIp = after.primary.status.podIP
      const ack = await writer!.firstAckAfter(t0, 120_000, (ip) => ip === newIp)
      details.operatorRestart = {
        from,
        to,
        killedAfterSeconds: (killedAt - t0) / 1000,
        leaderTakeoverSeconds: takeoverMs === undefined ? null : takeoverMs / 1000,
        firstWriteOnNewPrimarySeconds: (ack.at - t0) / 1000,
        transitionSeenBeforeKill: transition ?? null,
        statusAtKill: {
          currentPrimary: mid.status?.currentPrimary,
          replicationEpoch: mid.status?.replicationEpoch,
          primaryTransition: mid.status?.primaryTransition ?? null
        },
        primaryAfter: after.primary.metadata.name,
        epochBefore: before.epoch,
        epochAfter: after.epoch
      }
      assert.isAbove(after.epoch, before.epoch)
      assert.strictEqual(after.primary.metadata.name, `${name}-${to}`)
      await assertNoPromisedWriteLost("operator restart", after)
    })

    /** The DoltDB's primary and pods, to tell a failover (or any restart) apart from nothing happening. */
    const identity = (c: Awaited<ReturnType<typeof converged>>) => ({
      primary: c.primary.metadata.name,
      epoch: c.epoch,
      pods: c.pods.map((p) => `${p.metadata.name}/${p.metadata.uid}`)
    })

    it("helm upgrade changes the operator's log level; no DoltDB fails over or restarts", async () => {
      assert.ok(inCluster, `needs the operator installed by Helm (${mode.why})`)
      const before = identity(await converged(name, 3))
      const solo = (await doltdb("solo")).status
      const old = new Set((await inCluster.pods()).map((p) => p.metadata.uid))
      const t0 = Date.now()
      await inCluster.upgrade(["logLevel=debug"])
      const pods = await waitFor("every operator pod replaced, Ready, one of them leading", 120_000, async () => {
        const ps = await inCluster!.pods()
        const fresh = ps.length === 2 && ps.every((p) => !old.has(p.metadata.uid) && isReady(p))
        return fresh && (await inCluster!.leader()) ? ps : undefined
      })
      record("operator scenarios: helm upgrade (logLevel) -> new operator pods leading", Date.now() - t0)
      for (const p of pods) assert.include(p.spec.containers[0].args, "--log-level=debug")
      // The new leader has taken over: watch it through several of its 2 s polls, then compare.
      const leadingSince = Date.now()
      while (Date.now() - leadingSince < 8_000) {
        const d = await doltdb(name)
        assert.strictEqual(d.status?.currentPrimary, before.primary, "the primary moved after helm upgrade")
        assert.strictEqual(d.status?.replicationEpoch, before.epoch, "the epoch changed after helm upgrade")
        await sleep(500)
      }
      const after = await converged(name, 3)
      assert.deepEqual(identity(after), before)
      const soloAfter = (await doltdb("solo")).status
      assert.strictEqual(soloAfter?.currentPrimary, solo?.currentPrimary)
      await assertNoPromisedWriteLost("helm upgrade", after)
    })

    it("helm uninstall (operator, then CRDs chart) keeps the CRDs, every DoltDB and its data", async () => {
      assert.ok(inCluster, `needs the operator installed by Helm (${mode.why})`)
      const before = identity(await converged(name, 3))
      await inCluster.uninstall()
      await writer!.stop()
      const crds = (
        await k.get<{ items: Array<KubeObject> }>(group("apiextensions.k8s.io/v1", "customresourcedefinitions"))
      ).items.filter((c) => c.spec.group === "k8s.dolthub.com" && !c.metadata.deletionTimestamp)
      assert.strictEqual(crds.length, 7, crds.map((c) => c.metadata.name).join(", "))
      assert.deepEqual(await inCluster.pods(), [], "operator pods left after helm uninstall")
      const after = await converged(name, 3, 30_000)
      assert.deepEqual(identity(after), before)
      await assertNoPromisedWriteLost("helm uninstall", after)
      const pod = await readyPod(k, ns, "solo-0", 30_000)
      const c = await connect(pod.status.podIP, admin, adminPassword)
      try {
        assert.deepEqual(await query(c, "SELECT id, v FROM smoke.t"), [{ id: 1, v: "one" }])
      } finally {
        await c.end()
      }
    })
  })
})
