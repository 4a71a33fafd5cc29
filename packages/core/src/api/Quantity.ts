/**
 * resource.Quantity arithmetic the API needs: parse to a number of base units and compare.
 * Hand-written because no effect-only library does it; the CRD's CEL rules use the API server's `quantity()`.
 */
import { QuantityPattern } from "./k8s/Primitives.ts"

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 }
const decimal: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18
}

/** The value of a quantity in base units (bytes, cores), or `undefined` when it is not a quantity. */
export const quantityValue = (quantity: string | number): number | undefined => {
  if (typeof quantity === "number") return quantity
  if (!QuantityPattern.test(quantity)) return undefined
  const match = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)$/u.exec(quantity)
  if (match === null) return undefined
  const number = Number(match[1])
  const suffix = match[2] ?? ""
  const factor = binary[suffix] ?? decimal[suffix]
  if (factor !== undefined) return number * factor
  const exponent = /^[eE]([+-]?[0-9.]+)$/u.exec(suffix)
  return exponent === null ? undefined : number * 10 ** Number(exponent[1])
}

/** Negative when `a < b`, zero when equal, positive when `a > b`; unparsable quantities compare as equal. */
export const compareQuantities = (a: string | number, b: string | number): number => {
  const x = quantityValue(a)
  const y = quantityValue(b)
  return x === undefined || y === undefined ? 0 : Math.sign(x - y)
}
