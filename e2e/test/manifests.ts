// Hand-written manifests shaped like the reference operator's children (reference-operator.md §4-§5):
// Secret <name>-credentials, ConfigMap <name>-config with one <name>-<i>.yaml per pod, headless Service
// <name>-internal, and a StatefulSet whose pod runs the `dolt-init` /bin/sh script and then
// `tini -- /usr/local/bin/dolt sql-server --config config.yaml` in /db (the PVC) with exec probes.
// They prove the harness without the operator; they are not the operator's builders.

export const USER = "e2e-admin"
export const PASSWORD = "e2e-Secret-1"

const perPodConfig = (name: string, ns: string, replicas: number, i: number, replication: boolean) => {
  const lines = ["log_level: info", "behavior:", "  auto_gc_behavior:", "    enable: true"]
  if (replication) {
    lines.push("cluster:", "  standby_remotes:")
    for (let j = 0; j < replicas; j++) {
      if (j === i) continue
      lines.push(
        `  - name: ${name}-${j}`,
        `    remote_url_template: http://${name}-${j}.${name}-internal.${ns}:50051/{database}`
      )
    }
    lines.push(
      `  bootstrap_role: ${i === 0 ? "primary" : "standby"}`,
      "  bootstrap_epoch: 1",
      "  remotesapi:",
      "    port: 50051"
    )
  }
  lines.push("listener:", "  host: 0.0.0.0", "  port: 3306", "  max_connections: 128")
  return `${lines.join("\n")}\n`
}

const INIT_SCRIPT = [
  'dolt config --global --add user.name "e2e"',
  'dolt config --global --add user.email "e2e@example.com"',
  "dolt config --global --add metrics.disabled true",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable, expanded by /bin/sh
  "cp /etc/doltdb/${POD_NAME}.yaml config.yaml",
  `if [ -n "$DOLT_PASSWORD" ] && [ ! -f .doltcfg/privileges.db ]; then dolt sql -q "create user '$DOLT_USERNAME' identified by '$DOLT_PASSWORD'; grant all privileges on *.* to '$DOLT_USERNAME' with grant option;"; fi`
].join("\n")

const PROBE = [
  "/bin/sh",
  "-c",
  'dolt --host 127.0.0.1 -u "$DOLT_USERNAME" -p "$DOLT_PASSWORD" --port 3306 --no-tls sql -q "select current_timestamp();"'
]

// Same shape as the reference preStop: a primary hands over to standby at epoch+1 before stopping.
const PRE_STOP = [
  "/bin/sh",
  "-c",
  [
    'q() { dolt --host 127.0.0.1 -u "$DOLT_USERNAME" -p "$DOLT_PASSWORD" --port 3306 --no-tls sql -r csv -q "$1" | tail -n 1; }',
    'role=$(q "select @@global.dolt_cluster_role")',
    'if [ "$role" = primary ]; then epoch=$(q "select @@global.dolt_cluster_role_epoch");',
    "  q \"call dolt_cluster_transition_to_standby('$((epoch + 1))', '1')\" || true; fi",
    "sleep 1"
  ].join("\n")
]

export const doltCluster = (opts: { name: string; namespace: string; replicas: number; replication: boolean }) => {
  const { name, namespace: ns, replicas, replication } = opts
  const labels = { "app.kubernetes.io/name": name }
  const env = [
    { name: "DOLT_ROOT_PATH", value: "/db" },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "DOLT_USERNAME", valueFrom: { secretKeyRef: { name: `${name}-credentials`, key: "admin-user" } } },
    { name: "DOLT_PASSWORD", valueFrom: { secretKeyRef: { name: `${name}-credentials`, key: "admin-password" } } }
  ]
  const mounts = [
    { name: "dolt-config", mountPath: "/etc/doltdb" },
    { name: "dolt-data", mountPath: "/db" }
  ]
  const image = "dolthub/dolt:2.3.1"
  return {
    secret: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-credentials`, namespace: ns },
      stringData: { "admin-user": USER, "admin-password": PASSWORD }
    },
    configMap: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `${name}-config`, namespace: ns, labels },
      data: Object.fromEntries(
        Array.from({ length: replicas }, (_, i) => [
          `${name}-${i}.yaml`,
          perPodConfig(name, ns, replicas, i, replication)
        ])
      )
    },
    headless: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `${name}-internal`, namespace: ns, labels },
      spec: {
        clusterIP: "None",
        publishNotReadyAddresses: true,
        selector: labels,
        ports: [
          { name: "tcp-dolt", port: 3306 },
          { name: "remotesapi", port: 50051 }
        ]
      }
    },
    statefulSet: {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name, namespace: ns, labels },
      spec: {
        selector: { matchLabels: labels },
        serviceName: `${name}-internal`,
        replicas,
        podManagementPolicy: "Parallel",
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 30,
            volumes: [{ name: "dolt-config", configMap: { name: `${name}-config` } }],
            initContainers: [
              {
                name: "dolt-init",
                image,
                workingDir: "/db",
                command: ["/bin/sh", "-c", INIT_SCRIPT],
                env,
                volumeMounts: mounts
              }
            ],
            containers: [
              {
                name: "dolt",
                image,
                workingDir: "/db",
                command: ["tini", "--", "/usr/local/bin/dolt", "sql-server", "--config", "config.yaml"],
                ports: [{ name: "tcp-dolt", containerPort: 3306 }],
                env,
                volumeMounts: mounts,
                readinessProbe: {
                  exec: { command: PROBE },
                  initialDelaySeconds: 1,
                  periodSeconds: 2,
                  timeoutSeconds: 5
                },
                livenessProbe: {
                  exec: { command: PROBE },
                  initialDelaySeconds: 20,
                  periodSeconds: 10,
                  timeoutSeconds: 3
                },
                ...(replication && { lifecycle: { preStop: { exec: { command: PRE_STOP } } } })
              }
            ]
          }
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "dolt-data", labels },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } }
          }
        ]
      }
    }
  }
}
