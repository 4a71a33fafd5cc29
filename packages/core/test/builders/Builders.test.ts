// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` here is Dolt's config placeholder syntax
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Api, Builders } from "../../src/index.ts"
import { decoded, everyOption, type Manifest, standalone, twoReplicas, withSpec } from "./fixtures.ts"

const withMetadata = (manifest: Manifest, metadata: Manifest["metadata"]): Manifest => ({ ...manifest, metadata })

describe("identify", () => {
  const decode = Schema.decodeUnknownSync(Api.DoltDB)

  it("fills a missing namespace and uid and says which", () => {
    const result = Builders.identify(decode(standalone))
    assert.strictEqual(result._tag, "Identified")
    if (result._tag !== "Identified") return
    assert.strictEqual(result.doltdb.metadata.namespace, "default")
    assert.strictEqual(result.doltdb.metadata.uid, Builders.DefaultIdentity.uid)
    assert.deepStrictEqual(result.filled, [
      "metadata.namespace=default",
      `metadata.uid=${Builders.DefaultIdentity.uid}`
    ])
  })

  it("keeps what the object has, and refuses an object without a name", () => {
    const result = Builders.identify(decode(everyOption))
    assert.deepStrictEqual(result._tag === "Identified" ? result.filled : undefined, [])
    assert.strictEqual(Builders.identify(decode(withMetadata(standalone, {})))._tag, "MissingName")
  })
})

