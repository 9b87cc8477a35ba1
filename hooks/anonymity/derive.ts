/**
 * Deterministic key-seed derivation for the anonymity-network identities (Tor onion
 * services, I2P destinations) of every monerod replica.
 *
 * The hook server holds one per-installation secret; everything else (namespace, name,
 * replica index, rotation counter) is in the request. So the same request always yields the
 * same onion / b32 address, and the hook keeps no state (ARCHITECTURE.md rule 9).
 *
 * COMPATIBILITY CONTRACT: changing anything in this file (salt, encoding of `info`, hash)
 * changes every address of every installation. `derive.test.ts` pins known vectors.
 */
import { hkdfSync } from 'node:crypto'

/** HKDF salt; the `v1` names the construction version, not the product version. */
export const DERIVE_SALT = 'monero-operator/anonymity-derive/v1'

/** Smallest per-installation secret accepted (bytes). 32 random bytes are recommended. */
export const MIN_SECRET_LENGTH = 16

/** HKDF-SHA256 can produce at most 255 blocks of 32 bytes. */
export const MAX_DERIVE_LENGTH = 255 * 32

/** Purpose labels: one per kind of key, so two keys never share a seed. */
export const Purpose = {
  /** ed25519 seed of a Tor v3 onion service (see `buildTorKeyFiles`). */
  torOnionService: 'tor-onion-service-ed25519',
  /** Seed of the I2P destination that publishes monerod's P2P port. */
  i2pP2p: 'i2p-destination-p2p',
  /** Seed of the I2P destination that publishes monerod's restricted RPC port. */
  i2pRestrictedRpc: 'i2p-destination-restricted-rpc',
} as const

/** One of the {@link Purpose} values (other strings are accepted by `deriveSeed` too). */
export type PurposeLabel = (typeof Purpose)[keyof typeof Purpose]

/** Which anonymity network a scope belongs to. */
export type AnonymityNetwork = 'tor' | 'i2p'

/** Inputs of {@link anonymityScope}. */
export interface ScopeParts {
  network: AnonymityNetwork
  namespace: string
  name: string
  /** StatefulSet ordinal of the replica. */
  replica: number
  /**
   * Changed by the user to get a fresh address (the old key is then abandoned): a
   * non-negative integer or a CRD `rotation` string (lowercase letters, digits, `-`, `.`; may
   * be empty). The integer n and the string "n" give the same scope.
   */
  rotation: number | string
}

/**
 * Canonical scope string `<network>/<namespace>/<name>/<replica>/<rotation>`, e.g.
 * `tor/default/mainnet/0/0`. Kubernetes names cannot contain `/`, so the string is
 * unambiguous; we still reject `/` to keep that guarantee if callers pass other text.
 */
export function anonymityScope(parts: ScopeParts): string {
  for (const [key, value] of [
    ['namespace', parts.namespace],
    ['name', parts.name],
  ] as const) {
    if (value.length === 0 || value.includes('/')) {
      throw new RangeError(`anonymityScope: ${key} must be non-empty and contain no "/", got ${JSON.stringify(value)}`)
    }
  }
  if (!Number.isSafeInteger(parts.replica) || parts.replica < 0) {
    throw new RangeError(`anonymityScope: replica must be a non-negative integer, got ${String(parts.replica)}`)
  }
  if (typeof parts.rotation === 'string') {
    if (!/^[a-z0-9.-]{0,63}$/.test(parts.rotation)) {
      throw new RangeError(`anonymityScope: rotation must be at most 63 of a-z 0-9 . -, got ${JSON.stringify(parts.rotation)}`)
    }
  } else if (!Number.isSafeInteger(parts.rotation) || parts.rotation < 0) {
    throw new RangeError(`anonymityScope: rotation must be a non-negative integer, got ${String(parts.rotation)}`)
  }
  return `${parts.network}/${parts.namespace}/${parts.name}/${parts.replica}/${parts.rotation}`
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8')
  const prefix = Buffer.alloc(4)
  prefix.writeUInt32BE(bytes.length, 0)
  return Buffer.concat([prefix, bytes])
}

/**
 * Derive `length` bytes of key seed from the installation secret for one scope and purpose.
 *
 * Construction (RFC 5869 HKDF with SHA-256):
 * ```
 * OKM = HKDF-SHA256(
 *   IKM  = secret,
 *   salt = UTF-8("monero-operator/anonymity-derive/v1"),
 *   info = u32be(len(P)) || P || u32be(len(S)) || S,   P = UTF-8(purpose), S = UTF-8(scope)
 *   L    = length)
 * ```
 * Length prefixes make `info` injective: no (purpose, scope) pair can collide with another.
 * Pure: no clock, randomness or environment.
 *
 * @throws RangeError if the secret is shorter than {@link MIN_SECRET_LENGTH}, purpose or
 *   scope is empty, together longer than 1016 UTF-8 bytes, or length is not an integer in 1..{@link MAX_DERIVE_LENGTH}.
 */
export function deriveSeed(secret: Uint8Array, scope: string, purpose: string, length: number): Buffer {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new RangeError(`deriveSeed: secret must be at least ${MIN_SECRET_LENGTH} bytes, got ${secret.length}`)
  }
  if (scope.length === 0) throw new RangeError('deriveSeed: scope must not be empty')
  if (purpose.length === 0) throw new RangeError('deriveSeed: purpose must not be empty')
  if (!Number.isInteger(length) || length < 1 || length > MAX_DERIVE_LENGTH) {
    throw new RangeError(`deriveSeed: length must be an integer in 1..${MAX_DERIVE_LENGTH}, got ${length}`)
  }
  const info = Buffer.concat([lengthPrefixed(purpose), lengthPrefixed(scope)])
  // node's hkdfSync refuses info longer than 1024 bytes; say so in our own words.
  if (info.length > 1024) {
    throw new RangeError(`deriveSeed: purpose and scope are too long (${info.length - 8} bytes, max 1016)`)
  }
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from(DERIVE_SALT, 'utf8'), info, length))
}
