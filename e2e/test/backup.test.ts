// Backups against real object stores (moto for S3 + DynamoDB, fake-gcs-server for GCS, the data volume for local)
// and a real dolt: a 3-replica DoltDB with data on two branches and an uncommitted change is backed up to each
// backend; new DoltDBs are bootstrapped from the S3 and the GCS backups and compared row for row, branch for branch,
// on every pod; the pod running a backup is killed mid-sync and the backup completes on another pod; a schedule
// firing @every 15s prunes to its history limit; a store that refuses the sync ends Failed with its error after
// backoffLimit attempts; a DoltHub key reaches the running servers (DoltHub itself is out of reach). Backup and restore times (and the bytes in the store) go to e2e/.work/results.json (and
// $E2E_RESULTS_FILE), never asserted.
import { execFileSync } from "node:child_process"
import { generateKeyPairSync } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { type AddressInfo, createServer, connect as netConnect, type Socket } from "node:net"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { core, group, type Kube, type KubeObject } from "../lib/kube.ts"
import { type RunningOperator, startOperator } from "../lib/operator.ts"
import { mergeResults } from "../lib/results.ts"
import { connect, createNamespace, deleteNamespace, isReady, kube, query, record, waitFor } from "./helpers.ts"

const work = process.env.E2E_WORK ?? join(import.meta.dirname, "..", ".work")
const API = "k8s.dolthub.com/v1alpha"
const cache = process.env.DOLTDB_E2E_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "doltdb-operator-e2e")
const versions = Object.fromEntries(
  readFileSync(join(import.meta.dirname, "..", "versions.env"), "utf8")
    .split("\n")
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.split("=", 2) as [string, string])
)
const admin = "e2e-admin"
const adminPassword = "e2e-Admin-Secret-1"

/** An endpoint the harness wrote, or a loud failure: these scenarios need the real servers. */
const endpoint = (name: string) => {
  const file = join(work, "run", `${name}.endpoint`)
  if (!existsSync(file))
    throw new Error(`${name} is not running (no ${file}): run e2e/build.sh ${name}, then e2e/cluster.sh up`)
  return readFileSync(file, "utf8").trim()
}

/** boto3 from moto's virtual environment: the S3 bucket and the DynamoDB manifest table dolt needs. */
const boto = (endpointUrl: string, script: string) =>
  execFileSync(join(cache, `moto-${versions.MOTO_VERSION}`, "bin", "python"), ["-c", script], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_DEFAULT_REGION: "us-east-1",
      ENDPOINT: endpointUrl
    },
    encoding: "utf8"
  })

const s3Bytes = (endpointUrl: string, bucket: string, prefix: string) =>
  Number(
    boto(
      endpointUrl,
      `import boto3, os\ns3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])\n` +
        `print(sum(o["Size"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="${bucket}", Prefix="${prefix}") for o in p.get("Contents", [])))`
    ).trim()
  )

/** Objects and bytes under a prefix of a fake-gcs-server bucket (JSON API). */
const gcsBytes = async (gcsHost: string, bucket: string, prefix: string) => {
  const res = await fetch(`http://${gcsHost}/storage/v1/b/${bucket}/o?prefix=${encodeURIComponent(prefix)}`)
  const body = (await res.json()) as { items?: Array<{ size: string }> }
  return (body.items ?? []).reduce((n, o) => n + Number(o.size), 0)
}

/**
 * A TCP proxy in front of a store that holds every connection while `holding`: a sync through it stays in flight,
 * whatever the size of the data, until the test releases it (so "killed mid-sync" is a condition, not a race).
 */
