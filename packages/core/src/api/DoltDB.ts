/**
 * The DoltDB kind: a Dolt sql-server cluster (StatefulSet, Services, ConfigMap, replication).
 *
 * Field for field the reference operator's `k8s.dolthub.com/v1alpha` DoltDB. Differences, all compatible:
 * every default lives here (decoding fills it, the CRD declares it), including the nested ones the reference
 * leaves at 0 when a parent object is omitted (`server.listener.port` and friends); `replicas` must be set;
 * CEL rules reject specs the reference could never converge on (see `DoltDBSpec` below).
 */
import { Schema } from "effect"
import { Bootstrap } from "./Bootstrap.ts"
import { type Invariant, withInvariants } from "./Cel.ts"
import { makeDecoder, makeEncoder } from "./Codec.ts"
import { Condition, defaulted, ObjectMeta, withDefault } from "./Common.ts"
import { GlobalConfig, Server } from "./DoltDBServer.ts"
import { parseGoDuration } from "./GoDuration.ts"
import { ApiVersion } from "./Group.ts"
import {
  Affinity,
  EnvVar,
  LocalObjectReference,
  PodSecurityContext,
  Probe,
  ResourceRequirements,
  SecurityContext,
  StatefulSetPersistentVolumeClaimRetentionPolicy,
  Toleration,
  TopologySpreadConstraint
} from "./k8s/Models.generated.ts"
import {
  Duration,
  Int32,
  Int64,
  Integer,
  IntOrString,
  NonNegativeDuration,
  PositiveQuantity,
  Time
} from "./k8s/Primitives.ts"
import { compareQuantities } from "./Quantity.ts"
import { DefaultCertificateDuration, MinCertificateDurationMillis, NetworkPolicy, Tls } from "./Tls.ts"

export * from "./Bootstrap.ts"
export * from "./DoltDBServer.ts"
export * from "./Tls.ts"

const StringMap = Schema.Record(Schema.String, Schema.String)

/**
 * At most 32 replicas. Dolt's direct-to-standby replication has the primary push every commit to every standby, so
 * its work grows with each replica, and the ConfigMap lists every peer in every pod's config, growing with the
 * square: ~200 KB at 32 replicas with long names, ~1 MiB (the API server's ConfigMap limit) near 72. HA needs 2-5.
 */
export const MaxReplicas = 32

/** An image tag (the distribution spec's grammar): `engineVersion` becomes one. */
export const ImageTagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/u
/** An image name without tag or digest: lower-case path components, an optional registry host[:port]. */
export const ImageNamePattern =
  /^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]+)?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/u
/** A DNS-1123 subdomain (ServiceAccount names). */
export const DnsSubdomainPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/u
/** A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
export const QualifiedNamePattern =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/u
/**
 * DoltDB names: a DNS-1035 label (Services are named after it) of at most 52 characters (the StatefulSet's pods carry
 * `controller-revision-hash: <name>-<10 characters>`, a label value of at most 63).
 */
export const DoltDBNamePattern = /^[a-z]([-a-z0-9]{0,50}[a-z0-9])?$/u
export const DoltDBNameMaxLength = 52

export const PodDisruptionBudget = Schema.Struct({
  minAvailable: Schema.optionalKey(
    IntOrString.annotate({ description: "MinAvailable defines the number of minimum available Pods." })
  ),
  maxUnavailable: Schema.optionalKey(
    IntOrString.annotate({ description: "MaxUnavailable defines the number of maximum unavailable Pods." })
  )
}).annotate({ description: "PodDisruptionBudget is the Pod availability budget for a DoltDB." })
export type PodDisruptionBudget = typeof PodDisruptionBudget.Type

