/**
 * Ed25519 public keys, from the two kinds of secret key we meet: a 32-byte seed (the RFC 8032
 * private key, which our derivation produces and i2pd stores) via node:crypto, and tor's
 * *expanded* secret key (a clamped scalar and a prefix, no seed) via @noble/curves.
 *
 * Why not node:crypto for the scalar too (checked on Node 20): an Ed25519 KeyObject is built
 * only from the 32-byte seed (PKCS#8 and JWK `d` both hold the seed, which it hashes and
 * clamps itself), and tor's `hs_ed25519_secret_key` has no seed, only the expanded key. An
 * X25519 KeyObject does take the clamped scalar and yields u(a·B), which maps to the Edwards
 * y, but not to the sign of x, which the public key (and the onion address) needs.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'

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

/**
 * Public key of an expanded ed25519 secret whose first 32 bytes are the scalar `a`
 * (little-endian, as in tor's `hs_ed25519_secret_key`): encode(a·B). The base point has
 * prime order L, so a·B = (a mod L)·B; a clamped scalar is a multiple of 8 below 2^255 and
 * never a multiple of L, so the reduced scalar is never 0.
 */
export function ed25519PublicKeyFromScalar(scalar32: Uint8Array): Buffer {
  if (scalar32.length !== 32) throw new RangeError(`ed25519 scalar must be 32 bytes, got ${scalar32.length}`)
  const { Point } = ed25519
  const a = BigInt(`0x${Buffer.from(scalar32).reverse().toString('hex')}`)
  return Buffer.from(Point.BASE.multiply(Point.Fn.create(a)).toBytes())
}
