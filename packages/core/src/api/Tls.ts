/**
 * `spec.tls` of a DoltDB: TLS for the SQL listener and the cluster's replication (remotesapi) listener. The
 * reference operator has no TLS at all (reference-operator.md §5), so this is a new optional field, off by default.
 *
 * Names follow mariadb-operator's `spec.tls` (`enabled`, `required` is ours `requireSecureTransport`, Dolt's key)
 * and its `serverCertSecretRef`, so a cert-manager `Certificate`'s Secret (`tls.crt`, `tls.key`, `ca.crt`) can be
 * named directly.
 */
import { Schema } from "effect"
import { withDefault } from "./Common.ts"
import { LabelSelector } from "./k8s/Models.generated.ts"
import { Duration } from "./k8s/Primitives.ts"

export const SecretName = Schema.String.check(
  Schema.isMaxLength(253),
  Schema.isPattern(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/u, {
    expected: "a Secret name (lower-case DNS subdomain)"
  })
)

export const TlsSecretReference = Schema.Struct({
  name: SecretName.annotate({ description: "Name of the Secret, in the DoltDB's namespace." })
}).annotate({ description: "A Secret in the DoltDB's namespace." })

export const Tls = Schema.Struct({
  enabled: Schema.Boolean.annotate({
    description:
      "Enabled turns on TLS for the SQL listener (listener.tls_cert/tls_key) and, with replication, for the replication listener (cluster.remotesapi), where every server verifies its peers against the CA. The operator's own connections then use TLS and verify the server. Changing it restarts the pods."
  }).pipe(withDefault(false)),
  requireSecureTransport: Schema.Boolean.annotate({
    description:
      "RequireSecureTransport makes the SQL listener refuse clients that do not use TLS (listener.require_secure_transport). Needs enabled."
  }).pipe(withDefault(false)),
  serverCertSecretRef: Schema.optionalKey(
    TlsSecretReference.annotate({
      description:
        "ServerCertSecretRef names a Secret you manage (e.g. a cert-manager Certificate's) with keys tls.crt, tls.key and ca.crt. Its certificate must carry the DNS name <name>-internal.<namespace>.svc (peers require it) and the pod names clients use (<pod>.<name>-internal.<namespace>.svc.<cluster domain>). When absent the operator issues one from a CA of its own (Secrets <name>-tls-ca and <name>-tls) and renews it before it expires; a change of the Secret's certificate restarts the pods (replication-aware)."
    })
  ),
  certificateDuration: Schema.optionalKey(
    Duration.annotate({
      description:
        "CertificateDuration is the lifetime of the server certificate the operator issues (default 2160h, 90 days; at least 1h). Unused with serverCertSecretRef."
    })
  ),
  renewBefore: Schema.optionalKey(
    Duration.annotate({
      description:
        "RenewBefore is how long before its expiry the operator renews the server certificate it issued (default a third of certificateDuration). The CA (10 years) is kept, so clients that trust it keep working."
    })
  )
}).annotate({
  description:
    "TLS for SQL clients and replication. Certificates live in Secrets only, mounted read-only into the Dolt containers."
})
export type Tls = typeof Tls.Type

/**
 * `spec.networkPolicy`: an optional NetworkPolicy (off by default: clusters without an enforcing network plugin
 * ignore it, and one that blocks the operator would stop failover).
 */
export const NetworkPolicyPeer = Schema.Struct({
  namespaceSelector: Schema.optionalKey(LabelSelector),
  podSelector: Schema.optionalKey(LabelSelector)
}).annotate({
  description:
    "A source of SQL traffic: pods matching podSelector in namespaces matching namespaceSelector (as in a NetworkPolicy peer)."
})

export const NetworkPolicy = Schema.Struct({
  enabled: Schema.Boolean.annotate({
    description:
      "Enabled creates the NetworkPolicy <name>: the replication port (remotesapi) is reachable only from this DoltDB's own pods; the SQL port from sqlFrom (default: anywhere); the metrics port from anywhere. Needs a network plugin that enforces NetworkPolicies."
  }).pipe(withDefault(false)),
  sqlFrom: Schema.optionalKey(
    Schema.Array(NetworkPolicyPeer).check(Schema.isMaxLength(64)).annotate({
      description:
        "SQLFrom lists who may reach the SQL port besides the DoltDB's own pods. Include the operator's pods (it connects over SQL), e.g. a namespaceSelector for the operator's namespace. Default: anywhere."
    })
  )
}).annotate({ description: "An optional NetworkPolicy restricting who reaches the Dolt pods." })
export type NetworkPolicy = typeof NetworkPolicy.Type

/** The operator-managed certificates' defaults (also documented on the fields above). */
export const DefaultCertificateDuration = "2160h"
export const MinCertificateDurationMillis = 3_600_000