export const Storage = Schema.Struct({
  size: PositiveQuantity.annotate({
    description: "Size specifies the size of the volume for the Dolt Cluster (greater than zero)."
  }).pipe(withDefault("100Gi")),
  storageClassName: Schema.optionalKey(
    Schema.String.annotate({
      description:
        "StorageClassName defines the storage class for the volume. If not specified, the default storage class of the Kubernetes cluster will be used."
    })
  ),
  resizeInUseVolumes: Schema.Boolean.annotate({
    description:
      "ResizeInUseVolumes indicates whether the PersistentVolumeClaims (PVCs) can be resized while in use. The StorageClass used should have 'allowVolumeExpansion' set to 'true' to allow resizing."
  }).pipe(withDefault(true)),
  waitForVolumeResize: Schema.Boolean.annotate({
    description:
      "WaitForVolumeResize indicates whether to wait for the PVCs to be resized before marking the DoltDB object as ready. This will block other operations such as cluster recovery while the resize is in progress."
  }).pipe(withDefault(true)),
  retentionPolicy: StatefulSetPersistentVolumeClaimRetentionPolicy.annotate({
    description:
      "RetentionPolicy describes the policy used for PVCs created from the StatefulSet VolumeClaimTemplates. By default the PVCs are retained on deletion and on scale-down."
  }).pipe(withDefault({ whenDeleted: "Retain", whenScaled: "Retain" })),
  volumeSnapshot: Schema.optionalKey(
    Schema.String.annotate({
      description:
        "VolumeSnapshot is the name of a VolumeSnapshot used as the data source of the volume claim template (restore)."
    })
  )
}).pipe(
  withInvariants([
    // The pattern covers string sizes; an integer size needs this rule (the decoder checks both: PositiveQuantity).
    {
      cel: {
        rule: "!has(self.size) || quantity(string(self.size)).compareTo(quantity('0')) > 0",
        message: "storage.size must be greater than zero",
        fieldPath: ".size",
        reason: "FieldValueInvalid"
      }
    },
    {
      cel: {
        rule: "!has(oldSelf.size) || !has(self.size) || quantity(string(self.size)).compareTo(quantity(string(oldSelf.size))) >= 0",
        message: "storage.size may not shrink",
        fieldPath: ".size",
        reason: "FieldValueForbidden"
      }
    }
  ])
)
export type Storage = typeof Storage.Type

export const PrimaryReplication = Schema.Struct({
  podIndex: Integer.check(Schema.isGreaterThanOrEqualTo(0))
    .annotate({
      description:
        "PodIndex is the StatefulSet index of the primary node. The user may change this field to perform a manual switchover."
    })
    .pipe(withDefault(0)),
  automaticFailover: Schema.Boolean.annotate({
    description:
      "AutomaticFailover indicates whether the operator should automatically fail over to a caught-up standby when the primary is lost."
  }).pipe(withDefault(true)),
  minCaughtUpStandby: Schema.optionalKey(
    Integer.annotate({
      description:
        "MinCaughtUpStandby is the minimum number of standbys that must be caught up before a primary failover can occur."
    })
  ),
  failoverDelay: Schema.optionalKey(
    NonNegativeDuration.annotate({
      description:
        "FailoverDelay is how long the primary must stay unavailable before an automatic failover starts, so that one missed probe is not a failover (default: the operator's --failover-delay, 3s)."
    })
  ),
  allowUnsafeFailover: Schema.optionalKey(
    Schema.Boolean.annotate({
      description:
        "AllowUnsafeFailover lets an automatic failover promote the freshest standby even when none is provably caught up with the lost primary. Writes acknowledged by the old primary but not replicated are then lost. Default false: the operator refuses and reports why."
    })
  ),
  maxLagOnFailover: Schema.optionalKey(
    Duration.annotate({
      description:
        "MaxLagOnFailover is how far behind the primary (its replication lag, as the primary reports it) a standby may be and still count as caught up for an automatic failover. With asynchronous replication, writes the primary acknowledged within that window before it was lost may be missing on the promoted standby; the failover event names the window. Default 5s; 0s accepts only a standby the primary reported fully caught up."
    })
  )
}).annotate({ description: "Primary is the replication configuration for the primary node." })
export type PrimaryReplication = typeof PrimaryReplication.Type

export const IsolationGuard = Schema.Struct({
  enabled: Schema.Boolean.annotate({
    description:
      "Enabled runs the isolation guard: a sidecar (the operator image in guard mode) in every Dolt pod that demotes its primary to standby when it can reach neither the API server nor any peer for longer than threshold, so a primary on a partitioned node stops taking writes before another is promoted. With it, the operator promotes past an unreachable primary only once the guard's threshold has certainly passed. Enabling it restarts the pods (the template gains a container). See docs/guard.md."
  }).pipe(withDefault(false)),
  threshold: Schema.optionalKey(
    Duration.annotate({
      description:
        "Threshold is how long a primary may be cut off from the API server and from every peer before its writes stop: the guard demotes it (read-only at once) just before the threshold (default 5s, at least 1s). A longer threshold tolerates longer blips but delays the failover of an unreachable primary by as much."
    })
  ),
  image: Schema.optionalKey(
    Schema.String.check(Schema.isMinLength(1)).annotate({
      description:
        "Image is the guard's container image: the operator image, whose entrypoint is the doltdb-operator binary (default: the operator image of this release)."
    })
  )
}).annotate({
  description:
    "IsolationGuard configures the in-pod guard that stops writes on a primary cut off from the API server and its peers."
})
export type IsolationGuard = typeof IsolationGuard.Type

