/**
 * `kubectl doltdb` (the `kubectl-doltdb` executable; kubectl runs any `kubectl-<name>` on PATH as a plugin): the
 * commands and their flags. Every command needs `Kube` (plus `Dolt` for `status`, `PodLogs` for `logs`) and the
 * namespace, so the same commands run against a real cluster (`main.ts`) and the in-memory one (tests).
 */
import { Api, Builders } from "@doltdb-op/core"
import { Kube, Pods } from "@doltdb-op/core/services/Kube"
import { Console, Context, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Actions from "./Actions.ts"
import { defaultInspectOptions, inspect } from "./Inspect.ts"
import { PodLogs, prefixed } from "./PodLogs.ts"
import { renderStatus } from "./StatusText.ts"

/** Where the commands run: the namespace (`-n`, else the kubeconfig context's) and whether stdout is a terminal. */
export interface PluginEnvShape {
  readonly namespace: (flag: Option.Option<string>) => string
  readonly colour: boolean
}
export class PluginEnv extends Context.Service<PluginEnv, PluginEnvShape>()("@doltdb-op/operator/plugin/PluginEnv") {}

const namespaceFlag = Flag.String("namespace").pipe(
  Flag.withAlias("n"),
  Flag.withDescription("Namespace of the DoltDB (default: the kubeconfig context's, else default)"),
  Flag.optional
)
const nameArg = Argument.String("doltdb").pipe(Argument.withDescription("Name of the DoltDB"))

const durationFlag = (name: string, fallback: string, description: string) =>
  Flag.String(name).pipe(
    Flag.withDescription(`${description} (Go duration, default ${fallback})`),
    Flag.withDefault(fallback),
    Flag.mapTryCatch(
      (text) => {
        const millis = Api.parseGoDuration(text)
        // Past 24 h a timer would overflow Node's 2^31 ms and fire at once.
        if (millis === undefined || millis <= 0 || millis > 24 * 3_600_000) throw new Error("bad duration")
        return millis
      },
      () => `--${name} must be a duration from 1ms to 24h, such as 90s or 5m`
    )
  )
const noWait = Flag.Boolean("no-wait").pipe(
  Flag.withDescription("Make the change and return without following it"),
  Flag.withDefault(false)
)
const follow = (timeout: number, wait: boolean): Actions.FollowOptions => ({
  timeout: timeout,
  interval: "500 millis",
  wait
})

const resolve = (flag: Option.Option<string>) => Effect.map(PluginEnv, (env) => env.namespace(flag))

const status = Command.make(
  "status",
  {
    namespace: namespaceFlag,
    name: nameArg,
    output: Flag.Literals("output", ["text", "json"]).pipe(
      Flag.withAlias("o"),
      Flag.withDescription("Output format"),
      Flag.withDefault("text")
    ),
    noServers: Flag.Boolean("no-servers").pipe(
      Flag.withDescription("Do not connect to the pods' sql-servers (role, epoch and lag then show as unknown)"),
      Flag.withDefault(false)
    )
  },
  Effect.fn("Plugin.status")(function* ({ namespace, name, output, noServers }) {
    const env = yield* PluginEnv
    const ns = env.namespace(namespace)
    const report = yield* inspect(ns, name, { ...defaultInspectOptions, queryServers: !noServers }).pipe(
      Effect.catchTag("NotFound", () =>
        Effect.fail(new Actions.PluginError({ message: `DoltDB ${ns}/${name} not found` }))
      )
    )
    yield* Console.log(output === "json" ? JSON.stringify(report, null, 2) : renderStatus(report, env.colour).trimEnd())
  })
).pipe(
  Command.withDescription(
    "Primary, epoch, each pod's role/epoch/ready/lag as the servers report them, the last transition, blocked failovers, conditions, events, backups"
  )
)

const switchover = Command.make(
  "switchover",
  {
    namespace: namespaceFlag,
    name: nameArg,
    to: Flag.Int("to").pipe(
      Flag.withDescription("Index of the pod to promote"),
      Flag.filter(
        (to) => to >= 0 && to < 32,
        (to) => `--to must be a pod index from 0 to 31 (replicas are at most 32), got ${to}`
      )
    ),
    timeout: durationFlag("timeout", "2m", "Give up following after this long"),
    noWait
  },
  ({ namespace, name, to, timeout, noWait }) =>
    Effect.flatMap(resolve(namespace), (ns) => Actions.switchover(ns, name, to, follow(timeout, !noWait)))
).pipe(Command.withDescription("Move the primary to pod N (a graceful switchover) and follow it until done"))

const restart = Command.make(
  "restart",
  { namespace: namespaceFlag, name: nameArg, timeout: durationFlag("timeout", "15m", "Give up following"), noWait },
  ({ namespace, name, timeout, noWait }) =>
    Effect.flatMap(resolve(namespace), (ns) => Actions.restart(ns, name, follow(timeout, !noWait)))
).pipe(Command.withDescription("Rolling restart, replication-aware: standbys one at a time, then a switchover"))

const optionalString = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.optional)

