/**
 * The hidden-service keys of a set of monerod pods: which key files every replica needs, where
 * each comes from (the user's Secret, our own Secret when made for the same rotation, or the
 * key seed), the content and annotations of the keys Secret, and the public addresses for
 * status. See anonymity.ts for the rules; key material never leaves the returned Secret data
 * (its annotations hold only rotations, addresses and digests).
 */
import { createHash } from 'node:crypto'
import type { AnonymitySpec } from '../node-spec/types.js'
import { I2PD_P2P_KEYS_FILE, I2PD_RPC_KEYS_FILE } from '../anonymity/configs.js'
import { anonymityScope, deriveSeed, Purpose, type AnonymityNetwork } from '../anonymity/derive.js'
import { buildI2pKeysFile, parseI2pKeysFile } from '../anonymity/i2p-keys.js'
import { buildTorKeyFiles, parseOnionAddress, parseTorKeyFiles, TOR_HOSTNAME_FILE, TOR_PUBLIC_KEY_FILE, TOR_SECRET_KEY_FILE } from '../anonymity/tor-keys.js'
import { MAX_ANONYMOUS_REPLICAS } from '../node-spec/schema.js'
import type { ChildMap, KubeObject } from '../metacontroller.js'
import { SpecError } from '../rules.js'

/** Public addresses of one replica, as status.hiddenServices lists them. */
export interface HiddenServiceStatus {
  replica: number
  onion?: string
  i2p?: string
  i2pRestrictedRpc?: string
}

/** Annotation on the keys Secret: the rotation its keys of a network were made for. */
export const rotationAnnotation = (network: AnonymityNetwork): string => `utxo.com.br/${network}-rotation`

/**
 * Annotation on the keys Secret: a digest of every entry's bytes as checked in full, and for a
 * tor key the onion address that check found: JSON `{"<entry>": "<digest> <onion>"}`, or
 * `"<digest>"` for an i2p keys file, whose address is the hash of its own destination. See
 * readCheckedKeys for why and how far it is trusted, and MAX_ANONYMOUS_REPLICAS for the size.
 */
export const CHECKED_KEYS_ANNOTATION = 'utxo.com.br/checked-keys'

/** The Secret entry of one replica's key file: `<replica>.<file>`. */
export const keyEntry = (replica: number, file: string): string => `${replica}.${file}`

const ENTRY = /^(0|[1-9][0-9]{0,5})\.(.+)$/

/** What key resolution needs from the sync (AnonymityInput satisfies it). */
export interface KeysInput {
  readonly namespace: string
  /** The parent's name (part of the derivation scope). */
  readonly name: string
  readonly replicas: number
  readonly keySeed: Uint8Array | undefined
  readonly related: ChildMap | undefined
  readonly specPath: string
}

/** A key file and the address it publishes. */
interface KeyFile {
  readonly data: Buffer
  readonly address: string
}

/** A key file of a replica, checked, with what the checked-keys record keeps of it. */
interface ResolvedKey extends KeyFile {
  readonly record: string
}

/** Key files of one network: which Secret entries a replica needs, and how to make them. */
interface NetworkKeys {
  readonly network: AnonymityNetwork
  readonly spec: AnonymitySpec
  /** Files every replica needs now. */
  readonly files: readonly string[]
  /** Every file this network may have in the Secret (kept when observed). */
  readonly known: readonly string[]
  derive(seed: Uint8Array, replica: number, file: string): KeyFile
  /**
   * Checks a key file (and, for tor, the optional public key and hostname beside it in the same
   * Secret) and returns the address it publishes; throws a RangeError when it is not usable.
   * `checked`: set when these very bytes passed an earlier full check (readCheckedKeys), with
   * the address it found when the record keeps one; the Ed25519 check is then not repeated
   * (the layout, and the public key and hostname the user may put beside a tor key, still are).
   */
  accept(file: string, data: Buffer, other: (file: string) => Buffer | undefined, checked: CheckedKey | undefined): string
  /** Whether the record keeps the address (tor: it is the public key; i2p: a hash of the file). */
  readonly recordsAddress: boolean
  /**
   * Whether a key from the user's Secret may be taken on the checked-keys record: only when
   * the record cannot change the address it publishes.
   */
  readonly userKeysOnRecord: boolean
}

/** The public key of an onion address, or undefined when it is not one. */
function publicKeyOfOnion(address: string | undefined): Buffer | undefined {
  if (address === undefined) return undefined
  try {
    return parseOnionAddress(address)
  } catch {
    return undefined
  }
}