export const Replication = Schema.Struct({
  enabled: Schema.Boolean.annotate({ description: "Enabled is a flag to enable Replication." }).pipe(
    withDefault(false)
  ),
  primary: PrimaryReplication.pipe(defaulted),
  guard: Schema.optionalKey(IsolationGuard)
}).annotate({
  description:
    "Replication configures primary/standby replication (Dolt direct-to-standby cluster mode) between the pods."
})
export type Replication = typeof Replication.Type

export const Probes = Schema.Struct({
  livenessProbe: Probe.annotate({ description: "LivenessProbe defines the liveness probe for the pod." }).pipe(
    withDefault({ initialDelaySeconds: 15, periodSeconds: 40 })
  ),
  readinessProbe: Probe.annotate({ description: "ReadinessProbe defines the readiness probe for the pod." }).pipe(
    withDefault({ initialDelaySeconds: 15, periodSeconds: 40 })
  )
}).annotate({
  description:
    "Probes defines the liveness and readiness probes for the DoltDB pods. Only the timing fields are used: the operator always sets the handler. When omitted entirely the operator's own probe timings apply."
})
export type Probes = typeof Probes.Type

export const Tenancy = Schema.Struct({
  allowedNamespaces: Schema.optionalKey(
    Schema.Array(
      Schema.String.check(
        Schema.isMaxLength(63),
        Schema.isPattern(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/u, { expected: "a namespace name (RFC 1123 label)" })
      )
    )
      .check(Schema.isMaxLength(256))
      .annotate({
        description:
          "AllowedNamespaces lists the namespaces, besides the DoltDB's own, whose Database, User and Grant objects may manage SQL objects in this DoltDB. Objects from those namespaces never adopt existing databases or accounts, never touch the admin account, and grant only on databases created by Database objects of their own namespace. Default: none (same namespace only)."
      })
  )
}).annotate({
  description: "Tenancy says which other namespaces may attach SQL resources (Database, User, Grant) to this DoltDB."
})
export type Tenancy = typeof Tenancy.Type

export const ReplicationStrategy = Schema.Literals(["DirectStandby", "Remote"])
export const UpdateStrategy = Schema.Literals(["ReplicasFirstPrimaryLast", "RollingUpdate", "OnDelete", "Never"])
export type UpdateStrategy = typeof UpdateStrategy.Type

