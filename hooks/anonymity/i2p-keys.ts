/**
 * I2P destination private-keys files (the `keys = monerod.dat` of an i2pd server tunnel),
 * built deterministically from a 32-byte seed, and a parser for user-supplied ones.
 *
 * Layout (i2pd `PrivateKeys::ToBuffer`; I2P common structures "Destination" + keys):
 * ```
 * identity (391 bytes; its SHA-256 is the destination hash = the b32 address)
 *   [0, 256)    encryption public key field   padding (see below)
 *   [256, 384)  signing public key field      96 bytes padding + 32-byte ed25519 public key
 *   [384, 387)  certificate header            type 5 (KEY), length 4 (u16be)
 *   [387, 391)  key certificate               signing type 7 (EdDSA-SHA512-Ed25519), crypto type 0, u16be each
 * [391, 647)    encryption private key        256 bytes (unused, see below)
 * [647, 679)    signing private key           32-byte ed25519 seed (RFC 8032 private key)
 * ```
 * This is exactly what i2pd 2.45 writes for a server tunnel without `signaturetype` /
 * `cryptotype` (checked in e2e/integration/i2pd.test.ts): signing type 7, crypto type 0, and
 * the first 352 bytes of the identity are one 32-byte block repeated 11 times (I2P
 * proposal 161, "compressible padding"). A destination's identity encryption key is not
 * used: i2pd encrypts to the separate lease-set keys it keeps under `destinations/`, so
 * i2pd itself fills that field with padding and stores random bytes as its private key.
 */
import { createHash, hkdfSync } from 'node:crypto'
import { base32Decode, base32Encode } from './base32.js'
import { ed25519PublicKeyFromSeed } from './ed25519.js'

/** Signing key types (I2P common structures spec, KeyCertificate). */
export const SigningKeyType = {
  dsaSha1: 0,
  ecdsaSha256P256: 1,
  ecdsaSha384P384: 2,
  ecdsaSha512P521: 3,
  rsaSha256_2048: 4,
  rsaSha384_3072: 5,
  rsaSha512_4096: 6,
  eddsaSha512Ed25519: 7,
  gostR3410_256: 9,
  gostR3410_512: 10,
  redDsaSha512Ed25519: 11,
} as const

/** Crypto (encryption) key types. */
export const CryptoKeyType = {
  elGamal: 0,
  eciesP256: 1,
  eciesX25519: 4,
} as const

const STANDARD_IDENTITY_LENGTH = 387 // 256 + 128 + 3-byte certificate header
const CERTIFICATE_TYPE_NULL = 0
const CERTIFICATE_TYPE_KEY = 5

/** Private signing key length per signing type, as i2pd's verifiers report it. */
const SIGNING_PRIVATE_KEY_LENGTH: ReadonlyMap<number, number> = new Map([
  [0, 20],
  [1, 32],
  [2, 48],
  [3, 66],
  [7, 32],
  [9, 32],
  [10, 64],
  [11, 32],
])

/** An i2pd private keys file and the b32 address it publishes. */
export interface I2pKeysFile {
  /** Binary content of the private keys file (679 bytes). */
  keysFile: Buffer
  /** `<52 base32 chars>.b32.i2p`. */
  b32: string
}

/** What a parsed keys file tells us. */
export interface ParsedI2pKeys {
  /** `<52 chars>.b32.i2p`. */
  b32: string
  /** The public destination (identity incl. certificate) whose SHA-256 is the address. */
  identity: Buffer
  signingKeyType: number
  cryptoKeyType: number
}

/** `<52 chars>.b32.i2p`: lowercase unpadded base32 of SHA-256 of the full identity. */
export function i2pB32FromIdentity(identity: Uint8Array): string {
  return `${base32Encode(createHash('sha256').update(identity).digest())}.b32.i2p`
}

/** Check a `.b32.i2p` address (52 base32 chars) and return the 32-byte destination hash. */
export function parseI2pB32Address(address: string): Buffer {
  const label = address.toLowerCase().replace(/\.b32\.i2p$/, '')
  if (!/^[a-z2-7]{52}$/.test(label)) {
    throw new RangeError(`not an I2P b32 address (want 52 base32 characters before ".b32.i2p"): ${JSON.stringify(address)}`)
  }
  return base32Decode(label)
}

/** Sub-keys of one destination, expanded from its seed. Labels are part of the contract. */
function expand(seed: Uint8Array, label: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', seed, Buffer.from('monero-operator/i2p-destination/v1'), Buffer.from(label), length))
}

/** Bytes of the identity covered by repeated padding: the 256-byte encryption field + 96 bytes. */
const PADDING_LENGTH = 256 + 96

/**
 * Build an i2pd private keys file (EdDSA-SHA512-Ed25519 signing, crypto type 0) from a
 * 32-byte seed, laid out as i2pd 2.45 creates one. What i2pd draws at random is expanded
 * from the seed with HKDF-SHA256 (salt `monero-operator/i2p-destination/v1`; info
 * `ed25519-seed` 32 bytes, `identity-padding` 32 bytes repeated over the first 352 bytes,
 * `encryption-private-key` 256 bytes), so the same seed gives the same file and address.
 * Pure.
 */
