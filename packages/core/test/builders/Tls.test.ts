/**
 * `spec.tls` in the rendered objects: the Dolt config keys (checked against dolt 1.86.4's `servercfg` and a real
 * server: see docs/security.md), the Secret mount, the probes and the pod template's certificate hash.
 */
import { assert, describe, it } from "@effect/vitest"
import { parse } from "yaml"
import { Builders } from "../../src/index.ts"
import { decoded, standalone, twoReplicas, withSpec } from "./fixtures.ts"

const configOf = (manifest: Parameters<typeof decoded>[0], ordinal = 0) => {
  const doltdb = decoded(manifest)
  const data = Builders.buildConfigData(doltdb)
  return parse(data[Builders.configKey(doltdb.metadata.name, ordinal)]!, { version: "1.1" }) as Record<
    string,
    Record<string, unknown>
  >
}

const tlsPair = withSpec(twoReplicas, { tls: { enabled: true } })

describe("spec.tls in the Dolt config", () => {
  it("writes no TLS key when tls is absent or disabled", () => {
    for (const manifest of [twoReplicas, withSpec(twoReplicas, { tls: { enabled: false } })]) {
      const config = configOf(manifest)
      assert.deepStrictEqual(Object.keys(config.listener!).sort(), ["host", "max_connections", "port"])
      assert.deepStrictEqual(config.cluster!.remotesapi, { port: 50051 })
      const remotes = config.cluster!.standby_remotes as ReadonlyArray<{ remote_url_template: string }>
      assert.isTrue(remotes.every((r) => r.remote_url_template.startsWith("http://")))
    }
  })

  it("turns on TLS for both listeners, https to peers verified against ca.crt and the DoltDB's name", () => {
    const config = configOf(tlsPair, 1)
    assert.deepStrictEqual(config.listener, {
      host: "0.0.0.0",
      port: 3306,
      max_connections: 1024,
      tls_key: "/etc/doltdb-tls/tls.key",
      tls_cert: "/etc/doltdb-tls/tls.crt",
      require_secure_transport: false
    })
    assert.deepStrictEqual(config.cluster!.remotesapi, {
      port: 50051,
      tls_key: "/etc/doltdb-tls/tls.key",
      tls_cert: "/etc/doltdb-tls/tls.crt",
      tls_ca: "/etc/doltdb-tls/ca.crt",
      server_name_dns: ["pair-internal.dolt.svc"]
    })
    assert.deepStrictEqual(config.cluster!.standby_remotes, [
      { name: "pair-0", remote_url_template: "https://pair-0.pair-internal.dolt:50051/{database}" }
    ])
  })

  it("requireSecureTransport reaches the listener; a standalone server gets the listener keys only", () => {
    const config = configOf(withSpec(standalone, { tls: { enabled: true, requireSecureTransport: true } }))
    assert.strictEqual(config.listener!.require_secure_transport, true)
    assert.strictEqual(config.cluster, undefined)
  })

  it("warns that replication over TLS needs Dolt >= 1.57.1, and not for newer or standalone engines", () => {
    const warn = (manifest: Parameters<typeof decoded>[0]) =>
      Builders.buildWarnings(decoded(manifest)).filter((w) => w.includes("over TLS"))
    assert.lengthOf(warn(withSpec(tlsPair, { engineVersion: "1.57.0" })), 1)
    assert.lengthOf(warn(withSpec(tlsPair, { engineVersion: "1.57.1" })), 0)
    assert.lengthOf(warn(withSpec(standalone, { engineVersion: "1.40.0", tls: { enabled: true } })), 0)
  })

  it("changing TLS changes the config hash (Dolt reads TLS settings at startup)", () => {
    const hash = (m: Parameters<typeof decoded>[0]) => Builders.configHash(decoded(m))
    assert.notStrictEqual(hash(twoReplicas), hash(tlsPair))
    assert.notStrictEqual(
      hash(tlsPair),
      hash(withSpec(twoReplicas, { tls: { enabled: true, requireSecureTransport: true } }))
    )
  })
})

