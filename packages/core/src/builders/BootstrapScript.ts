/**
 * The bootstrap-from-backup step of the init container. The ConfigMap carries `bootstrap.sh` until the DoltDB
 * reports `Bootstrapped` (its removal rolls nothing: the config hash covers the server configs only); the init
 * script runs it when present. On the bootstrap primary only, each listed database that is absent from the data
 * volume is restored with `dolt backup restore` (after the init script's `dolt config --global` author lines,
 * which the restore's commits need) and, with `asOf`, reset to that commit. A restore that fails removes its
 * partial directory and fails the init container: the primary never starts empty, and the kubelet retries.
 * Restarts are idempotent: a database that exists is left alone.
 */
import type { DoltDB } from "../api/DoltDB.ts"
import { backupUrl } from "../backup/BackupUrl.ts"
import { findCondition } from "../status/Conditions.ts"

export const BootstrapScriptKey = "bootstrap.sh"
export const BootstrappedCondition = "Bootstrapped"

const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`

/** The ordinal that starts as primary. */
export const bootstrapOrdinal = (doltdb: DoltDB): number =>
  doltdb.spec.replication.enabled && doltdb.spec.replicas > 1 ? doltdb.spec.replication.primary.podIndex : 0

/** Whether the bootstrap step is still to run (a source is set and the DoltDB has not reported it done). */
export const bootstrapPending = (doltdb: DoltDB): boolean =>
  doltdb.spec.bootstrap?.from.backup !== undefined &&
  findCondition(doltdb.status?.conditions, BootstrappedCondition)?.status !== "True"

/** The lines `restore '<db>' '<url>' '<asOf>'` the script (and the Dolt model) run, in order. */
export const bootstrapRestores = (
  doltdb: DoltDB
): ReadonlyArray<{ readonly database: string; readonly url: string; readonly asOf: string }> => {
  const from = doltdb.spec.bootstrap?.from.backup
  if (from === undefined) return []
  return from.databases.map((database) => ({ database, url: backupUrl(from.storage, database), asOf: from.asOf ?? "" }))
}

export const bootstrapScript = (doltdb: DoltDB): string | undefined => {
  if (!bootstrapPending(doltdb)) return undefined
  return [
    "set -u",
    `[ "\${POD_NAME##*-}" = "${bootstrapOrdinal(doltdb)}" ] || exit 0`,
    "restore() {",
    '  if [ -d "$1/.dolt" ]; then echo "bootstrap: database $1 exists, not restored"; return 0; fi',
    '  echo "bootstrap: restoring database $1 from $2"',
    '  if ! dolt backup restore "$2" "$1"; then',
    '    rm -rf "$1"',
    '    echo "bootstrap: cannot restore database $1 from $2; the primary does not start without it" >&2',
    "    exit 1",
    "  fi",
    '  if [ -n "$3" ] && ! (cd "$1" && dolt reset --hard "$3"); then',
    '    rm -rf "$1"',
    '    echo "bootstrap: database $1 has no commit or branch $3" >&2',
    "    exit 1",
    "  fi",
    "}",
    ...bootstrapRestores(doltdb).map((r) => `restore ${quote(r.database)} ${quote(r.url)} ${quote(r.asOf)}`)
  ].join("\n")
}
