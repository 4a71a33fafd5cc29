// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` here is Dolt's config placeholder syntax
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { parse } from "yaml"
import { Builders } from "../../src/index.ts"
import { decoded, everyOption, twoReplicas, withSpec } from "./fixtures.ts"

/**
 * The sql-server config keys Dolt accepts and the first release that accepts each, written down independently of
 * the implementation from dolt-cluster.md §1.1-§1.2 (dolt's `yaml_config.go` struct tags). Dolt parses strictly,
 * so an emitted key missing here, or newer than the engine, would stop the server at startup.
 */
const acceptedKeys: Record<string, string> = {
  log_level: "0.0.0",
  behavior: "0.0.0",
  listener: "0.0.0",
  metrics: "0.0.0",
  cluster: "0.50.0",
  "behavior.read_only": "0.0.0",
  "behavior.autocommit": "0.0.0",
  "behavior.auto_gc_behavior": "1.50.0",
  "behavior.auto_gc_behavior.enable": "1.50.0",
  "behavior.auto_gc_behavior.archive_level": "1.52.1",
  "listener.host": "0.0.0",
  "listener.port": "0.0.0",
  "listener.max_connections": "0.0.0",
  "metrics.labels": "0.0.0",
  "metrics.host": "0.0.0",
  "metrics.port": "0.0.0",
  "cluster.standby_remotes": "0.50.0",
  "cluster.standby_remotes[].name": "0.50.0",
  "cluster.standby_remotes[].remote_url_template": "0.50.0",
  "cluster.bootstrap_role": "0.50.0",
  "cluster.bootstrap_epoch": "0.50.0",
  "cluster.remotesapi": "0.50.0",
  "cluster.remotesapi.port": "0.50.0",
  mcp_server: "1.58.7",
  "mcp_server.port": "1.58.7",
  "mcp_server.user": "1.58.7",
  "mcp_server.password": "1.58.7",
  "mcp_server.database": "1.58.7"
}
/** Maps whose keys are user data, not config keys. */
const freeFormMaps = new Set(["metrics.labels"])

const keyPaths = (value: unknown, prefix = ""): ReadonlyArray<string> => {
  if (Array.isArray(value)) return value.flatMap((item) => keyPaths(item, `${prefix}[]`))
  if (typeof value !== "object" || value === null) return []
  return Object.entries(value).flatMap(([key, item]) => {
    const path = prefix === "" ? key : `${prefix}.${key}`
    return freeFormMaps.has(path) ? [path] : [path, ...keyPaths(item, path)]
  })
}

/** Keys the engine would reject: unknown ones, and ones newer than the engine (an unknown engine accepts only 0.x keys). */
const rejectedKeys = (config: unknown, engine: string): ReadonlyArray<string> => {
  const version = Builders.parseEngineVersion(engine)
  return keyPaths(config).filter((path) => {
    const minimum = acceptedKeys[path]
    if (minimum === undefined) return true
    const min = Builders.parseEngineVersion(minimum)
    if (min._tag !== "Release") return true
    return version._tag === "Release" ? Builders.compareReleases(version, min) < 0 : min.major > 0
  })
}

const configsOf = (manifest: Parameters<typeof decoded>[0]) => {
  const doltdb = decoded(manifest)
  return Builders.buildDoltConfigs(Builders.doltConfigInput(doltdb))
}

