import { assert, describe, it } from "@effect/vitest"
import { Builders } from "../../src/index.ts"
import { decoded, standalone, twoReplicas, withSpec } from "./fixtures.ts"

const guarded = (guard: Record<string, unknown> = { enabled: true }) =>
  decoded(withSpec(twoReplicas, { replicas: 3, replication: { enabled: true, guard } as never }))

const template = (doltdb: Builders.IdentifiedDoltDB) => Builders.buildPodTemplate(doltdb).spec

describe("isolation guard sidecar", () => {
  it("is absent unless enabled, and never on a standalone server", () => {
    assert.deepStrictEqual(
      template(decoded(twoReplicas)).containers.map((c) => c.name),
      ["dolt"]
    )
    assert.deepStrictEqual(
      template(guarded({ enabled: false })).containers.map((c) => c.name),
      ["dolt"]
    )
    const solo = decoded(withSpec(standalone, { replication: { enabled: false, guard: { enabled: true } } as never }))
    assert.deepStrictEqual(
      template(solo).containers.map((c) => c.name),
      ["dolt"]
    )
  })

  it("runs the operator image in guard mode with this DoltDB, the SQL port and the threshold", () => {
    const spec = template(guarded({ enabled: true, threshold: "1m" }))
    const guard = spec.containers.find((c) => c.name === "guard")!
    assert.strictEqual(guard.image, Builders.DefaultGuardImage)
    assert.deepStrictEqual(guard.args, ["guard", "--doltdb", "pair", "--dolt-port", "3306", "--threshold", "60000ms"])
    assert.strictEqual(guard.command, undefined)
    const custom = template(guarded({ enabled: true, image: "registry.local/op:dev" })).containers[1]!
    assert.strictEqual(custom.image, "registry.local/op:dev")
    assert.include(custom.args ?? [], "5000ms")
  })

  it("takes credentials from the Secret by reference, never as a value or argument", () => {
    const guard = template(guarded()).containers[1]!
    const password = guard.env.find((e) => e.name === "DOLT_PASSWORD")
    assert.deepStrictEqual(password?.valueFrom?.secretKeyRef, { name: "pair-credentials", key: "admin-password" })
    assert.isFalse(guard.env.some((e) => e.value !== undefined && /password/iu.test(e.name)))
  })

  it("only the guard container mounts a token; the pod keeps automount off", () => {
    const spec = template(guarded())
    assert.strictEqual(spec.automountServiceAccountToken, false)
    const [dolt, guard] = spec.containers
    assert.isFalse(dolt!.volumeMounts.some((m) => m.name === Builders.GuardTokenVolumeName))
    assert.deepStrictEqual(guard!.volumeMounts, [
      { name: "guard-token", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true },
      { name: "dolt-config", mountPath: "/etc/doltdb", readOnly: true }
    ])
    const volume = spec.volumes.find((v) => v.name === "guard-token")
    assert.isDefined(volume)
    assert.isTrue("projected" in volume!)
  })

  it("passes the restricted Pod Security Standard", () => {
    const sc = template(guarded()).containers[1]!.securityContext!
    assert.isFalse(sc.allowPrivilegeEscalation)
    assert.isTrue(sc.runAsNonRoot)
    assert.deepStrictEqual(sc.capabilities?.drop, ["ALL"])
    assert.strictEqual(sc.seccompProfile?.type, "RuntimeDefault")
    assert.isTrue(sc.readOnlyRootFilesystem)
  })

  it("narrows the pods' Role to get on this DoltDB and its pods by name", () => {
    const role = Builders.buildRole(guarded())
    assert.deepStrictEqual(role.rules, [
      { apiGroups: ["k8s.dolthub.com"], resources: ["doltdbs"], resourceNames: ["pair"], verbs: ["get"] },
      { apiGroups: [""], resources: ["pods"], resourceNames: ["pair-0", "pair-1", "pair-2"], verbs: ["get"] }
    ])
    assert.deepStrictEqual(Builders.buildRole(decoded(twoReplicas)).rules, Builders.PodRoleRules)
  })

  it("a bad threshold is refused at decode time, naming the field", () => {
    assert.throws(() => guarded({ enabled: true, threshold: "5 seconds" }), /threshold/u)
  })
})
