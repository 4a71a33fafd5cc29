/**
 * The DoltDB set-up the operator tests on the simulated cluster share: the admin credentials Secret, a DoltDB, and
 * simulated time until its Ready condition is True. Tests that differ say how through `DoltDBFixture`.
 */
import type { DoltTarget } from "@doltdb-op/core/services/Dolt"
import { Kube, type KubeObject, Pods, Secrets } from "@doltdb-op/core/services/Kube"
import { assert } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { rawDoltDBs } from "../../src/reconcilers/Resources.ts"
import { runUntil } from "../../src/simulate/SimulatedCluster.ts"

export interface DoltDBFixture {
  /** Default `db`; the credentials Secret is `<name>-credentials`. */
  readonly name?: string
  /** Default `default`. */
  readonly namespace?: string
  /** Default 3; replication is enabled when there is more than one. */
  readonly replicas?: number
  /** Default `admin`. */
  readonly adminUser?: string
  /** Default `pw`. */
  readonly adminPassword?: string
  /** Spec fields set over the default spec (engineVersion 2.3.1, 1Gi of storage, replication as above). */
  readonly spec?: Record<string, unknown>
}

/** How long `setupDoltDB` lets simulated time run for the DoltDB to become Ready, and in which steps. */
export interface ReadyWithin {
  readonly limitMillis?: number
  readonly stepMillis?: number
}

const nameOf = (fixture: DoltDBFixture) => fixture.name ?? "db"
const namespaceOf = (fixture: DoltDBFixture) => fixture.namespace ?? "default"
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")

const doltdbOf = (fixture: DoltDBFixture) =>
  Effect.flatMap(Kube, (kube) =>
    kube
      .get(rawDoltDBs, nameOf(fixture), { namespace: namespaceOf(fixture) })
      .pipe(Effect.catch(() => Effect.succeed(undefined)))
  )

const readyCondition = (o: KubeObject | undefined) =>
  ((o?.status as { conditions?: ReadonlyArray<{ type: string; status: string }> } | undefined)?.conditions ?? []).find(
    (c) => c.type === "Ready"
  )

/** Whether the DoltDB exists and its Ready condition is True. */
export const isReady = (fixture: Pick<DoltDBFixture, "name" | "namespace"> = {}) =>
  Effect.map(doltdbOf(fixture), (o) => readyCondition(o)?.status === "True")

/**
 * The credentials Secret (left as it is when it already exists, so two DoltDBs of one test may share a name's
 * Secret) and the DoltDB; nothing waits.
 */
export const createDoltDB = (fixture: DoltDBFixture = {}) =>
  Effect.gen(function* () {
    const kube = yield* Kube
    const name = nameOf(fixture)
    const namespace = namespaceOf(fixture)
    const replicas = fixture.replicas ?? 3
    yield* kube
      .create(Secrets, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `${name}-credentials`, namespace },
        data: { "admin-user": b64(fixture.adminUser ?? "admin"), "admin-password": b64(fixture.adminPassword ?? "pw") }
      })
      .pipe(Effect.catchTag("AlreadyExists", () => Effect.void))
    yield* kube.create(rawDoltDBs, {
      apiVersion: "k8s.dolthub.com/v1alpha",
      kind: "DoltDB",
      metadata: { name, namespace },
      spec: {
        engineVersion: "2.3.1",
        replicas,
        storage: { size: "1Gi" },
        replication: { enabled: replicas > 1 },
        ...fixture.spec
      }
    } as unknown as KubeObject)
  })

/** `createDoltDB`, then simulated time until the DoltDB is Ready (300 s at most by default); fails naming its status. */
export const setupDoltDB = (fixture: DoltDBFixture = {}, within: ReadyWithin = {}) =>
  Effect.gen(function* () {
    yield* createDoltDB(fixture)
    const took = yield* runUntil(isReady(fixture), {
      limitMillis: within.limitMillis ?? 300_000,
      ...(within.stepMillis === undefined ? {} : { stepMillis: within.stepMillis })
    })
    const where = `${namespaceOf(fixture)}/${nameOf(fixture)}`
    assert.isAtLeast(
      took,
      0,
      `DoltDB ${where} never became Ready: ${JSON.stringify((yield* doltdbOf(fixture))?.status)}`
    )
  })

/** The pod's IP, as the operator reaches it. */
export const podIP = (pod: string, namespace = "default") =>
  Effect.map(
    Effect.flatMap(Kube, (kube) => kube.get(Pods, pod, { namespace })),
    (p) => ((p.status ?? {}) as { podIP: string }).podIP
  )

/** The pod's SQL server, as the fixture's admin user. */
export const adminTarget = (pod: string, fixture: Omit<DoltDBFixture, "spec"> = {}) =>
  Effect.map(
    podIP(pod, namespaceOf(fixture)),
    (host): DoltTarget => ({
      host,
      port: 3306,
      user: fixture.adminUser ?? "admin",
      password: Redacted.make(fixture.adminPassword ?? "pw")
    })
  )
