import { assert, describe, it } from "@effect/vitest"
import { Builders } from "../../src/index.ts"

const { parseEngineVersion, supports, isAtLeast, MinimumVersions } = Builders

describe("engine version", () => {
  it("parses release tags, with or without `v`, a missing patch, or a variant suffix", () => {
    const cases: ReadonlyArray<readonly [string, ReadonlyArray<number>]> = [
      ["1.83.6", [1, 83, 6]],
      ["v2.7.3", [2, 7, 3]],
      ["1.50", [1, 50, 0]],
      ["1.57.2-debian", [1, 57, 2]]
    ]
    for (const [tag, expected] of cases) {
      const version = parseEngineVersion(tag)
      assert.strictEqual(version._tag, "Release", tag)
      if (version._tag === "Release") assert.deepStrictEqual([version.major, version.minor, version.patch], expected)
    }
  })

  it("treats anything else as Unknown, which satisfies no minimum", () => {
    for (const tag of ["latest", "", "nightly", "sha256:abcdef", "1", "1.2.3.4"]) {
      const version = parseEngineVersion(tag)
      assert.strictEqual(version._tag, "Unknown", tag)
      for (const feature of Object.keys(MinimumVersions) as Array<Builders.Feature>) {
        assert.isFalse(supports(version, feature), `${tag} ${feature}`)
      }
    }
  })

  it("orders releases numerically, not lexically", () => {
    assert.isTrue(isAtLeast(parseEngineVersion("1.100.0"), MinimumVersions.envInterpolation))
    assert.isFalse(isAtLeast(parseEngineVersion("1.79.2"), MinimumVersions.envInterpolation))
    assert.isTrue(isAtLeast(parseEngineVersion("1.79.3"), MinimumVersions.envInterpolation))
    assert.isTrue(isAtLeast(parseEngineVersion("2.0.0"), MinimumVersions.envInterpolation))
  })

  it("knows which features 1.57, 1.83 and 2.x have", () => {
    const features = (tag: string) =>
      (Object.keys(MinimumVersions) as Array<Builders.Feature>).filter((f) => supports(parseEngineVersion(tag), f))
    assert.deepStrictEqual(features("1.57.2"), [
      "autoGcBehavior",
      "autoCreateClusterRemotes",
      "rootUserFromEnv",
      "clusterTls",
      "transitionToStandby"
    ])
    assert.notInclude(features("1.57.0"), "clusterTls")
    assert.deepStrictEqual(features("1.83.6"), Object.keys(MinimumVersions))
    assert.deepStrictEqual(features("2.7.3"), Object.keys(MinimumVersions))
  })
})