function torKeys(spec: AnonymitySpec, namespace: string, name: string): NetworkKeys {
  return {
    network: 'tor',
    spec,
    files: [TOR_SECRET_KEY_FILE],
    known: [TOR_SECRET_KEY_FILE],
    derive: (seed, replica) => {
      const scope = anonymityScope({ network: 'tor', namespace, name, replica, rotation: spec.rotation })
      const files = buildTorKeyFiles(deriveSeed(seed, scope, Purpose.torOnionService, 32))
      return { data: files.secretKeyFile, address: files.hostname.trim() }
    },
    accept: (_file, data, other, checked) =>
      parseTorKeyFiles(
        { secretKeyFile: data, publicKeyFile: other(TOR_PUBLIC_KEY_FILE), hostname: other(TOR_HOSTNAME_FILE)?.toString('utf8') },
        publicKeyOfOnion(checked?.address),
      ).onion,
    // The record holds the public key the onion is computed from.
    userKeysOnRecord: false,
    recordsAddress: true,
  }
}

function i2pKeys(spec: AnonymitySpec, namespace: string, name: string): NetworkKeys {
  const files = i2pKeyFiles(spec)
  return {
    network: 'i2p',
    spec,
    files,
    known: [I2PD_P2P_KEYS_FILE, I2PD_RPC_KEYS_FILE],
    derive: (seed, replica, file) => {
      const scope = anonymityScope({ network: 'i2p', namespace, name, replica, rotation: spec.rotation })
      const purpose = file === I2PD_RPC_KEYS_FILE ? Purpose.i2pRestrictedRpc : Purpose.i2pP2p
      const built = buildI2pKeysFile(deriveSeed(seed, scope, purpose, 32))
      return { data: built.keysFile, address: built.b32 }
    },
    // The address is the hash of the destination in the file itself, whatever a record says.
    accept: (_file, data, _other, checked) => parseI2pKeysFile(data, { signingKeyChecked: checked !== undefined }).b32,
    // The record only spares the signing key check; init-node still makes it in the pod.
    userKeysOnRecord: true,
    recordsAddress: false,
  }
}

/** Decoded `data` of a Secret (base64 values; malformed ones are skipped). */
function secretData(secret: KubeObject | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  const data = secret?.data
  if (!data || typeof data !== 'object') return out
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (typeof value === 'string') out.set(key, Buffer.from(value, 'base64'))
  }
  return out
}

/** The user's Secret from the sync request's `related` objects (this namespace only). */
function relatedSecret(related: ChildMap | undefined, namespace: string, name: string): KubeObject | undefined {
  for (const obj of Object.values(related?.['Secret.v1'] ?? {})) {
    if (obj?.metadata?.name === name && (obj.metadata.namespace ?? namespace) === namespace) return obj
  }
  return undefined
}

/** Digest of a key file in the checked-keys record: SHA-256, first 128 bits, base64url. */
function digestOf(data: Buffer): string {
  return createHash('sha256').update(data).digest().subarray(0, 16).toString('base64url')
}

/** One entry of the checked-keys record: the digest of the bytes checked, and the address if kept. */
interface CheckedKey {
  readonly digest: string
  readonly address?: string | undefined
}

/** The checked-keys record of our own keys Secret, by entry. */
type CheckedKeys = ReadonlyMap<string, CheckedKey>

/*
 * Why a record of checked keys, and neither an Ed25519 multiplication per key file on every
 * sync nor the memo of addresses keyed by secret keys in the server's memory it replaced.
 * Measured with e2e/bench/hidden-service-keys.ts: one resync of a 100-replica MoneroNodeSet
 * with tor and i2p (both publishing p2p and the restricted RPC), its keys Secret observed,
 * on a shared 2-core machine (load 1-4), medians of seven runs, ms per sync:
 *                                         steady state   first resync   all keys from
 *                                         (keys known)   of a set       keysSecretName
 *   before: BigInt arithmetic + memo          1.6-3.1       190-430      1.6-3 / 180-300
 *   @noble/curves, no memo, no record         100-260       100-260        100-260
 *   @noble/curves + this record          3.2-6.2 (once 12)   10-23          28-61
 * (300 Ed25519 operations per sync without the record, one for every key file; the memo was
 * cheap only while the process lived and remembered. A Secret written before the record
 * existed pays the full check once and carries the record from then on.)
 * The record lives in the keys Secret, which Metacontroller keeps re-asserting (no hidden
 * state, ARCHITECTURE.md rule 9), depends on nothing but the entries (the children stay the
 * same when the key seed is lost or changed), and leaves the Secret's data as it was: tor's
 * own file and i2pd's keys files, nothing a user's Secret must add.
 *
 * How far it is trusted: for the entries of our own Secret, and only when an entry's bytes
 * have the digest recorded beside the address (any edit of a key, by hand or a restore,
 * makes it checked in full again); the key file's layout is always checked. The record is
 * not a signature: whoever can write it can write the keys it describes in the same object,
 * which gives the same power (status and pods then name an onion of the writer's choosing).
 * Tor keys in the user's Secret (keysSecretName) are checked against their secret keys on
 * every sync: a user key our record vouched for would let a writer of our Secret override
 * the onion of a key the user's Secret owns. So such a set still pays one Ed25519 operation
 * per replica and sync. An i2p key's address is the hash of its own destination whatever
 * the record says, so a user's i2p key byte-identical to a recorded one skips only the
 * signing key check. Pods never rely on the record: init-node checks every key file it lays
 * out in full.
 */
