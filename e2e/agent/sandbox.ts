// Pod sandboxes: one network namespace per pod (veth on a bridge the agent owns) and one private mount +
// UTS namespace whose root is a tmpfs with the host's /usr bind-mounted read-only, a private /etc, /tmp
// and /root, the pod's volumes at their mount paths and /usr/local/bin/dolt = the built dolt. A "holder"
// process (sleep, chrooted into that root) keeps the namespaces alive; containers and exec probes enter
// them with nsenter. Plain async Node: this is test infrastructure.
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { existsSync, mkdirSync, openSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { BRIDGE, BRIDGE_ADDRESS, NETNS_PREFIX, NODE_INDEX, POD_PREFIX_LENGTH } from "../lib/names.ts"
import type { Identity } from "./container.ts"

export const sh = (file: string, args: ReadonlyArray<string>) =>
  new Promise<string>((resolve, reject) =>
    execFile(file, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout)
    )
  )

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`

export const ensureBridge = async () => {
  const links = await sh("ip", ["-o", "link", "show"])
  if (!links.includes(` ${BRIDGE}:`)) {
    await sh("ip", ["link", "add", BRIDGE, "type", "bridge"])
    await sh("ip", ["addr", "add", `${BRIDGE_ADDRESS}/${POD_PREFIX_LENGTH}`, "dev", BRIDGE])
  }
  await sh("ip", ["link", "set", BRIDGE, "up"])
}

const nodePrefix = `${NETNS_PREFIX}${NODE_INDEX}-`

/** Namespaces of this node left by an agent that died: kill what runs in them and delete them. */
export const removeStaleSandboxes = async () => {
  const list = await sh("ip", ["netns", "list"])
  for (const ns of list.split("\n").map((l) => l.split(" ")[0] ?? "")) {
    if (!ns.startsWith(nodePrefix)) continue
    const pids = (await sh("ip", ["netns", "pids", ns]).catch(() => "")).split("\n").filter(Boolean)
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL")
      } catch {}
    }
    await sh("ip", ["netns", "del", ns]).catch(() => {})
    console.error(`[sandbox] removed stale ${ns}`)
  }
}

export interface Mount {
  readonly source: string
  /** Absolute path inside the pod. */
  readonly target: string
  readonly readOnly: boolean
}

export interface SandboxSpec {
  readonly uid: string
  readonly hostname: string
  readonly ip: string
  readonly dir: string
  readonly hostsFile: string
  readonly doltBin: string
  readonly mounts: ReadonlyArray<Mount>
}

export interface Sandbox {
  readonly netns: string
  readonly hostVeth: string
  readonly holder: ChildProcess
  readonly pid: number
}

// Top-level directories of the pod root that are the host's, read-only; mounts may not go below them.
const HOST_DIRS = ["usr", "opt"]

const setupScript = (spec: SandboxSpec, root: string): string => {
  const lines = ["set -eu", `R=${q(root)}`, `mount -t tmpfs -o mode=755 e2e-pod-root "$R"`, 'cd "$R"']
  // Merged-/usr hosts have /bin -> usr/bin etc.: copy the symlinks, bind the real directories.
  for (const d of readdirSync("/")) {
    if (["bin", "sbin", "lib", "lib32", "lib64", "libx32"].includes(d) || HOST_DIRS.includes(d)) {
      lines.push(`if [ -L /${d} ]; then ln -s "$(readlink /${d})" ${d}; else mkdir ${d}`)
      lines.push(`  mount --rbind /${d} ${d}; mount -o remount,bind,ro ${d}; fi`)
    }
  }
  lines.push("mkdir -p dev proc sys tmp root run var/tmp etc .host-etc usr/local/bin 2>/dev/null || true")
  lines.push("chmod 1777 tmp var/tmp")
  lines.push("mount --rbind /dev dev", "mount --rbind /proc proc", "mount --rbind /sys sys")
  // /usr/local/bin holds only dolt (and nothing of the host), like the dolthub/dolt image.
  lines.push("mount -t tmpfs -o mode=755 e2e-local-bin usr/local/bin", ": > usr/local/bin/dolt")
  lines.push(`mount --bind ${q(spec.doltBin)} usr/local/bin/dolt`)
  // /etc: a private directory whose entries link to a read-only view of the host's, except those the pod
  // owns (hosts, hostname, resolv.conf) and the first path component of any volume mounted below /etc.
  const own = new Set(["hosts", "hostname", "resolv.conf"])
  for (const m of spec.mounts) {
    const parts = m.target.split("/").filter(Boolean)
    if (parts.length === 0) throw new Error(`cannot mount a volume at /`)
    if (HOST_DIRS.includes(parts[0]!) || ["bin", "sbin", "lib", "lib64", "dev", "proc", "sys"].includes(parts[0]!)) {
      throw new Error(`volume mount at ${m.target} is below a host directory; not supported by the e2e agent`)
    }
    if (parts[0] === "etc" && parts[1]) own.add(parts[1])
  }
  lines.push("mount --rbind /etc .host-etc", "mount -o remount,bind,ro .host-etc")
  for (const e of readdirSync("/etc")) if (!own.has(e)) lines.push(`ln -s ${q(`/.host-etc/${e}`)} etc/${q(e)}`)
  lines.push(`: > etc/hosts`, `mount --bind ${q(spec.hostsFile)} etc/hosts`)
  lines.push(`echo ${q(spec.hostname)} > etc/hostname`, "echo 'options ndots:1' > etc/resolv.conf")
  for (const m of spec.mounts) {
    const t = `."${m.target}"`
    lines.push(
      existsSync(m.source) && !isDir(m.source) ? `mkdir -p "$(dirname ${t})"; : > ${t}` : `mkdir -p ${t}`,
      `mount --bind ${q(m.source)} ${t}`
    )
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${t}`)
  }
  lines.push(`hostname ${q(spec.hostname)}`)
  lines.push(`: > ${q(join(spec.dir, "sandbox.ready"))}`)
  lines.push(`exec chroot "$R" /bin/sleep infinity`)
  return `${lines.join("\n")}\n`
}

