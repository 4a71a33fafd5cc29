/** Reading a container spec the way the Dolt image would: mounts, paths, the command, the init container. */
import type { ContainerSpec, Mount, Process } from "@doltdb-op/core/sim/SimWorld"
import { Effect } from "effect"
import { accountKey, type DataDir, type IdSource, type Root } from "./state.ts"

/** The mount a path lives on (longest mount path that is a prefix), and the path inside it. */
export const mountFor = (
  mounts: Readonly<Record<string, Mount>>,
  path: string
): { readonly mount: Mount; readonly rel: string } | undefined => {
  let best: { mount: Mount; rel: string; len: number } | undefined
  for (const [mountPath, mount] of Object.entries(mounts)) {
    const base = mountPath.replace(/\/+$/u, "")
    if (path === base || path.startsWith(`${base}/`)) {
      if (best === undefined || base.length > best.len)
        best = { mount, rel: path.slice(base.length) || "/", len: base.length }
    }
  }
  return best
}

export const resolvePath = (path: string, cwd: string): string => {
  const joined = path.startsWith("/") ? path : `${cwd.replace(/\/+$/u, "")}/${path}`
  const parts: Array<string> = []
  for (const p of joined.split("/")) {
    if (p === "" || p === ".") continue
    if (p === "..") parts.pop()
    else parts.push(p)
  }
  return `/${parts.join("/")}`
}

export const isServerCommand = (spec: ContainerSpec): boolean => [...spec.command, ...spec.args].includes("sql-server")

/** What the init container does: the admin user from DOLT_USERNAME/DOLT_PASSWORD, once (no privileges.db yet). */
export const initAdmin = (data: DataDir, spec: ContainerSpec): void => {
  if (data.privilegesInitialised) return
  const user = spec.env.DOLT_USERNAME
  const password = spec.env.DOLT_PASSWORD
  if (user === undefined || user === "" || password === undefined || password === "") return
  const accounts = new Map(data.auth.accounts)
  accounts.set(accountKey(user, "%"), {
    password,
    grants: new Map([["*.*", { privileges: new Set(["ALL PRIVILEGES"]), grantOption: true }]])
  })
  data.auth = { id: data.auth.id, accounts }
  data.privilegesInitialised = true
}

export const finished = (code: number): Process => ({
  probe: () => Effect.succeed(false),
  preStop: Effect.void,
  stop: () => Effect.void,
  exitCode: Effect.succeed(code)
})

const gateLine = /^\[ "\$\{POD_NAME##\*-\}" = "(\d+)" \] \|\| exit 0$/u
const restoreLine = /^restore '((?:[^']|'\\'')*)' '((?:[^']|'\\'')*)' '((?:[^']|'\\'')*)'$/u
const unquote = (s: string) => s.replaceAll(`'\\''`, "'")

/**
 * What the image does with `/etc/doltdb/bootstrap.sh` (the operator's generated script, read line by line): on the
 * gated ordinal, each absent database is restored from the backup store. Returns the failure, if any.
 */
export const bootstrapStep = (
  spec: ContainerSpec,
  data: DataDir,
  store: ReadonlyMap<string, { readonly root: Root; readonly charset: string; readonly collation: string }>,
  ids: IdSource,
  now: number
): string | undefined => {
  const files = mountFor(spec.mounts, "/etc/doltdb/bootstrap.sh")
  const script = files?.mount._tag === "Files" ? files.mount.files["bootstrap.sh"] : undefined
  if (script === undefined) return undefined
  const lines = script.split("\n")
  const gate = lines.map((l) => gateLine.exec(l)).find((m) => m !== null)
  const ordinal = (spec.env.POD_NAME ?? spec.pod).split("-").at(-1)
  if (gate === undefined || gate?.[1] !== ordinal) return undefined
  for (const line of lines) {
    const m = restoreLine.exec(line)
    if (m === null) continue
    const [database, url] = [unquote(m[1] ?? ""), unquote(m[2] ?? "")]
    if (data.databases.has(database)) continue
    const saved = store.get(url)
    if (saved === undefined) return `bootstrap: cannot restore database ${database} from ${url}`
    data.databases.set(database, {
      root: { ...saved.root, id: ids.next(), createdAt: now },
      charset: saved.charset,
      collation: saved.collation,
      backups: new Map()
    })
  }
  return undefined
}