function readCheckedKeys(annotations: Record<string, string>): CheckedKeys {
  const out = new Map<string, CheckedKey>()
  let record: unknown
  try {
    record = JSON.parse(annotations[CHECKED_KEYS_ANNOTATION] ?? '{}')
  } catch {
    return out // not what we write: everything is checked in full
  }
  if (!record || typeof record !== 'object') return out
  for (const [entry, value] of Object.entries(record)) {
    const m = typeof value === 'string' ? /^([A-Za-z0-9_-]{22})(?: (\S+))?$/.exec(value) : null
    if (m) out.set(entry, { digest: m[1] as string, address: m[2] })
  }
  return out
}

/**
 * Resolve every needed key file of one network into `resolved` (the keys Secret's content and
 * the address of each entry) and check that nothing is missing. Throws SpecError with a
 * message fit for the user.
 */
function resolveNetwork(
  keys: NetworkKeys,
  input: KeysInput,
  observed: Map<string, Buffer>,
  observedRotation: string | undefined,
  checked: CheckedKeys,
  resolved: Map<string, ResolvedKey>,
): void {
  const field = `${input.specPath}.${keys.network}`
  /** What the record keeps of a checked key file. */
  const recordOf = (digest: string, address: string) => (keys.recordsAddress ? `${digest} ${address}` : digest)
  /**
   * Checks `data` for entry `key` with `accept`, given the record's entry when the record is
   * about these bytes and may be used (`recorded`).
   */
  const take = (key: string, data: Buffer, recorded: boolean, accept: (checked: CheckedKey | undefined) => string): void => {
    const digest = digestOf(data)
    const entry = recorded ? checked.get(key) : undefined
    const address = accept(entry?.digest === digest ? entry : undefined)
    resolved.set(key, { data, address, record: recordOf(digest, address) })
  }
  // 1. the user's Secret wins for every replica it must cover.
  const secretName = keys.spec.keysSecretName
  if (secretName) {
    const secret = relatedSecret(input.related, input.namespace, secretName)
    if (!secret) {
      throw new SpecError(
        `${field}.keysSecretName`,
        `Secret ${secretName} not found in namespace ${input.namespace} (create it with the entries described in the README, or unset keysSecretName)`,
      )
    }
    const data = secretData(secret)
    for (let replica = 0; replica < input.replicas; replica++) {
      for (const file of keys.files) {
        const key = keyEntry(replica, file)
        const value = data.get(key)
        if (!value) {
          throw new SpecError(`${field}.keysSecretName`, `Secret ${secretName} has no entry "${key}" (every replica 0..${input.replicas - 1} needs one)`)
        }
        try {
          take(key, value, keys.userKeysOnRecord, (checked) => keys.accept(file, value, (other) => data.get(keyEntry(replica, other)), checked))
        } catch (err) {
          throw new SpecError(`${field}.keysSecretName`, `Secret ${secretName} entry "${key}": ${(err as Error).message}`)
        }
      }
    }
  }
  // 2. our own Secret, when it was made for this rotation: keep every valid entry the user's
  //    Secret does not replace, also of replicas scaled away (bounded by the replica limit),
  //    so scaling up restores them.
  if (observedRotation === keys.spec.rotation) {
    for (const [key, data] of observed) {
      const m = ENTRY.exec(key)
      if (!m || resolved.has(key) || !keys.known.includes(m[2] as string) || Number(m[1]) >= MAX_ANONYMOUS_REPLICAS) continue
      try {
        take(key, data, true, (checked) => keys.accept(m[2] as string, data, () => undefined, checked))
      } catch {
        // not a usable key (edited by hand?): derive it instead
      }
    }
  }
  // 3. derive what is still missing.
  for (let replica = 0; replica < input.replicas; replica++) {
    for (const file of keys.files) {
      const key = keyEntry(replica, file)
      if (resolved.has(key)) continue
      if (!input.keySeed) {
        throw new SpecError(
          field,
          `no ${keys.network} keys for replica ${replica}: the hook server has no key seed. Configure KEY_SEED_FILE on the hook server (the Helm chart does), or set ${field}.keysSecretName to a Secret with your own keys`,
        )
      }
      const derived = keys.derive(input.keySeed, replica, file)
      resolved.set(key, { ...derived, record: recordOf(digestOf(derived.data), derived.address) })
    }
  }
}

