/** The hostile and heaviest-legal inputs shared by bench/hostile-input.ts and HostileInput.test.ts. */

export const doltdbManifest = (
  name: string,
  options: { readonly annotation?: string; readonly replicas?: number } = {}
) =>
  [
    "apiVersion: k8s.dolthub.com/v1alpha",
    "kind: DoltDB",
    "metadata:",
    `  name: ${name}`,
    ...(options.annotation === undefined ? [] : ["  annotations:", `    big: "${options.annotation}"`]),
    "spec:",
    '  engineVersion: "1.83.6"',
    `  replicas: ${options.replicas ?? 1}`,
    "  storage:",
    "    size: 1Gi",
    ""
  ].join("\n")

/** 10 levels of 10 aliases each: 10^10 nodes once expanded, under 1 KB of text. */
export const aliasBomb = (): string => {
  const lines = ["extra:", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
  for (let i = 1; i <= 10; i++)
    lines.push(
      `  a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(", ")}]`
    )
  return `${doltdbManifest("mydb")}${lines.join("\n")}\n`
}

/** `count` small DoltDB documents (36,000 make 5 MB). */
export const manyDocuments = (count: number): string =>
  Array.from({ length: count }, (_, i) => doltdbManifest(`db${i}`)).join("---\n")

/** The most a file within the limits (200 documents, replicas <= 32) asks of render: ~27 MB of output. */
export const heavyDocuments = (): string =>
  Array.from({ length: 200 }, (_, i) => doltdbManifest(`db${i}`, { replicas: 32 })).join("---\n")
