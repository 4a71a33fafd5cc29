/**
 * The backup steps of a plan. A sync never fails the plan: its outcome (hash, duration, the store's error, or the
 * pod lost) is remembered per Backup for the next plan, which folds it into status. Leftover remotes are removed
 * best effort. The credentials Secret is written from the Secrets the storage refers to, read here, at execution.
 */
import { Backups as B } from "@doltdb-op/core"
import type { BackupOp, ObjectRef } from "@doltdb-op/core/plan/Action"
import { Dolt, type DoltError } from "@doltdb-op/core/services/Dolt"
import { Kube, Secrets } from "@doltdb-op/core/services/Kube"
import { Clock, Effect } from "effect"
import { ActionFailed } from "../ActionFailed.ts"
import { type Credentials, doltTarget } from "../Credentials.ts"
import { readCredentialValues } from "./observeBackup.ts"

/** Outcomes by Backup uid; lives as long as the controller. */
export type OutcomeMemory = Map<string, B.SyncOutcome>

/** The connection or the server went away: the work moves to another pod. */
const podLost = (e: DoltError): boolean => e._tag === "DoltUnreachable" || e._tag === "DoltConnectionTainted"

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")

export const runBackupOp = (credentials: Credentials | undefined, memory: OutcomeMemory, fieldManager: string) =>
  Effect.fnUntraced(function* (regarding: ObjectRef, op: BackupOp) {
    const dolt = yield* Dolt
    const kube = yield* Kube
    switch (op._tag) {
      case "Sync": {
        if (credentials === undefined)
          return yield* new ActionFailed({ action: "Backup", message: "no credentials for the DoltDB" })
        const target = doltTarget(op.target.host, op.target.port, credentials)
        const startedAt = yield* Clock.currentTimeMillis
        const result = yield* Effect.gen(function* () {
          const hash = yield* dolt.databaseHash(target, op.database)
          yield* dolt.backupAdd(target, op.database, op.remote, op.url)
          yield* dolt.backupSync(target, op.database, op.remote, op.timeoutMillis)
          return hash
        }).pipe(
          Effect.map((hash): B.SyncOutcome["result"] => ({ _tag: "Synced", hash })),
          Effect.catch((e) =>
            Effect.succeed<B.SyncOutcome["result"]>(
              e._tag === "DoltTimeout"
                ? { _tag: "Failed", message: `sync of ${op.database} exceeded syncTimeout (${op.timeoutMillis} ms)` }
                : podLost(e)
                  ? { _tag: "PodLost", message: `${op.target.pod}: ${e.message}` }
                  : { _tag: "Failed", message: e.message }
            )
          )
        )
        // The registration is only needed during the sync; a leftover (crash) is replaced or cleaned up later.
        yield* dolt.backupRemove(target, op.database, op.remote).pipe(Effect.ignore)
        const durationMillis = (yield* Clock.currentTimeMillis) - startedAt
        if (regarding.uid !== undefined)
          memory.set(regarding.uid, {
            database: op.database,
            pod: op.target.pod,
            url: op.url,
            startedAt,
            durationMillis,
            result
          })
        return
      }
      case "RemoveRemotes": {
        if (credentials === undefined) return
        yield* Effect.forEach(
          op.targets,
          (t) =>
            Effect.forEach(op.remotes, (r) =>
              dolt.backupRemove(doltTarget(t.host, t.port, credentials), r.database, r.remote).pipe(Effect.ignore)
            ),
          { concurrency: "unbounded", discard: true }
        )
        return
      }
      case "WriteCredentials": {
        const read = yield* readCredentialValues(op.doltdb.namespace, op.storage).pipe(
          Effect.mapError((e) => new ActionFailed({ action: "Backup", message: String(e) }))
        )
        if (read._tag === "Invalid") return yield* new ActionFailed({ action: "Backup", message: read.message })
        const now = yield* Clock.currentTimeMillis
        const data: Record<string, string> = {}
        for (const [k, v] of Object.entries(read.files)) data[k] = b64(v)
        yield* kube
          .apply(
            Secrets,
            {
              apiVersion: "v1",
              kind: "Secret",
              metadata: {
                name: B.backupCredentialsSecretName(op.doltdb.name),
                namespace: op.doltdb.namespace,
                labels: { "app.kubernetes.io/name": op.doltdb.name, "app.kubernetes.io/managed-by": "doltdb-operator" },
                annotations: {
                  [B.FingerprintAnnotation]: B.fingerprint(read.files),
                  [B.UpdatedAtAnnotation]: new Date(now).toISOString()
                },
                ownerReferences: [
                  {
                    apiVersion: op.doltdb.apiVersion,
                    kind: op.doltdb.kind,
                    name: op.doltdb.name,
                    uid: op.doltdb.uid ?? "",
                    controller: true,
                    blockOwnerDeletion: false
                  }
                ]
              },
              type: "Opaque",
              data
            },
            { fieldManager, force: true }
          )
          .pipe(Effect.mapError((e) => new ActionFailed({ action: "Backup", message: e.message })))
        return
      }
    }
  })