const DoltDBSpecFields = Schema.Struct({
  engineVersion: Schema.String.check(
    Schema.isMinLength(1),
    Schema.isPattern(ImageTagPattern, {
      expected: "an image tag (letters, digits, '_', '.', '-'; not starting with '.' or '-'; at most 128), e.g. 1.86.4"
    })
  )
    .annotate({
      description:
        "EngineVersion defines the version of the Dolt DB server to use: the image tag and the app.kubernetes.io/version label."
    })
    .pipe(Schema.annotateKey({ messageMissingKey: "engineVersion is required (the Dolt version, e.g. 1.83.6)" })),
  serviceAccountName: Schema.optionalKey(
    Schema.String.check(
      Schema.isMaxLength(253),
      Schema.isPattern(DnsSubdomainPattern, { expected: "a ServiceAccount name (lower-case DNS subdomain)" })
    ).annotate({
      description:
        "ServiceAccountName defines the service account used by the pods. Defaults to the DoltDB name; the operator creates or patches it."
    })
  ),
  serviceAccountAnnotations: Schema.optionalKey(
    StringMap.annotate({
      description:
        "ServiceAccountAnnotations are merged into the service account's annotations (e.g. for IRSA or Workload Identity)."
    })
  ),
  image: Schema.String.check(
    Schema.isPattern(ImageNamePattern, {
      expected: "an image name without tag or digest (e.g. dolthub/dolt or registry.example.com:5000/dolt)"
    })
  )
    .annotate({
      description: "Image specifies the container image name for the Dolt DB server; the tag is engineVersion."
    })
    .pipe(withDefault("dolthub/dolt")),
  imagePullSecrets: Schema.optionalKey(
    Schema.Array(LocalObjectReference).annotate({
      description: "ImagePullSecrets specifies the secrets to use for pulling the container image."
    })
  ),
  securityContext: PodSecurityContext.annotate({
    description:
      "PodSecurityContext defines the security context for the pod. Each field set here replaces the operator's default, which passes the restricted Pod Security Standard: runAsNonRoot, runAsUser/runAsGroup/fsGroup 1000, fsGroupChangePolicy OnRootMismatch, seccompProfile RuntimeDefault."
  }).pipe(defaulted),
  containerSecurityContext: Schema.optionalKey(
    SecurityContext.annotate({
      description:
        "ContainerSecurityContext is the security context of the Dolt containers. Each field set here replaces the operator's default: allowPrivilegeEscalation false, capabilities drop ALL, readOnlyRootFilesystem true, runAsNonRoot true, seccompProfile RuntimeDefault."
    })
  ),
  podAnnotations: Schema.optionalKey(
    // Bounded so the API server can afford the CEL rule on its keys (and a hostile spec stays small).
    StringMap.check(Schema.isMaxProperties(128)).annotate({
      description: "PodAnnotations defines the annotations for the pod (at most 128)."
    })
  ),
  affinity: Schema.optionalKey(Affinity.annotate({ description: "Affinity defines the affinity rules for the pod." })),
  tolerations: Schema.optionalKey(
    Schema.Array(Toleration).annotate({ description: "Tolerations defines the tolerations for the pod." })
  ),
  nodeSelector: Schema.optionalKey(
    StringMap.annotate({ description: "NodeSelector defines the node selector for the pod." })
  ),
  podDisruptionBudget: Schema.optionalKey(PodDisruptionBudget),
  resources: Schema.optionalKey(
    ResourceRequirements.annotate({ description: "Resources defines the resource requirements for the pod." })
  ),
  storage: Storage.annotate({ description: "Storage defines the volume configuration for the Dolt cluster." }).pipe(
    Schema.annotateKey({ messageMissingKey: "storage is required (e.g. storage: { size: 10Gi })" })
  ),
  replicas: Int32.check(
    Schema.isBetween({ minimum: 1, maximum: MaxReplicas }, { expected: `between 1 and ${MaxReplicas}` })
  )
    .annotate({
      description:
        "Replicas specifies the number of pods of the Dolt cluster (1 to 32). Required: a DoltDB without replicas never starts."
    })
    .pipe(
      Schema.annotateKey({
        messageMissingKey:
          "replicas is required: set spec.replicas to 1 or more (a DoltDB without replicas never starts)"
      })
    ),
  maxConnections: Int32.check(Schema.isGreaterThanOrEqualTo(10))
    .annotate({
      description: "DEPRECATED and unused: use server.listener.maxConnections. Kept for manifest compatibility."
    })
    .pipe(withDefault(128)),
  replicationStrategy: ReplicationStrategy.annotate({
    description:
      "ReplicationStrategy specifies the type of replication for the Dolt cluster: DirectStandby (direct-to-standby replication) or Remote. Only DirectStandby is implemented."
  }).pipe(withDefault("DirectStandby")),
  autoMinorVersionUpgrade: Schema.Boolean.annotate({
    description: "AutoMinorVersionUpgrade enables or disables automatic minor version upgrades (unused)."
  }).pipe(withDefault(false)),
  updateStrategy: UpdateStrategy.annotate({
    description:
      "UpdateStrategy defines how pod template changes roll out: ReplicasFirstPrimaryLast (standbys one by one, then a switchover away from the primary), RollingUpdate and OnDelete (the StatefulSet strategies), or Never."
  }).pipe(withDefault("ReplicasFirstPrimaryLast")),
  replication: Replication.pipe(defaulted),
  terminationGracePeriodSeconds: Int64.check(Schema.isGreaterThanOrEqualTo(0))
    .annotate({ description: "TerminationGracePeriodSeconds is the pods' termination grace period." })
    .pipe(withDefault(60)),
  topologySpreadConstraints: Schema.optionalKey(
    Schema.Array(TopologySpreadConstraint).annotate({
      description: "TopologySpreadConstraints defines the topology spread constraints for the pod."
    })
  ),
  probes: Schema.optionalKey(Probes),
  server: Server.pipe(defaulted),
  globalConfig: GlobalConfig.pipe(defaulted),
  env: Schema.optionalKey(
    Schema.Array(EnvVar).annotate({
      description: "Env is appended after the built-in environment variables of the Dolt containers."
    })
  ),
  tenancy: Schema.optionalKey(Tenancy),
  bootstrap: Schema.optionalKey(Bootstrap),
  tls: Schema.optionalKey(Tls),
  networkPolicy: Schema.optionalKey(NetworkPolicy)
})

