import t from 'tap'
import fc from 'fast-check'
import { anonymityScope, deriveSeed, MAX_DERIVE_LENGTH, Purpose } from './derive.js'

// Vectors computed independently with `openssl kdf ... HKDF` (OpenSSL 3.0) from the
// construction documented on deriveSeed. Changing them changes every address: don't.
t.test('known vectors (compatibility contract)', async (t) => {
  t.equal(
    deriveSeed(Buffer.alloc(32, 7), 'tor/default/x/0/0', Purpose.torOnionService, 32).toString('hex'),
    'd4ac514e0b4f2a2a35e08338e85d59cd9b5a03a9795bfb60fd7937990a7ed663',
  )
  t.equal(
    deriveSeed(Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 'i2p/monero/mainnet-é/2/1', Purpose.i2pP2p, 64).toString('hex'),
    '32eb03add69f4ebeb0ac4d33e3c76af3e01d9e57a87c8a8349bf5275432f3d26' + '6c59a572627d51ea27b0d0ff4f28cfa251aa9aa06e23b75f2e43cb8ddcede3f2',
  )
  t.same(Purpose, {
    torOnionService: 'tor-onion-service-ed25519',
    i2pP2p: 'i2p-destination-p2p',
    i2pRestrictedRpc: 'i2p-destination-restricted-rpc',
  })
})

t.test('a shorter output is a prefix of a longer one (HKDF), purposes and scopes separate', async (t) => {
  const secret = Buffer.alloc(32, 1)
  const long = deriveSeed(secret, 'tor/a/b/0/0', 'p', 64)
  t.same(deriveSeed(secret, 'tor/a/b/0/0', 'p', 32), long.subarray(0, 32))
  t.not(deriveSeed(secret, 'tor/a/b/0/0', 'q', 32).toString('hex'), long.subarray(0, 32).toString('hex'))
  // length prefixes: moving a character between purpose and scope changes the output
  t.not(deriveSeed(secret, 'ab', 'c', 32).toString('hex'), deriveSeed(secret, 'b', 'ca', 32).toString('hex'))
})

t.test('deterministic and scope-separating (property)', async (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 64 }),
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 128 }),
      (secret, scopeA, scopeB, length) => {
        const a1 = deriveSeed(secret, scopeA, Purpose.torOnionService, length)
        const a2 = deriveSeed(Uint8Array.from(secret), scopeA, Purpose.torOnionService, length)
        if (!a1.equals(a2) || a1.length !== length) return false
        if (scopeA === scopeB || length < 16) return true
        return !a1.equals(deriveSeed(secret, scopeB, Purpose.torOnionService, length))
      },
    ),
  )
  t.pass('property held')
})

t.test('input errors', async (t) => {
  const secret = Buffer.alloc(32)
  t.throws(() => deriveSeed(Buffer.alloc(15), 's', 'p', 32), /secret must be at least 16 bytes, got 15/)
  t.throws(() => deriveSeed(secret, '', 'p', 32), /scope must not be empty/)
  t.throws(() => deriveSeed(secret, 's', '', 32), /purpose must not be empty/)
  t.throws(() => deriveSeed(secret, 's', 'p', 0), /length must be an integer in 1\.\.8160, got 0/)
  t.throws(() => deriveSeed(secret, 's', 'p', 1.5), /length must be an integer/)
  t.equal(deriveSeed(secret, 's', 'p', MAX_DERIVE_LENGTH).length, MAX_DERIVE_LENGTH)
  t.throws(() => deriveSeed(secret, 's', 'p', MAX_DERIVE_LENGTH + 1), /length must be an integer/)
  t.throws(() => deriveSeed(secret, 'x'.repeat(1010), 'p'.repeat(10), 32), /purpose and scope are too long/)
})

t.test('anonymityScope', async (t) => {
  t.equal(anonymityScope({ network: 'tor', namespace: 'default', name: 'mainnet', replica: 2, rotation: 0 }), 'tor/default/mainnet/2/0')
  t.equal(anonymityScope({ network: 'i2p', namespace: 'ns', name: 'n', replica: 0, rotation: 7 }), 'i2p/ns/n/0/7')
  t.throws(() => anonymityScope({ network: 'tor', namespace: 'a/b', name: 'n', replica: 0, rotation: 0 }), /namespace must be non-empty and contain no "\/"/)
  t.throws(() => anonymityScope({ network: 'tor', namespace: 'a', name: '', replica: 0, rotation: 0 }), /name must be non-empty/)
  t.throws(() => anonymityScope({ network: 'tor', namespace: 'a', name: 'n', replica: -1, rotation: 0 }), /replica must be a non-negative integer/)
  t.throws(() => anonymityScope({ network: 'tor', namespace: 'a', name: 'n', replica: 0, rotation: 0.5 }), /rotation must be a non-negative integer/)
  // CRD rotation strings: "" is its own scope (the default), "7" equals the integer 7
  t.equal(anonymityScope({ network: 'tor', namespace: 'ns', name: 'n', replica: 1, rotation: '' }), 'tor/ns/n/1/')
  t.equal(anonymityScope({ network: 'i2p', namespace: 'ns', name: 'n', replica: 0, rotation: '7' }), 'i2p/ns/n/0/7')
  t.equal(anonymityScope({ network: 'tor', namespace: 'ns', name: 'n', replica: 0, rotation: '2025-06' }), 'tor/ns/n/0/2025-06')
  t.throws(() => anonymityScope({ network: 'tor', namespace: 'a', name: 'n', replica: 0, rotation: 'a/b' }), /rotation must be at most 63/)
})
