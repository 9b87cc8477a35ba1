import t from 'tap';
import fc from 'fast-check';
import { createDiffieHellman, createDiffieHellmanGroup, createHash } from 'node:crypto';
import { base32Encode } from './base32.js';
import { deriveSeed, Purpose } from './derive.js';
import { ed25519PublicKeyFromSeed } from './ed25519.js';
import { buildI2pKeysFile, elGamalPublicKey, i2pB32FromIdentity, parseI2pB32Address, parseI2pKeysFile } from './i2p-keys.js';

const SECRET = Buffer.alloc(32, 7);
const seedFor = (scope: string, purpose: string = Purpose.i2pP2p): Buffer => deriveSeed(SECRET, scope, purpose, 32);

// Pinned; e2e/integration/i2pd.test.ts proves i2pd 2.45 loads this file and shows this b32.
t.test('known vector (compatibility contract)', async (t) => {
  const built = buildI2pKeysFile(seedFor('i2p/default/x/0/0'));
  t.equal(built.b32, 'wh74ztvj5acjwu7x6gqwrr4o4uefxyrfkx5juh5dorppzh4u5l2q.b32.i2p');
  t.equal(createHash('sha256').update(built.keysFile).digest('hex'), '5754f52a6d0b24911d14403e123350198008f4fe6165c3274b0aebc7d0cc2dfa');
  t.equal(buildI2pKeysFile(seedFor('i2p/default/x/0/0', Purpose.i2pRestrictedRpc)).b32, 'duu7qhe4dzm7stiz7ibyp4ey3gvu3d6jz6stu6wswosxtbywgjpq.b32.i2p');
});

t.test('layout: ElGamal + EdDSA identity with a key certificate', async (t) => {
  const { keysFile, b32 } = buildI2pKeysFile(seedFor('i2p/a/b/0/0'));
  t.equal(keysFile.length, 679);
  const identity = keysFile.subarray(0, 391);
  t.equal(keysFile.subarray(384, 391).toString('hex'), '05000400070000', 'KEY cert, len 4, sig type 7, crypto type 0');
  t.equal(b32, `${base32Encode(createHash('sha256').update(identity).digest())}.b32.i2p`);
  t.match(b32, /^[a-z2-7]{52}\.b32\.i2p$/);
  const signingSeed = keysFile.subarray(647, 679);
  t.same(identity.subarray(352, 384), ed25519PublicKeyFromSeed(signingSeed), 'ed25519 public key right-aligned in the 128-byte field');
  // Independent check of the ElGamal key with OpenSSL's DH: 2^x mod p.
  const x = keysFile.subarray(391, 647);
  t.equal((x[0] ?? 0) & 0x80, 0, 'x < p');
  const dh = createDiffieHellman(createDiffieHellmanGroup('modp14').getPrime(), Buffer.from([2]));
  dh.setPrivateKey(x);
  t.same(dh.computeSecret(Buffer.from([2])), identity.subarray(0, 256));
  t.same(elGamalPublicKey(x), identity.subarray(0, 256));
});

t.test('the ElGamal prime is the one in i2pd Crypto.cpp (RFC 3526 group 14)', async (t) => {
  const prime = createDiffieHellmanGroup('modp14').getPrime();
  t.equal(prime.length, 256);
  t.equal(prime.subarray(0, 32).toString('hex'), 'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74');
});

t.test('parse round trip', async (t) => {
  const built = buildI2pKeysFile(seedFor('i2p/a/b/1/0'));
  const parsed = parseI2pKeysFile(built.keysFile);
  t.equal(parsed.b32, built.b32);
  t.equal(parsed.signingKeyType, 7);
  t.equal(parsed.cryptoKeyType, 0);
  t.same(parsed.identity, built.keysFile.subarray(0, 391));
  t.equal(i2pB32FromIdentity(parsed.identity), built.b32);
  t.same(parseI2pB32Address(built.b32), createHash('sha256').update(parsed.identity).digest());
  t.same(parseI2pB32Address(built.b32.toUpperCase().replace('.B32.I2P', '')), createHash('sha256').update(parsed.identity).digest());
});

t.test('deterministic, scope-separating (property)', async (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 48 }),
      fc.string({ minLength: 1, maxLength: 30 }),
      fc.string({ minLength: 1, maxLength: 30 }),
      (secret, scopeA, scopeB) => {
        const a1 = buildI2pKeysFile(deriveSeed(secret, scopeA, Purpose.i2pP2p, 32));
        const a2 = buildI2pKeysFile(deriveSeed(Buffer.from(secret), scopeA, Purpose.i2pP2p, 32));
        if (!a1.keysFile.equals(a2.keysFile) || a1.b32 !== a2.b32) return false;
        if (scopeA === scopeB) return true;
        return buildI2pKeysFile(deriveSeed(secret, scopeB, Purpose.i2pP2p, 32)).b32 !== a1.b32;
      },
    ),
    { numRuns: 15 },
  );
  t.pass('property held');
});

t.test('clear errors for bad user-supplied files', async (t) => {
  const { keysFile } = buildI2pKeysFile(seedFor('i2p/a/b/2/0'));
  t.throws(() => buildI2pKeysFile(Buffer.alloc(16)), /seed must be 32 bytes, got 16/);
  t.throws(() => parseI2pKeysFile(Buffer.from(keysFile.toString('base64'))), /bytes of text; want the binary file i2pd writes/);
  t.throws(() => parseI2pKeysFile(keysFile.subarray(0, 300)), /too short \(300 bytes\); an identity alone is at least 387 bytes/);
  t.throws(() => parseI2pKeysFile(keysFile.subarray(0, 600)), /truncated \(600 bytes, want 679 for signing type 7, crypto type 0\)/);
  t.throws(() => parseI2pKeysFile(Buffer.concat([keysFile, Buffer.alloc(2, 1)])), /2 unexpected trailing bytes \(want exactly 679\)/);
  const badCert = Buffer.from(keysFile);
  badCert[384] = 3;
  t.throws(() => parseI2pKeysFile(badCert), /unsupported certificate type 3/);
  const rsa = Buffer.from(keysFile);
  rsa.writeUInt16BE(4, 387);
  t.throws(() => parseI2pKeysFile(rsa), /signing key type 4 is not supported by i2pd/);
  const crypto = Buffer.from(keysFile);
  crypto.writeUInt16BE(9, 389);
  t.throws(() => parseI2pKeysFile(crypto), /crypto key type 9 is not supported/);
  const offline = Buffer.from(keysFile);
  offline.fill(0, 647);
  t.throws(() => parseI2pKeysFile(offline), /offline-signed keys/);
  const wrongSigning = Buffer.from(keysFile);
  wrongSigning[650] = (wrongSigning[650] ?? 0) ^ 1;
  t.throws(() => parseI2pKeysFile(wrongSigning), /EdDSA signing private key does not match/);
  const wrongElGamal = Buffer.from(keysFile);
  wrongElGamal[500] = (wrongElGamal[500] ?? 0) ^ 1;
  t.throws(() => parseI2pKeysFile(wrongElGamal), /ElGamal private key does not match/);
  t.throws(() => parseI2pB32Address('abc.b32.i2p'), /not an I2P b32 address/);
  t.throws(() => elGamalPublicKey(Buffer.alloc(32)), /must be 256 bytes, got 32/);
});
