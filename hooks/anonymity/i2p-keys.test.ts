import t from 'tap'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { base32Encode } from './base32.js'
import { deriveSeed, Purpose } from './derive.js'
import { ed25519PublicKeyFromSeed } from './ed25519.js'
import { buildI2pKeysFile, CryptoKeyType, i2pB32FromIdentity, parseI2pB32Address, parseI2pKeysFile, SigningKeyType } from './i2p-keys.js'

// A keys file i2pd 2.45.1 generated itself for a server tunnel with default settings
// (throwaway destination). i2pd logged "Local address <I2PD_FIXTURE_B32> loaded" for it.
const I2PD_FIXTURE = Buffer.from(
  'tc1v4+V2OHN4ghv6pP/hVIbZkxUao1EjvUVUMfp6P6u1zW/j5XY4c3iCG/qk/+FUhtmTFRqjUSO9RVQx+no/q7XNb+PldjhzeIIb+qT/4VSG2ZMVGqNRI71FVDH6ej+rtc1v4+V2OHN4ghv6pP/hVIbZkxUao1EjvUVUMfp6P6u1zW/j5XY4c3iCG/qk/+FUhtmTFRqjUSO9RVQx+no/q7XNb+PldjhzeIIb+qT/4VSG2ZMVGqNRI71FVDH6ej+rtc1v4+V2OHN4ghv6pP/hVIbZkxUao1EjvUVUMfp6P6u1zW/j5XY4c3iCG/qk/+FUhtmTFRqjUSO9RVQx+no/q7XNb+PldjhzeIIb+qT/4VSG2ZMVGqNRI71FVDH6ej+rtc1v4+V2OHN4ghv6pP/hVIbZkxUao1EjvUVUMfp6P6u1zW/j5XY4c3iCG/qk/+FUhtmTFRqjUSO9RVQx+no/qzc+bOCNk8KkPVmtHqQVQZ18dG7xDrsBF6jAOZuZxjP6BQAEAAcAAArvBpCHjh68dv8VdJCEDKHjv5eTz0AsvkiHwnqgxcy+YPrvxIuiwINlintt2PLYjl0jXvoDrRZhl0ntdO7AqFUOCasJm1+Ll854g3gOF7al04NG9CASq40AvyPHtH5ZD88XDgbslgHrvoC4MWFYifYqOPGg36S0Crkn6d25npjyAhzXk5fzEAfkFX+Fw1BnTkB+80GKQlx0L8jMhLqpp/tX+4yTjEGoroGbgCRYN+fsuKrwwIB19D4GlUxMvH3zyBWwSudQgQw7PkGkaeJWQnNVb5QzYW/OCArbgWKxbYWZLiMadE2btqEmEbhHPWJUL7yDviVYgT+GhSGQOrpdOSfVsCsDRi7WuovuLLoV1etEWZQHjcyeOKLbPRfZRQiSjQ==',
  'base64',
)
const I2PD_FIXTURE_B32 = '26klgluazcksndnx5mtytqknqvtrsd472ge2ozadfs66y7skde4a.b32.i2p'

const SECRET = Buffer.alloc(32, 7)
const seedFor = (scope: string, purpose: string = Purpose.i2pP2p): Buffer => deriveSeed(SECRET, scope, purpose, 32)

// Pinned; e2e/integration/i2pd.test.ts proves i2pd 2.45 loads this file and shows this b32.
t.test('known vector (compatibility contract)', async (t) => {
  const built = buildI2pKeysFile(seedFor('i2p/default/x/0/0'))
  t.equal(built.b32, 'ypqbc7ezv2ykar6357s5ax4ppobh52oqhut6v4qf5ikdeopk7m3a.b32.i2p')
  t.equal(createHash('sha256').update(built.keysFile).digest('hex'), '3a0f19b66c41c85c12ff1a66f94bf5a3753b4bc6d57a29faef529f8ea028a292')
  t.equal(buildI2pKeysFile(seedFor('i2p/default/x/0/0', Purpose.i2pRestrictedRpc)).b32, 'iowpfjvrf64uymehmuugyt5ygl3sabpijk4mnpixuzyl2enqjpvq.b32.i2p')
})

