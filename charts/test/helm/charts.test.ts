/**
 * `npm run test:charts`: helm lint, and helm template with the default values, a values file setting every key,
 * a second installation and the reference chart's values.yaml: every object validated against its kind's schema
 * and compared with a golden file (`UPDATE_GOLDEN=1 npm run test:charts` rewrites them), plus the behaviour each
 * value promises.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse, stringify } from "yaml"
import { chartsDir, helm, template } from "./helm.ts"
import { golden, type KubeObject, parseObjects, validateObject } from "./objects.ts"

const readYaml = (path: string): unknown => parse(readFileSync(path, "utf8"))
const defaults = readYaml(join(chartsDir, "doltdb-operator", "values.yaml")) as Record<string, unknown>
const chartYaml = readYaml(join(chartsDir, "doltdb-operator", "Chart.yaml")) as { appVersion: string }
const operatorRules = readYaml(join(chartsDir, "doltdb-operator", "files", "operator-rules.yaml"))
const leaderElectionRules = readYaml(join(chartsDir, "doltdb-operator", "files", "leader-election-rules.yaml"))
const scratch = mkdtempSync(join(tmpdir(), "doltdb-chart-values-"))

const render = (chart: string, values: ReadonlyArray<string> = [], set: ReadonlyArray<string> = []) => {
  const result = template(chart, { values, set })
  if (!result.ok) throw new Error(`helm template ${chart} ${values.join(" ")} failed:\n${result.stderr}`)
  return parseObjects(result.stdout)
}

const find = (objects: ReadonlyArray<KubeObject>, kind: string, name?: string) => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name))
  if (found.length === 0) throw new Error(`no ${kind} ${name ?? ""} rendered`)
  return found
}
// biome-ignore lint/suspicious/noExplicitAny: reading into rendered manifests
const one = (objects: ReadonlyArray<KubeObject>, kind: string, name?: string): any => find(objects, kind, name)[0]

const expectGolden = (name: string, text: string) => {
  const path = join(chartsDir, "test", "golden", `${name}.golden.yaml`)
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(path, text)
  if (!existsSync(path)) throw new Error(`${path} is missing: UPDATE_GOLDEN=1 npm run test:charts writes it`)
  expect(text, `${path} (UPDATE_GOLDEN=1 npm run test:charts rewrites it)`).toBe(readFileSync(path, "utf8"))
}

const cases = [
  { name: "default", chart: "doltdb-operator", values: [], role: "doltdb-operator" },
  { name: "all-values", chart: "doltdb-operator", values: ["all-values.yaml"], role: "platform-dolt-operator" },
  { name: "existing-cluster-role", chart: "doltdb-operator", values: ["existing-cluster-role.yaml"], role: "" },
  { name: "reference-values", chart: "doltdb-operator", values: ["reference-values.yaml"], role: "doltdb-operator" },
  { name: "no-extras", chart: "doltdb-operator", values: ["no-extras.yaml"], role: "doltdb-operator" },
  { name: "crds", chart: "doltdb-operator-crds", values: [], role: "" }
] as const

describe("helm lint", () => {
  it.each([
    ["doltdb-operator", []],
    ["doltdb-operator", ["all-values.yaml"]],
    ["doltdb-operator", ["existing-cluster-role.yaml"]],
    ["doltdb-operator", ["reference-values.yaml"]],
    ["doltdb-operator", ["no-extras.yaml"]],
    ["doltdb-operator-crds", []]
  ] as const)("%s %s", (chart, values) => {
    const result = helm([
      "lint",
      "--strict",
      join(chartsDir, chart),
      ...values.flatMap((v) => ["--values", join(chartsDir, "test", "values", v)])
    ])
    expect(result.stderr + result.stdout).toContain("0 chart(s) failed")
    expect(result.ok).toBe(true)
  })
})

describe("helm template", () => {
  it.each(cases)("$name: every object is valid and matches its golden file", ({ name, chart, values, role }) => {
    const objects = render(chart, values)
    for (const object of objects) validateObject(object)
    expectGolden(name, golden(objects, role))
  })

  it.each(cases.filter((c) => c.role !== ""))("$name: the operator's rules are files/operator-rules.yaml", (c) => {
    const objects = render(c.chart, c.values)
    const roles = objects.filter((o) => (o.kind === "ClusterRole" || o.kind === "Role") && o.metadata.name === c.role)
    expect(roles.length).toBeGreaterThan(0)
    for (const r of roles) expect(r.rules).toEqual(operatorRules)
    expect(one(objects, "Role", `${c.role}-leader-election`).rules).toEqual(leaderElectionRules)
  })

  it.each([
    ["doltdb-operator-crds", []],
    ["doltdb-operator", ["all-values.yaml"]]
  ] as const)("%s: the CRDs are crds/, kept on uninstall unless keepCrds is false", (chart, values) => {
    const crds = find(render(chart, values), "CustomResourceDefinition")
    const sources = readdirSync(join(chartsDir, "..", "crds")).filter((f) => f.endsWith(".yaml"))
    expect(crds.map((c) => c.metadata.name).sort()).toEqual(
      sources.map((f) => f.replace(/^k8s\.dolthub\.com_(.*)\.yaml$/u, "$1.k8s.dolthub.com")).sort()
    )
    for (const crd of crds) {
      const source = readYaml(join(chartsDir, "..", "crds", `k8s.dolthub.com_${crd.metadata.name.split(".")[0]}.yaml`))
      expect(crd.spec).toEqual((source as KubeObject).spec)
      const keep = (crd.metadata.annotations as Record<string, string> | undefined)?.["helm.sh/resource-policy"]
      expect(keep).toBe(values.length === 0 ? "keep" : undefined)
    }
  })
})

describe("values", () => {
  it("defaults: image tag is the appVersion, restricted pod security, leader election, metrics Service, no PDB", () => {
    const objects = render("doltdb-operator")
    const deployment = one(objects, "Deployment", "doltdb-operator")
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]
    expect(container.image).toBe(`doltdb-operator:${chartYaml.appVersion}`)
    // The restricted Pod Security Standard.
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } })
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] }
    })
    expect(container.args).toEqual([
      "--leader-elect",
      "--leader-election-id=k8s.dolthub.com",
      "--leader-election-namespace=doltdb-system",
      "--log-level=info",
      "--log-format=json",
      "--cluster-name=cluster.local",
      "--health-probe-bind-address=:8081",
      "--metrics-bind-address=:8080"
    ])
    expect(one(objects, "Service", "doltdb-operator-metrics").spec.ports).toEqual([
      { name: "metrics", port: 8080, targetPort: "metrics", protocol: "TCP" }
    ])
    expect(objects.some((o) => o.kind === "PodDisruptionBudget" || o.kind === "CustomResourceDefinition")).toBe(false)
    expect(deployment.spec.template.metadata.annotations).toEqual({ "sidecar.istio.io/inject": "false" })
  })

  it("every binding names the ServiceAccount the Deployment runs as (the reference bound <fullname>)", () => {
    for (const values of [[], ["all-values.yaml"], ["existing-cluster-role.yaml"], ["reference-values.yaml"]]) {
      const objects = render("doltdb-operator", values)
      const account = one(objects, "Deployment").spec.template.spec.serviceAccountName
      const bindings = objects.filter((o) => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding")
      expect(bindings.length).toBeGreaterThan(0)
      for (const b of bindings)
        expect(b.subjects, `${values} ${b.metadata.name}`).toEqual([
          { kind: "ServiceAccount", name: account, namespace: "doltdb-system" }
        ])
    }
    expect(one(render("doltdb-operator", ["all-values.yaml"]), "ServiceAccount").metadata.name).toBe("dolt-operator-sa")
  })

  it("watchNamespaces: a Role and RoleBinding in each namespace, nothing cluster-wide", () => {
    const objects = render("doltdb-operator", ["all-values.yaml"])
    expect(objects.filter((o) => o.kind.startsWith("ClusterRole"))).toEqual([])
    const roles = find(objects, "Role", "platform-dolt-operator")
    expect(roles.map((r) => r.metadata.namespace)).toEqual(["team-a", "team-b"])
    const bindings = find(objects, "RoleBinding", "platform-dolt-operator")
    expect(bindings.map((b) => [b.metadata.namespace, b.roleRef])).toEqual(
      ["team-a", "team-b"].map((ns) => [
        ns,
        { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "platform-dolt-operator" }
      ])
    )
    expect(one(objects, "Deployment").spec.template.spec.containers[0].args).toContain(
      "--watch-namespaces=team-a,team-b"
    )
  })

  it("existingClusterRole: bound, not created; in each watched namespace through RoleBindings", () => {
    const cluster = render("doltdb-operator", ["existing-cluster-role.yaml"])
    expect(cluster.filter((o) => o.kind === "ClusterRole")).toEqual([])
    expect(one(cluster, "ClusterRoleBinding").roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "doltdb-operator"
    })
    const scoped = render("doltdb-operator", ["existing-cluster-role.yaml"], ["watchNamespaces={a,b}"])
    expect(scoped.filter((o) => o.kind === "Role" || o.kind.startsWith("ClusterRole"))).toEqual([])
    expect(find(scoped, "RoleBinding", "doltdb-operator").map((b) => (b.roleRef as { kind: string }).kind)).toEqual([
      "ClusterRole",
      "ClusterRole"
    ])
    const none = render("doltdb-operator", [], ["installClusterRole=false"])
    expect(none.filter((o) => o.kind.startsWith("ClusterRole"))).toEqual([])
  })

  it("replicas > 1: a PodDisruptionBudget, and --leader-elect is required", () => {
    const objects = render("doltdb-operator", [], ["replicas=2"])
    expect(one(objects, "PodDisruptionBudget").spec).toMatchObject({ minAvailable: 1 })
    const refused = template("doltdb-operator", { set: ["replicas=2", "containerArgs={--log-sql}"] })
    expect(refused.ok).toBe(false)
    expect(refused.stderr).toContain("replicas > 1 needs --leader-elect")
  })

  it("a flag set in containerArgs wins over the one the chart derives (the operator refuses a repeated flag)", () => {
    const args = one(
      render("doltdb-operator", [], ["containerArgs={--leader-elect,--log-level=debug,--metrics-bind-address=:9090}"]),
      "Deployment"
    ).spec.template.spec.containers[0].args as ReadonlyArray<string>
    expect(args.filter((a) => a.startsWith("--log-level"))).toEqual(["--log-level=debug"])
    expect(args.filter((a) => a.startsWith("--metrics-bind-address"))).toEqual(["--metrics-bind-address=:9090"])
    expect(args).toContain("--log-format=json")
  })

  it("the reference's --zap-* logging flags in containerArgs replace the chart's --log-level/--log-format", () => {
    const argsOf = (containerArgs: string) =>
      one(render("doltdb-operator", [], [`containerArgs={${containerArgs}}`]), "Deployment").spec.template.spec
        .containers[0].args as ReadonlyArray<string>
    const logging = (args: ReadonlyArray<string>) => args.filter((a) => /^--(log-level|log-format|zap-)/u.test(a))
    expect(logging(argsOf("--leader-elect,--zap-log-level=debug"))).toEqual([
      "--zap-log-level=debug",
      "--log-format=json"
    ])
    expect(logging(argsOf("--leader-elect,--zap-encoder=console"))).toEqual([
      "--zap-encoder=console",
      "--log-level=info"
    ])
    expect(logging(argsOf("--leader-elect,--zap-devel"))).toEqual(["--zap-devel"])
    expect(logging(argsOf("--leader-elect,--zap-devel=false"))).toEqual([
      "--zap-devel=false",
      "--log-level=info",
      "--log-format=json"
    ])
  })

  it("bind hosts: every interface by default, a host, an IPv6 address, or the pod IP", () => {
    const args = (set: ReadonlyArray<string>) =>
      (
        one(render("doltdb-operator", [], set), "Deployment").spec.template.spec.containers[0]
          .args as ReadonlyArray<string>
      ).filter((a) => a.includes("bind-address"))
    expect(args([])).toEqual(["--health-probe-bind-address=:8081", "--metrics-bind-address=:8080"])
    expect(args(["metrics.bindHost=127.0.0.1", "healthProbeBindHost=$(POD_IP)"])).toEqual([
      "--health-probe-bind-address=$(POD_IP):8081",
      "--metrics-bind-address=127.0.0.1:8080"
    ])
    expect(args(["metrics.bindHost=::1"])).toContain("--metrics-bind-address=[::1]:8080")
    expect(args(["metrics.enabled=false", "metrics.bindHost=127.0.0.1"])).toContain("--metrics-bind-address=0")
  })

  it("values.schema.json refuses a mistyped key, naming it", () => {
    const result = template("doltdb-operator", { set: ["replica=2"] })
    expect(result.ok).toBe(false)
    expect(result.stderr).toContain("replica")
  })

  // Every value is honoured: for each key, set it back to its default in a values file that sets it to something
  // else; the rendered output must change (the reference chart ignored five of its values).
  it("every value changes the output", { timeout: 600_000 }, () => {
    const leaves = (value: unknown, path: ReadonlyArray<string> = []): ReadonlyArray<ReadonlyArray<string>> =>
      typeof value === "object" && value !== null && !Array.isArray(value) && !isMap(path)
        ? Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]))
        : [path]
    const isMap = (path: ReadonlyArray<string>) =>
      /Annotations$|Labels$|^labels$|^annotations$|^nodeSelector$|^affinity$|^resources$|SecurityContext$|^securityContext$/u.test(
        path.at(-1) ?? ""
      )
    const get = (o: unknown, path: ReadonlyArray<string>): unknown =>
      path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o)
    const withValue = (o: unknown, path: ReadonlyArray<string>, value: unknown): unknown => {
      const [head, ...rest] = path
      if (head === undefined) return value
      const record = o as Record<string, unknown>
      return { ...record, [head]: withValue(record[head], rest, value) }
    }
    const bases = ["all-values.yaml", "existing-cluster-role.yaml", "no-extras.yaml"].map((file) => ({
      file,
      values: readYaml(join(chartsDir, "test", "values", file))
    }))
    const unexercised: Array<string> = []
    for (const path of leaves(defaults)) {
      const base = bases.find((b) => {
        const v = get(b.values, path)
        return v !== undefined && JSON.stringify(v) !== JSON.stringify(get(defaults, path))
      })
      if (base === undefined) {
        unexercised.push(path.join("."))
        continue
      }
      const reset = join(scratch, `${path.join(".")}.yaml`)
      writeFileSync(reset, stringify(withValue(base.values, path, get(defaults, path))))
      const before = template("doltdb-operator", { values: [base.file] })
      const after = template("doltdb-operator", { values: [reset] })
      expect(after.ok, after.stderr).toBe(true)
      expect(after.stdout, `${path.join(".")} (from ${base.file}) is ignored`).not.toBe(before.stdout)
    }
    expect(unexercised).toEqual([])
  })
})
