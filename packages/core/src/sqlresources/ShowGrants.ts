/**
 * A parser for the lines `SHOW GRANTS FOR ...` returns on MariaDB, MySQL 8 and Dolt, folded into one privilege set
 * per `db.table` with its grant option. Formats it accepts:
 * - MySQL 8: ``GRANT SELECT, INSERT ON `app`.* TO `bob`@`%` WITH GRANT OPTION``, column lists
 *   (``GRANT SELECT (`a`, `b`) ON ...``), dynamic privileges (``GRANT BACKUP_ADMIN,XA_RECOVER_ADMIN ON *.* ...``),
 *   escaped wildcards (``app\_db``), role grants (``GRANT `r`@`%` TO ...``).
 * - MariaDB: ``GRANT USAGE ON *.* TO `bob`@`%` IDENTIFIED BY PASSWORD '*...'``, `'bob'@'%'` quoting (< 10.4),
 *   `IDENTIFIED VIA ... USING '...'`, `WITH GRANT OPTION MAX_USER_CONNECTIONS 5`, `GRANT PROXY ON ...`.
 * - Dolt (go-mysql-server): expanded privilege lists with names backticked but not escaped.
 * Lines about routines, proxies and roles, and column-level privileges, are left out: a Grant manages static
 * privileges on `*.*`, `db.*` and `db.table` only.
 */
import { isStaticPrivilege } from "./Privileges.ts"

type Token =
  | { readonly kind: "word"; readonly text: string }
  | { readonly kind: "quoted"; readonly text: string }
  | { readonly kind: "punct"; readonly text: string }

const closing: Readonly<Record<string, string>> = { "`": "`", "'": "'", '"': '"' }

/** Splits a line into words, quoted names/strings (unquoted, doubled quotes undone) and punctuation. */
const tokenize = (line: string): ReadonlyArray<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < line.length) {
    const c = line[i] ?? ""
    if (/\s/u.test(c)) {
      i++
    } else if (closing[c] !== undefined) {
      let text = ""
      i++
      while (i < line.length) {
        const d = line[i] ?? ""
        if (d === "\\" && c !== "`" && i + 1 < line.length) {
          text += line[i + 1]
          i += 2
        } else if (d === c && line[i + 1] === c) {
          text += c
          i += 2
        } else if (d === c) {
          i++
          break
        } else {
          text += d
          i++
        }
      }
      tokens.push({ kind: "quoted", text })
    } else if ("(),.@*;".includes(c)) {
      tokens.push({ kind: "punct", text: c })
      i++
    } else {
      let text = ""
      while (i < line.length && !/[\s(),.@*;`'"]/u.test(line[i] ?? "")) text += line[i++]
      tokens.push({ kind: "word", text })
    }
  }
  return tokens
}

const isWord = (t: Token | undefined, text: string) => t?.kind === "word" && t.text.toUpperCase() === text

/** Privileges on one level (`*`/`*`, `db`/`*` or `db`/`table`), as the server reports them. */
export interface HeldGrant {
  /** `*` for global; the database name otherwise (`\_`, `\%` unescaped). */
  readonly database: string
  readonly table: string
  /** Upper-case privilege names, `ALL` normalised to `ALL PRIVILEGES`; `USAGE` (no privilege) left out. */
  readonly privileges: ReadonlyArray<string>
  readonly grantOption: boolean
}

const objectName = (t: Token | undefined): string | undefined =>
  t === undefined
    ? undefined
    : t.kind === "punct"
      ? t.text === "*"
        ? "*"
        : undefined
      : t.text.replace(/\\([_%\\])/gu, "$1")

/** One `SHOW GRANTS` line; `undefined` for lines that are not about static privileges on a db/table level. */
export const parseGrantLine = (line: string): HeldGrant | undefined => {
  const tokens = tokenize(line.trim())
  if (!isWord(tokens[0], "GRANT")) return undefined
  const privileges: Array<string> = []
  let words: Array<string> = []
  // A privilege followed by a column list (`SELECT (a, b)`) is column-level: not a privilege on the level.
  let columns = false
  let depth = 0
  let i = 1
  const flush = () => {
    if (words.length > 0 && !columns) privileges.push(words.join(" ").toUpperCase())
    words = []
    columns = false
  }
  for (; i < tokens.length; i++) {
    const t = tokens[i]
    if (t === undefined) break
    if (t.kind === "punct" && t.text === "(") {
      columns = true
      depth++
    } else if (t.kind === "punct" && t.text === ")") depth = Math.max(0, depth - 1)
    else if (depth > 0) continue
    else if (isWord(t, "ON")) break
    else if (t.kind === "punct" && t.text === ",") flush()
    else if (t.kind === "word") words.push(t.text)
    // A quoted token before ON is a role (`GRANT `r`@`%` TO ...`): not a privilege line.
    else return undefined
  }
  if (!isWord(tokens[i], "ON")) return undefined
  flush()
  i++
  if (isWord(tokens[i], "PROCEDURE") || isWord(tokens[i], "FUNCTION")) return undefined
  if (isWord(tokens[i], "TABLE")) i++
  const first = objectName(tokens[i])
  if (first === undefined || !(tokens[i + 1]?.kind === "punct" && tokens[i + 1]?.text === ".")) return undefined
  const second = objectName(tokens[i + 2])
  if (second === undefined || !isWord(tokens[i + 3], "TO")) return undefined
  if (privileges.some((p) => p === "PROXY")) return undefined
  let grantOption = false
  for (let j = i + 4; j < tokens.length - 1; j++) {
    if (isWord(tokens[j], "GRANT") && isWord(tokens[j + 1], "OPTION")) grantOption = true
  }
  const names = privileges.map((p) => (p === "ALL" ? "ALL PRIVILEGES" : p)).filter((p) => p !== "USAGE" && p !== "")
  return { database: first, table: second, privileges: [...new Set(names)], grantOption }
}

/** Case-insensitive key of a level (MySQL on Linux is case-sensitive, Dolt is not; names here are never ambiguous). */
export const levelKey = (database: string, table: string) => `${database.toLowerCase()}.${table.toLowerCase()}`

/**
 * All lines folded per level. A level's grant option counts only from lines that carry a static privilege or
 * USAGE: MySQL 8 prints dynamic privileges on their own `*.*` line with their own `WITH GRANT OPTION`.
 */
export const parseShowGrants = (
  lines: ReadonlyArray<string>,
  isStatic: (privilege: string) => boolean = isStaticPrivilege
): ReadonlyMap<string, HeldGrant> => {
  const byLevel = new Map<string, HeldGrant>()
  for (const line of lines) {
    const g = parseGrantLine(line)
    if (g === undefined) continue
    const key = levelKey(g.database, g.table)
    const prev = byLevel.get(key)
    const dynamicOnly = g.privileges.length > 0 && !g.privileges.some(isStatic)
    byLevel.set(key, {
      database: prev?.database ?? g.database,
      table: prev?.table ?? g.table,
      privileges: [...new Set([...(prev?.privileges ?? []), ...g.privileges])],
      grantOption: (prev?.grantOption ?? false) || (g.grantOption && !dynamicOnly)
    })
  }
  return byLevel
}
