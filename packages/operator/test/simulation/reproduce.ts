/**
 * A failing schedule as a `simulate` scenario file: the property run's set-up (3 replicas, a database `app`, a
 * client writing once a second through `db-primary`), its steps at the times and on the pods they ran against, then
 * the heal and the final node loss. `npx doltdb-operator simulate -f <file>` replays it on the same operator; the
 * timings of a scenario differ slightly from the property run's (it steps every 250 ms), and two steps have no
 * scenario event yet (dropped watches; the operator's crash point within a scheduler turn), noted as comments.
 */
import { stringify } from "yaml"
import type * as Schedule from "../../src/simulate/Schedule.ts"
import type { PlayedStep } from "./runSchedule.ts"

/** The workload starts about 10 s into a scenario (boot, database), as in the property run. */
const Start = 10_000
const secs = (millis: number) => `${(millis / 1000).toFixed(1).replace(/\.0$/u, "")}s`

export const reproducingScenario = (
  schedule: Schedule.Schedule,
  played: ReadonlyArray<PlayedStep>,
  options: { readonly seed: number; readonly note: string }
): string => {
  const events: Array<Record<string, unknown>> = []
  const comments: Array<string> = []
  let ack = 0
  let writesFrom = Start
  const lost: Array<string> = []
  const isolated: Array<string> = []
  const end = Start + (played.at(-1)?.at ?? 0) + 10_000
  const writes = (from: number, until: number) => ({
    at: secs(from),
    writes: { every: "1s", until: secs(until), database: "app", ...(ack > 0 ? { ackTimeoutSeconds: ack } : {}) }
  })
  for (const p of played) {
    const at = secs(Start + p.at)
    const pod = p.pod ?? "db-0"
    const s = p.step
    switch (s._tag) {
      case "Wait":
        break
      case "Crash":
        events.push({ at, kill: pod })
        break
      case "DeletePod":
        events.push(s.graceful ? { at, deletePod: pod } : { at, forceDeletePod: pod })
        break
      case "NodeLost":
        events.push({ at, nodeLost: pod })
        lost.push(pod)
        break
      case "NodesRestored":
        for (const l of lost.splice(0)) events.push({ at, nodeRestored: l })
        break
      case "NodeIsolated":
        if (schedule.guardSeconds === undefined) break
        events.push({ at, nodeIsolated: pod })
        isolated.push(pod)
        comments.push(
          `at ${at}: the client inside ${pod}'s partition (writing to its address) and the finalizer holding its pod have no scenario event`
        )
        break
      case "Partition":
        events.push({
          at,
          partition: {
            pod,
            from: s.from === "operatorAndPeers" ? ["operator", "peers"] : s.from
          }
        })
        break
      case "Heal":
        events.push({ at, healAll: {} })
        for (const l of isolated.splice(0)) events.push({ at, nodeRestored: l })
        break
      case "SlowStandby":
        events.push({ at, slowReplication: { pod, delay: `${s.millis}ms` } })
        break
      case "AckWrites":
        // a writes event sets the ack-writes timeout: end the current client here and start one with the new value
        events.push(writes(writesFrom, Start + p.at))
        ack = s.seconds
        writesFrom = Start + p.at
        break
      case "OperatorRestart":
        events.push({ at, operatorRestart: {} })
        break
      case "ApiErrors":
        events.push({ at, apiErrors: { rate: s.rate } })
        break
      case "DropWatches":
        comments.push(`at ${at}: drop watches (no scenario event)`)
        break
      case "Switchover":
        events.push({
          at,
          patch: { kind: "DoltDB", name: "db", spec: { replication: { primary: { podIndex: s.podIndex } } } }
        })
        break
      case "EditSpec":
        events.push({
          at,
          patch: {
            kind: "DoltDB",
            name: "db",
            spec:
              s.edit === "failoverDelay1s" || s.edit === "failoverDelay10s"
                ? { replication: { primary: { failoverDelay: s.edit === "failoverDelay1s" ? "1s" : "10s" } } }
                : s.edit === "podAnnotation"
                  ? { podAnnotations: { "sim/edit": at } }
                  : {}
          }
        })
        break
    }
  }
  const healAt = Start + (played.at(-1)?.at ?? 0) + 1_000
  events.push(writes(writesFrom, end + 55_000))
  events.push({ at: secs(healAt), healAll: {} })
  events.push({ at: secs(healAt), apiErrors: { rate: 0 } })
  for (const l of [...lost, ...isolated]) events.push({ at: secs(healAt), nodeRestored: l })
  events.push({ at: secs(end), nodeLost: "db-0" })
  const scenario = {
    name: "property-failure",
    description: options.note,
    duration: secs(end + 60_000),
    seed: options.seed,
    objects: [
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "db-credentials" },
        stringData: { "admin-user": "root", "admin-password": "pw" }
      },
      {
        apiVersion: "k8s.dolthub.com/v1alpha",
        kind: "DoltDB",
        metadata: { name: "db" },
        spec: {
          engineVersion: "2.3.1",
          replicas: 3,
          storage: { size: "1Gi" },
          replication: {
            enabled: true,
            ...(schedule.guardSeconds === undefined
              ? {}
              : { guard: { enabled: true, threshold: `${schedule.guardSeconds}s` } })
          }
        }
      },
      {
        apiVersion: "k8s.dolthub.com/v1alpha",
        kind: "Database",
        metadata: { name: "app" },
        spec: { doltDBRef: { name: "db" }, name: "app" }
      }
    ],
    events
  }
  return [
    `# Reproduces schedule ${JSON.stringify(schedule)}`,
    "# (the final node loss is the property run's: the primary's node; here db-0's, adjust to the primary if it moved)",
    ...comments.map((c) => `# ${c}`),
    stringify(scenario, { lineWidth: 0 })
  ].join("\n")
}