describe("every object", () => {
  it("is owned by the DoltDB as its controller and lives in its namespace", () => {
    const doltdb = decoded(everyOption)
    for (const object of Builders.buildDesiredState(doltdb).objects) {
      assert.deepStrictEqual(object.metadata.ownerReferences, [
        {
          apiVersion: "k8s.dolthub.com/v1alpha",
          kind: "DoltDB",
          name: "full",
          uid: "6f1c9b0e-3c1d-4a57-9f0e-2b8f1e7d4c21",
          controller: true,
          blockOwnerDeletion: true
        }
      ])
      assert.strictEqual(object.metadata.namespace, "prod")
      assert.strictEqual(object.metadata.labels?.["app.kubernetes.io/name"], "full")
      assert.strictEqual(object.metadata.labels?.team, "data")
      assert.isUndefined(object.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"])
    }
  })

  it("carries the version label only when the image tag is a valid label value, and warns otherwise", () => {
    const labels = (engineVersion: string) =>
      Builders.buildDesiredState(decoded(withSpec(twoReplicas, { engineVersion }))).objects.map(
        (o) => o.metadata.labels?.["app.kubernetes.io/version"]
      )
    assert.isTrue(labels("1.83.6").every((v) => v === "1.83.6"))
    // A valid image tag, too long for a label value.
    const odd = `1.83.6-${"x".repeat(60)}`
    assert.isTrue(labels(odd).every((v) => v === undefined))
    assert.isTrue(
      Builders.buildWarnings(decoded(withSpec(twoReplicas, { engineVersion: odd }))).some((w) => w.includes(odd))
    )
  })

  it("has the reference's names", () => {
    const names = (manifest: Manifest) =>
      Builders.buildDesiredState(decoded(manifest)).objects.map((o) => `${o.kind}/${o.metadata.name}`)
    assert.deepStrictEqual(names(twoReplicas), [
      "ServiceAccount/pair",
      "Role/pair",
      "RoleBinding/pair",
      "ConfigMap/pair-config",
      "Service/pair-internal",
      "Service/pair-primary",
      "Service/pair-reader",
      "StatefulSet/pair",
      "PodDisruptionBudget/pair-pdb"
    ])
    assert.deepStrictEqual(names(standalone), [
      "ServiceAccount/solo",
      "Role/solo",
      "RoleBinding/solo",
      "ConfigMap/solo-config",
      "Service/solo-internal",
      "Service/solo",
      "StatefulSet/solo"
    ])
  })
})

describe("StatefulSet", () => {
  it("selects by name, uses the internal Service and keeps PVCs by default", () => {
    const sts = Builders.buildStatefulSet(decoded(twoReplicas))
    assert.deepStrictEqual(sts.spec.selector, { matchLabels: { "app.kubernetes.io/name": "pair" } })
    assert.strictEqual(sts.spec.serviceName, "pair-internal")
    assert.strictEqual(sts.spec.replicas, 2)
    assert.deepStrictEqual(sts.spec.persistentVolumeClaimRetentionPolicy, {
      whenDeleted: "Retain",
      whenScaled: "Retain"
    })
    const [claim] = sts.spec.volumeClaimTemplates
    assert.strictEqual(claim?.metadata.name, "dolt-data")
    assert.deepStrictEqual(claim?.metadata.labels, {
      "app.kubernetes.io/name": "pair",
      "pvc.k8s.dolthub.com/role": "dolt-data"
    })
    assert.deepStrictEqual(claim?.spec.resources, { requests: { storage: "20Gi" } })
    assert.deepStrictEqual(sts.metadata.annotations, {
      "k8s.dolthub.com/doltdb": "pair",
      "k8s.dolthub.com/replication": "true"
    })
  })

  it("maps every updateStrategy, and Never is OnDelete without the config hash", () => {
    for (const [strategy, type] of [
      ["ReplicasFirstPrimaryLast", "OnDelete"],
      ["RollingUpdate", "RollingUpdate"],
      ["OnDelete", "OnDelete"],
      ["Never", "OnDelete"]
    ] as const) {
      const sts = Builders.buildStatefulSet(decoded(withSpec(twoReplicas, { updateStrategy: strategy })))
      assert.strictEqual(sts.spec.updateStrategy.type, type, strategy)
      assert.strictEqual(
        sts.spec.template.metadata.annotations?.["k8s.dolthub.com/configmap-hash"] === undefined,
        strategy === "Never"
      )
    }
  })

  it("keeps the immutable volumeClaimTemplates unchanged across label edits and engine upgrades", () => {
    const claims = (manifest: Manifest) => Builders.buildStatefulSet(decoded(manifest)).spec.volumeClaimTemplates
    const relabelled = withMetadata(everyOption, { ...everyOption.metadata, labels: { team: "other" } })
    assert.deepStrictEqual(claims(everyOption), claims(withSpec(relabelled, { engineVersion: "2.8.0" })))
  })

  it("keeps its own pod-template annotations when spec.podAnnotations uses the same keys", () => {
    const manifest = withSpec(twoReplicas, {
      podAnnotations: { "k8s.dolthub.com/doltdb": "other", "k8s.dolthub.com/configmap-hash": "x", keep: "me" }
    })
    const annotations = Builders.buildPodTemplate(decoded(manifest)).metadata.annotations ?? {}
    assert.strictEqual(annotations["k8s.dolthub.com/doltdb"], "pair")
    assert.strictEqual(annotations["k8s.dolthub.com/configmap-hash"], Builders.configHash(decoded(manifest)))
    assert.strictEqual(annotations.keep, "me")
  })

  it("a scale change on a current engine leaves the pod template alone (the operator refreshes peers itself)", () => {
    const template = (replicas: number, updateStrategy: "ReplicasFirstPrimaryLast" | "RollingUpdate") =>
      Builders.buildStatefulSet(decoded(withSpec(everyOption, { replicas, updateStrategy }))).spec.template
    assert.deepStrictEqual(template(3, "ReplicasFirstPrimaryLast"), template(7, "ReplicasFirstPrimaryLast"))
    // With the StatefulSet controller rolling pods, the peer list must roll them, or a primary never learns new peers.
    assert.notDeepEqual(template(3, "RollingUpdate"), template(7, "RollingUpdate"))
  })

  it("a DoltDB annotation edit leaves the pod template alone; podAnnotations reach it", () => {
    const template = (annotations: Record<string, string>) =>
      Builders.buildPodTemplate(decoded(withMetadata(everyOption, { ...everyOption.metadata, annotations })))
    assert.deepStrictEqual(template({ a: "1" }), template({ a: "2", "k8s.dolthub.com/updated-at": "now" }))
    const annotations = template({}).metadata.annotations ?? {}
    assert.strictEqual(annotations["prometheus.io/scrape"], "true")
    assert.deepStrictEqual(Object.keys(annotations).sort(), [
      "k8s.dolthub.com/configmap-hash",
      "k8s.dolthub.com/doltdb",
      "k8s.dolthub.com/replication",
      "prometheus.io/scrape"
    ])
  })
})

describe("pod template", () => {
  const pod = (manifest: Manifest) => Builders.buildPodTemplate(decoded(manifest)).spec
  const envNames = (manifest: Manifest) => pod(manifest).containers[0]!.env.map((e) => e.name)

  it("honours topologySpreadConstraints and the scheduling fields", () => {
    const spec = pod(everyOption)
    assert.deepStrictEqual(spec.topologySpreadConstraints, everyOption.spec.topologySpreadConstraints)
    assert.deepStrictEqual(spec.tolerations, everyOption.spec.tolerations)
    assert.strictEqual(spec.serviceAccountName, "full-dolt")
    assert.isFalse(spec.automountServiceAccountToken)
  })

  it("takes credentials from the <name>-credentials Secret, with DOLT_ROOT_* only from Dolt 1.49", () => {
    const dolt = pod(twoReplicas).containers[0]!
    assert.deepStrictEqual(
      dolt.env.find((e) => e.name === "DOLT_PASSWORD"),
      { name: "DOLT_PASSWORD", valueFrom: { secretKeyRef: { name: "pair-credentials", key: "admin-password" } } }
    )
    assert.deepStrictEqual(dolt.env[0], { name: "DOLT_ROOT_PATH", value: "/db" })
    assert.deepStrictEqual(envNames(twoReplicas).slice(0, 6), [
      "DOLT_ROOT_PATH",
      "POD_NAME",
      "DOLT_USERNAME",
      "DOLT_PASSWORD",
      "DOLT_ROOT_PASSWORD",
      "DOLT_ROOT_HOST"
    ])
    assert.notInclude(envNames(withSpec(twoReplicas, { engineVersion: "1.48.0" })), "DOLT_ROOT_PASSWORD")
    assert.strictEqual(envNames(everyOption).at(-1), "TZ")
  })

  it("never puts a password on a command line or in the ConfigMap", () => {
    const doltdb = decoded(everyOption)
    const commands = [
      ...Builders.buildDoltContainer(doltdb).command,
      ...Builders.buildInitContainer(doltdb).command,
      ...(Builders.buildDoltContainer(doltdb).readinessProbe?.exec?.command ?? []),
      ...(Builders.buildDoltContainer(doltdb).lifecycle?.preStop.exec.command ?? [])
    ].join(" ")
    assert.notMatch(commands, /\s(-p|--password)\s/u)
    // The only password in a config is the placeholder Dolt fills from the pod's environment.
    for (const text of Object.values(Builders.buildConfigData(doltdb))) {
      assert.deepStrictEqual(
        [...text.matchAll(/password:.*\n(.*)/gu)].map((m) => m[1]?.trim()),
        ["${DOLT_MCP_PASSWORD}"]
      )
    }
  })

  it("uses the operator's fast probes without spec.probes, and the user's timing field by field with it", () => {
    const dolt = pod(twoReplicas).containers[0]!
    assert.deepStrictEqual(
      [dolt.readinessProbe?.periodSeconds, dolt.readinessProbe?.timeoutSeconds, dolt.readinessProbe?.failureThreshold],
      [2, 2, 2]
    )
    assert.deepStrictEqual(
      [dolt.livenessProbe?.periodSeconds, dolt.livenessProbe?.timeoutSeconds, dolt.livenessProbe?.failureThreshold],
      [5, 4, 3]
    )
    // Startup: probed every second (a restarted server is routed again within a second of answering), for 15 min.
    assert.deepStrictEqual([dolt.startupProbe?.periodSeconds, dolt.startupProbe?.failureThreshold], [1, 900])
    const custom = pod(everyOption).containers[0]!
    assert.deepStrictEqual(custom.readinessProbe?.periodSeconds, 3)
    assert.deepStrictEqual(custom.readinessProbe?.timeoutSeconds, 2)
    assert.deepStrictEqual(custom.livenessProbe?.initialDelaySeconds, 5)
    // `probes: {}` means the CRD defaults (15 s delay, 40 s period) were asked for.
    const crdDefaults = pod(withSpec(twoReplicas, { probes: {} })).containers[0]!
    assert.deepStrictEqual(
      [crdDefaults.readinessProbe?.initialDelaySeconds, crdDefaults.readinessProbe?.periodSeconds],
      [15, 40]
    )
  })

  it("drops probe fields Kubernetes would reject, with a warning", () => {
    const manifest = withSpec(twoReplicas, {
      probes: {
        livenessProbe: { successThreshold: 2 },
        readinessProbe: { terminationGracePeriodSeconds: 5 }
      }
    })
    const dolt = pod(manifest).containers[0]!
    assert.isUndefined(dolt.livenessProbe?.successThreshold)
    assert.isUndefined(dolt.readinessProbe?.terminationGracePeriodSeconds)
    assert.strictEqual(Builders.probeWarnings(decoded(manifest)).length, 2)
  })

  it("has a preStop hook only when replication is enabled", () => {
    assert.isDefined(pod(twoReplicas).containers[0]?.lifecycle)
    assert.isUndefined(pod(standalone).containers[0]?.lifecycle)
  })
})

describe("Services", () => {
  const services = (manifest: Manifest) => Builders.buildServices(decoded(manifest))

  it("routes writes to the current primary and reads to standbys; the internal one keeps not-ready peers", () => {
    const [internal, primary, reader] = services(everyOption)
    assert.deepStrictEqual(internal?.spec.clusterIP, "None")
    assert.isTrue(internal?.spec.publishNotReadyAddresses)
    assert.deepStrictEqual(
      internal?.spec.ports.map((p) => p.name),
      ["tcp-dolt", "grpc-remotesapi", "http-mcp"]
    )
    assert.deepStrictEqual(primary?.spec.selector, {
      "app.kubernetes.io/name": "full",
      "k8s.dolthub.com/cluster-role": "primary",
      "statefulset.kubernetes.io/pod-name": "full-1"
    })
    assert.deepStrictEqual(reader?.spec.selector, {
      "app.kubernetes.io/name": "full",
      "k8s.dolthub.com/cluster-role": "standby"
    })
  })

  it("before the operator has a status, the primary Service follows spec podIndex", () => {
    const manifest = withSpec(twoReplicas, { replication: { enabled: true, primary: { podIndex: 1 } } })
    assert.strictEqual(
      Builders.buildPrimaryService(decoded(manifest)).spec.selector["statefulset.kubernetes.io/pod-name"],
      "pair-1"
    )
  })

  it("a standalone DoltDB gets one client Service named after it, and no MCP port on an engine without MCP", () => {
    const [, client] = services(withSpec(standalone, { engineVersion: "1.57.2", server: { mcpServer: {} } }))
    assert.strictEqual(client?.metadata.name, "solo")
    assert.deepStrictEqual(client?.spec.ports, [{ name: "tcp-dolt", port: 3306, targetPort: 3306, protocol: "TCP" }])
  })
})

describe("PodDisruptionBudget", () => {
  const budget = (manifest: Manifest) => Builders.buildPodDisruptionBudget(decoded(manifest))?.spec
  const warnings = (manifest: Manifest) => Builders.budgetWarnings(decoded(manifest))

  it("defaults to minAvailable 50% and honours spec.podDisruptionBudget", () => {
    assert.deepStrictEqual(budget(twoReplicas)?.minAvailable, "50%")
    assert.deepStrictEqual(budget(everyOption)?.maxUnavailable, 1)
    assert.deepStrictEqual(
      budget(withSpec(everyOption, { podDisruptionBudget: { minAvailable: "60%" } }))?.minAvailable,
      "60%"
    )
  })

  it("is not built when it would block every eviction, with a warning unless the DoltDB is a plain single pod", () => {
    assert.isUndefined(budget(standalone))
    assert.deepStrictEqual(warnings(standalone), [])
    for (const podDisruptionBudget of [{ maxUnavailable: 0 }, { minAvailable: 2 }, { minAvailable: "100%" }]) {
      const manifest = withSpec(twoReplicas, { podDisruptionBudget })
      assert.isUndefined(budget(manifest), JSON.stringify(podDisruptionBudget))
      assert.strictEqual(warnings(manifest).length, 1)
    }
  })
})

describe("RBAC", () => {
  it("shares one name and binds the ServiceAccount to the Role", () => {
    const doltdb = decoded(everyOption)
    const binding = Builders.buildRoleBinding(doltdb)
    assert.deepStrictEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "full-dolt" })
    assert.deepStrictEqual(binding.subjects, [{ kind: "ServiceAccount", name: "full-dolt", namespace: "prod" }])
    assert.strictEqual(
      Builders.buildServiceAccount(doltdb).metadata.annotations?.["eks.amazonaws.com/role-arn"],
      "arn:aws:iam::123456789012:role/dolt"
    )
    // The pods call no Kubernetes API (no token mounted): their Role grants nothing.
    assert.deepStrictEqual(Builders.buildRole(doltdb).rules, [])
  })
})