const holdingProxy = async (host: string, upstream: URL) => {
  let holding = true
  let connections = 0
  const held: Array<() => void> = []
  const sockets = new Set<Socket>()
  const track = (s: Socket) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
    s.on("error", () => s.destroy())
  }
  const server = createServer((client) => {
    connections++
    track(client)
    client.pause()
    const forward = () => {
      const up = netConnect(Number(upstream.port), upstream.hostname)
      track(up)
      up.on("close", () => client.destroy())
      client.on("close", () => up.destroy())
      client.pipe(up).pipe(client)
      client.resume()
    }
    if (holding) held.push(forward)
    else forward()
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    endpoint: `http://${host}:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    release: () => {
      holding = false
      for (const f of held.splice(0)) f()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

/**
 * A fresh DoltHub key in the file format `dolt creds new` writes: `d` the Ed25519 public key, `x` Go's 64-byte
 * private key (seed then public key), both base64url with padding (dolt's creds/jwk.go).
 */
let doltJwkLast = ""
const doltJwk = () => {
  const jwk = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" })
  const pub = Buffer.from(jwk.x ?? "", "base64url")
  const priv = Buffer.concat([Buffer.from(jwk.d ?? "", "base64url"), pub])
  const b64url = (b: Buffer) => b.toString("base64").replaceAll("+", "-").replaceAll("/", "_")
  doltJwkLast = JSON.stringify({ d: b64url(pub), x: b64url(priv), kty: "OKP", crv: "Ed25519" })
  return doltJwkLast
}

describe("backups on real object stores", () => {
  let k: Kube
  let ns: string
  let operator: RunningOperator | undefined
  let engineVersion: string
  let moto: string
  let gcs: string
  const backupSeconds: Array<{ backend: string; seconds: number; bytes: number }> = []
  const restoreSeconds: Array<{ backend: string; seconds: number; bytes: number }> = []

  beforeAll(async () => {
    k = kube()
    moto = endpoint("moto")
    gcs = endpoint("fake-gcs-server")
    ns = await createNamespace(k, "e2e-backup")
    engineVersion = readFileSync(join(work, "run", "dolt-release"), "utf8").trim()
    // The e2e agent refreshes mounted Secrets every 10 s.
    operator = startOperator([`--watch-namespaces=${ns}`, "--backup-credentials-propagation=15s"])
    boto(
      moto,
      `import boto3, os\ne = os.environ["ENDPOINT"]\nboto3.client("s3", endpoint_url=e).create_bucket(Bucket="dolt-backups")\n` +
        `boto3.client("dynamodb", endpoint_url=e).create_table(TableName="dolt-manifest", KeySchema=[{"AttributeName": "db", "KeyType": "HASH"}], ` +
        `AttributeDefinitions=[{"AttributeName": "db", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")`
    )
    const created = await fetch(`http://${gcs}/storage/v1/b`, {
      method: "POST",
      body: JSON.stringify({ name: "dolt-gcs" })
    })
    assert.isTrue(created.ok, `GCS bucket: ${created.status}`)
    await k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "aws", namespace: ns },
      stringData: { id: "test", secret: "test" }
    })
  }, 120_000)

  afterAll(async () => {
    await operator?.stop()
    if (backupSeconds.length > 0 || restoreSeconds.length > 0) {
      const entries = {
        backupSeconds,
        restoreSeconds,
        backupMeasuredAt: new Date().toISOString(),
        backupCommand: "npx vitest run --config e2e/vitest.config.ts test/backup.test.ts"
      }
      mergeResults(join(work, "results.json"), entries)
      // The committed e2e/results.json is refreshed on purpose only (E2E_RESULTS_FILE): a test run never dirties the tree.
      if (process.env.E2E_RESULTS_FILE) mergeResults(process.env.E2E_RESULTS_FILE, entries)
    }
    if (ns) await deleteNamespace(k, ns)
    k?.close()
  })

  const s3 = (prefix: string, bucket = "dolt-backups") => ({
    s3: {
      bucket,
      dynamoDBTable: "dolt-manifest",
      prefix,
      region: "us-east-1",
      endpoint: moto,
      accessKeyIdSecretKeyRef: { name: "aws", key: "id" },
      secretAccessKeySecretKeyRef: { name: "aws", key: "secret" }
    }
  })

  const createDoltDB = async (name: string, extra: Record<string, unknown> = {}) => {
    await k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-credentials`, namespace: ns },
      stringData: { "admin-user": admin, "admin-password": adminPassword }
    })
    await k.create(group(API, "doltdbs", ns), {
      apiVersion: API,
      kind: "DoltDB",
      metadata: { name, namespace: ns },
      spec: {
        engineVersion,
        replicas: 3,
        storage: { size: "1Gi" },
        replication: { enabled: true },
        // fake-gcs-server: the GCS client's emulator switch (plain http, no auth).
        env: [{ name: "STORAGE_EMULATOR_HOST", value: gcs }],
        ...extra
      }
    })
  }

  const readyDoltDB = (name: string, timeoutMs = 240_000) =>
    waitFor(`DoltDB ${name} Ready`, timeoutMs, async () => {
      const o = await k.get(group(API, "doltdbs", ns, name))
      const ok = (o.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"
      )
      return ok ? o : undefined
    })

  const podIPs = async (name: string) => {
    const pods = await k.get<{ items: Array<KubeObject> }>(
      `${core("pods", ns)}?labelSelector=app.kubernetes.io%2Fname%3D${name}`
    )
    return pods.items.filter(isReady).map((p) => p.status.podIP as string)
  }

  /** Rows of `t` in the working set, on main and on feature, as one comparable value. */
  const snapshot = async (ip: string) => {
    const c = await connect(ip, admin, adminPassword, "app")
    try {
      const working = await query(c, "SELECT id, v FROM t ORDER BY id")
      const main = await query(c, "SELECT id, v FROM t AS OF 'main' ORDER BY id")
      const feature = await query(c, "SELECT id, v FROM t AS OF 'feature' ORDER BY id")
      const branches = (await query(c, "SELECT name FROM dolt_branches ORDER BY name")).map((r) => r.name)
      return { working, main, feature, branches }
    } finally {
      c.destroy()
    }
  }

  const runBackup = async (name: string, storage: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const t0 = Date.now()
    await k.create(group(API, "backups", ns), {
      apiVersion: API,
      kind: "Backup",
      metadata: { name, namespace: ns },
      spec: { doltDBRef: { name: "src" }, storage, ...extra }
    })
    const done = await waitFor(`Backup ${name} finished`, 240_000, async () => {
      const b = await k.get(group(API, "backups", ns, name))
      return b.status?.phase === "Completed" || b.status?.phase === "Failed" ? b : undefined
    })
    return { backup: done, ms: Date.now() - t0 }
  }

  const backupTo = async (
    backend: string,
    storage: Record<string, unknown>,
    bytes: () => Promise<number>,
    primary: string
  ) => {
    const { backup, ms } = await runBackup(`to-${backend}`, storage)
    assert.strictEqual(backup.status.phase, "Completed", `${backend}: ${backup.status.error}`)
    const db = backup.status.databases.find((d: { name: string }) => d.name === "app")
    assert.isString(db.hash)
    assert.notStrictEqual(db.pod, primary, `${backend}: PreferStandby ran on the primary`)
    record(`backup ${backend}`, ms)
    backupSeconds.push({ backend, seconds: ms / 1000, bytes: await bytes() })
  }

  it("a 3-replica DoltDB with two branches and an uncommitted change is backed up to S3, GCS and the data volume", async () => {
    await createDoltDB("src")
    const src = await readyDoltDB("src")
    const primaryIP = (await k.get(core("pods", ns, src.status.currentPrimary))).status.podIP
    const c = await connect(primaryIP, admin, adminPassword)
    try {
      await query(c, "CREATE DATABASE app")
      await query(c, "USE app")
      await query(c, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64))")
      await query(c, "INSERT INTO t VALUES (1, 'one'), (2, 'two')")
      await query(c, "CALL dolt_commit('-Am', 'two rows')")
      await query(c, "CALL dolt_branch('feature')")
      await query(c, "CALL dolt_checkout('feature')")
      await query(c, "INSERT INTO t VALUES (3, 'feature')")
      await query(c, "CALL dolt_commit('-am', 'on feature')")
      await query(c, "CALL dolt_checkout('main')")
      await query(c, "INSERT INTO t VALUES (4, 'uncommitted')")
    } finally {
      c.destroy()
    }
    const expected = await snapshot(primaryIP)
    assert.deepStrictEqual(expected.branches, ["feature", "main"])
    assert.strictEqual(expected.working.length, 3)

    const cases: ReadonlyArray<[string, Record<string, unknown>, () => Promise<number>]> = [
      ["s3", s3("e2e"), () => Promise.resolve(s3Bytes(moto, "dolt-backups", "e2e/app"))],
      ["gcs", { gcs: { bucket: "dolt-gcs", prefix: "e2e" } }, () => gcsBytes(gcs, "dolt-gcs", "e2e/app/")],
      // The copy is on the data volume of the pod that ran it: $E2E_WORK/volumes/<pv>/backups/app.
      [
        "local",
        { local: { path: "/db/backups" } },
        () =>
          Promise.resolve(
            Number(
              execFileSync("sh", ["-c", `du -scb ${work}/volumes/*/backups/app 2>/dev/null | tail -1 | cut -f1`], {
                encoding: "utf8"
              }).trim() || 0
            )
          )
      ]
    ]
    for (const [backend, storage, bytes] of cases) await backupTo(backend, storage, bytes, src.status.currentPrimary)
    // The credentials went through the DoltDB's backup credentials Secret; the DoltDB spec is untouched.
    const after = await k.get(group(API, "doltdbs", ns, "src"))
    assert.deepStrictEqual(after.spec.env, [{ name: "STORAGE_EMULATOR_HOST", value: gcs }])
  }, 900_000)

  /** A new DoltDB restored from `storage` equals the source row for row, branch for branch, on every pod. */
  const bootstrapFrom = async (backend: string, storage: Record<string, unknown>, bytes: () => Promise<number>) => {
    const src = await k.get(group(API, "doltdbs", ns, "src"))
    const expected = await snapshot((await k.get(core("pods", ns, src.status.currentPrimary))).status.podIP)
    const name = `copy-${backend}`
    const t0 = Date.now()
    await createDoltDB(name, { bootstrap: { from: { backup: { storage, databases: ["app"] } } } })
    const copy = await readyDoltDB(name, 300_000)
    const ms = Date.now() - t0
    assert.isTrue(
      (copy.status.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === "Bootstrapped" && c.status === "True"
      ),
      JSON.stringify(copy.status.conditions)
    )
    const ips = await podIPs(name)
    assert.strictEqual(ips.length, 3)
    for (const ip of ips) {
      const got = await waitFor(`replicated data on ${ip}`, 60_000, async () => {
        const s = await snapshot(ip)
        return s.feature.length === expected.feature.length ? s : undefined
      })
      // Standbys serve the committed branches; the working set is the primary's.
      assert.deepStrictEqual(got.main, expected.main, ip)
      assert.deepStrictEqual(got.feature, expected.feature, ip)
      assert.deepStrictEqual(got.branches, expected.branches, ip)
    }
    const primary = await snapshot((await k.get(core("pods", ns, copy.status.currentPrimary))).status.podIP)
    assert.deepStrictEqual(primary.working, expected.working, "the uncommitted change was not restored")
    record(`restore ${backend} (DoltDB created -> Ready)`, ms)
    restoreSeconds.push({ backend, seconds: ms / 1000, bytes: await bytes() })
    // The copy has served its purpose: its pods would only compete for the machine with the next scenarios.
    await k.delete(group(API, "doltdbs", ns, name))
  }

  it("a new DoltDB bootstrapped from the S3 backup equals the source row for row, branch for branch, on every pod", async () => {
    await bootstrapFrom("s3", s3("e2e"), () => Promise.resolve(s3Bytes(moto, "dolt-backups", "e2e/app")))
  }, 600_000)

  it("a new DoltDB bootstrapped from the GCS backup equals the source row for row, branch for branch, on every pod", async () => {
    await bootstrapFrom("gcs", { gcs: { bucket: "dolt-gcs", prefix: "e2e" } }, () =>
      gcsBytes(gcs, "dolt-gcs", "e2e/app/")
    )
  }, 600_000)

  it("the pod running a backup is killed mid-sync and the backup completes on another pod", async () => {
    // The store is reached through a proxy that holds the sync in flight until the pod is gone.
    const proxy = await holdingProxy(new URL(moto).hostname, new URL(moto))
    try {
      const storage = s3("killed")
      ;(storage.s3 as Record<string, unknown>).endpoint = proxy.endpoint
      await k.create(group(API, "backups", ns), {
        apiVersion: API,
        kind: "Backup",
        metadata: { name: "killed-mid-sync", namespace: ns },
        spec: { doltDBRef: { name: "src" }, storage }
      })
      const running = await waitFor("the sync in flight at the store", 180_000, async () => {
        const b = await k.get(group(API, "backups", ns, "killed-mid-sync"))
        return b.status?.phase === "Running" && b.status.pod !== undefined && proxy.connections() > 0 ? b : undefined
      })
      const victim = running.status.pod as string
      await k.delete(core("pods", ns, victim), { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0 })
      await waitFor("the lost pod noticed", 120_000, async () => {
        const b = await k.get(group(API, "backups", ns, "killed-mid-sync"))
        return (b.status?.podLosses ?? 0) + (b.status?.retryCount ?? 0) > 0 ? b : undefined
      })
      proxy.release()
      const done = await waitFor("Backup killed-mid-sync finished", 240_000, async () => {
        const b = await k.get(group(API, "backups", ns, "killed-mid-sync"))
        return b.status?.phase === "Completed" || b.status?.phase === "Failed" ? b : undefined
      })
      assert.strictEqual(done.status.phase, "Completed", done.status.error)
      // A lost pod does not use an attempt: the work moved.
      assert.isAtLeast(done.status.podLosses ?? 0, 1, JSON.stringify(done.status))
      assert.strictEqual(done.status.retryCount ?? 0, 0, JSON.stringify(done.status))
      const db = done.status.databases.find((d: { name: string }) => d.name === "app")
      assert.notStrictEqual(db.pod, victim, "the backup completed on the killed pod")
      assert.isString(db.hash)
      assert.isAbove(s3Bytes(moto, "dolt-backups", "killed/app"), 0)
    } finally {
      proxy.release()
      await proxy.close()
    }
  }, 600_000)

  // `@every 15s` (robfig/cron's descriptor, as the reference parses schedules) fires twice in 30 s; the 5-field cron
  // path fires on the minute in storage.test.ts.
  it("a BackupSchedule firing @every 15s creates Backups and prunes them to its history limit", async () => {
    await readyDoltDB("src")
    await k.create(group(API, "backupschedules", ns), {
      apiVersion: API,
      kind: "BackupSchedule",
      metadata: { name: "every-15s", namespace: ns },
      spec: {
        doltDBRef: { name: "src" },
        schedule: "@every 15s",
        successfulBackupsHistoryLimit: 1,
        storage: { local: { path: "/db/scheduled" } }
      }
    })
    const selector = `labelSelector=${encodeURIComponent("k8s.dolthub.com/backup-schedule=every-15s")}`
    const completed = new Set<string>()
    const pruned = await waitFor("two scheduled Backups Completed and the older one pruned", 120_000, async () => {
      const list = await k.get<{ items: Array<KubeObject> }>(`${group(API, "backups", ns)}?${selector}`)
      for (const b of list.items) if (b.status?.phase === "Completed") completed.add(b.metadata.name)
      const present = new Set(list.items.map((b) => b.metadata.name as string))
      const gone = [...completed].filter((n) => !present.has(n))
      const kept = list.items.filter((b) => b.status?.phase === "Completed").length
      return completed.size >= 2 && gone.length >= 1 && kept <= 1 ? { list, gone } : undefined
    })
    // Every Backup it created carries its label and an owner reference to it; the pruned one is really gone.
    for (const b of pruned.list.items) {
      assert.strictEqual(b.metadata.ownerReferences?.[0]?.kind, "BackupSchedule")
      assert.strictEqual(b.metadata.ownerReferences?.[0]?.name, "every-15s")
    }
    for (const n of pruned.gone) assert.isUndefined(await k.find(group(API, "backups", ns, n)))
    const schedule = await k.get(group(API, "backupschedules", ns, "every-15s"))
    assert.isString(schedule.status?.lastScheduleTime)
    assert.isAbove(Date.parse(schedule.status.nextScheduleTime), Date.parse(schedule.status.lastScheduleTime))
    await k.delete(group(API, "backupschedules", ns, "every-15s"))
  }, 600_000)

  it("a wrong bucket ends Failed with the store's error after backoffLimit attempts", async () => {
    const { backup } = await runBackup("wrong-bucket", s3("e2e", "no-such-bucket"), { backoffLimit: 2 })
    assert.strictEqual(backup.status.phase, "Failed")
    assert.strictEqual(backup.status.retryCount, 2)
    assert.match(backup.status.error, /backoff limit exceeded after 2 attempts: .*(NoSuchBucket|bucket)/i)
    assert.notInclude(JSON.stringify(backup.status), "secret")
  }, 300_000)

  it("a DoltHub key reaches the running servers through the credentials Secret, without a restart", async () => {
    // DoltHub is not reachable from here: the remote is an address where nothing listens. Without a key the sync
    // stops at dolt's key lookup ("invalid creds file"); with one it gets past the key to the connection.
    const remoteUrl = `https://${new URL(moto).hostname}:1/acme`
    const uids = async () =>
      (
        await k.get<{ items: Array<KubeObject> }>(`${core("pods", ns)}?labelSelector=app.kubernetes.io%2Fname%3Dsrc`)
      ).items
        .map((p) => `${p.metadata.name}/${p.metadata.uid}`)
        .sort()
    await readyDoltDB("src")
    const before = await uids()
    const { backup: keyless } = await runBackup("dolthub-no-key", { doltHub: { remoteUrl } }, { backoffLimit: 1 })
    assert.strictEqual(keyless.status.phase, "Failed")
    assert.match(keyless.status.error, /invalid creds file/)
    await k.create(core("secrets", ns), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "dolthub", namespace: ns },
      stringData: { "creds.jwk": doltJwk() }
    })
    const { backup: keyed } = await runBackup(
      "dolthub-key",
      { doltHub: { remoteUrl, credentialsSecretKeyRef: { name: "dolthub", key: "creds.jwk" } } },
      { backoffLimit: 1 }
    )
    assert.strictEqual(keyed.status.phase, "Failed")
    assert.notMatch(keyed.status.error, /creds/)
    assert.match(keyed.status.error, /connection refused/)
    assert.notInclude(JSON.stringify(keyed.status), JSON.parse(doltJwkLast).x)
    assert.deepStrictEqual(await uids(), before, "pods were restarted")
  }, 300_000)
})
