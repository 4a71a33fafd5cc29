/**
 * Checks the generated CRDs against a real kube-apiserver: installs crds/*.yaml, then creates every test case of
 * packages/core/test/fixtures/api/cases.ts with `fieldValidation=Strict` and `dryRun=All`:
 * - valid manifests must be accepted, and the object the API server would store (after its structural
 *   defaulting) must equal our `encode(decode(manifest))`;
 * - invalid ones must be rejected with the expected field in the error;
 * - the transition rules (storage.size may not shrink, Backup spec immutable) are checked with real updates.
 *
 * Usage (a throwaway API server; the CRDs are installed into it):
 *   APISERVER=https://127.0.0.1:6443 CA=ca.crt CERT=admin.crt KEY=admin.key node packages/core/scripts/check-crds-live.ts
 * Exits 1 on any disagreement.
 */
import { readFileSync } from "node:fs"
import { request } from "node:https"
import { Effect } from "effect"
import { Api } from "../src/index.ts"
import {
  base,
  invalid,
  type Manifest,
  mutate,
  patch,
  pathsOf,
  replacements,
  sample,
  valid
} from "../test/fixtures/api/cases.ts"
import { renderCrds } from "./gen-crds.ts"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`set ${name}`)
  return value
}
const server = new URL(env("APISERVER"))
const tls = { ca: readFileSync(env("CA")), cert: readFileSync(env("CERT")), key: readFileSync(env("KEY")) }
const namespace = "default"

interface Response {
  readonly status: number
  readonly body: Record<string, unknown>
}

const call = (method: string, path: string, body?: unknown): Promise<Response> =>
  new Promise((resolve, reject) => {
    const req = request(
      {
        ...tls,
        host: server.hostname,
        port: server.port,
        method,
        path,
        headers: { "content-type": "application/json", accept: "application/json" }
      },
      (res) => {
        let text = ""
        res.on("data", (chunk) => {
          text += chunk
        })
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text === "" ? {} : JSON.parse(text) }))
      }
    )
    req.on("error", reject)
    if (body !== undefined) req.write(JSON.stringify(body))
    req.end()
  })

const failures: Array<string> = []
const fail = (message: string) => {
  failures.push(message)
  console.error(`FAIL ${message}`)
}

const collection = (kind: string) => {
  const info = Api.kindInfo(kind)
  if (info === undefined) throw new Error(`unknown kind ${kind}`)
  return `/apis/${Api.ApiVersion}/namespaces/${namespace}/${info.plural}`
}

/** Drops what the API server adds to metadata, so stored objects compare with our encoded ones. */
const comparable = (object: Record<string, unknown>) => {
  const { metadata: _, ...rest } = object
  return rest
}

const sameJson = (a: unknown, b: unknown): boolean => {
  const canonical = (u: unknown): unknown =>
    Array.isArray(u)
      ? u.map(canonical)
      : typeof u === "object" && u !== null
        ? Object.fromEntries(
            Object.entries(u)
              .sort(([x], [y]) => x.localeCompare(y))
              .map(([k, v]) => [k, canonical(v)])
          )
        : u
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))
}

