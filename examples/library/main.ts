// Using @doltdb-op/core from another program: decode a DoltDB, build the objects the operator would apply, and ask
// the replication planner what to do when the primary stopped answering. Everything here is pure: no cluster, no
// Dolt server. (The package test installs the packed @doltdb-op/core in a new project and runs this file.)
import { Api, Builders, Replication } from "@doltdb-op/core"
import { Effect } from "effect"

const manifest = {
  apiVersion: "k8s.dolthub.com/v1alpha",
  kind: "DoltDB",
  metadata: { name: "inventory", namespace: "shop", uid: "3f1c7a52-0000-4000-8000-000000000001" },
  spec: { engineVersion: "1.86.4", replicas: 3, storage: { size: "10Gi" }, replication: { enabled: true } }
}

// 1. Decode: defaults filled in; a bad field is an ApiValidationError naming it.
const doltdb = Effect.runSync(Api.decodeDoltDB(manifest))

// 2. The desired state: ServiceAccount, RBAC, ConfigMap, Services, StatefulSet, PodDisruptionBudget.
const identified = Builders.identify(doltdb)
if (identified._tag !== "Identified") throw new Error("a DoltDB needs a name")
const desired = Builders.buildDesiredState(identified.doltdb)
console.log(desired.objects.map((o) => `${o.kind}/${o.metadata.name}`).join("\n"))

// 3. The replication planner: pod 0 was the primary at epoch 4 and has been unreachable for 10 s; both standbys
// heard from it 500 ms before it went away.
const now = Date.now()
const host = (ordinal: number) => `inventory-${ordinal}.inventory-internal.shop.svc.cluster.local`
const standby: Replication.SqlView = {
  _tag: "Reachable",
  role: "standby",
  epoch: 4,
  standbys: [],
  staleness: [{ database: "app", millis: 500 }]
}
const pods: ReadonlyArray<Replication.PodView> = [0, 1, 2].map((ordinal) => ({
  ordinal,
  name: `inventory-${ordinal}`,
  exists: true,
  uid: `pod-${ordinal}`,
  deleting: false,
  ready: ordinal !== 0,
  roleLabel: ordinal === 0 ? "primary" : "standby",
  sql: ordinal === 0 ? { _tag: "Unreachable", reason: "connect ETIMEDOUT" } : standby,
  target: { ordinal, pod: `inventory-${ordinal}`, host: host(ordinal), port: 3306 }
}))
const decision = Replication.planReplication(
  {
    now,
    policy: { ...Replication.defaultPolicy, replicas: 3, desiredPrimary: 0 },
    state: {
      currentPrimaryPodIndex: 0,
      replicationEpoch: 4,
      transition: undefined,
      primaryUnavailableSince: now - 10_000,
      primaryRequest: 0
    },
    pods
  },
  {
    namespace: "shop",
    name: "inventory",
    regarding: {
      apiVersion: Api.ApiVersion,
      kind: "DoltDB",
      namespace: "shop",
      name: "inventory",
      uid: doltdb.metadata.uid ?? ""
    }
  }
)
console.log(`transition: ${decision.persistFirst?.transition?.kind ?? decision.next.transition?.kind ?? "none"}`)
console.log(`actions: ${decision.actions.map((a) => a._tag).join(", ")}`)
