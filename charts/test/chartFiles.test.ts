/**
 * Chart checks that need no helm binary: the CRD copies match crds/, and values.schema.json accepts the chart's
 * own values, a values file using every key and the reference chart's values.yaml, and names a mistyped key.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Ajv } from "ajv"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { chartCrdDirs, renderChartCrds } from "../../scripts/chart-crds.ts"

const charts = join(import.meta.dirname, "..")
const readYaml = (path: string): unknown => parse(readFileSync(path, "utf8"))
const validator = (chart: string) =>
  new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
    JSON.parse(readFileSync(join(charts, chart, "values.schema.json"), "utf8"))
  )

describe("the charts' CRDs are crds/ (run `npm run gen:crds`)", () => {
  const rendered = renderChartCrds()
  it.each(chartCrdDirs.map((dir) => [dir.slice(charts.length + 1), dir]))("%s", (_name, dir) => {
    expect(readdirSync(dir).sort()).toEqual([...rendered.keys()])
    for (const [file, text] of rendered) expect(readFileSync(join(dir, file), "utf8"), file).toBe(text)
  })

  it("a copy is the same object as its source", () => {
    for (const [file, text] of rendered) expect(parse(text), file).toEqual(readYaml(join(charts, "..", "crds", file)))
  })
})

describe("values.schema.json", () => {
  const operator = validator("doltdb-operator")

  it.each([
    ["the chart's values.yaml", join(charts, "doltdb-operator", "values.yaml")],
    ["every key set", join(charts, "test", "values", "all-values.yaml")],
    ["the reference chart's values.yaml", join(charts, "test", "values", "reference-values.yaml")],
    ["a second installation", join(charts, "test", "values", "existing-cluster-role.yaml")],
    ["two replicas without the optional objects", join(charts, "test", "values", "no-extras.yaml")]
  ])("accepts %s", (_name, path) => {
    const valid = operator(readYaml(path))
    expect(operator.errors ?? []).toEqual([])
    expect(valid).toBe(true)
  })

  it("every key of values.yaml is in the schema, and all-values.yaml sets every key of the schema", () => {
    const keys = (value: unknown, prefix = ""): ReadonlyArray<string> =>
      typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0
        ? Object.entries(value).flatMap(([k, v]) => (k === "global" ? [] : [`${prefix}${k}`, ...nested(k, v, prefix)]))
        : []
    const nested = (k: string, v: unknown, prefix: string) =>
      /Annotations$|Labels$|^labels$|^annotations$|^nodeSelector$|^affinity$|^resources$|SecurityContext$|^securityContext$/u.test(
        k
      )
        ? []
        : keys(v, `${prefix}${k}.`)
    const defaults = new Set(keys(readYaml(join(charts, "doltdb-operator", "values.yaml"))))
    const all = new Set(keys(readYaml(join(charts, "test", "values", "all-values.yaml"))))
    expect([...defaults].filter((k) => !all.has(k))).toEqual([])
    expect([...all].filter((k) => !defaults.has(k))).toEqual([])
  })

  it("names a mistyped key", () => {
    expect(operator({ replica: 2 })).toBe(false)
    expect(operator.errors?.[0]).toMatchObject({
      keyword: "additionalProperties",
      params: { additionalProperty: "replica" }
    })
    expect(operator({ metrics: { serviceMonitor: { enable: true } } })).toBe(false)
    expect(operator.errors?.[0]).toMatchObject({
      instancePath: "/metrics/serviceMonitor",
      params: { additionalProperty: "enable" }
    })
  })

  it("refuses values the operator would refuse", () => {
    for (const bad of [
      { logLevel: "verbose" },
      { watchNamespaces: ["Team_A"] },
      { image: { pullPolicy: "Sometimes" } },
      { metrics: { port: 0 } },
      { leaderElection: { id: "Not A Name" } }
    ])
      expect(operator(bad), JSON.stringify(bad)).toBe(false)
  })

  it("the CRD chart takes keepCrds only", () => {
    const crds = validator("doltdb-operator-crds")
    expect(crds(readYaml(join(charts, "doltdb-operator-crds", "values.yaml")))).toBe(true)
    expect(crds({ keepCrd: false })).toBe(false)
  })
})
