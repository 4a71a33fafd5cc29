/**
 * Vitest global setup of this project: the MariaDB the adapter tests need, so `npm ci && npm test` pass on a fresh
 * machine. Without DOLTDB_TEST_MYSQL_URL it runs `scripts/mariadb.sh start` (installs MariaDB from Debian when
 * missing, as root), and stops the server afterwards if it started it. A failed start fails the run with the
 * script's output.
 */
import { execFileSync } from "node:child_process"
import { join } from "node:path"

const script = join(import.meta.dirname, "..", "..", "..", "..", "scripts", "mariadb.sh")

const answers = (): boolean => {
  try {
    execFileSync(script, ["status"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

export default function setup(): (() => void) | undefined {
  if (process.env.DOLTDB_TEST_MYSQL_URL) return undefined
  const wasRunning = answers()
  const url = execFileSync(script, ["start"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim()
  process.env.DOLTDB_TEST_MYSQL_URL = url
  return wasRunning ? undefined : () => void execFileSync(script, ["stop"], { stdio: "inherit" })
}
