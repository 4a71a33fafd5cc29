/**
 * The chart's alerts (charts/doltdb-operator/files/prometheus-rules.yaml) and Grafana dashboard
 * (files/dashboards/doltdb-operator.json) against what the operator really exports: the operator runs on the
 * in-memory cluster (a replicated DoltDB with a database, so per-standby series exist), its /metrics text is
 * parsed, and every PromQL expression must parse (the Prometheus project's own grammar, @prometheus-io/lezer-promql)
 * and use only exported metrics, with labels those metrics carry.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Dolt } from "@doltdb-op/core/services/Dolt"
import { assert, describe, it } from "@effect/vitest"
import { parser } from "@prometheus-io/lezer-promql"
import { Effect, Layer } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { parse as parseYaml } from "yaml"
import * as BackupMetrics from "../../src/reconcilers/backup/BackupMetrics.ts"
import { LeaderElection } from "../../src/runtime/LeaderElection.ts"
import * as LeaderMetrics from "../../src/runtime/LeaderMetrics.ts"
import * as ProcessMetrics from "../../src/runtime/ProcessMetrics.ts"
import { clusterLayer, runUntil, startOperator } from "../../src/simulate/SimulatedCluster.ts"
import { adminTarget, setupDoltDB } from "../inmemory/fixtures.ts"

const chart = fileURLToPath(new URL("../../../../charts/doltdb-operator/", import.meta.url))
const values = parseYaml(readFileSync(`${chart}values.yaml`, "utf8")) as {
  metrics: { prometheusRule: Record<string, number> }
}

/** The rules as the template renders them with the default values. */
const rules = () => {
  const p = values.metrics.prometheusRule
  const text = readFileSync(`${chart}files/prometheus-rules.yaml`, "utf8")
    .replaceAll("__REPLICATION_LAG_MS__", String(p.replicationLagThresholdSeconds! * 1000))
    .replaceAll("__FAILOVER_RATE__", String(p.primaryChangesPerHour))
    .replaceAll("__BACKUP_MAX_AGE_SECONDS__", String(p.backupMaxAgeHours! * 3600))
  assert.notMatch(text, /__[A-Z_]+__/, "a placeholder the template does not replace")
  return (
    parseYaml(text) as {
      groups: ReadonlyArray<{
        rules: ReadonlyArray<{ alert: string; expr: string; annotations?: Record<string, string> }>
      }>
    }
  ).groups.flatMap((g) => g.rules)
}

interface Panel {
  readonly title: string
  readonly type: string
  readonly targets?: ReadonlyArray<{ readonly expr: string }>
}
const dashboard = JSON.parse(readFileSync(`${chart}files/dashboards/doltdb-operator.json`, "utf8")) as {
  panels: ReadonlyArray<Panel>
  templating: { list: ReadonlyArray<{ name: string; definition?: string }> }
}

/** Series names → label names, from the Prometheus text format. */
const exported = (text: string) => {
  const out = new Map<string, Set<string>>()
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line)
    if (m === null) continue
    const labels = out.get(m[1]!) ?? new Set<string>()
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1]!)
    out.set(m[1]!, labels)
  }
  return out
}

/** What an expression uses: metric names with their matcher labels, grouping labels; parse errors. */
const analyse = (expr: string) => {
  const tree = parser.parse(expr)
  const metrics: Array<{ name: string; labels: Array<string> }> = []
  const grouping: Array<string> = []
  let errors = 0
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors++
    }
  })
  tree.iterate({
    enter: (node) => {
      if (node.name === "VectorSelector") {
        const name = node.node.getChild("Identifier")
        const labels: Array<string> = []
        node.node
          .getChild("LabelMatchers")
          ?.cursor()
          .iterate((n) => {
            if (n.name === "LabelName") labels.push(expr.slice(n.from, n.to))
          })
        if (name !== null) metrics.push({ name: expr.slice(name.from, name.to), labels })
        return false
      }
      if (node.name === "GroupingLabels")
        node.node.cursor().iterate((n) => {
          if (n.name === "LabelName") grouping.push(expr.slice(n.from, n.to))
        })
      return undefined
    }
  })
  return { metrics, grouping, errors }
}

/** Labels Prometheus itself adds to every scraped series (target labels). */
const targetLabels = new Set(["job", "instance", "namespace", "pod", "container", "service", "endpoint"])

