import t from 'tap'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { deriveSeed, Purpose } from './derive.js'
import { buildTorKeyFiles, onionAddressFromPublicKey, parseOnionAddress, parseTorKeyFiles, parseTorPublicKeyFile, parseTorSecretKeyFile } from './tor-keys.js'

// RFC 8032 §7.1 TEST 1: an ed25519 key pair computed by others.
const RFC8032_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
// Onion of that key, computed with Python's hashlib.sha3_256 + base64.b32encode.
const RFC8032_ONION = '25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion'

const secretHeader = Buffer.concat([Buffer.from('== ed25519v1-secret: type0 =='), Buffer.alloc(3)])
const publicHeader = Buffer.concat([Buffer.from('== ed25519v1-public: type0 =='), Buffer.alloc(3)])

t.test('file layout for the RFC 8032 key', async (t) => {
  const files = buildTorKeyFiles(RFC8032_SEED)
  t.equal(files.secretKeyFile.length, 96)
  t.same(files.secretKeyFile.subarray(0, 32), secretHeader)
  const expanded = createHash('sha512').update(RFC8032_SEED).digest()
  t.same(files.secretKeyFile.subarray(64), expanded.subarray(32), 'second half is SHA-512(seed)[32:64]')
  t.equal((files.secretKeyFile[32] ?? 0) & 7, 0, 'clamped low bits')
  t.equal((files.secretKeyFile[63] ?? 0) & 0xc0, 0x40, 'clamped high bits')
  t.equal(files.publicKeyFile.length, 64)
  t.same(files.publicKeyFile.subarray(0, 32), publicHeader)
  t.equal(files.publicKeyFile.subarray(32).toString('hex'), RFC8032_PUBLIC)
  t.equal(files.hostname, `${RFC8032_ONION}\n`)
  t.equal(onionAddressFromPublicKey(Buffer.from(RFC8032_PUBLIC, 'hex')), RFC8032_ONION)
})

// Pinned from a derived seed; e2e/integration/tor.test.ts proves tor writes this hostname.
t.test('known vector: derived seed -> onion (compatibility contract)', async (t) => {
  const seed = deriveSeed(Buffer.alloc(32, 7), 'tor/default/x/0/0', Purpose.torOnionService, 32)
  const files = buildTorKeyFiles(seed)
  t.equal(files.hostname, 'ckfh6vbz7qhgfvdw2gqcyuahxtaoscfrrzwirjor4khv5jvlytzzlgid.onion\n')
  t.equal(createHash('sha256').update(files.secretKeyFile).digest('hex'), '442a59d0d0d7ed15bb17b9c50b766cfa7167747fc70be121dde94349b9a51a74')
})

t.test('parse round trip and the independent scalar multiplication', async (t) => {
  const files = buildTorKeyFiles(RFC8032_SEED)
  const parsed = parseTorSecretKeyFile(files.secretKeyFile)
  t.equal(parsed.publicKey.toString('hex'), RFC8032_PUBLIC, 'the scalar path (a·B) equals node:crypto public key')
  t.equal(parsed.onion, RFC8032_ONION)
  t.same(parseTorPublicKeyFile(files.publicKeyFile), parsed.publicKey)
  t.same(parseTorKeyFiles(files), parsed)
  t.same(parseTorKeyFiles({ secretKeyFile: files.secretKeyFile, hostname: RFC8032_ONION.toUpperCase() }), parsed)
  t.same(parseOnionAddress(RFC8032_ONION).toString('hex'), RFC8032_PUBLIC)
})

t.test('deterministic, scope-separating, round-tripping (property)', async (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 48 }),
      fc.string({ minLength: 1, maxLength: 30 }),
      fc.string({ minLength: 1, maxLength: 30 }),
      (secret, scopeA, scopeB) => {
        const a1 = buildTorKeyFiles(deriveSeed(secret, scopeA, Purpose.torOnionService, 32))
        const a2 = buildTorKeyFiles(deriveSeed(Buffer.from(secret), scopeA, Purpose.torOnionService, 32))
        if (!a1.secretKeyFile.equals(a2.secretKeyFile) || !a1.publicKeyFile.equals(a2.publicKeyFile) || a1.hostname !== a2.hostname) {
          return false
        }
        if (parseTorSecretKeyFile(a1.secretKeyFile).onion !== a1.hostname.trim()) return false
        if (!/^[a-z2-7]{56}\.onion\n$/.test(a1.hostname)) return false
        if (scopeA === scopeB) return true
        return buildTorKeyFiles(deriveSeed(secret, scopeB, Purpose.torOnionService, 32)).hostname !== a1.hostname
      },
    ),
    { numRuns: 50 },
  )
  t.pass('property held for 50 random secrets and scopes')
})

t.test('clear errors for bad user-supplied files', async (t) => {
  const files = buildTorKeyFiles(RFC8032_SEED)
  t.throws(() => buildTorKeyFiles(Buffer.alloc(31)), /seed must be 32 bytes, got 31/)
  t.throws(
    () => parseTorSecretKeyFile(files.secretKeyFile.subarray(32)),
    /want 96 bytes, got 64 \(missing the 32-byte "== ed25519v1-secret: type0 ==" header\?\)/,
  )
  t.throws(() => parseTorSecretKeyFile(Buffer.alloc(10)), /hs_ed25519_secret_key: want 96 bytes, got 10$/)
  const wrongHeader = Buffer.from(files.secretKeyFile)
  wrongHeader.write('== ed25519v1-public: type0 ==')
  t.throws(
    () => parseTorSecretKeyFile(wrongHeader),
    /hs_ed25519_secret_key: wrong header "== ed25519v1-public: type0 ==", want "== ed25519v1-secret: type0 =="/,
  )
  const unclamped = Buffer.from(files.secretKeyFile)
  unclamped[32] = (unclamped[32] ?? 0) | 1
  t.throws(() => parseTorSecretKeyFile(unclamped), /not a clamped ed25519 expanded secret key/)
  t.throws(() => parseTorPublicKeyFile(files.secretKeyFile), /hs_ed25519_public_key: want 64 bytes, got 96/)
  t.throws(() => parseTorPublicKeyFile(Buffer.concat([secretHeader, Buffer.alloc(32)])), /hs_ed25519_public_key: wrong header/)
  const other = buildTorKeyFiles(Buffer.alloc(32, 9))
  t.throws(
    () => parseTorKeyFiles({ secretKeyFile: files.secretKeyFile, publicKeyFile: other.publicKeyFile }),
    /hs_ed25519_public_key does not belong to hs_ed25519_secret_key/,
  )
  t.throws(() => parseTorKeyFiles({ secretKeyFile: files.secretKeyFile, hostname: other.hostname }), /hostname says .* but hs_ed25519_secret_key is for 25njq/)
  t.throws(() => parseOnionAddress('abc.onion'), /not a v3 onion address/)
  t.throws(() => parseOnionAddress(`a${RFC8032_ONION.slice(1)}`), /onion address checksum mismatch/)
  t.throws(() => parseOnionAddress(`${RFC8032_ONION.slice(0, 55)}a.onion`), /onion address has version 0, want 3/)
  t.throws(() => onionAddressFromPublicKey(Buffer.alloc(31)), /must be 32 bytes/)
})
