// Failover and switchover figures against real dolt (npm run e2e:figures): per replication mode (asynchronous, then
// ack-writes with dolt_cluster_ack_writes_timeout_secs = 10 persisted on every pod), a fresh 3-replica DoltDB spread
// over the 3 nodes, a client writing one row at a time through `<name>-primary`'s EndpointSlice, and
// E2E_FIGURES_RUNS (10) graceful switchovers (podIndex edits; the first one is a fresh cluster's first), as many
// SIGKILLs of the primary's dolt container, and E2E_FIGURES_NODE_LOSSES (as many) lost nodes (the primary's each
// time: agent and pods frozen, links down; back once a write was acknowledged on the new primary).
// Per sample: the write outage (the last write acknowledged before the fault -> the first acknowledged after it,
// warned or not) and, the same origin, the first write acknowledged without a warning. Every warning-free write must
// survive; with async replication the number of acknowledged writes missing afterwards is reported. The operator runs
// as a host process, so a lost node never takes the leading operator with it (leader takeover is measured by
// operator-scenarios). Figures go to e2e/.work/results.json (and $E2E_RESULTS_FILE), never asserted.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as mysql from "mysql2/promise"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { killContainer, nodeDown, nodeUp } from "../lib/faults.ts"
import { core, group, type Kube, type KubeObject } from "../lib/kube.ts"
import { hostOperator, type OperatorUnderTest } from "../lib/operator.ts"
import { Writer } from "../lib/writer.ts"
import { createNamespace, deleteNamespace, isReady, kube, query, record, waitFor } from "../test/helpers.ts"

const work = process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")
const API = "k8s.dolthub.com/v1alpha"
const RoleLabel = "k8s.dolthub.com/cluster-role"
const RUNS = Number(process.env.E2E_FIGURES_RUNS ?? 10)
const NODE_LOSSES = Number(process.env.E2E_FIGURES_NODE_LOSSES ?? RUNS)
const admin = "e2e-admin"
const adminPassword = "e2e-Admin-Secret-1"
const table = "figs.w"

const tryConnect = (host: string) =>
  mysql.createConnection({ host, port: 3306, user: admin, password: adminPassword, connectTimeout: 3000 })

const round = (ms: number) => Math.round(ms) / 1000
const p50 = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]
const summary = (xs: ReadonlyArray<number>) => ({ n: xs.length, p50: p50(xs), max: Math.max(...xs) })

interface Sample {
  readonly fault: "switchover" | "sigkill" | "nodeLoss"
  readonly from: string
  readonly to: string
  /** Last acknowledged write before the fault -> first acknowledged write (started after the fault). */
  readonly seconds: number
  /** Same origin -> first write acknowledged without a warning. */
  readonly untilNoWarningSeconds: number
  /** Fault -> first acknowledged write. */
  readonly fromFaultSeconds: number
  readonly warnedBetween: number
  /** Writes that failed (or were abandoned when <name>-primary moved) between the fault and the clean ack. */
  readonly failedBetween: number
  readonly epochBefore: number
  readonly epochAfter: number
  /** The operator's Events after the fault: the first of each reason, seconds from the fault (where the time goes). */
  readonly operatorEvents: Readonly<Record<string, number>>
}

type Mode = "async" | "ackWrites"
const samples: Record<Mode, Array<Sample>> = { async: [], ackWrites: [] }
const lost: Record<Mode, { promised: number; acknowledged: number; lostPromised: number; lostAcknowledged: number }> = {
  async: { promised: 0, acknowledged: 0, lostPromised: 0, lostAcknowledged: 0 },
  ackWrites: { promised: 0, acknowledged: 0, lostPromised: 0, lostAcknowledged: 0 }
}

const mergeResults = (file: string, entries: Record<string, unknown>) => {
  const current = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {}
  writeFileSync(file, `${JSON.stringify({ ...current, ...entries }, null, 2)}\n`)
}

const seconds = (mode: Mode, fault: Sample["fault"], key: "seconds" | "untilNoWarningSeconds" = "seconds") =>
  samples[mode].filter((s) => s.fault === fault).map((s) => s[key])