const backup = Command.make(
  "backup",
  {
    namespace: namespaceFlag,
    name: nameArg,
    backupName: optionalString("backup-name", "Name of the Backup (default <doltdb>-<UTC timestamp>)"),
    schedule: optionalString("schedule", "Copy storage and databases from this BackupSchedule"),
    localPath: optionalString("local-path", "Back up to this path on the primary's volume"),
    s3Bucket: optionalString("s3-bucket", "Back up to this S3 bucket"),
    s3Prefix: optionalString("s3-prefix", "Path prefix in the bucket"),
    s3Region: optionalString("s3-region", "Region of the bucket"),
    s3Endpoint: optionalString("s3-endpoint", "Endpoint of an S3-compatible store"),
    database: Flag.String("database").pipe(
      Flag.withDescription("A database to back up (repeatable; default all)"),
      Flag.atLeast(0)
    ),
    timeout: durationFlag("timeout", "1h", "Give up following after this long"),
    noWait
  },
  (f) =>
    Effect.gen(function* () {
      const ns = yield* resolve(f.namespace)
      const s3 = Option.map(f.s3Bucket, (bucket) => ({
        bucket,
        ...Option.match(f.s3Prefix, { onNone: () => ({}), onSome: (prefix) => ({ prefix }) }),
        ...Option.match(f.s3Region, { onNone: () => ({}), onSome: (region) => ({ region }) }),
        ...Option.match(f.s3Endpoint, { onNone: () => ({}), onSome: (endpoint) => ({ endpoint }) })
      }))
      const local = Option.map(f.localPath, (path) => ({ path }))
      if (Option.isSome(s3) && Option.isSome(local))
        return yield* new Actions.PluginError({ message: "give either --local-path or --s3-bucket, not both" })
      const storage = Option.isSome(s3) ? { s3: s3.value } : Option.isSome(local) ? { local: local.value } : undefined
      yield* Actions.backup(
        ns,
        f.name,
        {
          name: Option.getOrUndefined(f.backupName),
          schedule: Option.getOrUndefined(f.schedule),
          storage,
          databases: f.database
        },
        follow(f.timeout, !f.noWait)
      )
    })
).pipe(Command.withDescription("Create a Backup of the DoltDB and follow it until it completes or fails"))

const logs = Command.make(
  "logs",
  {
    namespace: namespaceFlag,
    name: nameArg,
    tail: Flag.Int("tail").pipe(
      Flag.withDescription("Lines per pod (default all)"),
      Flag.filter(
        (tail) => tail >= 0,
        (tail) => `--tail must be 0 or more, got ${tail}`
      ),
      Flag.optional
    ),
    previous: Flag.Boolean("previous").pipe(
      Flag.withAlias("p"),
      Flag.withDescription("The previous container's logs"),
      Flag.withDefault(false)
    )
  },
  Effect.fn("Plugin.logs")(function* ({ namespace, name, tail, previous }) {
    const ns = yield* resolve(namespace)
    const kube = yield* Kube
    const podLogs = yield* PodLogs
    const pods = yield* kube.list(Pods, { namespace: ns, labelSelector: `${Builders.NameLabel}=${name}` })
    const mine = pods.items
      .filter((p) => /^\d+$/.test(p.metadata.name.slice(name.length + 1)) && p.metadata.name.startsWith(`${name}-`))
      .sort((a, b) => Number(a.metadata.name.slice(name.length + 1)) - Number(b.metadata.name.slice(name.length + 1)))
    if (mine.length === 0) return yield* new Actions.PluginError({ message: `no pods of DoltDB ${ns}/${name}` })
    for (const pod of mine) {
      const text = yield* podLogs
        .read(ns, pod.metadata.name, {
          container: Builders.DoltContainerName,
          tailLines: Option.getOrUndefined(tail),
          previous
        })
        .pipe(Effect.catch((e) => Effect.succeed(`(no logs: ${e.message})`)))
      const out = prefixed(pod.metadata.name, text)
      if (out !== "") yield* Console.log(out)
    }
  })
).pipe(Command.withDescription("Every pod's logs, each line prefixed with [pod]"))

export const pluginCommand = Command.make("kubectl-doltdb").pipe(
  Command.withDescription("kubectl plugin for DoltDB clusters managed by doltdb-operator"),
  Command.withSubcommands([status, switchover, restart, backup, logs])
)

export const PluginVersion = "0.1.0"