type SpecType = typeof DoltDBSpecFields.Type

const tlsOn = (x: string) => `(has(${x}.tls) && has(${x}.tls.enabled) && ${x}.tls.enabled)`
const replicated = (x: string) => `(has(${x}.replication) && has(${x}.replication.enabled) && ${x}.replication.enabled)`
const TlsToggleMessage =
  "tls.enabled cannot change while the DoltDB is replicated: the rolling restart would leave servers on both transports, unable to replicate to each other or be reached by the operator; disable replication (replicas: 1) first, change tls.enabled, then enable replication again"

/**
 * Turning TLS on or off changes how every server is reached (SQL and replication), and a rolling restart cannot
 * move a replicated cluster from one transport to the other: refused at admission rather than stalled mid-rollout.
 */
const tlsToggleInvariant: Invariant<SpecType> = {
  cel: {
    rule: `${tlsOn("self")} == ${tlsOn("oldSelf")} || (!${replicated("self")} && !${replicated("oldSelf")})`,
    message: TlsToggleMessage,
    fieldPath: ".tls.enabled",
    reason: "FieldValueForbidden"
  }
}

/**
 * Invariants the reference only found at reconcile time (or never), so no working manifest trips them.
 * (`replicas` itself is simply required: without it the reference never converged either.)
 */
