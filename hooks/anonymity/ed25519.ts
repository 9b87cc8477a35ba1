/**
 * The little ed25519 arithmetic node:crypto does not expose: the public key of an
 * *expanded* secret key (a clamped scalar, as stored by tor). For a 32-byte seed we use
 * node:crypto itself.
 *
 * Why not node:crypto for the scalar too (checked on Node 20): an Ed25519 KeyObject is built
 * only from the 32-byte seed (PKCS#8 and JWK `d` both hold the seed, which it hashes and
 * clamps itself), and tor's `hs_ed25519_secret_key` has no seed, only the expanded key. An
 * X25519 KeyObject does take the clamped scalar and yields u(a·B), which maps to the Edwards
 * y, but not to the sign of x, which the public key (and the onion address) needs.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto'

/** PKCS#8 DER prefix of an ed25519 private key; the 32-byte seed follows it. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** Public key (32 bytes) of an ed25519 seed (RFC 8032 private key), via node:crypto. */
export function ed25519PublicKeyFromSeed(seed: Uint8Array): Buffer {
  if (seed.length !== 32) throw new RangeError(`ed25519 seed must be 32 bytes, got ${seed.length}`)
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const jwk = createPublicKey(key).export({ format: 'jwk' })
  if (typeof jwk.x !== 'string') throw new Error('node:crypto returned an ed25519 JWK without x')
  return Buffer.from(jwk.x, 'base64url')
}

const P = 2n ** 255n - 19n
const mod = (a: bigint): bigint => {
  const r = a % P
  return r < 0n ? r + P : r
}
function modPow(base: bigint, exp: bigint): bigint {
  let result = 1n
  let b = mod(base)
  let e = exp
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P
    b = (b * b) % P
    e >>= 1n
  }
  return result
}
const inv = (a: bigint): bigint => modPow(a, P - 2n)
const D = mod(-121665n * inv(121666n))
const D2 = mod(2n * D)
const BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202n
const BY = 46316835694926478169428394003475163141307993866256225615783033603165251855960n

/** Point in extended twisted Edwards coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z. */
type Point = readonly [bigint, bigint, bigint, bigint]

// Unified addition for a = -1 (add-2008-hwcd-3); also correct for doubling.
function add(p: Point, q: Point): Point {
  const [x1, y1, z1, t1] = p
  const [x2, y2, z2, t2] = q
  const a = mod((y1 - x1) * (y2 - x2))
  const b = mod((y1 + x1) * (y2 + x2))
  const c = mod(t1 * D2 * t2)
  const d = mod(2n * z1 * z2)
  const e = b - a
  const f = d - c
  const g = d + c
  const h = b + a
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)]
}

/**
 * Public key of an expanded ed25519 secret whose first 32 bytes are the scalar `a`
 * (little-endian, as in tor's `hs_ed25519_secret_key`): encode(a·B).
 */
export function ed25519PublicKeyFromScalar(scalar32: Uint8Array): Buffer {
  if (scalar32.length !== 32) throw new RangeError(`ed25519 scalar must be 32 bytes, got ${scalar32.length}`)
  let k = BigInt(`0x${Buffer.from(scalar32).reverse().toString('hex')}`)
  let result: Point = [0n, 1n, 1n, 0n]
  let base: Point = [BX, BY, 1n, mod(BX * BY)]
  while (k > 0n) {
    if (k & 1n) result = add(result, base)
    base = add(base, base)
    k >>= 1n
  }
  const zInv = inv(result[2])
  const x = mod(result[0] * zInv)
  const y = mod(result[1] * zInv)
  const out = Buffer.from(y.toString(16).padStart(64, '0'), 'hex').reverse()
  if (x & 1n) out[31] = (out[31] ?? 0) | 0x80
  return out
}
