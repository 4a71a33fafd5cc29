// The images the agent can run, as it has no container runtime: each is mapped to a binary on this host.
// - `dolthub/dolt:*` runs the built dolt (its tag is logged when it differs from the build);
// - the operator image (`image.repository` of charts/doltdb-operator/values.yaml, or E2E_OPERATOR_IMAGE, any tag)
//   runs this repository's operator with the Node 24 from node_modules, the repository bind-mounted read-only at
//   OPERATOR_ROOT in the pod (E2E_OPERATOR_ENTRY picks another entry point, e.g. build output).
// Plain Node (test infrastructure).
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"

export const REPO = join(import.meta.dirname, "..", "..")
/** Where the repository appears inside an operator pod. */
export const OPERATOR_ROOT = "/doltdb-operator"
const DEFAULT_OPERATOR_IMAGE = "ghcr.io/electronicarts/doltdb-operator"

const chartRepository = (): string | undefined => {
  const values = join(REPO, "charts", "doltdb-operator", "values.yaml")
  if (!existsSync(values)) return undefined
  try {
    return (parse(readFileSync(values, "utf8")) as { image?: { repository?: string } })?.image?.repository
  } catch {
    return undefined
  }
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
const repositories = [
  ...new Set(
    [process.env.E2E_OPERATOR_IMAGE, chartRepository(), DEFAULT_OPERATOR_IMAGE].filter((r): r is string => !!r)
  )
]
const OPERATOR_IMAGE = new RegExp(`^(docker\\.io/(library/)?)?(${repositories.map(literal).join("|")})(:|@|$)`)
const DOLT_IMAGE = /^(docker\.io\/)?dolthub\/dolt(:|@|$)/

export type ImageKind = "dolt" | "operator"

export const imageKind = (image: string | undefined): ImageKind | undefined =>
  DOLT_IMAGE.test(image ?? "") ? "dolt" : OPERATOR_IMAGE.test(image ?? "") ? "operator" : undefined

export const knownImages = () => `dolthub/dolt:*, ${repositories.map((r) => `${r}:*`).join(", ")}`

/** The operator image's entrypoint, as paths inside the pod. */
export const operatorEntrypoint = () => [
  `${OPERATOR_ROOT}/node_modules/node/bin/node`,
  `${OPERATOR_ROOT}/${process.env.E2E_OPERATOR_ENTRY ?? "packages/operator/bin/doltdb-operator.js"}`
]

/** An image reference the agent runs as the operator (the first known repository). */
export const operatorImage = (tag: string) => `${repositories[0]}:${tag}`
