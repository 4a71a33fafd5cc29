/**
 * Go `time.Duration` strings (metav1.Duration: `"30s"`, `"1m30s"`, `"1.5h"`, `"500ms"`) to milliseconds: the one
 * parser for every Duration field of the API (`requeueInterval`, `retryInterval`, `failoverDelay`), the operator's
 * flags and the `simulate` scenario format.
 */

const unitMillis: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000
}

const whole = /^([+-]?)((?:[0-9]*(?:\.[0-9]*)?(?:ns|us|µs|μs|ms|s|m|h))+|0)$/u
const part = /([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/gu

/** Milliseconds (rounded) of a Go duration string; `undefined` when it does not parse or is negative. */
export const parseGoDuration = (text: string): number | undefined => {
  const match = whole.exec(text)
  if (match === null) return undefined
  if (match[2] === "0") return 0
  let total = 0
  for (const [, amount = "", unit = ""] of (match[2] ?? "").matchAll(part)) {
    // Go rejects a lone "." and a unit without digits ("s").
    if (amount === "" || amount === ".") return undefined
    total += Number(amount) * (unitMillis[unit] ?? Number.NaN)
  }
  if (!Number.isFinite(total) || (match[1] === "-" && total > 0)) return undefined
  return Math.round(total)
}
