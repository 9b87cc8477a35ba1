/**
 * Tor v3 onion-service key files, byte for byte as tor writes them in a HiddenServiceDir,
 * built from a 32-byte ed25519 seed (see `deriveSeed`), plus parsers for key files a user
 * supplies in a Secret.
 */
import { createHash } from 'node:crypto'
import { base32Decode, base32Encode } from './base32.js'
import { ed25519PublicKeyFromScalar, ed25519PublicKeyFromSeed } from './ed25519.js'

/** File names tor uses inside a v3 HiddenServiceDir. */
export const TOR_SECRET_KEY_FILE = 'hs_ed25519_secret_key'
export const TOR_PUBLIC_KEY_FILE = 'hs_ed25519_public_key'
export const TOR_HOSTNAME_FILE = 'hostname'

const SECRET_HEADER = '== ed25519v1-secret: type0 =='
const PUBLIC_HEADER = '== ed25519v1-public: type0 =='
const HEADER_LENGTH = 32
/** Size of `hs_ed25519_secret_key`: 32-byte header + 64-byte expanded key. */
export const TOR_SECRET_KEY_FILE_LENGTH = HEADER_LENGTH + 64
/** Size of `hs_ed25519_public_key`: 32-byte header + 32-byte key. */
export const TOR_PUBLIC_KEY_FILE_LENGTH = HEADER_LENGTH + 32
const ONION_VERSION = 3

/** The three files of a v3 HiddenServiceDir. */
export interface TorKeyFiles {
  /** Content of `hs_ed25519_secret_key` (96 bytes). */
  secretKeyFile: Buffer
  /** Content of `hs_ed25519_public_key` (64 bytes). */
  publicKeyFile: Buffer
  /** Content of `hostname`: `<56 base32 chars>.onion\n`. */
  hostname: string
}

/** What a parsed secret key file tells us. */
export interface ParsedTorSecretKey {
  /** ed25519 public key (32 bytes). */
  publicKey: Buffer
  /** `<56 chars>.onion` (no newline). */
  onion: string
}

function header(text: string): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH) // NUL padded
  out.write(text, 'ascii')
  return out
}

/** Onion v3 address `<56 chars>.onion` of an ed25519 public key (rend-spec-v3 §6). */
export function onionAddressFromPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new RangeError(`onion public key must be 32 bytes, got ${publicKey.length}`)
  const version = Buffer.from([ONION_VERSION])
  const checksum = createHash('sha3-256').update('.onion checksum', 'ascii').update(publicKey).update(version).digest().subarray(0, 2)
  return `${base32Encode(Buffer.concat([publicKey, checksum, version]))}.onion`
}

/**
 * Decode and check a v3 onion address (with or without `.onion`, any case): length,
 * version byte and checksum. Returns the ed25519 public key.
 */
export function parseOnionAddress(address: string): Buffer {
  const label = address.toLowerCase().replace(/\.onion$/, '')
  if (!/^[a-z2-7]{56}$/.test(label)) {
    throw new RangeError(`not a v3 onion address (want 56 base32 characters before ".onion"): ${JSON.stringify(address)}`)
  }
  const raw = base32Decode(label)
  if (raw[34] !== ONION_VERSION) throw new RangeError(`onion address has version ${String(raw[34])}, want 3`)
  const publicKey = raw.subarray(0, 32)
  if (onionAddressFromPublicKey(publicKey) !== `${label}.onion`) {
    throw new RangeError(`onion address checksum mismatch: ${JSON.stringify(address)}`)
  }
  return Buffer.from(publicKey)
}

/**
 * Build the HiddenServiceDir files for a 32-byte ed25519 seed. The secret key is tor's
 * expanded form: SHA-512(seed) with the first half clamped (a[0] &= 248, a[31] &= 127,
 * a[31] |= 64). Pure.
 */
export function buildTorKeyFiles(seed32: Uint8Array): TorKeyFiles {
  if (seed32.length !== 32) throw new RangeError(`buildTorKeyFiles: seed must be 32 bytes, got ${seed32.length}`)
  const expanded = createHash('sha512').update(seed32).digest()
  expanded[0] = (expanded[0] ?? 0) & 248
  expanded[31] = ((expanded[31] ?? 0) & 127) | 64
  const publicKey = ed25519PublicKeyFromSeed(seed32)
  return {
    secretKeyFile: Buffer.concat([header(SECRET_HEADER), expanded]),
    publicKeyFile: Buffer.concat([header(PUBLIC_HEADER), publicKey]),
    hostname: `${onionAddressFromPublicKey(publicKey)}\n`,
  }
}