export function buildI2pKeysFile(seed: Uint8Array): I2pKeysFile {
  if (seed.length !== 32) throw new RangeError(`buildI2pKeysFile: seed must be 32 bytes, got ${seed.length}`)
  const signingSeed = expand(seed, 'ed25519-seed', 32)
  const paddingBlock = expand(seed, 'identity-padding', 32)
  const encryptionPrivate = expand(seed, 'encryption-private-key', 256)

  const padding = Buffer.alloc(PADDING_LENGTH)
  for (let offset = 0; offset < PADDING_LENGTH; offset += paddingBlock.length) paddingBlock.copy(padding, offset)
  const certificate = Buffer.alloc(7)
  certificate.writeUInt8(CERTIFICATE_TYPE_KEY, 0)
  certificate.writeUInt16BE(4, 1)
  certificate.writeUInt16BE(SigningKeyType.eddsaSha512Ed25519, 3)
  certificate.writeUInt16BE(CryptoKeyType.elGamal, 5)
  const identity = Buffer.concat([padding, ed25519PublicKeyFromSeed(signingSeed), certificate])
  return {
    keysFile: Buffer.concat([identity, encryptionPrivate, signingSeed]),
    b32: i2pB32FromIdentity(identity),
  }
}

function looksLikeText(buf: Uint8Array): boolean {
  return buf.length > 0 && buf.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d)
}

/**
 * Parse a user-supplied i2pd private keys file and return its b32 address. Checks the
 * layout (lengths, certificate, key types i2pd supports) and, for EdDSA, that the signing
 * private key matches the public key (i2pd signs lease sets with it). The identity's
 * encryption key is not checked: i2pd does not use it for destinations and writes padding
 * there itself. Throws a RangeError naming the problem. Offline-signed keys (all-zero
 * signing key) are rejected.
 *
 * `signingKeyChecked`: only when the caller already knows that these very bytes passed the
 * signing key check earlier (see the checked-keys record in hooks/nodes/anonymity-keys.ts);
 * the layout is still checked.
 */
export function parseI2pKeysFile(buf: Uint8Array, opts: { signingKeyChecked?: boolean } = {}): ParsedI2pKeys {
  const data = Buffer.from(buf)
  const name = 'i2p keys file'
  if (looksLikeText(data)) {
    throw new RangeError(`${name}: got ${data.length} bytes of text; want the binary file i2pd writes (base64 destinations must be decoded first)`)
  }
  if (data.length < STANDARD_IDENTITY_LENGTH) {
    throw new RangeError(`${name}: too short (${data.length} bytes); an identity alone is at least ${STANDARD_IDENTITY_LENGTH} bytes`)
  }
  const certType = data.readUInt8(384)
  const certLength = data.readUInt16BE(385)
  let signingKeyType: number = SigningKeyType.dsaSha1
  let cryptoKeyType: number = CryptoKeyType.elGamal
  if (certType === CERTIFICATE_TYPE_KEY) {
    if (certLength < 4) throw new RangeError(`${name}: key certificate too short (${certLength} bytes, want >= 4)`)
    if (data.length < STANDARD_IDENTITY_LENGTH + 4) throw new RangeError(`${name}: truncated inside the key certificate`)
    signingKeyType = data.readUInt16BE(387)
    cryptoKeyType = data.readUInt16BE(389)
  } else if (certType !== CERTIFICATE_TYPE_NULL || certLength !== 0) {
    throw new RangeError(`${name}: unsupported certificate type ${certType} (length ${certLength}); want a KEY (5) or NULL (0) certificate`)
  }
  const signingPrivateLength = SIGNING_PRIVATE_KEY_LENGTH.get(signingKeyType)
  if (signingPrivateLength === undefined) {
    throw new RangeError(`${name}: signing key type ${signingKeyType} is not supported by i2pd`)
  }
  if (cryptoKeyType !== CryptoKeyType.elGamal && cryptoKeyType !== CryptoKeyType.eciesP256 && cryptoKeyType !== CryptoKeyType.eciesX25519) {
    throw new RangeError(`${name}: crypto key type ${cryptoKeyType} is not supported`)
  }
  const identityLength = STANDARD_IDENTITY_LENGTH + certLength
  const cryptoPrivateLength = cryptoKeyType === CryptoKeyType.eciesX25519 ? 32 : 256
  const expected = identityLength + cryptoPrivateLength + signingPrivateLength
  if (data.length < expected) {
    throw new RangeError(`${name}: truncated (${data.length} bytes, want ${expected} for signing type ${signingKeyType}, crypto type ${cryptoKeyType})`)
  }
  const identity = data.subarray(0, identityLength)
  const signingPrivate = data.subarray(identityLength + cryptoPrivateLength, expected)
  if (signingPrivate.every((b) => b === 0)) {
    throw new RangeError(`${name}: offline-signed keys (all-zero signing private key) are not supported`)
  }
  if (data.length !== expected) {
    throw new RangeError(`${name}: ${data.length - expected} unexpected trailing bytes (want exactly ${expected})`)
  }
  if (signingKeyType === SigningKeyType.eddsaSha512Ed25519 && !opts.signingKeyChecked) {
    if (!ed25519PublicKeyFromSeed(signingPrivate).equals(identity.subarray(352, 384))) {
      throw new RangeError(`${name}: EdDSA signing private key does not match the destination's public key`)
    }
  }
  return { b32: i2pB32FromIdentity(identity), identity: Buffer.from(identity), signingKeyType, cryptoKeyType }
}
