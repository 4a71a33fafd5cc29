/**
 * Health probes and the preStop hook of the `dolt` container.
 *
 * Probes. Failover speed depends on how fast a dead or wedged primary turns NotReady (the brief's target is a
 * failover p50 <= 5 s; the reference's CRD default of period 40 s x 3 failures took ~120 s). Every probe runs a
 * trivial `select 1` through Dolt's own client over loopback, so a server that accepts TCP but no longer answers
 * SQL counts as down. `select 1` does not queue behind user queries, so a slow query does not fail it; a role
 * change kills every connection once, which is why readiness needs two consecutive failures. Without
 * `spec.probes`:
 * - readiness: every 2 s, 2 s timeout, 2 failures => NotReady within ~4-6 s;
 * - liveness: every 5 s, 4 s timeout, 3 failures => a wedged server is restarted after ~15 s (slower than
 *   readiness on purpose: a restart costs more than a NotReady);
 * - startup: every 1 s for up to 15 min, so the two above need no initial delay and a large database can open.
 *   Every container restart waits for it, then for one readiness run: with 2 s a restarted primary whose server
 *   came up just after a tick stayed out of `<name>-primary` up to 2 s longer (e2e: a SIGKILLed primary back in
 *   3.3 s or 5.0-5.5 s, by which tick it made; docs/failover.md). The extra runs only happen while starting.
 * With `spec.probes` the user's timing fields win field by field (the handler is always ours, as in the reference);
 * fields they leave unset keep the defaults above.
 *
 * The password never appears on a command line (reference flaw 41): Dolt's client reads it from
 * `DOLT_CLI_PASSWORD` (dolt `dconfig.EnvPassword`), which the probe script sets from the container's
 * `DOLT_PASSWORD` for the one `dolt` process it starts. The scripts `cd /` so the client does not scan the data
 * directory it was started in.
 */
import type { DoltDB } from "../api/DoltDB.ts"
import type { Probe } from "../api/k8s/Models.generated.ts"
import type { ExecHandler } from "./KubeObjects.ts"
import { TlsPaths } from "./TlsBuilder.ts"

type Timing = Pick<
  Probe,
  "initialDelaySeconds" | "periodSeconds" | "timeoutSeconds" | "successThreshold" | "failureThreshold"
>

export const DefaultReadinessTiming: Timing = { periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 2 }
export const DefaultLivenessTiming: Timing = { periodSeconds: 5, timeoutSeconds: 4, failureThreshold: 3 }
export const StartupTiming: Timing = { periodSeconds: 1, timeoutSeconds: 4, failureThreshold: 900 }

/**
 * Loopback client invocation; `$DOLT_USERNAME` and `$DOLT_CLI_PASSWORD` come from the environment. Plaintext over
 * loopback, unless the server refuses plaintext (`tls.requireSecureTransport`): then TLS to `localhost`, verified
 * against the DoltDB's CA, which Go reads as extra roots from `SSL_CERT_FILE` (`clientEnv`); the certificate must
 * name `localhost`.
 */
const doltClient = (port: number, secure = false): string =>
  secure
    ? `dolt --host localhost --port ${port} -u "$DOLT_USERNAME"`
    : `dolt --host 127.0.0.1 --port ${port} --no-tls -u "$DOLT_USERNAME"`

/** The environment the client needs, as shell statements. */
const clientEnv = (secure: boolean): ReadonlyArray<string> => [
  'export DOLT_CLI_PASSWORD="$DOLT_PASSWORD"',
  ...(secure ? [`export SSL_CERT_FILE=${TlsPaths.ca}`] : [])
]

const requiresTls = (doltdb: DoltDB): boolean =>
  doltdb.spec.tls?.enabled === true && doltdb.spec.tls.requireSecureTransport

/** The probe command: one `select 1` over loopback, password from the environment. */
export const sqlCheckCommand = (port: number, secure = false): ReadonlyArray<string> => [
  "/bin/sh",
  "-c",
  ["cd /", ...clientEnv(secure), `exec ${doltClient(port, secure)} sql -q "select 1"`].join(" && ")
]

const timingOf = (probe: Probe | undefined, defaults: Timing, allowGrace: boolean): Timing & Probe => {
  const initialDelaySeconds = probe?.initialDelaySeconds ?? defaults.initialDelaySeconds
  const periodSeconds = probe?.periodSeconds ?? defaults.periodSeconds
  const timeoutSeconds = probe?.timeoutSeconds ?? defaults.timeoutSeconds
  const successThreshold = probe?.successThreshold ?? defaults.successThreshold
  const failureThreshold = probe?.failureThreshold ?? defaults.failureThreshold
  const grace = allowGrace ? probe?.terminationGracePeriodSeconds : undefined
  return {
    ...(initialDelaySeconds === undefined ? {} : { initialDelaySeconds }),
    ...(periodSeconds === undefined ? {} : { periodSeconds }),
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
    ...(successThreshold === undefined ? {} : { successThreshold }),
    ...(failureThreshold === undefined ? {} : { failureThreshold }),
    ...(grace === undefined ? {} : { terminationGracePeriodSeconds: grace })
  }
}

