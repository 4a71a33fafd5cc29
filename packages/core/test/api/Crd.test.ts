import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { parse } from "yaml"
import { apiReferenceFile, renderApiReference } from "../../scripts/api-reference.ts"
import { crdsDir, renderCrds } from "../../scripts/gen-crds.ts"
import { modelsFile, renderModels } from "../../scripts/gen-k8s-models.ts"
import { Api } from "../../src/index.ts"

type Node = Record<string, unknown>
const isNode = (u: unknown): u is Node => typeof u === "object" && u !== null && !Array.isArray(u)

describe("generated files are up to date (run `npm run gen:crds`)", () => {
  it("src/api/k8s/Models.generated.ts", () => {
    assert.strictEqual(readFileSync(modelsFile, "utf8"), renderModels())
  })

  it("docs/api-reference.md", async () => {
    const text = await renderApiReference()
    assert.strictEqual(readFileSync(apiReferenceFile, "utf8"), text)
    for (const info of Api.kinds) assert.include(text, `## ${info.kind}\n`)
    assert.include(text, "| `replication.primary.minCaughtUpStandby` |")
  })

  it("crds/*.yaml", async () => {
    const rendered = await renderCrds()
    assert.strictEqual(rendered.size, 7)
    for (const [file, text] of rendered) {
      assert.strictEqual(readFileSync(join(crdsDir, file), "utf8"), text, `crds/${file} is stale`)
    }
  })
})

/** Calls `f` on every schema node with its path. */
const walk = (node: Node, path: string, f: (node: Node, path: string) => void): void => {
  f(node, path)
  if (isNode(node.properties)) for (const [k, v] of Object.entries(node.properties)) walk(v as Node, `${path}.${k}`, f)
  if (isNode(node.items)) walk(node.items, `${path}[]`, f)
  if (isNode(node.additionalProperties)) walk(node.additionalProperties, `${path}{}`, f)
}

