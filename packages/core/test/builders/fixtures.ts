/**
 * DoltDB manifests for the builder tests, as a user would write them (defaults absent), and a strict decoder.
 */
import { Schema } from "effect"
import { Api, Builders } from "../../src/index.ts"

export type Manifest = typeof Api.DoltDB.Encoded

const decodeStrict = Schema.decodeUnknownSync(Api.DoltDB, { onExcessProperty: "error" })

/** Decodes a manifest (filling defaults) and fills a missing namespace/uid like `render` does. */
export const decoded = (manifest: unknown): Builders.IdentifiedDoltDB => {
  const result = Builders.identify(decodeStrict(manifest))
  if (result._tag === "MissingName") throw new Error("fixture without metadata.name")
  return result.doltdb
}

/** Returns a copy of `manifest` with `spec` fields replaced. */
export const withSpec = (manifest: Manifest, spec: Partial<Manifest["spec"]>): Manifest => ({
  ...manifest,
  spec: { ...manifest.spec, ...spec }
})

export const standalone: Manifest = {
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "DoltDB",
  metadata: { name: "solo" },
  spec: { engineVersion: "1.83.6", replicas: 1, storage: { size: "10Gi" } }
}

export const twoReplicas: Manifest = {
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "DoltDB",
  metadata: { name: "pair", namespace: "dolt" },
  spec: {
    engineVersion: "1.83.6",
    replicas: 2,
    storage: { size: "20Gi" },
    replication: { enabled: true }
  }
}

/** Three replicas with every option set, on a 2.x engine. */
export const everyOption: Manifest = {
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "DoltDB",
  metadata: {
    name: "full",
    namespace: "prod",
    uid: "6f1c9b0e-3c1d-4a57-9f0e-2b8f1e7d4c21",
    labels: { team: "data", "app.kubernetes.io/part-of": "ledger" },
    annotations: {
      "kubectl.kubernetes.io/last-applied-configuration": '{"kind":"DoltDB"}',
      "example.com/owner": "data-team"
    }
  },
  spec: {
    engineVersion: "2.7.3",
    image: "registry.example.com/dolthub/dolt",
    imagePullSecrets: [{ name: "registry-creds" }],
    serviceAccountName: "full-dolt",
    serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/dolt" },
    securityContext: { fsGroup: 1000, runAsNonRoot: true, runAsUser: 1000 },
    podAnnotations: { "prometheus.io/scrape": "true" },
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: "kubernetes.io/hostname",
              labelSelector: { matchLabels: { "app.kubernetes.io/name": "full" } }
            }
          }
        ]
      }
    },
    tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }],
    nodeSelector: { "node.kubernetes.io/pool": "db" },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { "app.kubernetes.io/name": "full" } }
      }
    ],
    podDisruptionBudget: { maxUnavailable: 1 },
    resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
    storage: {
      size: "50Gi",
      storageClassName: "fast-ssd",
      resizeInUseVolumes: true,
      waitForVolumeResize: false,
      retentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" },
      volumeSnapshot: "full-snapshot-1"
    },
    replicas: 3,
    replication: { enabled: true, primary: { podIndex: 2, automaticFailover: false, minCaughtUpStandby: 2 } },
    updateStrategy: "RollingUpdate",
    terminationGracePeriodSeconds: 45,
    probes: {
      livenessProbe: { initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 5 },
      readinessProbe: { periodSeconds: 3, failureThreshold: 2 }
    },
    server: {
      profiler: { enablePProf: true },
      behavior: { autoGCBehavior: { enabled: true } },
      logLevel: "info",
      metrics: { enabled: true, labels: { cluster: "prod-eu" }, host: "0.0.0.0", port: 9091 },
      listener: { host: "0.0.0.0", port: 3307, maxConnections: 500 },
      cluster: { remotesAPI: { port: 50052 } },
      mcpServer: {
        port: 7008,
        user: "mcp-agent",
        passwordSecretKeyRef: { name: "mcp-credentials", key: "password" },
        database: "ledger"
      }
    },
    globalConfig: {
      disableClientUsageMetricsCollection: true,
      commitAuthor: { name: "Ledger O'Bot", email: "ledger@example.com" }
    },
    env: [{ name: "TZ", value: "UTC" }]
  },
  status: { currentPrimaryPodIndex: 1, currentPrimary: "full-1" }
}

export const scenarios = { standalone, "two-replicas": twoReplicas, "every-option": everyOption } as const
