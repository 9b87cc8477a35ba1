import t from 'tap'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { ed25519PublicKeyFromScalar, ed25519PublicKeyFromSeed } from './ed25519.js'

// RFC 8032 §7.1 TESTs 1-3: seed -> public key, computed by others.
const RFC8032 = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'],
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'],
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025'],
] as const

// Clamped scalars (not from any seed) and a·B, as the project's former BigInt arithmetic
// computed them and an affine-coordinate Python transcription of RFC 8032 §5.1 agreed:
// the smallest and largest clamped scalars bracket the reduction modulo L.
const SCALARS = [
  ['0000000000000000000000000000000000000000000000000000000000000040', '693e47972caf527c7883ad1b39822f026f47db2ab0e1919955b8993aa04411d1'],
  ['f8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', '12e9a68b73fd5aacdbcaf3e88c46fea6ebedb1aa84eed1842f07f8edab65e3a7'],
  ['30c1e7bb878bae930eff40a69724c9d6c37f2f0b2723885182eed48e494fdd77', '5e4393799554722a80540f2f4e87c3c992b222f5f72b66e659944bf763153e93'],
] as const

/** Tor's expanded key of a seed: SHA-512(seed), first half clamped; the scalar is that half. */
function clampedScalarOf(seed: Uint8Array): Buffer {
  const h = createHash('sha512').update(seed).digest().subarray(0, 32)
  h[0] = (h[0] ?? 0) & 248
  h[31] = ((h[31] ?? 0) & 127) | 64
  return h
}

t.test('seed path (node:crypto) gives the RFC 8032 public keys', async (t) => {
  for (const [seed, publicKey] of RFC8032) t.equal(ed25519PublicKeyFromSeed(Buffer.from(seed, 'hex')).toString('hex'), publicKey)
})

t.test('scalar path gives the RFC 8032 public keys from the expanded keys', async (t) => {
  for (const [seed, publicKey] of RFC8032) {
    t.equal(ed25519PublicKeyFromScalar(clampedScalarOf(Buffer.from(seed, 'hex'))).toString('hex'), publicKey)
  }
})

t.test('scalar path: known vectors of bare clamped scalars', async (t) => {
  for (const [scalar, publicKey] of SCALARS) t.equal(ed25519PublicKeyFromScalar(Buffer.from(scalar, 'hex')).toString('hex'), publicKey)
})

t.test('scalar and seed paths agree (property)', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) =>
      ed25519PublicKeyFromScalar(clampedScalarOf(seed)).equals(ed25519PublicKeyFromSeed(seed)),
    ),
    { numRuns: 50 },
  )
  t.pass('50 random seeds')
})

t.test('wrong lengths are refused', async (t) => {
  t.throws(() => ed25519PublicKeyFromSeed(Buffer.alloc(31)), /seed must be 32 bytes, got 31/)
  t.throws(() => ed25519PublicKeyFromScalar(Buffer.alloc(64)), /scalar must be 32 bytes, got 64/)
})