export const doltDBSpecInvariants: ReadonlyArray<Invariant<SpecType>> = [
  {
    cel: {
      rule: "!has(self.replicas) || !has(self.replication) || !has(self.replication.enabled) || !self.replication.enabled || self.replicas >= 2",
      message: "replication cannot be enabled with a single replica: set replicas to 2 or more, or disable replication",
      fieldPath: ".replication.enabled",
      reason: "FieldValueInvalid"
    },
    holds: (spec) => !spec.replication.enabled || spec.replicas >= 2
  },
  {
    cel: {
      rule: "!has(self.replicas) || !has(self.replication) || !has(self.replication.enabled) || !self.replication.enabled || !has(self.replication.primary) || !has(self.replication.primary.podIndex) || self.replication.primary.podIndex < self.replicas",
      message: "replication.primary.podIndex must be lower than replicas",
      fieldPath: ".replication.primary.podIndex",
      reason: "FieldValueInvalid"
    },
    holds: (spec) => !spec.replication.enabled || spec.replication.primary.podIndex < spec.replicas
  },
  {
    cel: {
      rule: "!has(self.bootstrap) || !has(self.bootstrap.from) || !has(self.bootstrap.from.volumeSnapshot) || !has(self.storage) || !has(self.storage.volumeSnapshot) || self.storage.volumeSnapshot == '' || self.storage.volumeSnapshot == self.bootstrap.from.volumeSnapshot",
      message: "storage.volumeSnapshot and bootstrap.from.volumeSnapshot name different VolumeSnapshots: set only one",
      fieldPath: ".bootstrap.from.volumeSnapshot",
      reason: "FieldValueInvalid"
    },
    holds: (spec) =>
      spec.bootstrap?.from?.volumeSnapshot === undefined ||
      spec.storage.volumeSnapshot === undefined ||
      spec.storage.volumeSnapshot === "" ||
      spec.storage.volumeSnapshot === spec.bootstrap.from.volumeSnapshot
  },
  {
    cel: {
      rule: "!has(self.server) || !has(self.server.cluster) || !has(self.server.cluster.remotesAPI) || !has(self.server.cluster.remotesAPI.port) || self.server.cluster.remotesAPI.port != (has(self.server.listener) && has(self.server.listener.port) ? self.server.listener.port : 3306)",
      message: "server.cluster.remotesAPI.port must differ from server.listener.port",
      fieldPath: ".server.cluster.remotesAPI.port",
      reason: "FieldValueInvalid"
    },
    holds: (spec) => spec.server.cluster.remotesAPI.port !== spec.server.listener.port
  },
  {
    cel: {
      rule: "!has(self.server) || !has(self.server.metrics) || !has(self.server.metrics.enabled) || !self.server.metrics.enabled || !has(self.server.metrics.port) || self.server.metrics.port != (has(self.server.listener) && has(self.server.listener.port) ? self.server.listener.port : 3306)",
      message: "server.metrics.port must differ from server.listener.port",
      fieldPath: ".server.metrics.port",
      reason: "FieldValueInvalid"
    },
    holds: (spec) => !spec.server.metrics.enabled || spec.server.metrics.port !== spec.server.listener.port
  },
  {
    cel: {
      rule: `!has(self.podAnnotations) || self.podAnnotations.all(k, k.size() <= 316 && k.matches('${QualifiedNamePattern.source.replaceAll("\\", "\\\\")}'))`,
      message:
        "podAnnotations keys must be qualified names ([prefix/]name: letters, digits, '-', '_', '.'; no spaces or newlines)",
      fieldPath: ".podAnnotations",
      reason: "FieldValueInvalid"
    },
    holds: (spec) =>
      Object.keys(spec.podAnnotations ?? {}).every((k) => k.length <= 316 && QualifiedNamePattern.test(k))
  },
  {
    cel: {
      rule: "!has(self.tls) || !has(self.tls.requireSecureTransport) || !self.tls.requireSecureTransport || (has(self.tls.enabled) && self.tls.enabled)",
      message: "tls.requireSecureTransport needs tls.enabled: a server without TLS cannot refuse plaintext clients",
      fieldPath: ".tls.requireSecureTransport",
      reason: "FieldValueInvalid"
    },
    holds: (spec) => spec.tls === undefined || !spec.tls.requireSecureTransport || spec.tls.enabled
  },
  {
    cel: {
      rule: "!has(self.tls) || !has(self.tls.certificateDuration) || duration(self.tls.certificateDuration) >= duration('1h')",
      message: "tls.certificateDuration must be at least 1h",
      fieldPath: ".tls.certificateDuration",
      reason: "FieldValueInvalid"
    },
    holds: (spec) =>
      spec.tls?.certificateDuration === undefined ||
      (parseGoDuration(spec.tls.certificateDuration) ?? 0) >= MinCertificateDurationMillis
  },
  {
    cel: {
      rule: "!has(self.tls) || !has(self.tls.renewBefore) || (duration(self.tls.renewBefore) > duration('0s') && duration(self.tls.renewBefore) < duration(has(self.tls.certificateDuration) ? self.tls.certificateDuration : '2160h'))",
      message: "tls.renewBefore must be positive and shorter than tls.certificateDuration",
      fieldPath: ".tls.renewBefore",
      reason: "FieldValueInvalid"
    },
    holds: (spec) => {
      if (spec.tls?.renewBefore === undefined) return true
      const renew = parseGoDuration(spec.tls.renewBefore) ?? 0
      const lifetime = parseGoDuration(spec.tls.certificateDuration ?? DefaultCertificateDuration) ?? 0
      return renew > 0 && renew < lifetime
    }
  },
  tlsToggleInvariant
]

export const DoltDBSpec = DoltDBSpecFields.annotate({
  description: "DoltDBSpec defines the desired state of DoltDB."
}).pipe(withInvariants(doltDBSpecInvariants))
export type DoltDBSpec = typeof DoltDBSpec.Type

export const ReplicationState = Schema.Literals(["primary", "standby", "not_configured"])
export type ReplicationState = typeof ReplicationState.Type

export const PrimaryTransition = Schema.Struct({
  kind: Schema.Literals(["Switchover", "Failover", "Repair"]).annotate({ description: "Kind of primary change." }),
  from: Integer.annotate({ description: "From is the Pod index of the primary being replaced." }),
  to: Integer.annotate({ description: "To is the Pod index being promoted." }),
  epoch: Integer.annotate({ description: "Epoch is the Dolt cluster epoch of the new roles." }),
  fromPodUid: Schema.optionalKey(
    Schema.String.annotate({ description: "FromPodUid is the uid of the old primary's Pod when the change started." })
  ),
  startedAt: Time.annotate({ description: "StartedAt is when the change started." }),
  targetConfirmed: Schema.optionalKey(
    Schema.Boolean.annotate({
      description:
        "TargetConfirmed is set once a switchover's drain ended with the target holding the drained primary's final state; the target is promoted only then."
    })
  ),
  fromPodGuarded: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "FromPodGuarded is true when the old primary's Pod ran the isolation guard when the change started."
    })
  ),
  fencingSince: Schema.optionalKey(
    Time.annotate({
      description:
        "FencingSince is when the operator first read this failover back from status; the old primary's guard has demoted it by fencingSince + threshold + margin."
    })
  ),
  abandonedTargetUid: Schema.optionalKey(
    Schema.String.annotate({
      description:
        "AbandonedTargetUid is the uid of the target's Pod when it became unreachable after it may have been promoted; no other Pod is promoted until that Pod is gone (and, if it ran the isolation guard, its threshold has passed)."
    })
  ),
  abandonedTargetSince: Schema.optionalKey(
    Time.annotate({ description: "AbandonedTargetSince is when the operator started fencing the abandoned target." })
  )
}).annotate({ description: "A primary change in progress." })
export type PrimaryTransition = typeof PrimaryTransition.Type

