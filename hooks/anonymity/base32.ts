/**
 * RFC 4648 base32, lowercase, without `=` padding: the spelling of both `.onion` and
 * `.b32.i2p` addresses.
 */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** Encode bytes as lowercase unpadded RFC 4648 base32. */
export function base32Encode(bytes: Uint8Array): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31]
  return out
}

/**
 * Decode unpadded RFC 4648 base32 (case-insensitive). Throws on a character outside the
 * alphabet or on non-zero trailing bits (which would mean a mistyped last character).
 */
export function base32Decode(text: string): Buffer {
  const lower = text.toLowerCase()
  const out: number[] = []
  let buffer = 0
  let bits = 0
  for (let i = 0; i < lower.length; i++) {
    const value = ALPHABET.indexOf(lower.charAt(i))
    if (value < 0) {
      throw new RangeError(`invalid base32 character ${JSON.stringify(lower.charAt(i))} at position ${i}`)
    }
    buffer = ((buffer << 5) | value) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) throw new RangeError('invalid base32: non-zero trailing bits')
  return Buffer.from(out)
}
