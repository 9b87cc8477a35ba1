/**
 * Kubernetes resource quantities in the canonical form the apiserver stores them in
 * (resource.Quantity's String()): `0.5` -> `500m`, `1000m` -> `1`, `2048Mi` -> `2Gi`,
 * `1.5Gi` -> `1536Mi`, `1.5G` -> `1500M`, a JSON number 2 -> `2`.
 *
 * Why: a child is compared with what the apiserver stored (Metacontroller's merge); a quantity
 * sent in another spelling than the stored one is "changed" on every sync, so Metacontroller
 * would PUT the child forever. Sending the stored spelling makes the comparison exact.
 *
 * The rules, from the apiserver's behaviour (resource.Quantity, and the rounding of resource
 * lists to milli units): text that is already canonical is kept as written (sign and leading
 * zeros included); otherwise the suffix family of the input decides the form (binary Ki..Ei,
 * decimal n..E or none, or an e-exponent); values finer than 1m are rounded up to milli units;
 * a binary value keeps a binary suffix only when it is a whole number of at least 1024 in
 * magnitude (else it is written in decimal), with the largest power of 1024 that divides it; a
 * decimal value is written with the largest exponent that is a multiple of 3 and leaves a whole
 * mantissa. Zero is `0`.
 */

const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/

const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 }
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }
const DECIMAL_SUFFIX: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' }
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei']

const pow10 = (n: number): bigint => 10n ** BigInt(n)
const abs = (n: bigint): bigint => (n < 0n ? -n : n)

/** Removes every factor `base` from n (n != 0): the rest and how many were removed. */
function removeFactors(n: bigint, base: bigint): [bigint, number] {
  let times = 0
  while (n % base === 0n) {
    n /= base
    times++
  }
  return [n, times]
}

/** Decimal form: mantissa and an exponent that is a multiple of 3 (the apiserver's canonical bytes). */
function decimal(mantissa: bigint, scale: number, exponentForm: boolean): string {
  const [m, times] = removeFactors(mantissa, 10n)
  let amount = m
  let exponent = scale + times
  const rest = ((exponent % 3) + 3) % 3
  if (rest !== 0) {
    amount *= pow10(rest)
    exponent -= rest
  }
  if (!exponentForm) {
    const suffix = DECIMAL_SUFFIX[exponent]
    if (suffix !== undefined) return `${amount}${suffix}`
  }
  return exponent === 0 ? `${amount}` : `${amount}e${exponent}`
}

/**
 * The spelling of a quantity in a resource list (container resources, volume claim requests)
 * as the apiserver stores it. Throws on text that is not a quantity (the CRD schemas only let
 * quantities through, so that is a programming error).
 */
export function canonicalQuantity(value: string | number): string {
  const text = typeof value === 'number' ? String(value) : value.trim()
  const m = QUANTITY.exec(text)
  if (!m) throw new Error(`not a Kubernetes quantity: ${JSON.stringify(value)}`)
  const [, sign = '', number = '', suffix = ''] = m
  const [wholeText = '', fraction = ''] = number.split('.')
  const digits = `${wholeText.replace(/^0+/, '') || '0'}${fraction}`
  let mantissa = BigInt(digits) * (sign === '-' ? -1n : 1n)
  let scale = -fraction.length
  let format: 'binary' | 'decimal' | 'exponent'
  if (suffix in BINARY) {
    format = 'binary'
    // The apiserver keeps the text as written when it is a whole number of a binary unit
    // that is not a multiple of 8 (and not too long).
    const exp = 10 * (BINARY[suffix] as number)
    if (fraction === '' && 15 - digits.length - Math.trunc((exp * 3) / 10) - 1 >= 0 && (BigInt(digits) & 7n) !== 0n) return text
    mantissa *= 1024n ** BigInt(BINARY[suffix] as number)
  } else {
    format = suffix in DECIMAL ? 'decimal' : 'exponent'
    scale += suffix in DECIMAL ? (DECIMAL[suffix] as number) : Number(suffix.slice(1))
    // ... and a decimal text in milli units or coarser, with an exponent that is a multiple
    // of 3, no leading zero digit and no trailing 000 (the text is already canonical, sign
    // and leading zeros included).
    if (digits.length <= 18 && scale >= -3 && scale % 3 === 0 && !digits.endsWith('000') && !digits.startsWith('0')) return text
  }
  if (mantissa === 0n) return '0'
  // Resource lists are rounded up (away from zero) to milli units.
  if (scale < -3) {
    const divisor = pow10(-3 - scale)
    const q = mantissa / divisor
    mantissa = mantissa % divisor === 0n ? q : q + (mantissa > 0n ? 1n : -1n)
    scale = -3
  }
  if (format === 'binary') {
    // Whole and |value| >= 1024: binary suffix; otherwise decimal.
    const whole = scale >= 0 ? mantissa * pow10(scale) : mantissa % pow10(-scale) === 0n ? mantissa / pow10(-scale) : undefined
    if (whole !== undefined && abs(whole) >= 1024n) {
      const [amount, times] = removeFactors(whole, 1024n)
      const binarySuffix = BINARY_SUFFIX[times]
      if (binarySuffix !== undefined) return `${amount}${binarySuffix}`
    }
    return decimal(mantissa, scale, false)
  }
  return decimal(mantissa, scale, format === 'exponent')
}

/** A resource list with every quantity canonical (undefined stays undefined). */
export function canonicalResourceList(list: Record<string, string | number> | undefined): Record<string, string> | undefined {
  return list === undefined ? undefined : Object.fromEntries(Object.entries(list).map(([k, v]) => [k, canonicalQuantity(v)]))
}

/**
 * Container resources as the apiserver stores them: canonical quantities, and no empty
 * `requests`/`limits` map (the apiserver omits those).
 */
export function canonicalResources(resources: { requests?: Record<string, string | number>; limits?: Record<string, string | number> } | undefined): {
  requests?: Record<string, string>
  limits?: Record<string, string>
} {
  const requests = canonicalResourceList(resources?.requests)
  const limits = canonicalResourceList(resources?.limits)
  return {
    ...(requests && Object.keys(requests).length > 0 ? { requests } : {}),
    ...(limits && Object.keys(limits).length > 0 ? { limits } : {}),
  }
}
