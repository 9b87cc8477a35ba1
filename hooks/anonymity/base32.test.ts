import t from 'tap'
import fc from 'fast-check'
import { base32Decode, base32Encode } from './base32.js'

t.test('RFC 4648 test vectors, lowercase, unpadded', async (t) => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'my'],
    ['fo', 'mzxq'],
    ['foo', 'mzxw6'],
    ['foob', 'mzxw6yq'],
    ['fooba', 'mzxw6ytb'],
    ['foobar', 'mzxw6ytboi'],
  ]
  for (const [plain, encoded] of vectors) {
    t.equal(base32Encode(Buffer.from(plain)), encoded, plain)
    t.equal(base32Decode(encoded).toString(), plain, encoded)
    t.equal(base32Decode(encoded.toUpperCase()).toString(), plain, `${encoded} upper case`)
  }
})

t.test('round trip (property)', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => base32Decode(base32Encode(bytes)).equals(Buffer.from(bytes))))
  t.pass('property held')
})

t.test('errors', async (t) => {
  t.throws(() => base32Decode('mzx1'), /invalid base32 character "1" at position 3/)
  t.throws(() => base32Decode('mz'), /non-zero trailing bits/)
})