export const StandbyEvidence = Schema.Struct({
  pod: Schema.String.annotate({ description: "Pod is the standby's Pod name." }),
  caughtUp: Schema.Boolean.annotate({
    description:
      "CaughtUp is whether the primary reported this standby at its position (lag within maxLagOnFailover, no replication error, every database) at each look since `since`."
  }),
  since: Time.annotate({
    description: "Since is when the operator first saw this verdict (it holds until it changes)."
  })
}).annotate({ description: "What the primary last reported about one standby." })
export type StandbyEvidence = typeof StandbyEvidence.Type

export const ReplicationEvidence = Schema.Struct({
  primary: Integer.annotate({ description: "Primary is the Pod index of the primary that reported it." }),
  epoch: Integer.annotate({ description: "Epoch is that primary's epoch." }),
  databases: Schema.Array(Schema.String).annotate({
    description: "Databases are the databases that primary holds: a server lacking one is never promoted."
  }),
  standbys: Schema.Array(StandbyEvidence).annotate({ description: "Standbys: the verdict on each standby." })
}).annotate({
  description:
    "ReplicationEvidence records, when it changes, how caught up each standby is as the serving primary reports it; after the primary is lost it is the evidence a failover is judged on (a standby's own last_update is lost when it restarts)."
})
export type ReplicationEvidence = typeof ReplicationEvidence.Type

export const SwitchoverBackoff = Schema.Struct({
  podIndex: Integer.annotate({ description: "PodIndex is the Pod index the aborted switchover went to." }),
  attempts: Integer.annotate({ description: "Attempts is how many switchovers to that index aborted in a row." }),
  retryAt: Time.annotate({ description: "RetryAt is when the switchover is re-attempted." })
}).annotate({
  description:
    "SwitchoverBackoff records an aborted switchover (the target did not confirm the drained primary's final state): the request stays pending and is re-attempted at retryAt, the delay doubling with each abort (5s to 30s)."
})
export type SwitchoverBackoff = typeof SwitchoverBackoff.Type

export const ShortenedAckWait = Schema.Struct({
  podIndex: Integer.annotate({ description: "PodIndex is the Pod whose server runs with the lowered wait." }),
  seconds: Integer.annotate({
    description: "Seconds is the dolt_cluster_ack_writes_timeout_secs the server ran with before, restored later."
  })
}).annotate({
  description:
    "ShortenedAckWait records that the operator lowered dolt_cluster_ack_writes_timeout_secs to 1 on a server it promoted while a standby was down (SET GLOBAL: that process only), so commits do not each wait the full timeout for a standby that cannot answer; it is set back to seconds once every standby replicates again or the server is no longer primary."
})
export type ShortenedAckWait = typeof ShortenedAckWait.Type

