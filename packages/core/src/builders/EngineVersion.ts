/**
 * The Dolt engine version model: what `spec.engineVersion` (the image tag) tells us about the server that will read
 * the generated config.
 *
 * Dolt parses its sql-server YAML strictly (`yaml.UnmarshalStrict`): an unknown key stops the server at startup.
 * Every config key and engine feature we rely on is therefore gated by the first release that knows it
 * (`MinimumVersions`), and an engine version we cannot parse (`latest`, a digest, a branch build) is treated as
 * `Unknown`, which satisfies no minimum. That is the conservative choice: the config then only carries keys every
 * supported release understands, and features that need a newer engine stay off (the render warns about them).
 */

/** A parsed `major.minor.patch` release. */
export interface ReleaseVersion {
  readonly _tag: "Release"
  readonly major: number
  readonly minor: number
  readonly patch: number
  /** The tag as written in the spec. */
  readonly raw: string
}

/** An image tag that is not a release number: nothing is assumed about it. */
export interface UnknownVersion {
  readonly _tag: "Unknown"
  readonly raw: string
}

export type EngineVersion = ReleaseVersion | UnknownVersion

// `1.83.6`, `v1.83.6`, and `1.83.6-<suffix>` (image variants keep the release's key set); two-part tags are
// accepted as `.0` patch releases.
const releasePattern = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+][0-9A-Za-z.-]+)?$/u

/** Parses an image tag; anything that is not a release number becomes `Unknown`. Never fails. */
export const parseEngineVersion = (raw: string): EngineVersion => {
  const match = releasePattern.exec(raw.trim())
  if (match === null) return { _tag: "Unknown", raw }
  return {
    _tag: "Release",
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: match[3] === undefined ? 0 : Number(match[3]),
    raw
  }
}

/** Orders two releases: negative when `a` is older than `b`. */
export const compareReleases = (a: ReleaseVersion, b: ReleaseVersion): number =>
  a.major !== b.major ? a.major - b.major : a.minor !== b.minor ? a.minor - b.minor : a.patch - b.patch

const release = (major: number, minor: number, patch: number): ReleaseVersion => ({
  _tag: "Release",
  major,
  minor,
  patch,
  raw: `${major}.${minor}.${patch}`
})

/**
 * The first Dolt release that knows each config key or behaviour the builders use (dolt-cluster.md §1.2, §1.3, §9;
 * `minver` tags in dolt's `servercfg/yaml_config.go`). Keys not listed here (`log_level`, `listener.*`,
 * `metrics.{host,port,labels}`, `cluster.*`) predate every release we support.
 */
export const MinimumVersions = {
  /** `behavior.auto_gc_behavior` (and its `enable` key). */
  autoGcBehavior: release(1, 50, 0),
  /** The `mcp_server` block. */
  mcpServer: release(1, 58, 7),
  /** `${VAR}` expansion inside the config file (errors on unset variables; `$$` is a literal `$`). */
  envInterpolation: release(1, 79, 3),
  /** Standby remotes added to the config are created in existing databases at startup (before: startup error). */
  autoCreateClusterRemotes: release(1, 29, 6),
  /** YAML `user`/`password` ignored; the implicit superuser comes from `DOLT_ROOT_PASSWORD` / `DOLT_ROOT_HOST`. */
  rootUserFromEnv: release(1, 49, 0),
  /**
   * Cluster replication over TLS that current peers accept: 1.57.1 dials remotesapi with ALPN disabled
   * (dolt-cluster.md §9). The keys themselves (`listener.tls_*`, `require_secure_transport`,
   * `cluster.remotesapi.tls_*`, `server_name_dns`) predate every release (`minver` 0.0.0), so they are not gated.
   */
  clusterTls: release(1, 57, 1),
  /** `dolt_cluster_transition_to_standby(epoch, min_caught_up)`, used by the preStop hook. */
  transitionToStandby: release(1, 6, 0)
} as const

export type Feature = keyof typeof MinimumVersions

/** Whether the engine is at least `minimum`; an `Unknown` engine satisfies nothing. */
export const isAtLeast = (version: EngineVersion, minimum: ReleaseVersion): boolean =>
  version._tag === "Release" && compareReleases(version, minimum) >= 0

/** Whether the engine supports a feature from `MinimumVersions`. */
export const supports = (version: EngineVersion, feature: Feature): boolean =>
  isAtLeast(version, MinimumVersions[feature])

/** `1.83.6` style rendering of a release (for messages). */
export const formatRelease = (version: ReleaseVersion): string => `${version.major}.${version.minor}.${version.patch}`