t.test('layout: the same shape as a file i2pd 2.45 generated', async (t) => {
  const { keysFile, b32 } = buildI2pKeysFile(seedFor('i2p/a/b/0/0'))
  for (const [name, file] of [
    ['ours', keysFile],
    ['i2pd', I2PD_FIXTURE],
  ] as const) {
    t.equal(file.length, 679, `${name}: length`)
    t.equal(file.subarray(384, 391).toString('hex'), '05000400070000', `${name}: KEY cert, len 4, sig type 7, crypto type 0`)
    const block = file.subarray(0, 32)
    for (let offset = 32; offset < 352; offset += 32) {
      t.same(file.subarray(offset, offset + 32), block, `${name}: padding block at ${offset} repeats the first`)
    }
    t.same(file.subarray(352, 384), ed25519PublicKeyFromSeed(file.subarray(647, 679)), `${name}: ed25519 public key right-aligned, seed at the end`)
  }
  const identity = keysFile.subarray(0, 391)
  t.equal(b32, `${base32Encode(createHash('sha256').update(identity).digest())}.b32.i2p`)
  t.match(b32, /^[a-z2-7]{52}\.b32\.i2p$/)
})

t.test('parses the file i2pd generated', async (t) => {
  const parsed = parseI2pKeysFile(I2PD_FIXTURE)
  t.equal(parsed.b32, I2PD_FIXTURE_B32)
  t.equal(parsed.signingKeyType, SigningKeyType.eddsaSha512Ed25519)
  t.equal(parsed.cryptoKeyType, CryptoKeyType.elGamal)
})

t.test('parse round trip', async (t) => {
  const built = buildI2pKeysFile(seedFor('i2p/a/b/1/0'))
  const parsed = parseI2pKeysFile(built.keysFile)
  t.equal(parsed.b32, built.b32)
  t.equal(parsed.signingKeyType, 7)
  t.equal(parsed.cryptoKeyType, 0)
  t.same(parsed.identity, built.keysFile.subarray(0, 391))
  t.equal(i2pB32FromIdentity(parsed.identity), built.b32)
  t.same(parseI2pB32Address(built.b32), createHash('sha256').update(parsed.identity).digest())
  t.same(parseI2pB32Address(built.b32.toUpperCase().replace('.B32.I2P', '')), createHash('sha256').update(parsed.identity).digest())
})

t.test('deterministic, scope-separating (property)', async (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 48 }),
      fc.string({ minLength: 1, maxLength: 30 }),
      fc.string({ minLength: 1, maxLength: 30 }),
      (secret, scopeA, scopeB) => {
        const a1 = buildI2pKeysFile(deriveSeed(secret, scopeA, Purpose.i2pP2p, 32))
        const a2 = buildI2pKeysFile(deriveSeed(Buffer.from(secret), scopeA, Purpose.i2pP2p, 32))
        if (!a1.keysFile.equals(a2.keysFile) || a1.b32 !== a2.b32) return false
        if (scopeA === scopeB) return true
        return buildI2pKeysFile(deriveSeed(secret, scopeB, Purpose.i2pP2p, 32)).b32 !== a1.b32
      },
    ),
    { numRuns: 50 },
  )
  t.pass('property held')
})

t.test('clear errors for bad user-supplied files', async (t) => {
  const { keysFile } = buildI2pKeysFile(seedFor('i2p/a/b/2/0'))
  t.throws(() => buildI2pKeysFile(Buffer.alloc(16)), /seed must be 32 bytes, got 16/)
  t.throws(() => parseI2pKeysFile(Buffer.from(keysFile.toString('base64'))), /bytes of text; want the binary file i2pd writes/)
  t.throws(() => parseI2pKeysFile(keysFile.subarray(0, 300)), /too short \(300 bytes\); an identity alone is at least 387 bytes/)
  t.throws(() => parseI2pKeysFile(keysFile.subarray(0, 600)), /truncated \(600 bytes, want 679 for signing type 7, crypto type 0\)/)
  t.throws(() => parseI2pKeysFile(Buffer.concat([keysFile, Buffer.alloc(2, 1)])), /2 unexpected trailing bytes \(want exactly 679\)/)
  const badCert = Buffer.from(keysFile)
  badCert[384] = 3
  t.throws(() => parseI2pKeysFile(badCert), /unsupported certificate type 3/)
  const rsa = Buffer.from(keysFile)
  rsa.writeUInt16BE(4, 387)
  t.throws(() => parseI2pKeysFile(rsa), /signing key type 4 is not supported by i2pd/)
  const crypto = Buffer.from(keysFile)
  crypto.writeUInt16BE(9, 389)
  t.throws(() => parseI2pKeysFile(crypto), /crypto key type 9 is not supported/)
  const offline = Buffer.from(keysFile)
  offline.fill(0, 647)
  t.throws(() => parseI2pKeysFile(offline), /offline-signed keys/)
  const wrongSigning = Buffer.from(keysFile)
  wrongSigning[650] = (wrongSigning[650] ?? 0) ^ 1
  t.throws(() => parseI2pKeysFile(wrongSigning), /EdDSA signing private key does not match/)
  t.throws(() => parseI2pB32Address('abc.b32.i2p'), /not an I2P b32 address/)
})