describe("per-pod Dolt config", () => {
  describe("every key is known to the engine it is written for", () => {
    for (const engine of ["1.57.2", "1.83.6", "2.7.3", "latest"]) {
      it(engine, () => {
        const { configs } = configsOf(withSpec(everyOption, { engineVersion: engine }))
        assert.strictEqual(configs.length, 3)
        for (const config of configs) assert.deepStrictEqual(rejectedKeys(config, engine), [])
      })
    }
  })

  it("1.57 gets auto-GC but no MCP server (needs ${VAR} expansion, 1.79.3), and says so", () => {
    const { configs, warnings } = configsOf(withSpec(everyOption, { engineVersion: "1.57.2" }))
    assert.deepStrictEqual(configs[0]?.behavior, { auto_gc_behavior: { enable: true } })
    assert.isUndefined(configs[0]?.mcp_server)
    assert.isTrue(warnings.some((w) => w.includes("server.mcpServer") && w.includes("1.79.3")))
  })

  it("1.83 and 2.x get the MCP server with credentials as placeholders", () => {
    for (const engine of ["1.83.6", "2.7.3"]) {
      const { configs, warnings } = configsOf(withSpec(everyOption, { engineVersion: engine }))
      assert.deepStrictEqual(configs[0]?.mcp_server, {
        port: 7008,
        user: "${DOLT_MCP_USER}",
        password: "${DOLT_MCP_PASSWORD}",
        database: "ledger"
      })
      assert.deepStrictEqual(warnings, [])
    }
  })

  it("an unknown engine gets neither gated block, and a warning for each feature asked for", () => {
    const { configs, warnings } = configsOf(withSpec(everyOption, { engineVersion: "latest" }))
    assert.isUndefined(configs[0]?.behavior)
    assert.isUndefined(configs[0]?.mcp_server)
    assert.strictEqual(warnings.length, 2)
    assert.isTrue(warnings.every((w) => w.includes('"latest"')))
  })

  it("warns about auto-GC on an unknown engine even when it is off (newer engines default it on)", () => {
    const warnings = (engineVersion: string) => configsOf(withSpec(twoReplicas, { engineVersion })).warnings
    assert.isTrue(warnings("latest").some((w) => w.includes("autoGCBehavior")))
    assert.deepStrictEqual(warnings("1.40.0"), [])
    assert.deepStrictEqual(warnings("1.83.6"), [])
  })

  it.prop(
    "replicas form a full mesh with exactly one bootstrap primary, the requested podIndex",
    {
      replicas: Schema.Int.check(Schema.isBetween({ minimum: 2, maximum: 9 })),
      seed: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1000 }))
    },
    ({ replicas, seed }) => {
      const podIndex = seed % replicas
      const { configs } = configsOf(
        withSpec(twoReplicas, { replicas, replication: { enabled: true, primary: { podIndex } } })
      )
      assert.strictEqual(configs.length, replicas)
      const primaries = configs.flatMap((config, ordinal) =>
        (config.cluster as { bootstrap_role: string }).bootstrap_role === "primary" ? [ordinal] : []
      )
      assert.deepStrictEqual(primaries, [podIndex])
      configs.forEach((config, ordinal) => {
        const cluster = config.cluster as {
          standby_remotes: ReadonlyArray<{ name: string; remote_url_template: string }>
          bootstrap_epoch: number
        }
        const peers = Array.from({ length: replicas }, (_, i) => i).filter((i) => i !== ordinal)
        assert.deepStrictEqual(
          cluster.standby_remotes.map((r) => r.name),
          peers.map((i) => `pair-${i}`)
        )
        for (const remote of cluster.standby_remotes) {
          assert.strictEqual(remote.remote_url_template, `http://${remote.name}.pair-internal.dolt:50051/{database}`)
        }
        assert.strictEqual(cluster.bootstrap_epoch, 1)
      })
    }
  )

  it("a scale-down holding the primary's pod: the pods that stay list only each other, the held ones everyone", () => {
    const doltdb = decoded(withSpec(twoReplicas, { replicas: 3, replication: { enabled: true } }))
    const remotes = (members: number | undefined) =>
      Builders.buildDoltConfigs(Builders.doltConfigInput(doltdb, members)).configs.map((config) =>
        (config.cluster as { standby_remotes: ReadonlyArray<{ name: string }> }).standby_remotes.map((r) => r.name)
      )
    assert.deepStrictEqual(remotes(2), [["pair-1"], ["pair-0"], ["pair-0", "pair-1"]])
    assert.deepStrictEqual(remotes(undefined), [
      ["pair-1", "pair-2"],
      ["pair-0", "pair-2"],
      ["pair-0", "pair-1"]
    ])
    // One pod would list none (Dolt refuses an empty list): every pod keeps the full one.
    assert.deepStrictEqual(remotes(1), remotes(undefined))
    // The rollout hash of an engine that keeps peers in it changes with the list, like a replica count change.
    const old = decoded(withSpec(twoReplicas, { engineVersion: "1.20.0", replicas: 3, replication: { enabled: true } }))
    assert.notStrictEqual(Builders.configHash(old, 2), Builders.configHash(old))
    // ... once: the held pod's config is not in it, so the hash does not change again when the pod goes.
    const after = decoded(
      withSpec(twoReplicas, { engineVersion: "1.20.0", replicas: 2, replication: { enabled: true } })
    )
    assert.strictEqual(Builders.configHash(old, 2), Builders.configHash(after))
  })

  it("a standalone DoltDB has no cluster section", () => {
    const { configs } = configsOf(withSpec(twoReplicas, { replicas: 1, replication: { enabled: false } }))
    assert.strictEqual(configs.length, 1)
    assert.isUndefined(configs[0]?.cluster)
  })

  it("the ConfigMap YAML parses back (YAML 1.1, as Dolt reads it) to the config, with `$` escaped for Dolt's expansion", () => {
    const labelled = (engine: string) =>
      withSpec(everyOption, {
        engineVersion: engine,
        server: {
          ...everyOption.spec.server,
          metrics: { enabled: true, labels: { note: "cost $5", yes: "on" } }
        }
      })
    for (const [engine, expected] of [
      ["1.83.6", "cost $$5"],
      ["1.57.2", "cost $5"]
    ] as const) {
      const doltdb = decoded(labelled(engine))
      const data = Builders.buildConfigData(doltdb)
      const configs = Builders.buildDoltConfigs(Builders.doltConfigInput(doltdb)).configs
      configs.forEach((config, ordinal) => {
        const text = data[`full-${ordinal}.yaml`]!
        assert.deepStrictEqual(parse(text, { version: "1.1" }), config)
        assert.deepStrictEqual((parse(text, { version: "1.1" }) as { metrics: unknown }).metrics, {
          labels: { note: expected, yes: "on" },
          host: "0.0.0.0",
          port: 11228
        })
      })
    }
  })
})

