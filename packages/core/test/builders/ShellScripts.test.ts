/**
 * Runs the generated shell scripts (init, probe, preStop) under /bin/sh with a fake `dolt` on PATH that records its
 * arguments, stdin and `DOLT_CLI_PASSWORD`, and answers the role query with a canned CSV.
 */
import { spawnSync } from "node:child_process"
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { Backups as B, Builders } from "../../src/index.ts"
import { decoded, twoReplicas, withSpec } from "./fixtures.ts"

const password = `p'a"s\\s $w0rd`
let dir = ""

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "doltdb-scripts-"))
  // Logs one line per call: the arguments, then DOLT_CLI_PASSWORD, then stdin (for `dolt sql` without -q).
  const fakeDolt = [
    "#!/bin/sh",
    `log="${dir}/calls"`,
    'printf "ARGS %s\\n" "$*" >> "$log"',
    'printf "CLIPW %s\\n" "$DOLT_CLI_PASSWORD" >> "$log"',
    '[ -z "$SSL_CERT_FILE" ] || printf "CAFILE %s\\n" "$SSL_CERT_FILE" >> "$log"',
    'case "$*" in',
    '  *"sql -r csv"*) printf "r,e\\n%s\\n" "$FAKE_ROLE_STATE" ;;',
    '  sql) printf "STDIN %s\\n" "$(cat)" >> "$log" ;;',
    '  *"--get user.creds"*) printf "%s" "$FAKE_USER_CREDS" ;;',
    "esac"
  ].join("\n")
  writeFileSync(join(dir, "dolt"), fakeDolt)
  chmodSync(join(dir, "dolt"), 0o755)
  writeFileSync(join(dir, "cp"), "#!/bin/sh\nexit 0\n")
  chmodSync(join(dir, "cp"), 0o755)
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const run = (command: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const [shell, flag, script] = command
  assert.strictEqual(shell, "/bin/sh")
  assert.strictEqual(flag, "-c")
  rmSync(join(dir, "calls"), { force: true })
  const result = spawnSync("/bin/sh", ["-c", script!], {
    cwd: dir,
    env: {
      PATH: `${dir}:/usr/bin:/bin`,
      DOLT_ROOT_PATH: dir,
      DOLT_USERNAME: "admin",
      DOLT_PASSWORD: password,
      POD_NAME: "pair-0",
      ...env
    },
    encoding: "utf8"
  })
  const log = join(dir, "calls")
  return { status: result.status, calls: existsSync(log) ? readFileSync(log, "utf8") : "" }
}

const container = (manifest = twoReplicas) => Builders.buildDoltContainer(decoded(manifest))