describe("the CRDs", () => {
  const crds = Api.crds()

  it("are apiextensions.k8s.io/v1, namespaced, v1alpha served and stored, with a status subresource", () => {
    assert.deepStrictEqual(
      crds.map((c) => c.metadata.name),
      [
        "doltdbs.k8s.dolthub.com",
        "databases.k8s.dolthub.com",
        "users.k8s.dolthub.com",
        "grants.k8s.dolthub.com",
        "snapshots.k8s.dolthub.com",
        "backups.k8s.dolthub.com",
        "backupschedules.k8s.dolthub.com"
      ]
    )
    for (const crd of crds) {
      assert.strictEqual(crd.apiVersion, "apiextensions.k8s.io/v1")
      assert.strictEqual(crd.spec.group, "k8s.dolthub.com")
      assert.strictEqual(crd.spec.scope, "Namespaced")
      assert.deepStrictEqual(crd.spec.names.categories, ["dolt"])
      const [version, ...others] = crd.spec.versions
      assert.lengthOf(others, 0)
      assert.strictEqual(version?.name, "v1alpha")
      assert.isTrue(version?.served && version.storage)
      assert.deepStrictEqual(version?.subresources, { status: {} })
    }
  })

  it("are structural: every node typed, no $ref/allOf/oneOf/not/const, int-or-string only as the API server wants it", () => {
    let nodes = 0
    walk(crds[0]!.spec.versions[0]!.schema.openAPIV3Schema as Node, "DoltDB", () => nodes++)
    assert.isAbove(nodes, 300, "the walk must reach the embedded Kubernetes types")
    for (const crd of crds) {
      walk(crd.spec.versions[0]!.schema.openAPIV3Schema as Node, crd.spec.names.kind, (node, path) => {
        for (const key of ["$ref", "allOf", "oneOf", "not", "const", "$defs", "definitions"])
          assert.notProperty(node, key, `${path} has ${key}`)
        if (node["x-kubernetes-int-or-string"] === true) {
          assert.deepStrictEqual(node.anyOf, [{ type: "integer" }, { type: "string" }], path)
          assert.notProperty(node, "type", path)
        } else {
          assert.notProperty(node, "anyOf", path)
          assert.isString(node.type, `${path} has no type`)
        }
        if (isNode(node.properties)) assert.notProperty(node, "additionalProperties", path)
        assert.notProperty(node, "x-kubernetes-preserve-unknown-fields", path)
      })
    }
  })

  it("leave metadata to the API server (it rejects a CRD that specifies more than its type)", () => {
    for (const crd of crds) {
      const root = crd.spec.versions[0]!.schema.openAPIV3Schema as Node
      assert.deepStrictEqual((root.properties as Node).metadata, { type: "object" })
    }
  })

  it("describe every field, so kubectl explain helps", () => {
    for (const crd of crds) {
      walk(crd.spec.versions[0]!.schema.openAPIV3Schema as Node, crd.spec.names.kind, (node, path) => {
        // metadata belongs to the API server: a CRD may not describe it
        if (!path.endsWith("[]") && !path.endsWith("{}") && !path.endsWith(".metadata"))
          assert.isString(node.description, `${path} has no description`)
      })
    }
    const doltdb = crds[0]!.spec.versions[0]!.schema.openAPIV3Schema as Node
    const primary = (((doltdb.properties as Node).spec as Node).properties as Node).replication as Node
    assert.include(String(((primary.properties as Node).primary as Node).description), "primary")
  })

  it("keep the reference's singular minCaughtUpStandby", () => {
    const spec = (crds[0]!.spec.versions[0]!.schema.openAPIV3Schema as Node).properties as Node
    const primary = ((((spec.spec as Node).properties as Node).replication as Node).properties as Node).primary as Node
    assert.property(primary.properties, "minCaughtUpStandby")
  })

  it("print the reference's columns, with Database CharSet/Collate pointing at real fields", () => {
    const columns = (kind: string) =>
      Object.fromEntries(
        crds
          .find((c) => c.spec.names.kind === kind)!
          .spec.versions[0]!.additionalPrinterColumns.map((c) => [c.name, c.jsonPath])
      )
    assert.deepStrictEqual(Object.keys(columns("DoltDB")), [
      "Ready",
      "Status",
      "CurrentPrimary",
      "ReplicationEpoch",
      "Age"
    ])
    assert.strictEqual(columns("Database").CharSet, ".spec.charset")
    assert.strictEqual(columns("Database").Collate, ".spec.collation")
    assert.strictEqual(columns("Grant").GrantOpt, ".spec.grantOption")
    assert.strictEqual(columns("BackupSchedule")["Last Schedule"], ".status.lastScheduleTime")
    assert.strictEqual(columns("Backup").Phase, ".status.phase")
  })

  it("have short names unique among themselves and clear of built-ins and popular operators", () => {
    const taken = new Set([
      "po",
      "svc",
      "deploy",
      "ds",
      "sts",
      "rs",
      "rc",
      "cm",
      "ns",
      "no",
      "pv",
      "pvc",
      "sa",
      "ing",
      "netpol",
      "pdb",
      "pc",
      "hpa",
      "cj",
      "ev",
      "ep",
      "limits",
      "quota",
      "crd",
      "crds",
      "csr",
      "db",
      "mdb",
      "pg",
      "cluster",
      "backup",
      "app",
      "apps",
      "cert",
      "certs",
      "prom",
      "smon",
      "pmon",
      "am",
      "vs",
      "vsc",
      "vsclass"
    ])
    const all = crds.flatMap((c) => c.spec.names.shortNames)
    assert.strictEqual(new Set(all).size, all.length)
    for (const name of all) {
      assert.isFalse(taken.has(name), name)
      assert.match(name, /^[a-z][a-z0-9]*$/)
    }
  })

  it("carry the CEL rules, with bounded lists and strings under them", () => {
    const rules = (kind: string, ...path: ReadonlyArray<string>) => {
      let node = crds.find((c) => c.spec.names.kind === kind)!.spec.versions[0]!.schema.openAPIV3Schema as Node
      for (const key of path) node = (node.properties as Node)[key] as Node
      return (node["x-kubernetes-validations"] as ReadonlyArray<Api.CelRule>).map((r) => r.rule)
    }
    assert.deepStrictEqual(rules("DoltDB", "spec").slice(0, 3), [
      "!has(self.replicas) || !has(self.replication) || !has(self.replication.enabled) || !self.replication.enabled || self.replicas >= 2",
      "!has(self.replicas) || !has(self.replication) || !has(self.replication.enabled) || !self.replication.enabled || !has(self.replication.primary) || !has(self.replication.primary.podIndex) || self.replication.primary.podIndex < self.replicas",
      "!has(self.bootstrap) || !has(self.bootstrap.from) || !has(self.bootstrap.from.volumeSnapshot) || !has(self.storage) || !has(self.storage.volumeSnapshot) || self.storage.volumeSnapshot == '' || self.storage.volumeSnapshot == self.bootstrap.from.volumeSnapshot"
    ])
    assert.deepStrictEqual(
      rules("DoltDB", "spec"),
      Api.doltDBSpecInvariants.map((i) => i.cel.rule)
    )
    assert.deepStrictEqual(rules("DoltDB", "spec", "storage"), [
      "!has(self.size) || quantity(string(self.size)).compareTo(quantity('0')) > 0",
      "!has(oldSelf.size) || !has(self.size) || quantity(string(self.size)).compareTo(quantity(string(oldSelf.size))) >= 0"
    ])
    const databaseRules = [
      "!has(self.databases) || self.databases.all(d, d.matches('^[a-zA-Z0-9_]+$'))",
      "!has(self.databases) || self.databases.all(d, size(d) <= 80)"
    ]
    assert.deepStrictEqual(rules("Backup", "spec"), ["self == oldSelf", ...databaseRules])
    assert.deepStrictEqual(rules("BackupSchedule", "spec"), databaseRules)
    for (const kind of ["Backup", "BackupSchedule"]) {
      const spec = (crds.find((c) => c.spec.names.kind === kind)!.spec.versions[0]!.schema.openAPIV3Schema as Node)
        .properties as Node
      const databases = ((spec.spec as Node).properties as Node).databases as Node
      assert.strictEqual(databases.maxItems, 100)
      assert.strictEqual((databases.items as Node).maxLength, 80)
    }
  })

  it("round-trip through YAML unchanged", async () => {
    const rendered = await renderCrds()
    for (const info of Api.kinds) {
      assert.deepStrictEqual(parse(rendered.get(Api.crdFileName(info))!), Api.crdOf(info))
    }
  })
})