const figures = () => ({
  failoverSeconds: seconds("async", "sigkill"),
  switchoverSeconds: seconds("async", "switchover"),
  nodeLossSeconds: seconds("async", "nodeLoss"),
  failoverAckWritesSeconds: seconds("ackWrites", "sigkill"),
  switchoverAckWritesSeconds: seconds("ackWrites", "switchover"),
  nodeLossAckWritesSeconds: seconds("ackWrites", "nodeLoss"),
  untilNoWarningSeconds: {
    failover: seconds("ackWrites", "sigkill", "untilNoWarningSeconds"),
    switchover: seconds("ackWrites", "switchover", "untilNoWarningSeconds"),
    nodeLoss: seconds("ackWrites", "nodeLoss", "untilNoWarningSeconds")
  },
  failoverFiguresSummary: {
    failover: summary(seconds("async", "sigkill")),
    switchover: summary(seconds("async", "switchover")),
    failoverAckWrites: summary(seconds("ackWrites", "sigkill")),
    switchoverAckWrites: summary(seconds("ackWrites", "switchover")),
    untilNoWarningFailover: summary(seconds("ackWrites", "sigkill", "untilNoWarningSeconds")),
    nodeLoss: summary(seconds("async", "nodeLoss")),
    nodeLossAckWrites: summary(seconds("ackWrites", "nodeLoss")),
    untilNoWarningNodeLoss: summary(seconds("ackWrites", "nodeLoss", "untilNoWarningSeconds")),
    writesLost: lost
  },
  failoverFiguresMeasuredAt: new Date().toISOString(),
  failoverFiguresCommand: `flock /tmp/e2e-cluster.lock npm run e2e:figures (e2e/figures/failover.test.ts, E2E_FIGURES_RUNS=${RUNS}, E2E_FIGURES_NODE_LOSSES=${NODE_LOSSES})`,
  failoverFiguresDefinitions: {
    failoverSeconds:
      "async replication; SIGKILL of the primary's dolt container: the last write acknowledged before the kill -> the first write acknowledged (warned or not) through the address <name>-primary's EndpointSlice points to",
    switchoverSeconds:
      "async replication; spec.replication.primary.podIndex edited: last acknowledged write before the edit -> first write acknowledged by the new primary",
    nodeLossSeconds:
      "async replication; the primary's node lost (agent and pods frozen, links down): last acknowledged write before -> first acknowledged write after",
    "*AckWritesSeconds": "the same with dolt_cluster_ack_writes_timeout_secs = 10 on every pod",
    untilNoWarningSeconds:
      "ack-writes: the same origin -> the first write acknowledged without warning 3024 (every standby acknowledged it again)",
    failoverFiguresDetails: "every sample: fault, pods, epochs, seconds from the fault itself, warned writes in between"
  },
  failoverFiguresDetails: samples
})

