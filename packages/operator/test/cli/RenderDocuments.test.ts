import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { parseAllDocuments } from "yaml"
import { RenderInputError, renderManifests } from "../../src/cli/RenderDocuments.ts"

const doltdb = (spec: string, metadata = "  name: mydb") => `apiVersion: k8s.dolthub.com/v1alpha
kind: DoltDB
metadata:
${metadata}
spec:
${spec}`

const replicated = doltdb(`  engineVersion: "1.83.6"
  replicas: 3
  storage: { size: 10Gi }
  replication: { enabled: true }`)

const failure = (exit: Exit.Exit<unknown, RenderInputError>): string => {
  assert.isTrue(Exit.isFailure(exit))
  const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
  assert.isTrue(error?._tag === "Fail" && error.error instanceof RenderInputError)
  return error?._tag === "Fail" ? error.error.message : ""
}

describe("renderManifests", () => {
  it.effect("renders every child object as multi-document YAML, and notes the filled-in metadata", () =>
    Effect.gen(function* () {
      const { stdout, notices } = yield* renderManifests("db.yaml", replicated, "yaml")
      const documents = parseAllDocuments(stdout)
      assert.isTrue(Array.isArray(documents))
      const objects = (documents as Array<{ toJS: () => { kind: string; metadata: { name: string } } }>).map((d) =>
        d.toJS()
      )
      assert.deepStrictEqual(
        objects.map((o) => `${o.kind}/${o.metadata.name}`),
        [
          "ServiceAccount/mydb",
          "Role/mydb",
          "RoleBinding/mydb",
          "ConfigMap/mydb-config",
          "Service/mydb-internal",
          "Service/mydb-primary",
          "Service/mydb-reader",
          "StatefulSet/mydb",
          "PodDisruptionBudget/mydb-pdb"
        ]
      )
      assert.strictEqual(notices.length, 1)
      assert.include(notices[0]!, "metadata.namespace=default")
      assert.include(notices[0]!, "metadata.uid=")
    })
  )

  it.effect("renders a JSON v1/List with -o json", () =>
    Effect.gen(function* () {
      const { stdout } = yield* renderManifests("db.yaml", replicated, "json")
      const list = JSON.parse(stdout) as { kind: string; items: ReadonlyArray<{ kind: string }> }
      assert.strictEqual(list.kind, "List")
      assert.strictEqual(list.items.length, 9)
    })
  )

  it.effect("skips other kinds in the file with a note, and renders each DoltDB", () =>
    Effect.gen(function* () {
      const secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: mydb-credentials\n"
      const { stdout, notices } = yield* renderManifests(
        "all.yaml",
        `${secret}---\n${replicated}\n---\n${doltdb('  engineVersion: "1.83.6"\n  replicas: 1\n  storage: {}', "  name: other\n  namespace: x\n  uid: u-1")}`,
        "json"
      )
      assert.include(notices[0]!, "skipping Secret mydb-credentials")
      const items = (JSON.parse(stdout) as { items: ReadonlyArray<{ metadata: { name: string } }> }).items
      assert.isTrue(items.some((o) => o.metadata.name === "other-config"))
      assert.isTrue(items.some((o) => o.metadata.name === "mydb-config"))
    })
  )

  it.effect("warns about settings the engine cannot honour", () =>
    Effect.gen(function* () {
      const { notices } = yield* renderManifests(
        "db.yaml",
        doltdb('  engineVersion: "1.57.2"\n  replicas: 1\n  storage: {}\n  server: { mcpServer: {} }'),
        "yaml"
      )
      assert.isTrue(notices.some((n) => n.includes("server.mcpServer needs Dolt >= 1.79.3")))
    })
  )

  it.effect("names the bad field, the document and the file", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        renderManifests("db.yaml", doltdb('  engineVersion: "1.83.6"\n  replicas: 0\n  storage: {}'), "yaml")
      )
      const message = failure(exit)
      assert.include(message, "db.yaml")
      assert.include(message, "spec.replicas")
    })
  )

  it.effect("rejects YAML syntax errors, a missing name, a wrong kind and a file without a DoltDB", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["spec: [unclosed", "not valid YAML"],
        [doltdb('  engineVersion: "1.83.6"\n  replicas: 1\n  storage: {}', "  namespace: x"), "metadata.name"],
        ["- just\n- a list\n", 'kind: expected "DoltDB"'],
        ["apiVersion: v1\nkind: Secret\nmetadata: { name: s }\n", "no DoltDB object found"],
        ["", "no DoltDB object found"]
      ]
      for (const [text, expected] of cases) {
        assert.include(failure(yield* Effect.exit(renderManifests("in.yaml", text, "yaml"))), expected)
      }
    })
  )

  it.effect("refuses a DoltDB whose children the API server would refuse for their size, naming object and size", () =>
    Effect.gen(function* () {
      const big = doltdb(`  engineVersion: "1.83.6"
  replicas: 32
  storage: { size: 10Gi }
  replication: { enabled: true }
  server: { metrics: { enabled: true, labels: { team: "${"x".repeat(40_000)}" } } }`)
      const message = failure(yield* Effect.exit(renderManifests("big.yaml", big, "yaml")))
      assert.match(
        message,
        /^big\.yaml: DoltDB mydb: the API server would refuse ConfigMap mydb-config data is [\d,]+ bytes, over the API server's limit of 1,048,576 bytes$/u
      )
    })
  )
})