function checkHeader(buf: Uint8Array, want: string, fileName: string): void {
  const got = Buffer.from(buf.subarray(0, HEADER_LENGTH))
  if (!got.equals(header(want))) {
    const printable = got
      .toString('latin1')
      .replace(/\0+$/, '')
      .replace(/[^\x20-\x7e]/g, '?')
    throw new RangeError(`${fileName}: wrong header ${JSON.stringify(printable)}, want ${JSON.stringify(want)} NUL-padded to 32 bytes`)
  }
}

/**
 * Parse a user-supplied `hs_ed25519_secret_key` (96 bytes as written by tor) and compute
 * its public key and onion address. Throws a RangeError naming the problem (length,
 * header, unclamped scalar).
 *
 * `publicKey`: only when the caller already knows it is this secret key's public key (it
 * was computed from these very bytes earlier, see the checked-keys record in
 * hooks/nodes/anonymity-keys.ts); the file is still checked, the scalar multiplication is
 * skipped.
 */
export function parseTorSecretKeyFile(buf: Uint8Array, publicKey?: Uint8Array): ParsedTorSecretKey {
  if (buf.length !== TOR_SECRET_KEY_FILE_LENGTH) {
    const hint = buf.length === 64 ? ' (missing the 32-byte "== ed25519v1-secret: type0 ==" header?)' : ''
    throw new RangeError(`${TOR_SECRET_KEY_FILE}: want ${TOR_SECRET_KEY_FILE_LENGTH} bytes, got ${buf.length}${hint}`)
  }
  checkHeader(buf, SECRET_HEADER, TOR_SECRET_KEY_FILE)
  const scalar = buf.subarray(HEADER_LENGTH, HEADER_LENGTH + 32)
  const first = scalar[0] ?? 0
  const last = scalar[31] ?? 0
  if ((first & 7) !== 0 || (last & 0xc0) !== 0x40) {
    throw new RangeError(`${TOR_SECRET_KEY_FILE}: key is not a clamped ed25519 expanded secret key`)
  }
  const checked = publicKey ? Buffer.from(publicKey) : ed25519PublicKeyFromScalar(scalar)
  return { publicKey: checked, onion: onionAddressFromPublicKey(checked) }
}

/** Parse `hs_ed25519_public_key` (64 bytes) and return its 32-byte key. */
export function parseTorPublicKeyFile(buf: Uint8Array): Buffer {
  if (buf.length !== TOR_PUBLIC_KEY_FILE_LENGTH) {
    throw new RangeError(`${TOR_PUBLIC_KEY_FILE}: want ${TOR_PUBLIC_KEY_FILE_LENGTH} bytes, got ${buf.length}`)
  }
  checkHeader(buf, PUBLIC_HEADER, TOR_PUBLIC_KEY_FILE)
  return Buffer.from(buf.subarray(HEADER_LENGTH))
}

/**
 * Validate a user-supplied set of HiddenServiceDir files: the secret key is required; the
 * public key and hostname, when present, must agree with it. Returns the parsed secret.
 * `publicKey` as for {@link parseTorSecretKeyFile}.
 */
export function parseTorKeyFiles(
  files: {
    secretKeyFile: Uint8Array
    publicKeyFile?: Uint8Array | undefined
    hostname?: string | undefined
  },
  publicKey?: Uint8Array,
): ParsedTorSecretKey {
  const parsed = parseTorSecretKeyFile(files.secretKeyFile, publicKey)
  if (files.publicKeyFile !== undefined && !parseTorPublicKeyFile(files.publicKeyFile).equals(parsed.publicKey)) {
    throw new RangeError(`${TOR_PUBLIC_KEY_FILE} does not belong to ${TOR_SECRET_KEY_FILE}`)
  }
  if (files.hostname !== undefined) {
    const given = files.hostname.trim().toLowerCase()
    parseOnionAddress(given)
    if (given !== parsed.onion) {
      throw new RangeError(`${TOR_HOSTNAME_FILE} says ${given} but ${TOR_SECRET_KEY_FILE} is for ${parsed.onion}`)
    }
  }
  return parsed
}