// 1. install the CRDs
for (const [file, text] of await renderCrds()) {
  const { parse } = await import("yaml")
  const crd = parse(text) as { metadata: { name: string } }
  const existing = await call("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`)
  const res =
    existing.status === 200
      ? await call("PUT", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`, {
          ...crd,
          metadata: {
            ...crd.metadata,
            resourceVersion: (existing.body.metadata as { resourceVersion: string }).resourceVersion
          }
        })
      : await call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
  if (res.status >= 300) fail(`${file}: ${res.status} ${String(res.body.message)}`)
  else console.log(`installed ${file}`)
}
for (const info of Api.kinds) {
  for (let i = 0; ; i++) {
    const res = await call("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${info.plural}.${Api.Group}`)
    const conditions = ((res.body.status as { conditions?: Array<{ type: string; status: string }> })?.conditions ??
      []) as Array<{ type: string; status: string }>
    if (conditions.some((c) => c.type === "Established" && c.status === "True")) break
    if (i > 100) {
      fail(`${info.plural} not Established: ${JSON.stringify(conditions)}`)
      break
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}
// discovery of the new group takes a moment
await new Promise((r) => setTimeout(r, 2000))

/** Creates `manifest` in the test namespace (whatever namespace it names). */
const create = (manifest: Manifest, dryRun = true) => {
  const { namespace: _, ...metadata } = (manifest.metadata ?? {}) as Record<string, unknown>
  return call("POST", `${collection(String(manifest.kind))}?fieldValidation=Strict${dryRun ? "&dryRun=All" : ""}`, {
    ...manifest,
    metadata
  })
}

// 2. valid manifests: accepted, stored exactly as we encode them
for (const { file, manifest } of valid) {
  const res = await create(manifest)
  if (res.status !== 201) {
    fail(`${file}: rejected (${res.status}): ${String(res.body.message)}`)
    continue
  }
  const info = Api.kindInfo(String(manifest.kind))!
  const encoded = await Effect.runPromise(Effect.flatMap(info.decode(manifest), (d) => info.encode(d)))
  // a create ignores status (status subresource), so compare without it
  const { status: _, ...ours } = comparable(encoded as Record<string, unknown>)
  if (!sameJson(comparable(res.body), ours))
    fail(`${file}: API server stored ${JSON.stringify(comparable(res.body))}\n  we encode ${JSON.stringify(ours)}`)
  else console.log(`ok ${file}`)
}

// 3. invalid manifests: rejected at the expected field
for (const [name, manifest, path] of invalid) {
  const res = await create(manifest)
  const causes = ((res.body.details as { causes?: Array<{ field?: string; message?: string }> })?.causes ?? [])
    .map((c) => `${c.field ?? ""}: ${c.message ?? ""}`)
    .join("; ")
  if (res.status < 400) fail(`${name}: accepted, expected a rejection at ${path}`)
  else if (!String(res.body.message).includes(path))
    fail(`${name}: rejected, but not at ${path}: ${causes || String(res.body.message)}`)
  else console.log(`ok ${name} -> ${res.status} at ${path}`)
}

// 4. transition rules, with real objects
const update = async (name: string, before: Manifest, after: Manifest, expected: string | undefined) => {
  const created = await create(before, false)
  if (created.status !== 201) return fail(`${name}: could not create: ${String(created.body.message)}`)
  const metadata = created.body.metadata as { name: string; resourceVersion: string }
  const res = await call(
    "PUT",
    `${collection(String(before.kind))}/${metadata.name}?fieldValidation=Strict&dryRun=All`,
    {
      ...after,
      metadata: { ...(after.metadata as object), resourceVersion: metadata.resourceVersion }
    }
  )
  await call("DELETE", `${collection(String(before.kind))}/${metadata.name}`)
  if (expected === undefined) {
    if (res.status >= 300) fail(`${name}: update rejected: ${String(res.body.message)}`)
    else console.log(`ok ${name}`)
  } else if (res.status < 400 || !String(res.body.message).includes(expected))
    fail(`${name}: expected "${expected}", got ${res.status} ${String(res.body.message)}`)
  else console.log(`ok ${name} -> ${expected}`)
}
await update("storage grows", base["doltdb-sample"]!, sample({ storage: { size: "20Gi" } }), undefined)
await update(
  "storage shrinks",
  base["doltdb-sample"]!,
  sample({ storage: { size: "5Gi" } }),
  "storage.size may not shrink"
)
await update("backup changes", base["backup-s3"]!, patch("backup-s3", { backoffLimit: 9 }), "backup spec is immutable")
await update("schedule changes", base.backupschedule!, patch("backupschedule", { schedule: "0 3 * * *" }), undefined)

// 5. every single-field mutation of the richest fixtures: the API server and our decoder agree
let mutations = 0
for (const file of ["doltdb-full.yaml", "backup-s3.yaml", "grant.yaml", "user.yaml"]) {
  const manifest = valid.find((v) => v.file === file)!.manifest
  const info = Api.kindInfo(String(manifest.kind))!
  for (const path of pathsOf(manifest.spec, ["spec"])) {
    for (const replacement of replacements) {
      const mutated = mutate(manifest, path, replacement) as Manifest
      const server = (await create(mutated)).status < 300
      const ours = (await Effect.runPromise(Effect.exit(info.decode(mutated))))._tag === "Success"
      mutations++
      if (server !== ours)
        fail(
          `${file} ${Api.formatPath(path)} = ${typeof replacement === "symbol" ? "(deleted)" : JSON.stringify(replacement)}: API server ${server ? "accepts" : "rejects"}, decoder ${ours ? "accepts" : "rejects"}`
        )
    }
  }
}
console.log(`${mutations} mutations compared`)

console.log(failures.length === 0 ? "all checks passed" : `${failures.length} failures`)
process.exit(failures.length === 0 ? 0 : 1)