export interface DoltProbes {
  readonly startupProbe: Probe
  readonly readinessProbe: Probe
  readonly livenessProbe: Probe
}

export const buildProbes = (doltdb: DoltDB): DoltProbes => {
  const handler = { exec: { command: [...sqlCheckCommand(doltdb.spec.server.listener.port, requiresTls(doltdb))] } }
  const user = doltdb.spec.probes
  // Kubernetes rejects successThreshold != 1 on liveness probes and terminationGracePeriodSeconds on readiness
  // probes; `probeWarnings` reports when a user value had to be dropped.
  const { successThreshold: _ignored, ...liveness } = timingOf(user?.livenessProbe, DefaultLivenessTiming, true)
  return {
    startupProbe: { ...handler, ...StartupTiming },
    readinessProbe: { ...handler, ...timingOf(user?.readinessProbe, DefaultReadinessTiming, false) },
    livenessProbe: { ...handler, ...liveness }
  }
}

export const probeWarnings = (doltdb: DoltDB): ReadonlyArray<string> => {
  const warnings: Array<string> = []
  const liveness = doltdb.spec.probes?.livenessProbe
  if (liveness?.successThreshold !== undefined && liveness.successThreshold !== 1) {
    warnings.push("spec.probes.livenessProbe.successThreshold must be 1 for liveness probes; it is left unset")
  }
  if (doltdb.spec.probes?.readinessProbe.terminationGracePeriodSeconds !== undefined) {
    warnings.push(
      "spec.probes.readinessProbe.terminationGracePeriodSeconds is not allowed on readiness probes; ignored"
    )
  }
  return warnings
}

/** Standbys that must be caught up before the preStop demotion succeeds (Dolt: 0 means "all"). */
export const preStopMinCaughtUp = (doltdb: DoltDB): number => {
  const wanted = doltdb.spec.replication.primary.minCaughtUpStandby ?? 1
  return Math.min(Math.max(wanted, 0), Math.max(doltdb.spec.replicas - 1, 1))
}

/**
 * preStop: if this server is the primary, demote it gracefully (`dolt_cluster_transition_to_standby`, which
 * makes it read-only, kills client connections and waits up to 10 s for `minCaughtUpStandby` standbys to catch up)
 * before Kubernetes sends SIGTERM. Only written when replication is enabled.
 *
 * How it fits with the operator: before the operator itself deletes or restarts a primary (updates, scale-down)
 * it switches over first, so this hook finds a standby and does nothing. It is the safety net for everything
 * else that terminates a primary (drain, eviction, a manual `kubectl delete pod`): a graceful demotion hands the
 * next primary everything that was acknowledged, instead of a crash failover that can lose writes. The cluster
 * has no primary from this moment until the operator promotes one, as after any primary loss.
 *
 * Bounded: each SQL call runs under `timeout` (5 s for the role query, up to 20 s for the demotion, less when the
 * grace period is short), every failure ends the hook with success, and the kubelet kills a hook that outlives the
 * pod's terminationGracePeriodSeconds anyway, so it never blocks termination. Unlike the reference there is no
 * trailing `sleep 5`: it kept a terminating server answering while kube-proxy caught up, which helps readers of a
 * standby for a moment but delayed every pod's shutdown (and every rolling step) by 5 s; after the demotion a
 * former primary refuses writes anyway, and clients reconnect through the Services.
 */
export const buildPreStop = (doltdb: DoltDB): { readonly preStop: ExecHandler } | undefined => {
  if (!doltdb.spec.replication.enabled) return undefined
  const grace = doltdb.spec.terminationGracePeriodSeconds
  const demoteTimeout = Math.max(1, Math.min(20, grace - 10))
  const client = doltClient(doltdb.spec.server.listener.port, requiresTls(doltdb))
  const script = [
    "cd / || exit 0",
    ...clientEnv(requiresTls(doltdb)),
    'bounded() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }',
    `state=$(bounded 5 ${client} sql -r csv -q "select @@global.dolt_cluster_role as r, @@global.dolt_cluster_role_epoch as e" 2>/dev/null | tail -n 1)`,
    'case "$state" in primary,*) ;; *) exit 0 ;; esac',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a JS template
    "epoch=${state#primary,}",
    "case \"$epoch\" in ''|*[!0-9]*) exit 0 ;; esac",
    `bounded ${demoteTimeout} ${client} sql -q "call dolt_cluster_transition_to_standby('$((epoch + 1))', '${preStopMinCaughtUp(doltdb)}')" >/dev/null 2>&1 || true`,
    "exit 0"
  ].join("\n")
  return { preStop: { exec: { command: ["/bin/sh", "-c", script] } } }
}
