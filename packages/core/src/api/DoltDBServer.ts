/**
 * The Dolt sql-server settings of a DoltDB (`spec.server`) and Dolt's global config (`spec.globalConfig`).
 * Every parent object defaults to `{}` so the nested defaults (listener port 3306, remotesapi port 50051, ...)
 * apply even when the manifest omits the parent, which the reference's CRD did not do.
 */
import { Schema } from "effect"
import { defaulted, SecretKeySelector, withDefault } from "./Common.ts"
import { Int32 } from "./k8s/Primitives.ts"

const StringMap = Schema.Record(Schema.String, Schema.String)
const Port = Int32.check(Schema.isBetween({ minimum: 1, maximum: 65535 }, { expected: "a port between 1 and 65535" }))

export const Profiler = Schema.Struct({
  enablePProf: Schema.Boolean.annotate({
    description: "EnablePProf starts Dolt with the pprof server (container port 6060)."
  }).pipe(withDefault(false))
}).annotate({ description: "Profiler defines the profiler configuration for the DoltDB server." })

export const AutoGCBehavior = Schema.Struct({
  enabled: Schema.Boolean.annotate({ description: "Enabled is a flag to enable the auto GC behavior." }).pipe(
    withDefault(false)
  )
}).annotate({ description: "AutoGCBehavior defines the auto GC behavior for the DoltDB server." })

export const Behavior = Schema.Struct({
  autoGCBehavior: AutoGCBehavior.pipe(defaulted)
}).annotate({ description: "Behavior defines the behavior configuration for the DoltDB server." })

export const Metrics = Schema.Struct({
  enabled: Schema.Boolean.annotate({ description: "Enabled is a flag to enable the metrics server." }).pipe(
    withDefault(false)
  ),
  labels: Schema.optionalKey(StringMap.annotate({ description: "Labels defines the labels for the metrics server." })),
  host: Schema.String.annotate({ description: "Host defines the host for the metrics server." }).pipe(
    withDefault("0.0.0.0")
  ),
  port: Port.annotate({ description: "Port defines the port for the metrics server." }).pipe(withDefault(11228))
}).annotate({ description: "Metrics defines the metrics configuration for the DoltDB server." })

export const Listener = Schema.Struct({
  host: Schema.String.annotate({ description: "Host defines the address the SQL server listens on." }).pipe(
    withDefault("0.0.0.0")
  ),
  port: Port.annotate({ description: "Port defines the port of the SQL server." }).pipe(withDefault(3306)),
  maxConnections: Int32.check(Schema.isGreaterThanOrEqualTo(10))
    .annotate({ description: "MaxConnections specifies the maximum number of connections for DoltDB." })
    .pipe(withDefault(1024))
}).annotate({ description: "Listener defines the listener configuration for the DoltDB server." })

export const RemotesAPI = Schema.Struct({
  port: Port.annotate({ description: "Port defines the port for the remotes API." }).pipe(withDefault(50051))
}).annotate({ description: "RemotesAPI defines the remotes API configuration for the DoltDB server." })

export const ServerCluster = Schema.Struct({
  remotesAPI: RemotesAPI.pipe(defaulted)
}).annotate({ description: "Cluster defines the cluster configuration for the DoltDB server." })

export const MCPServer = Schema.Struct({
  port: Int32.check(Schema.isBetween({ minimum: 1024, maximum: 49151 }))
    .annotate({ description: "Port defines the HTTP port for the MCP server." })
    .pipe(withDefault(7007)),
  user: Schema.optionalKey(
    Schema.String.annotate({
      description:
        "User defines the SQL user the MCP server uses to connect to Dolt. Defaults to the root user configured for the DoltDB instance."
    })
  ),
  passwordSecretKeyRef: Schema.optionalKey(
    SecretKeySelector.annotate({
      description:
        "PasswordSecretKeyRef references a Secret key containing the SQL password for the MCP user. If not set and user is not overridden, the root password is used."
    })
  ),
  database: Schema.optionalKey(
    Schema.String.annotate({
      description: "Database restricts the MCP server to a specific database. If empty, all databases are accessible."
    })
  )
}).annotate({
  description:
    "MCPServer defines the MCP server configuration. When set, an MCP HTTP endpoint is started alongside the SQL server."
})

export const Server = Schema.Struct({
  profiler: Profiler.pipe(defaulted),
  behavior: Behavior.pipe(defaulted),
  logLevel: Schema.Literals(["trace", "debug", "info", "warning", "error", "fatal"])
    .annotate({
      description:
        "LogLevel defines the logging level for the DoltDB server. Default info. At debug and trace Dolt logs every query's text, including the passwords of CREATE USER and ALTER USER statements the operator runs: do not enable them where pod logs are readable by others."
    })
    .pipe(withDefault("info")),
  metrics: Metrics.pipe(defaulted),
  listener: Listener.pipe(defaulted),
  cluster: ServerCluster.pipe(defaulted),
  mcpServer: Schema.optionalKey(MCPServer)
}).annotate({ description: "Server defines the server configuration for the DoltDB server." })
export type Server = typeof Server.Type

export const CommitAuthor = Schema.Struct({
  name: Schema.String.annotate({ description: "Name is the name of the commit author." }).pipe(
    withDefault("dolt kubernetes deployment")
  ),
  email: Schema.String.annotate({ description: "Email is the email of the commit author." }).pipe(
    withDefault("dolt@kubernetes.deployment")
  )
}).annotate({ description: "CommitAuthor defines the commit author configuration for the DoltDB server." })

export const GlobalConfig = Schema.Struct({
  disableClientUsageMetricsCollection: Schema.Boolean.annotate({
    description:
      "DisableClientUsageMetricsCollection disables Dolt's client usage metrics collection. Reference: https://docs.dolthub.com/other/faq#does-dolt-collect-client-metrics-how-can-i-disable-it"
  }).pipe(withDefault(false)),
  commitAuthor: CommitAuthor.pipe(defaulted)
}).annotate({ description: "GlobalConfig defines Dolt's global configuration (config_global.json)." })
export type GlobalConfig = typeof GlobalConfig.Type