describe("e2e figures: failover and switchover write outage", () => {
  let k: Kube
  let ns: string
  let operator: OperatorUnderTest
  let engineVersion: string

  beforeAll(async () => {
    k = kube()
    ns = await createNamespace(k, "e2e-figs")
    engineVersion = readFileSync(join(work, "run", "dolt-release"), "utf8").trim()
    operator = hostOperator([`--watch-namespaces=${ns}`])
  })
  afterAll(async () => {
    await operator?.stop()
    if (samples.async.length + samples.ackWrites.length > 0) {
      const entries = figures()
      mergeResults(join(work, "results.json"), entries)
      if (process.env.E2E_RESULTS_FILE) mergeResults(process.env.E2E_RESULTS_FILE, entries)
      console.log(`[figures] ${JSON.stringify(entries.failoverFiguresSummary)}`)
    }
    if (ns) await deleteNamespace(k, ns)
    k?.close()
  })

  const doltdbPath = (name: string) => group(API, "doltdbs", ns, name)

  const podsOf = async (name: string) =>
    (
      await k.get<{ items: Array<KubeObject> }>(`${core("pods", ns)}?labelSelector=app.kubernetes.io%2Fname%3D${name}`)
    ).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))

  const roleOf = async (ip: string) => {
    const c = await tryConnect(ip)
    try {
      const [row] = await query(
        c,
        "SELECT @@GLOBAL.dolt_cluster_role AS role, @@GLOBAL.dolt_cluster_role_epoch AS epoch"
      )
      return { role: String(row?.role), epoch: Number(row?.epoch) }
    } finally {
      c.destroy()
    }
  }

  /** Ready, no transition, 3 Ready pods, one labelled primary that is the only server saying primary, top epoch. */
  const converged = (name: string, minEpoch = 0, timeoutMs = 240_000) =>
    waitFor(`DoltDB ${name} converged above epoch ${minEpoch}`, timeoutMs, async () => {
      const d = await k.get(doltdbPath(name))
      const ready = (d.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"
      )
      if (!ready || d.status?.primaryTransition || !d.status?.currentPrimary) return undefined
      const pods = await podsOf(name)
      if (pods.length !== 3 || !pods.every((p) => isReady(p) && !p.metadata.deletionTimestamp)) return undefined
      const roles = await Promise.all(pods.map((p) => roleOf(p.status.podIP)))
      const primaries = pods.filter((_, i) => roles[i]!.role === "primary")
      if (primaries.length !== 1 || primaries[0]!.metadata.name !== d.status.currentPrimary) return undefined
      if (primaries[0]!.metadata.labels?.[RoleLabel] !== "primary") return undefined
      const epoch = Math.max(...roles.map((r) => r.epoch))
      if (roles[pods.indexOf(primaries[0]!)]!.epoch !== epoch || epoch <= minEpoch) return undefined
      return { doltdb: d, pods, primary: primaries[0]!, epoch }
    })

  type Converged = Awaited<ReturnType<typeof converged>>

  /** The first Event of each reason about DoltDB `name` at or after `t0`, as seconds after `t0`. */
  const eventsSince = async (name: string, t0: number) => {
    const list = await k.get<{ items: Array<KubeObject> }>(group("events.k8s.io/v1", "events", ns))
    const first: Record<string, number> = {}
    for (const e of list.items) {
      if (e.regarding?.name !== name) continue
      const at = Date.parse(e.eventTime ?? e.deprecatedFirstTimestamp ?? "")
      if (Number.isNaN(at) || at < t0) continue
      const reason = String(e.reason)
      first[reason] = Math.min(first[reason] ?? Number.POSITIVE_INFINITY, round(at - t0))
    }
    return first
  }

  const lostWrites = async (mode: Mode, writer: Writer, c: Converged, what: string) => {
    const conn = await tryConnect(c.primary.status.podIP)
    try {
      const ids = new Set((await query(conn, `SELECT id FROM ${table}`)).map((r) => Number(r.id)))
      const promised = writer.promised()
      const lostPromised = promised.filter((id) => !ids.has(id))
      const lostAny = writer.acks.filter((a) => !ids.has(a.id)).map((a) => a.id)
      lost[mode] = {
        promised: promised.length,
        acknowledged: writer.acks.length,
        lostPromised: lostPromised.length,
        lostAcknowledged: lostAny.length
      }
      if (mode === "ackWrites")
        assert.deepEqual(lostPromised, [], `${what}: warning-free acknowledged writes missing on the new primary`)
    } finally {
      conn.destroy()
    }
  }

  /** Measures one fault: `act` injects it and returns the predicate the first acknowledged write must meet. */
  const measure = async (
    mode: Mode,
    name: string,
    writer: Writer,
    fault: Sample["fault"],
    act: (c: Converged) => Promise<{ to?: string; ip?: (ip: string) => boolean; after?: () => Promise<void> }>
  ) => {
    const before = await converged(name)
    // Steady, warning-free writes first, so the fault lands among them.
    await writer.firstAckAfter(Date.now(), 60_000, undefined, true)
    await writer.firstAckAfter(Date.now(), 30_000, undefined, true)
    const t0 = Date.now()
    const errorsBefore = writer.errors.length
    const last = writer.lastAckBefore(t0)!
    const { to, ip, after } = await act(before)
    const first = await writer.firstAckAfter(t0, 240_000, ip)
    // A lost node comes back right after the first acknowledged write: with ack-writes, no write is warning-free
    // while a standby is down.
    await after?.()
    const clean = await writer.firstAckAfter(t0, 300_000, ip, true)
    const conv = await converged(name, 0, 300_000)
    const operatorEvents = await eventsSince(name, t0)
    const by = conv.pods.find((p) => p.status.podIP === first.ip)?.metadata.name ?? first.ip
    const sample: Sample = {
      fault,
      from: before.primary.metadata.name,
      to: to ?? by,
      seconds: round(first.at - last.at),
      untilNoWarningSeconds: round(clean.at - last.at),
      fromFaultSeconds: round(first.at - t0),
      warnedBetween: writer.acks.filter((a) => a.at >= t0 && a.at <= clean.at && a.warned).length,
      failedBetween: writer.errors.length - errorsBefore,
      epochBefore: before.epoch,
      epochAfter: conv.epoch,
      operatorEvents
    }
    samples[mode].push(sample)
    record(`figures ${mode}: ${fault} ${sample.from} -> ${sample.to}`, first.at - last.at)
    await lostWrites(mode, writer, conv, `${mode} ${fault} ${samples[mode].length}`)
    return sample
  }

  for (const mode of ["async", "ackWrites"] as const) {
    describe(mode === "async" ? "asynchronous replication" : "ack-writes (10 s)", () => {
      const name = mode === "async" ? "figa" : "figw"
      let writer: Writer | undefined

      afterAll(async () => {
        await writer?.stop()
        await k.delete(doltdbPath(name)).catch(() => undefined)
      })

      it("a fresh 3-replica DoltDB spread over 3 nodes, and a client writing through <name>-primary", async () => {
        await k.create(core("secrets", ns), {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: `${name}-credentials`, namespace: ns },
          stringData: { "admin-user": admin, "admin-password": adminPassword }
        })
        const t0 = Date.now()
        await k.create(group(API, "doltdbs", ns), {
          apiVersion: API,
          kind: "DoltDB",
          metadata: { name, namespace: ns },
          spec: {
            engineVersion,
            replicas: 3,
            storage: { size: "1Gi" },
            replication: { enabled: true },
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  {
                    topologyKey: "kubernetes.io/hostname",
                    labelSelector: { matchLabels: { "app.kubernetes.io/name": name } }
                  }
                ]
              }
            }
          }
        })
        const c = await converged(name)
        record(`figures ${mode}: DoltDB created -> converged`, Date.now() - t0)
        assert.strictEqual(new Set(c.pods.map((p) => p.spec.nodeName)).size, 3, "pods on 3 different nodes")
        const p = await tryConnect(c.primary.status.podIP)
        try {
          await query(p, "CREATE DATABASE figs")
          await query(p, `CREATE TABLE ${table} (id INT PRIMARY KEY, via VARCHAR(20))`)
        } finally {
          p.destroy()
        }
        for (const pod of c.pods) {
          const pc = await tryConnect(pod.status.podIP)
          try {
            const t = mode === "ackWrites" ? 10 : 0
            await query(pc, `SET @@PERSIST.dolt_cluster_ack_writes_timeout_secs = ${t}`)
          } finally {
            pc.destroy()
          }
        }
        writer = new Writer(k, ns, `${name}-primary`, admin, adminPassword, table)
        writer.start()
        await writer.firstAckAfter(Date.now(), 60_000)
      })

      it(`${RUNS} switchovers (podIndex edits; the first is the fresh cluster's first)`, {
        timeout: 1_800_000
      }, async () => {
        assert.ok(writer, "needs the DoltDB")
        for (let i = 0; i < RUNS; i++) {
          await measure(mode, name, writer!, "switchover", async (c) => {
            const current = c.doltdb.status.currentPrimaryPodIndex as number
            const spec = (c.doltdb.spec?.replication?.primary?.podIndex ?? 0) as number
            const to = [1, 2].map((d) => (current + d) % 3).find((x) => x !== spec)!
            const target = c.pods.find((p) => p.metadata.name === `${name}-${to}`)!
            await k.mergePatch(doltdbPath(name), { spec: { replication: { primary: { podIndex: to } } } })
            return { to: target.metadata.name, ip: (ip) => ip === target.status.podIP }
          })
        }
      })

      it(`${RUNS} SIGKILLs of the primary's dolt`, { timeout: 1_800_000 }, async () => {
        assert.ok(writer, "needs the DoltDB")
        for (let i = 0; i < RUNS; i++) {
          await measure(mode, name, writer!, "sigkill", async (c) => {
            killContainer(c.primary, "dolt")
            return {}
          })
        }
      })

      it(`${NODE_LOSSES} lost nodes (the primary's each time)`, { timeout: 3_600_000 }, async () => {
        assert.ok(writer, "needs the DoltDB")
        for (let i = 0; i < NODE_LOSSES; i++) {
          await measure(mode, name, writer!, "nodeLoss", async (c) => {
            const node = c.primary.spec.nodeName as string
            const oldIp = c.primary.status.podIP
            await nodeDown(node)
            return {
              ip: (ip) => ip !== oldIp,
              after: async () => {
                await nodeUp(node)
              }
            }
          })
        }
      })
    })
  }
})