describe("generated shell scripts", () => {
  it("are valid POSIX sh", () => {
    const dolt = container()
    for (const command of [
      dolt.readinessProbe?.exec?.command,
      dolt.lifecycle?.preStop.exec.command,
      Builders.buildInitContainer(decoded(twoReplicas)).command
    ]) {
      const result = spawnSync("/bin/sh", ["-n", "-c", command![2]!], { encoding: "utf8" })
      assert.strictEqual(result.status, 0, result.stderr)
    }
  })

  it("the probe passes the password through DOLT_CLI_PASSWORD, never as an argument", () => {
    const { status, calls } = run(container().readinessProbe!.exec!.command!)
    assert.strictEqual(status, 0)
    assert.strictEqual(
      calls,
      `ARGS --host 127.0.0.1 --port 3306 --no-tls -u admin sql -q select 1\nCLIPW ${password}\n`
    )
  })

  it("with plaintext refused, the probe and preStop talk TLS to localhost and trust the mounted CA", () => {
    const manifest = withSpec(twoReplicas, { tls: { enabled: true, requireSecureTransport: true } })
    const probe = run(container(manifest).readinessProbe!.exec!.command!)
    assert.strictEqual(probe.status, 0)
    assert.strictEqual(
      probe.calls,
      `ARGS --host localhost --port 3306 -u admin sql -q select 1\nCLIPW ${password}\nCAFILE /etc/doltdb-tls/ca.crt\n`
    )
    const preStop = run(container(manifest).lifecycle!.preStop.exec.command, { FAKE_ROLE_STATE: "primary,7" })
    const args = preStop.calls.split("\n").filter((line) => line.startsWith("ARGS"))
    assert.lengthOf(args, 2)
    for (const a of args) assert.include(a, "--host localhost --port 3306 -u admin sql")
    assert.include(preStop.calls, "CAFILE /etc/doltdb-tls/ca.crt")
  })

  it("preStop demotes a primary at epoch + 1 with the configured number of caught-up standbys", () => {
    const manifest = withSpec(twoReplicas, {
      replicas: 3,
      replication: { enabled: true, primary: { minCaughtUpStandby: 2 } }
    })
    const { status, calls } = run(container(manifest).lifecycle!.preStop.exec.command, { FAKE_ROLE_STATE: "primary,7" })
    assert.strictEqual(status, 0)
    const args = calls.split("\n").filter((line) => line.startsWith("ARGS"))
    assert.strictEqual(args.length, 2)
    assert.include(args[1]!, "call dolt_cluster_transition_to_standby('8', '2')")
    assert.notInclude(calls.replaceAll(`CLIPW ${password}`, ""), password)
  })

  it("preStop does nothing on a standby, or when the server does not answer", () => {
    for (const state of ["standby,7", "", "primary,"]) {
      const { status, calls } = run(container().lifecycle!.preStop.exec.command, { FAKE_ROLE_STATE: state })
      assert.strictEqual(status, 0)
      assert.strictEqual(calls.split("\n").filter((line) => line.startsWith("ARGS")).length, 1, state)
    }
  })

  it("the init script creates the admin user from stdin with SQL-escaped credentials", () => {
    const { status, calls } = run(Builders.buildInitContainer(decoded(twoReplicas)).command)
    assert.strictEqual(status, 0)
    assert.include(calls, "ARGS config --global --add user.name dolt kubernetes deployment")
    const escaped = `p''a"s\\\\s $w0rd`
    assert.include(
      calls,
      `STDIN CREATE USER IF NOT EXISTS 'admin'@'%' IDENTIFIED BY '${escaped}';\nGRANT ALL PRIVILEGES ON *.* TO 'admin'@'%' WITH GRANT OPTION;`
    )
    const argLines = calls.split("\n").filter((line) => line.startsWith("ARGS"))
    assert.isFalse(argLines.some((line) => line.includes("w0rd")))
  })

  describe("the init script waits, bounded, for its peers' names", () => {
    // A fake `getent` that resolves a name only from its Nth lookup on, and a fake `date` whose clock advances one
    // second per call, so the bound is reached without waiting for it.
    const fakes = (resolveFrom: Record<string, number>) => {
      const cases = Object.entries(resolveFrom)
        .map(([name, from]) => `  ${name}) [ "$n" -ge ${from} ] ;;`)
        .join("\n")
      writeFileSync(
        join(dir, "getent"),
        [
          "#!/bin/sh",
          `n=$(( $(cat "${dir}/lookups.$2" 2>/dev/null || echo 0) + 1 )); echo "$n" > "${dir}/lookups.$2"`,
          'case "$2" in',
          cases,
          "  *) exit 2 ;;",
          "esac"
        ].join("\n")
      )
      writeFileSync(
        join(dir, "date"),
        `#!/bin/sh\nt=$(( $(cat "${dir}/clock" 2>/dev/null || echo 1000) + 1 )); echo "$t" > "${dir}/clock"; echo "$t"\n`
      )
      for (const name of ["getent", "date"]) chmodSync(join(dir, name), 0o755)
      const pod = Builders.buildConfigData(decoded(twoReplicas))["pair-0.yaml"]!
      writeFileSync(join(dir, "config.yaml"), pod)
    }
    const lookups = (name: string) =>
      existsSync(join(dir, `lookups.${name}`)) ? Number(readFileSync(join(dir, `lookups.${name}`), "utf8")) : 0
    const init = () => Builders.buildInitContainer(decoded(twoReplicas)).command

    it("looks up each peer of its config until it resolves", () => {
      fakes({ "pair-1.pair-internal.dolt": 3 })
      assert.strictEqual(run(init()).status, 0)
      assert.strictEqual(lookups("pair-1.pair-internal.dolt"), 3)
      assert.strictEqual(lookups("pair-0.pair-internal.dolt"), 0, "a pod never waits for its own name")
    })

    it("gives up at the bound and starts anyway", () => {
      fakes({})
      const { status, calls } = run(init())
      assert.strictEqual(status, 0)
      assert.include(calls, "STDIN CREATE USER", "the rest of the script still runs")
      const tries = lookups("pair-1.pair-internal.dolt")
      assert.isAtLeast(tries, 2)
      assert.isAtMost(tries, Builders.PeerNameWaitSeconds + 1)
    })
  })

  it("the init script points Dolt's DoltHub key at the backup credentials volume, keeping a user's own key name", () => {
    const init = Builders.buildInitContainer(decoded(twoReplicas)).command
    const link = join(dir, ".dolt", "creds", `${B.DoltHubCredsName}.jwk`)
    mkdirSync(join(dir, ".dolt")) // what the real `dolt config --global` lines create first
    const first = run(init)
    assert.strictEqual(first.status, 0)
    assert.strictEqual(readlinkSync(link), `${B.BackupCredentialsMountPath}/${B.DoltHubCredentialsKey}`)
    assert.include(first.calls, `ARGS config --global --add user.creds ${B.DoltHubCredsName}`)
    // A restart finds the link and our name in place: the same lines again, still exit 0.
    assert.strictEqual(run(init, { FAKE_USER_CREDS: B.DoltHubCredsName }).status, 0)
    const own = run(init, { FAKE_USER_CREDS: "abcdefmykey" })
    assert.strictEqual(own.status, 0)
    assert.notInclude(own.calls, "--add user.creds")
  })
})
