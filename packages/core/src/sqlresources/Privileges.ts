/**
 * Privilege-set algebra for the Grant planner: normalising a spec's privilege list against the allow-list, and
 * deciding whether what a server reports already covers a privilege.
 */
import { normalizePrivilege, type Privilege, PrivilegeKeywords } from "../services/dolt/names.ts"

const ALL = "ALL PRIVILEGES"

/**
 * Privileges whose presence on one level we read as `ALL PRIVILEGES`: MariaDB and MySQL print `ALL PRIVILEGES` on
 * database and table levels, but MySQL 8 expands it on `*.*` and Dolt expands it everywhere, each with a
 * server-specific list. Every expansion contains these eight, and a partial grant rarely does; so a Grant asking
 * for ALL is not re-issued every reconcile on those servers. The cost: someone revoking, say, TRIGGER from an ALL
 * grant is not repaired.
 */
export const AllImpliedBy: ReadonlyArray<Privilege> = [
  "SELECT",
  "INSERT",
  "UPDATE",
  "DELETE",
  "CREATE",
  "DROP",
  "INDEX",
  "ALTER"
]

const staticPrivileges: ReadonlySet<string> = new Set<string>([...PrivilegeKeywords, "ALL"])

/** A privilege name from our allow-list (as opposed to MySQL 8 dynamic privileges such as `BACKUP_ADMIN`). */
export const isStaticPrivilege = (name: string): boolean => staticPrivileges.has(name.toUpperCase())

export type NormalizedPrivileges =
  | {
      readonly _tag: "Valid"
      /** Sorted, unique, `GRANT OPTION` removed; `ALL PRIVILEGES` alone when listed. */
      readonly privileges: ReadonlyArray<Privilege>
      readonly grantOption: boolean
    }
  | { readonly _tag: "Invalid"; readonly rejected: ReadonlyArray<string> }

/** Normalises `spec.privileges` (+ `spec.grantOption`); names outside the allow-list are rejected, all of them. */
export const normalizePrivileges = (raw: ReadonlyArray<string>, grantOption: boolean): NormalizedPrivileges => {
  const rejected: Array<string> = []
  const out = new Set<Privilege>()
  let option = grantOption
  for (const r of raw) {
    const p = normalizePrivilege(r)
    if (p === undefined) rejected.push(r)
    else if (p === "GRANT OPTION") option = true
    else if (p !== "USAGE") out.add(p)
  }
  if (rejected.length > 0) return { _tag: "Invalid", rejected }
  const privileges: ReadonlyArray<Privilege> = out.has(ALL) ? [ALL] : [...out].sort()
  return { _tag: "Valid", privileges, grantOption: option }
}

/** Whether `held` (a server's list for one level) includes `privilege`. */
export const holds = (held: ReadonlyArray<string>, privilege: string): boolean => {
  if (held.includes(privilege) || held.includes(ALL)) return true
  return privilege === ALL && AllImpliedBy.every((p) => held.includes(p))
}

/**
 * Whether `held` lists `privilege` itself, not only through someone's `ALL PRIVILEGES`: what may be revoked.
 * Revoking SELECT from an account that also holds ALL would split the ALL (MySQL keeps the rest), taking away a
 * privilege someone else granted; so a privilege covered by an ALL we did not grant is left alone.
 */
export const holdsExplicitly = (held: ReadonlyArray<string>, privilege: string): boolean =>
  privilege === ALL ? holds(held, ALL) : held.includes(privilege)

/** Whether a desired set asks for `privilege` (`ALL PRIVILEGES` asks for every privilege). */
export const covers = (desired: ReadonlyArray<string>, privilege: string): boolean =>
  desired.includes(privilege) || desired.includes(ALL)

/** What a level holds after revoking `revoked` (REVOKE ALL PRIVILEGES removes everything but the grant option). */
export const afterRevoke = (held: ReadonlyArray<string>, revoked: ReadonlyArray<string>): ReadonlyArray<string> =>
  revoked.includes(ALL) ? [] : held.filter((p) => !revoked.includes(p))

/** Sorted and unique; `ALL PRIVILEGES` absorbs the rest. */
export const canonical = (privileges: Iterable<string>): ReadonlyArray<string> => {
  const set = new Set(privileges)
  return set.has(ALL) ? [ALL] : [...set].sort()
}