describe("rollout hash", () => {
  const hash = (manifest: Parameters<typeof decoded>[0]) => Builders.configHash(decoded(manifest))
  const replicated = (engine: string, replicas: number, podIndex = 0) =>
    withSpec(twoReplicas, { engineVersion: engine, replicas, replication: { enabled: true, primary: { podIndex } } })

  it("does not change with the replica count on engines that create missing remotes (>= 1.29.6)", () => {
    assert.strictEqual(hash(replicated("1.83.6", 2)), hash(replicated("1.83.6", 5)))
    assert.strictEqual(hash(replicated("1.29.6", 3)), hash(replicated("1.29.6", 4)))
  })

  it("changes with the replica count when the operator does not refresh peers itself (other update strategies)", () => {
    const rolling = (replicas: number) => withSpec(replicated("1.83.6", replicas), { updateStrategy: "RollingUpdate" })
    assert.notStrictEqual(hash(rolling(2)), hash(rolling(3)))
  })

  it("changes with the replica count on older and unknown engines (the peer list must reach every pod)", () => {
    assert.notStrictEqual(hash(replicated("1.29.5", 2)), hash(replicated("1.29.5", 3)))
    assert.notStrictEqual(hash(replicated("latest", 2)), hash(replicated("latest", 3)))
  })

  it("ignores the bootstrap primary (Dolt ignores it once a role is persisted)", () => {
    assert.strictEqual(hash(replicated("1.83.6", 3, 0)), hash(replicated("1.83.6", 3, 2)))
    assert.strictEqual(hash(replicated("1.20.0", 3, 0)), hash(replicated("1.20.0", 3, 2)))
  })

  it("changes when a server setting changes, or when replication is switched on", () => {
    const base = replicated("1.83.6", 3)
    assert.notStrictEqual(hash(base), hash(withSpec(base, { server: { logLevel: "debug" } })))
    assert.notStrictEqual(
      hash(withSpec(twoReplicas, { replication: { enabled: false } })),
      hash(withSpec(twoReplicas, { replication: { enabled: true } }))
    )
    assert.match(hash(base), /^[0-9a-f]{64}$/u)
  })
})