const isDir = (p: string) => {
  try {
    readdirSync(p)
    return true
  } catch {
    return false
  }
}

const short = (uid: string) => uid.replaceAll("-", "").slice(0, 8)
/** Names of a pod's network namespace and of the host end of its veth (e2e/lib/faults.ts uses them too). */
export const netnsName = (uid: string, node = NODE_INDEX) => `${NETNS_PREFIX}${node}-${short(uid)}`
export const hostVethName = (uid: string, node = NODE_INDEX) => `ve${node}${short(uid)}`.slice(0, 15)

export const createSandbox = async (spec: SandboxSpec): Promise<Sandbox> => {
  const netns = netnsName(spec.uid)
  const hostVeth = hostVethName(spec.uid)
  const podVeth = `vp${NODE_INDEX}${short(spec.uid)}`.slice(0, 15)
  await sh("ip", ["netns", "add", netns])
  await sh("ip", ["link", "add", hostVeth, "type", "veth", "peer", "name", podVeth])
  await sh("ip", ["link", "set", podVeth, "netns", netns])
  await sh("ip", ["link", "set", hostVeth, "master", BRIDGE, "up"])
  const inNs = (...args: Array<string>) => sh("ip", ["netns", "exec", netns, ...args])
  await inNs("ip", "link", "set", podVeth, "name", "eth0")
  await inNs("ip", "addr", "add", `${spec.ip}/${POD_PREFIX_LENGTH}`, "dev", "eth0")
  await inNs("ip", "link", "set", "eth0", "up")
  await inNs("ip", "link", "set", "lo", "up")

  const root = join(spec.dir, "root")
  mkdirSync(root, { recursive: true })
  const script = join(spec.dir, "sandbox.sh")
  writeFileSync(script, setupScript(spec, root))
  const log = openSync(join(spec.dir, "sandbox.log"), "a")
  // nsenter and unshare exec without forking, so the child's pid ends up being the chrooted sleep.
  const holder = spawn(
    "nsenter",
    [
      `--net=/run/netns/${netns}`,
      "--",
      "unshare",
      "--mount",
      "--uts",
      "--propagation",
      "private",
      "--",
      "/bin/sh",
      script
    ],
    { detached: true, stdio: ["ignore", log, log] }
  )
  const ready = join(spec.dir, "sandbox.ready")
  const deadline = Date.now() + 15_000
  while (!existsSync(ready)) {
    if (holder.exitCode !== null || Date.now() > deadline) {
      holder.kill("SIGKILL")
      await sh("ip", ["netns", "del", netns]).catch(() => {})
      throw new Error(`pod sandbox setup failed (exit ${holder.exitCode}); see ${join(spec.dir, "sandbox.log")}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  return { netns, hostVeth, holder, pid: holder.pid! }
}

/** Kills whatever still runs in the pod's network namespace, then deletes it (the veth goes with it). */
export const destroySandbox = async (sb: Sandbox) => {
  const pids = (await sh("ip", ["netns", "pids", sb.netns]).catch(() => "")).split("\n").filter(Boolean)
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL")
    } catch {}
  }
  try {
    sb.holder.kill("SIGKILL")
  } catch {}
  await sh("ip", ["netns", "del", sb.netns]).catch(() => {})
  await sh("ip", ["link", "del", sb.hostVeth]).catch(() => {})
}

/** setpriv arguments for a container's user, groups and no_new_privs (none: run as root, as before). */
const identityArgv = (id: Identity | undefined): ReadonlyArray<string> => {
  if (id === undefined || (id.uid === undefined && id.gid === undefined && !id.noNewPrivileges)) return []
  return [
    "setpriv",
    ...(id.uid === undefined ? [] : ["--reuid", String(id.uid)]),
    ...(id.gid === undefined ? [] : ["--regid", String(id.gid)]),
    ...(id.gid === undefined ? [] : id.groups.length === 0 ? ["--clear-groups"] : ["--groups", id.groups.join(",")]),
    ...(id.noNewPrivileges ? ["--no-new-privs"] : []),
    "--"
  ]
}

/** argv that runs `argv` inside the sandbox with cwd `workingDir` (env comes from the spawn options). */
export const enter = (sb: Sandbox, workingDir: string, argv: ReadonlyArray<string>, identity?: Identity) => [
  "nsenter",
  "-t",
  String(sb.pid),
  "-m",
  "-u",
  "-n",
  "-r",
  "--",
  ...identityArgv(identity),
  "/usr/bin/env",
  "-C",
  workingDir,
  ...argv
]
