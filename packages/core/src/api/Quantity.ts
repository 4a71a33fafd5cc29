/**
 * resource.Quantity arithmetic the API needs: parse and compare exactly as the API server does.
 * Hand-written because no effect-only library does it; the CRD's CEL rules use the API server's `quantity()`.
 *
 * Like `resource.ParseQuantity`, a value is held as an integer count of nano-units, and a non-zero value is
 * rounded up (away from zero) to the next nano-unit, so `6e-446` is `1n`, not zero. Decimal arithmetic on
 * bigints rather than floats, because floats underflow (`6e-446` → 0) and mis-round (`3n` → 3.0000000000000004n).
 */
import { QuantityPattern } from "./k8s/Primitives.ts"

const binaryPower: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }
const decimalPower: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }

/**
 * Beyond 10^MaxDecimalPower nano-units every quantity compares as equal: it bounds the memory a hostile
 * `1e999999999` can cost, far above any volume or CPU count (an exbibyte is about 10^27 nano-bytes).
 */
const MaxDecimalPower = 4096

/** The value as the API server holds it: a signed count of nano-units, or ±Infinity beyond the cap. */
type Nanos = bigint | number

const pow10 = (n: number): bigint => 10n ** BigInt(n)

const parseNanos = (quantity: string | number): Nanos | undefined => {
  if (typeof quantity === "number") {
    if (!Number.isFinite(quantity)) return undefined
    return Number.isSafeInteger(quantity) ? BigInt(quantity) * 1_000_000_000n : parseNanos(String(quantity))
  }
  if (!QuantityPattern.test(quantity)) return undefined
  const match = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/u.exec(quantity)
  if (match === null) return undefined
  const [, signText = "", whole = "", fraction = "", suffix = ""] = match
  const sign = signText === "-" ? -1n : 1n
  let coefficient = BigInt(`0${whole}${fraction}`)
  let power10 = 9 - fraction.length
  let power2 = 0
  if (suffix in binaryPower) power2 = binaryPower[suffix]!
  else if (suffix in decimalPower) power10 += decimalPower[suffix]!
  else {
    // The published pattern lets a fractional exponent through; the API server's parser refuses it.
    const exponent = /^[eE]([+-]?[0-9]+)$/u.exec(suffix)
    if (exponent === null) return undefined
    const value = Number(exponent[1])
    power10 += Math.max(-2 * MaxDecimalPower, Math.min(2 * MaxDecimalPower, value))
  }
  if (coefficient === 0n) return 0n
  coefficient <<= BigInt(power2)
  const digits = coefficient.toString().length
  if (digits + power10 > MaxDecimalPower) return Number(sign) * Infinity
  if (power10 >= 0) return sign * coefficient * pow10(power10)
  if (digits + power10 < 0) return sign // under one nano-unit: rounded up to 1n
  const divisor = pow10(-power10)
  return sign * ((coefficient + divisor - 1n) / divisor)
}

/** The value of a quantity in base units (bytes, cores), or `undefined` when it is not a quantity. */
export const quantityValue = (quantity: string | number): number | undefined => {
  const nanos = parseNanos(quantity)
  if (nanos === undefined || typeof nanos === "number") return nanos
  return nanos % 1_000_000_000n === 0n ? Number(nanos / 1_000_000_000n) : Number(nanos) / 1e9
}

/** Negative when `a < b`, zero when equal, positive when `a > b`; unparsable quantities compare as equal. */
export const compareQuantities = (a: string | number, b: string | number): number => {
  const x = parseNanos(a)
  const y = parseNanos(b)
  if (x === undefined || y === undefined) return 0
  if (typeof x === "number" || typeof y === "number") return Math.sign(Number(x) - Number(y)) || 0
  return x < y ? -1 : x > y ? 1 : 0
}