const check = (
  where: string,
  expr: string,
  series: Map<string, Set<string>>,
  annotationLabels: ReadonlyArray<string> = []
) => {
  const { metrics, grouping, errors } = analyse(expr)
  assert.strictEqual(errors, 0, `${where}: PromQL does not parse: ${expr}`)
  assert.isAbove(metrics.length, 0, `${where}: uses no metric: ${expr}`)
  const available = new Set(targetLabels)
  for (const m of metrics) {
    const labels = series.get(m.name)
    assert.isDefined(labels, `${where}: ${m.name} is not exported by the operator`)
    for (const l of labels!) available.add(l)
    for (const l of m.labels)
      assert.isTrue(labels!.has(l) || targetLabels.has(l), `${where}: ${m.name} has no label ${l}`)
  }
  for (const l of [...grouping, ...annotationLabels])
    assert.isTrue(available.has(l), `${where}: label ${l} is on none of ${metrics.map((m) => m.name).join(", ")}`)
}

/** A replicated DoltDB with a database (per-standby series), a completed and a failed Backup; the exposition. */
const scrape = Effect.gen(function* () {
  yield* startOperator()
  yield* setupDoltDB({ adminUser: "root" })
  yield* (yield* Dolt).createDatabase(yield* adminTarget("db-0", { adminUser: "root" }), { name: "app" })
  yield* runUntil(Effect.succeed(false), { limitMillis: 5_000 })
  // The Backup controller records these when a Backup ends; its labels are the ones recorded here.
  const backup = {
    metadata: { name: "b", namespace: "default" },
    spec: { doltDBRef: { name: "db" } }
  } as unknown as Parameters<typeof BackupMetrics.record>[0]
  yield* BackupMetrics.record(
    backup,
    { phase: "Running" },
    {
      phase: "Completed",
      startedAt: "2026-12-06T12:00:00Z",
      completedAt: "2026-12-06T12:01:00Z"
    }
  )
  yield* BackupMetrics.record(backup, { phase: "Running" }, { phase: "Failed" })
  return exported(yield* PrometheusMetrics.format())
}).pipe(
  Effect.provide(
    Layer.mergeAll(
      Layer.fresh(clusterLayer({ seed: 5 })),
      ProcessMetrics.layer,
      LeaderMetrics.layer("doltdb-operator").pipe(Layer.provide(LeaderElection.layerAlwaysLeader))
    )
  )
)

describe("dashboards and alerts use what the operator exports", () => {
  it.effect(
    "every alert parses and uses exported metrics and labels; every dashboard query too",
    () =>
      Effect.gen(function* () {
        const series = yield* scrape
        for (const name of ["doltdb_replication_lag_milliseconds", "doltdb_replication_standby_errors"])
          assert.isTrue(series.get(name)?.has("standby"), `${name} has per-standby series`)
        const all = rules()
        assert.includeMembers(
          all.map((r) => r.alert),
          [
            "DoltDBPrimaryMissing",
            "DoltDBFailoverBlocked",
            "DoltDBReplicationLagHigh",
            "DoltDBStandbyNotReplicating",
            "DoltDBFrequentPrimaryChanges",
            "DoltDBBackupFailed",
            "DoltDBBackupTooOld",
            "DoltDBOperatorReconcileErrors",
            "DoltDBOperatorNotLeading"
          ]
        )
        for (const rule of all) {
          const used = Object.values(rule.annotations ?? {}).flatMap((a) =>
            [...a.matchAll(/\$labels\.([a-zA-Z_]+)/g)].map((m) => m[1]!)
          )
          check(`alert ${rule.alert}`, rule.expr, series, used)
        }
        const queries = dashboard.panels.flatMap((p) =>
          (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr }))
        )
        assert.isAtLeast(queries.length, 15)
        for (const q of queries)
          check(`panel "${q.title}"`, q.expr.replaceAll("$namespace", ".*").replaceAll("$doltdb", ".*"), series)
        for (const v of dashboard.templating.list)
          if (v.definition !== undefined) {
            const m = /^label_values\((.*), (\w+)\)$/.exec(v.definition)
            assert.isNotNull(m, `variable ${v.name}: ${v.definition}`)
            check(`variable ${v.name}`, m![1]!.replaceAll("$namespace", ".*"), series, [m![2]!])
          }
      }),
    120_000
  )

  it("the checker refuses what it should", () => {
    const series = new Map([["doltdb_ready", new Set(["doltdb", "crdnamespace"])]])
    assert.throws(() => check("t", "doltdb_ready{", series), /does not parse/)
    assert.throws(() => check("t", "doltdb_missing == 0", series), /not exported/)
    assert.throws(() => check("t", 'doltdb_ready{standby="x"}', series), /has no label standby/)
    assert.throws(() => check("t", "sum by (standby) (doltdb_ready)", series), /label standby/)
    check("t", 'sum by (crdnamespace) (doltdb_ready{doltdb=~".*"})', series)
  })
})