export const DoltDBStatus = Schema.Struct({
  conditions: Schema.optionalKey(
    Schema.Array(Condition).annotate({ description: "Conditions for the Dolt cluster object." })
  ),
  currentPrimaryPodIndex: Schema.optionalKey(
    Integer.annotate({ description: "CurrentPrimaryPodIndex is the primary Pod index." })
  ),
  currentPrimary: Schema.optionalKey(Schema.String.annotate({ description: "CurrentPrimary is the primary Pod." })),
  replicas: Schema.optionalKey(Int32.annotate({ description: "Replicas is the number of ready replicas." })),
  replicationStatus: Schema.optionalKey(
    Schema.Record(Schema.String, ReplicationState).annotate({
      description: "ReplicationStatus is the replication state (primary, standby, not_configured) of each healthy Pod."
    })
  ),
  replicationEpoch: Schema.optionalKey(
    Integer.annotate({
      description: "ReplicationEpoch holds the highest Dolt cluster epoch observed; it never decreases."
    })
  ),
  observedGeneration: Schema.optionalKey(
    Int64.annotate({ description: "ObservedGeneration is the metadata.generation the status was computed from." })
  ),
  primaryTransition: Schema.optionalKey(
    PrimaryTransition.annotate({
      description:
        "PrimaryTransition is the primary change in progress (switchover, failover or repair), recorded before its first step so that it resumes after an operator restart."
    })
  ),
  primaryUnavailableSince: Schema.optionalKey(
    Time.annotate({
      description: "PrimaryUnavailableSince is when the operator first saw the current primary unavailable."
    })
  ),
  mesh: Schema.optionalKey(
    Schema.Struct({
      replicas: Integer.annotate({ description: "Replicas is the replica count the per-pod peer lists describe." }),
      since: Time.annotate({
        description: "Since is when the peer lists last changed; pods created before then restart (replication-aware)."
      })
    }).annotate({
      description:
        "Mesh records the replication peer list in the ConfigMap, so pods that started with an older list are restarted one at a time (a running Dolt reads its peers at startup only)."
    })
  ),
  primaryRequest: Schema.optionalKey(
    Integer.annotate({
      description:
        "PrimaryRequest is the spec.replication.primary.podIndex the operator last acted on. A switchover is requested by changing podIndex; after a failover the operator does not switch back on its own and never writes the spec."
    })
  ),
  replicationEvidence: Schema.optionalKey(ReplicationEvidence),
  switchoverBackoff: Schema.optionalKey(SwitchoverBackoff),
  shortenedAckWait: Schema.optionalKey(
    ShortenedAckWait.annotate({
      description:
        "ShortenedAckWait is the single record earlier operator versions kept; it is read as one of shortenedAckWaits and no longer written."
    })
  ),
  shortenedAckWaits: Schema.optionalKey(
    Schema.Array(ShortenedAckWait).annotate({
      description:
        "ShortenedAckWaits are the servers the operator lowered dolt_cluster_ack_writes_timeout_secs on, at most one record per Pod: a promotion while an earlier record is pending (the previous primary crashed too) lowers the new primary as well, and each is set back on its own."
    })
  )
}).annotate({ description: "DoltDBStatus defines the observed state of DoltDB." })
export type DoltDBStatus = typeof DoltDBStatus.Type

const DoltDBMetadata = ObjectMeta.check(
  Schema.makeFilter((meta) =>
    meta.name === undefined || DoltDBNamePattern.test(meta.name)
      ? undefined
      : {
          path: ["name"],
          issue: `must be a lower-case DNS label of at most ${DoltDBNameMaxLength} characters starting with a letter (its Services and pods are named after it), got ${JSON.stringify(meta.name.length > 80 ? `${meta.name.slice(0, 80)}...` : meta.name)}`
        }
  )
)

export const DoltDB = Schema.Struct({
  apiVersion: Schema.Literal(ApiVersion),
  kind: Schema.Literal("DoltDB"),
  metadata: DoltDBMetadata,
  spec: DoltDBSpec,
  status: Schema.optionalKey(DoltDBStatus)
}).annotate({ description: "DoltDB is a Dolt sql-server cluster with optional primary/standby replication." })
export type DoltDB = typeof DoltDB.Type
/** The wire (manifest) form of a DoltDB: defaults may be absent. */
export type DoltDBEncoded = typeof DoltDB.Encoded

/**
 * The transition rules of a DoltDB update, for callers that have both objects (the CRD enforces the same
 * through CEL with `oldSelf`). Returns the violated rules as `{ path, message }`.
 */
export const doltDBUpdateViolations = (
  previous: DoltDBSpec,
  next: DoltDBSpec
): ReadonlyArray<{ readonly path: string; readonly message: string }> => [
  ...(compareQuantities(next.storage.size, previous.storage.size) < 0
    ? [{ path: "spec.storage.size", message: "storage.size may not shrink" }]
    : []),
  ...((previous.tls?.enabled === true) !== (next.tls?.enabled === true) &&
  (previous.replication.enabled || next.replication.enabled)
    ? [{ path: "spec.tls.enabled", message: TlsToggleMessage }]
    : [])
]

/** Decodes (and defaults) a DoltDB; fails with `ApiValidationError` naming each bad field. */
export const decodeDoltDB = makeDecoder("DoltDB", DoltDB)
/** Encodes a DoltDB to its wire form (defaults written out). */
export const encodeDoltDB = makeEncoder("DoltDB", DoltDB)
