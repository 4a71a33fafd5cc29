/**
 * Where SQL resources run their statements: the current primary of their DoltDB (the pod the status names, checked
 * to really be primary), or the only pod of a standalone DoltDB. "Ready" needs only that server, not every replica
 * (reference flaw: one broken standby blocked all SQL management).
 */
import { Builders, SqlResources } from "@doltdb-op/core"
import type { ClusterRef } from "@doltdb-op/core/plan/Action"
import { Dolt, type DoltTarget } from "@doltdb-op/core/services/Dolt"
import { Kube, Pods } from "@doltdb-op/core/services/Kube"
import { Effect } from "effect"
import { doltTarget, readCredentials } from "../Credentials.ts"
import { DoltDBs } from "../Resources.ts"

export type ClusterPrimary =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "NotReady"; readonly reason: string }
  | { readonly _tag: "Refused"; readonly reason: string }
  | {
      readonly _tag: "Ready"
      readonly target: DoltTarget
      /** Account names no User or Grant may manage (the admin's, Dolt's own, the MCP server's). */
      readonly reservedNames: ReadonlyArray<string>
    }

/**
 * The primary of `cluster` for an object in `referrer`'s namespace. A DoltDB that does not let that namespace
 * attach is `Refused` before anything else is read (its credentials, its servers).
 */
export const resolveClusterPrimary = Effect.fn("ClusterPrimary.resolve")(function* (
  cluster: ClusterRef,
  referrer: string
) {
  const kube = yield* Kube
  const dolt = yield* Dolt
  if (cluster.name === "") return { _tag: "Missing" } as ClusterPrimary
  const found = yield* kube.get(DoltDBs, cluster.name, { namespace: cluster.namespace }).pipe(
    Effect.map((d) => ({ _tag: "Found", doltdb: d }) as const),
    Effect.catchTag("NotFound", () => Effect.succeed({ _tag: "Missing" } as const)),
    Effect.catch((e) => Effect.succeed({ _tag: "Error", reason: `reading DoltDB: ${e._tag}` } as const))
  )
  if (found._tag === "Missing") return { _tag: "Missing" } as ClusterPrimary
  if (found._tag === "Error") return { _tag: "NotReady", reason: found.reason } as ClusterPrimary
  const doltdb = found.doltdb
  const access = SqlResources.referenceAccess(referrer, cluster.name, {
    namespace: cluster.namespace,
    allowedNamespaces: doltdb.spec.tenancy?.allowedNamespaces
  })
  if (access._tag === "Refused") return { _tag: "Refused", reason: access.reason } as ClusterPrimary
  const replicated = doltdb.spec.replication.enabled && doltdb.spec.replicas > 1
  const ordinal = replicated ? doltdb.status?.currentPrimaryPodIndex : 0
  if (ordinal === undefined) return { _tag: "NotReady", reason: "the DoltDB has no primary yet" } as ClusterPrimary
  if (doltdb.status?.primaryTransition !== undefined)
    return { _tag: "NotReady", reason: "the DoltDB is changing its primary" } as ClusterPrimary
  const podName = Builders.podName(cluster.name, ordinal)
  const pod = yield* kube
    .get(Pods, podName, { namespace: cluster.namespace })
    .pipe(Effect.catch(() => Effect.succeed(undefined)))
  const podIP = (pod?.status as { podIP?: string } | undefined)?.podIP
  if (pod === undefined || podIP === undefined)
    return { _tag: "NotReady", reason: `primary pod ${podName} is not running` } as ClusterPrimary
  const credentials = yield* readCredentials(cluster.namespace, doltdb).pipe(
    Effect.map((c) => ({ _tag: "Ok", c }) as const),
    Effect.catchTag("CredentialsUnavailable", (e) => Effect.succeed({ _tag: "Missing", reason: e.message } as const))
  )
  if (credentials._tag === "Missing") return { _tag: "NotReady", reason: credentials.reason } as ClusterPrimary
  const target = doltTarget(podIP, doltdb.spec.server.listener.port, credentials.c)
  if (replicated) {
    const role = yield* dolt.roleAndEpoch(target).pipe(
      Effect.map((r) => r.role as string),
      Effect.catch((e) => Effect.succeed(`unreachable (${e._tag})`))
    )
    if (role !== "primary")
      return { _tag: "NotReady", reason: `${podName} is not serving as primary: ${role}` } as ClusterPrimary
  }
  const mcp = doltdb.spec.server.mcpServer?.user
  return {
    _tag: "Ready",
    target,
    reservedNames: SqlResources.reservedAccountNames(credentials.c.user, [mcp])
  } as ClusterPrimary
})