describe("spec.tls in the pod template", () => {
  const template = (manifest: Parameters<typeof decoded>[0], context?: Builders.BuildContext) =>
    Builders.buildPodTemplate(decoded(manifest), context)

  it("mounts the server Secret read-only in both Dolt containers, the operator-managed one by default", () => {
    const t = template(tlsPair)
    assert.deepInclude(t.spec.volumes, { name: "dolt-tls", secret: { secretName: "pair-tls" } })
    for (const c of [...t.spec.initContainers, ...t.spec.containers.filter((c) => c.name === "dolt")])
      assert.deepInclude(c.volumeMounts, { name: "dolt-tls", mountPath: "/etc/doltdb-tls", readOnly: true })
    const user = template(withSpec(twoReplicas, { tls: { enabled: true, serverCertSecretRef: { name: "cm-cert" } } }))
    assert.deepInclude(user.spec.volumes, { name: "dolt-tls", secret: { secretName: "cm-cert" } })
    // Never the CA's key.
    assert.isFalse(JSON.stringify(t).includes("pair-tls-ca"))
    assert.isFalse(JSON.stringify(template(twoReplicas)).includes("dolt-tls"))
  })

  it("probes use TLS to localhost, verified against the CA, only when plaintext is refused", () => {
    const command = (m: Parameters<typeof decoded>[0]) =>
      template(m).spec.containers[0]!.readinessProbe!.exec!.command!.join(" ")
    assert.include(command(tlsPair), "--no-tls")
    const secure = command(withSpec(twoReplicas, { tls: { enabled: true, requireSecureTransport: true } }))
    assert.notInclude(secure, "--no-tls")
    assert.include(secure, "export SSL_CERT_FILE=/etc/doltdb-tls/ca.crt && exec dolt --host localhost")
    const preStop = template(
      withSpec(twoReplicas, { tls: { enabled: true, requireSecureTransport: true } })
    ).spec.containers[0]!.lifecycle!.preStop.exec.command.join(" ")
    assert.notInclude(preStop, "--no-tls")
  })

  it("the isolation guard verifies the servers against the mounted CA", () => {
    const guarded = (tls: boolean) =>
      template(
        withSpec(twoReplicas, {
          replication: { enabled: true, guard: { enabled: true } },
          ...(tls ? { tls: { enabled: true, requireSecureTransport: true } } : {})
        })
      ).spec.containers.find((c) => c.name === "guard")!
    const guard = guarded(true)
    assert.include((guard.args ?? []).join(" "), "--tls-ca /etc/doltdb-tls/ca.crt")
    assert.deepInclude(guard.volumeMounts, { name: "dolt-tls", mountPath: "/etc/doltdb-tls", readOnly: true })
    assert.notInclude(guarded(false).args ?? [], "--tls-ca")
  })

  it("carries the certificate hash, so a renewed certificate restarts the pods; not with updateStrategy Never", () => {
    const annotations = (m: Parameters<typeof decoded>[0], tlsHash?: string) =>
      template(m, { tlsHash }).metadata.annotations ?? {}
    assert.strictEqual(annotations(tlsPair, "abc")[Builders.TlsHashAnnotation], "abc")
    assert.notStrictEqual(
      Builders.buildStatefulSet(decoded(tlsPair), { tlsHash: "a" }).spec.template.metadata.annotations?.[
        Builders.TlsHashAnnotation
      ],
      Builders.buildStatefulSet(decoded(tlsPair), { tlsHash: "b" }).spec.template.metadata.annotations?.[
        Builders.TlsHashAnnotation
      ]
    )
    assert.isUndefined(annotations(twoReplicas, "abc")[Builders.TlsHashAnnotation])
    assert.isUndefined(annotations(withSpec(tlsPair, { updateStrategy: "Never" }), "abc")[Builders.TlsHashAnnotation])
  })

  it("the operator-issued certificate names cover every pod and Service without depending on replicas", () => {
    const names = Builders.certificateDnsNames("pair", "dolt", "cluster.local")
    for (const n of [
      "pair-internal.dolt.svc",
      "*.pair-internal.dolt.svc.cluster.local",
      "*.pair-internal.dolt",
      "pair-primary.dolt.svc.cluster.local",
      "pair-reader.dolt.svc",
      "pair.dolt",
      "localhost"
    ])
      assert.include(names, n)
    assert.strictEqual(new Set(names).size, names.length)
  })
})

describe("spec.networkPolicy", () => {
  const policy = (manifest: Parameters<typeof decoded>[0]) => Builders.buildNetworkPolicy(decoded(manifest))
  const own = { podSelector: { matchLabels: { "app.kubernetes.io/name": "pair" } } }

  it("is off by default", () => {
    assert.isUndefined(policy(twoReplicas))
    assert.isFalse(Builders.buildDesiredState(decoded(twoReplicas)).objects.some((o) => o.kind === "NetworkPolicy"))
  })

  it("lets only the DoltDB's pods reach remotesapi; SQL stays open without sqlFrom; metrics open", () => {
    const p = policy(
      withSpec(twoReplicas, { networkPolicy: { enabled: true }, server: { metrics: { enabled: true, port: 9091 } } })
    )!
    assert.deepStrictEqual(p.spec.podSelector, own.podSelector)
    assert.deepStrictEqual(p.spec.ingress, [
      { ports: [{ protocol: "TCP", port: 3306 }] },
      { from: [own], ports: [{ protocol: "TCP", port: 50051 }] },
      { ports: [{ protocol: "TCP", port: 9091 }] }
    ])
  })

  it("with sqlFrom, SQL only from those sources and the DoltDB's own pods; standalone has no remotesapi rule", () => {
    const operator = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ops" } } }
    const p = policy(withSpec(twoReplicas, { networkPolicy: { enabled: true, sqlFrom: [operator] } }))!
    assert.deepStrictEqual(p.spec.ingress[0], { from: [own, operator], ports: [{ protocol: "TCP", port: 3306 }] })
    const solo = policy(
      withSpec(twoReplicas, { replicas: 1, replication: { enabled: false }, networkPolicy: { enabled: true } })
    )!
    assert.lengthOf(solo.spec.ingress, 1)
  })
})
