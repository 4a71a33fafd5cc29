/**
 * The Dolt pods pass the Kubernetes "restricted" Pod Security Standard by default, the checker really checks that
 * profile's rules, and a DoltDB's overrides replace the defaults field by field (with a warning when they leave
 * the profile).
 */
import { assert, describe, it } from "@effect/vitest"
import { Builders } from "../../src/index.ts"
import { decoded, scenarios, standalone, withSpec } from "./fixtures.ts"

const podOf = (manifest: unknown) => Builders.buildPodTemplate(decoded(manifest)).spec

describe("restricted Pod Security Standard", () => {
  for (const [name, manifest] of Object.entries(scenarios))
    it(`the rendered pods of ${name} pass it`, () => {
      assert.deepStrictEqual(Builders.restrictedViolations(podOf(manifest)), [])
    })

  it("defaults: non-root uid/gid 1000 owning the volume, no escalation, no capabilities, RuntimeDefault, read-only root", () => {
    const pod = podOf(standalone)
    assert.deepStrictEqual(pod.securityContext, Builders.DefaultPodSecurityContext)
    for (const c of [...pod.initContainers, ...pod.containers])
      assert.deepStrictEqual(c.securityContext, Builders.DefaultContainerSecurityContext, c.name)
    // The root filesystem is read-only: /tmp is a volume.
    assert.deepInclude(pod.volumes, { name: "tmp", emptyDir: {} })
  })

  const breaking: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
    ["root", { securityContext: { runAsUser: 0 } }, "spec.securityContext.runAsUser must not be 0"],
    [
      "runAsNonRoot off",
      { securityContext: { runAsNonRoot: false }, containerSecurityContext: { runAsNonRoot: false } },
      "spec.containers[0].securityContext.runAsNonRoot (or the pod's) must be true"
    ],
    [
      "privilege escalation",
      { containerSecurityContext: { allowPrivilegeEscalation: true } },
      "spec.containers[0].securityContext.allowPrivilegeEscalation must be false"
    ],
    [
      "an added capability",
      { containerSecurityContext: { capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } } },
      "spec.containers[0].securityContext.capabilities.add SYS_ADMIN is not allowed"
    ],
    [
      "capabilities kept",
      { containerSecurityContext: { capabilities: {} } },
      "spec.initContainers[0].securityContext.capabilities.drop must include ALL"
    ],
    [
      "no seccomp",
      {
        securityContext: { seccompProfile: { type: "Unconfined" } },
        containerSecurityContext: { seccompProfile: { type: "Unconfined" } }
      },
      "spec.securityContext.seccompProfile.type must be RuntimeDefault or Localhost"
    ],
    [
      "privileged",
      { containerSecurityContext: { privileged: true } },
      "spec.containers[0].securityContext.privileged must not be true"
    ]
  ]
  for (const [what, spec, violation] of breaking)
    it(`an override that leaves the profile is found and warned about: ${what}`, () => {
      const manifest = withSpec(standalone, spec as never)
      assert.include(Builders.restrictedViolations(podOf(manifest)), violation)
      const warnings = Builders.buildDesiredState(decoded(manifest)).warnings
      assert.isTrue(
        warnings.some((w) => w.includes(violation)),
        `no warning for ${violation}: ${warnings.join("; ")}`
      )
    })

  it("the checker refuses host namespaces, hostPath volumes and host ports", () => {
    const pod = {
      ...podOf(standalone),
      hostNetwork: true,
      volumes: [{ name: "h", hostPath: { path: "/" } }],
      containers: [{ name: "c", ports: [{ containerPort: 1, hostPort: 1 }], securityContext: {} }]
    }
    const v = Builders.restrictedViolations(pod)
    assert.include(v, "spec.hostNetwork must not be true")
    assert.include(v, "spec.volumes h: hostPath volumes are not allowed")
    assert.include(v, "spec.containers[0].ports 1: hostPort must not be set")
  })

  it("overrides replace the default field by field", () => {
    const pod = podOf(withSpec(standalone, { securityContext: { runAsUser: 2000 } } as never))
    assert.strictEqual(pod.securityContext.runAsUser, 2000)
    assert.strictEqual(pod.securityContext.fsGroup, Builders.DoltGid)
    assert.deepStrictEqual(Builders.restrictedViolations(pod), [])
  })
})