/** The i2pd keys files each replica needs: one per published service. */
export function i2pKeyFiles(spec: AnonymitySpec): string[] {
  return [...(spec.publish.p2p ? [I2PD_P2P_KEYS_FILE] : []), ...(spec.publish.restrictedRpc ? [I2PD_RPC_KEYS_FILE] : [])]
}

/** The keys Secret of a set with tor and/or i2p enabled, and the addresses its keys give. */
export interface HiddenServiceKeys {
  /** The Secret's data (base64), entries in replica order; empty with no replicas yet. */
  readonly data: Record<string, string>
  /** The Secret's annotations: the rotation each enabled network's keys were made for. */
  readonly annotations: Record<string, string>
  /** Per replica 0..replicas-1, for status.hiddenServices. */
  readonly hiddenServices: HiddenServiceStatus[]
}

/** Resolves every replica's keys of the enabled networks (see resolveNetwork) and their addresses. */
export function resolveHiddenServiceKeys(
  input: KeysInput,
  tor: AnonymitySpec | undefined,
  i2p: AnonymitySpec | undefined,
  observedSecret: KubeObject | undefined,
): HiddenServiceKeys {
  const observed = secretData(observedSecret)
  const observedAnnotations = observedSecret?.metadata.annotations ?? {}
  const checked = readCheckedKeys(observedAnnotations)
  const resolved = new Map<string, ResolvedKey>()
  const annotations: Record<string, string> = {}
  for (const network of ['tor', 'i2p'] as const) {
    const networkSpec = network === 'tor' ? tor : i2p
    const observedRotation = observedAnnotations[rotationAnnotation(network)]
    if (!networkSpec) continue
    const keys = network === 'tor' ? torKeys(networkSpec, input.namespace, input.name) : i2pKeys(networkSpec, input.namespace, input.name)
    resolveNetwork(keys, input, observed, observedRotation, checked, resolved)
    annotations[rotationAnnotation(network)] = networkSpec.rotation
  }
  const sorted = [...resolved.keys()].sort(compareEntries)
  const data: Record<string, string> = {}
  const record: Record<string, string> = {}
  for (const key of sorted) {
    const { data: bytes, record: kept } = resolved.get(key) as ResolvedKey
    data[key] = bytes.toString('base64')
    record[key] = kept
  }
  if (sorted.length > 0) annotations[CHECKED_KEYS_ANNOTATION] = JSON.stringify(record)

  const hiddenServices: HiddenServiceStatus[] = []
  for (let replica = 0; replica < input.replicas; replica++) {
    const address = (file: string) => resolved.get(keyEntry(replica, file))?.address
    const s: HiddenServiceStatus = { replica }
    const onion = tor ? address(TOR_SECRET_KEY_FILE) : undefined
    if (onion) s.onion = onion
    const p2p = i2p?.publish.p2p ? address(I2PD_P2P_KEYS_FILE) : undefined
    if (p2p) s.i2p = p2p
    const rpc = i2p?.publish.restrictedRpc ? address(I2PD_RPC_KEYS_FILE) : undefined
    if (rpc) s.i2pRestrictedRpc = rpc
    hiddenServices.push(s)
  }
  return { data, annotations, hiddenServices }
}

/** Secret entries in replica order, then file name: stable and readable. */
function compareEntries(a: string, b: string): number {
  const ma = ENTRY.exec(a)
  const mb = ENTRY.exec(b)
  const d = Number(ma?.[1] ?? 0) - Number(mb?.[1] ?? 0)
  return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0
}
