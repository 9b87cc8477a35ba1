/**
 * The hidden-service keys of a set of monerod pods: which key files every replica needs, where
 * each comes from (the user's Secret, our own Secret when made for the same rotation, or the
 * key seed), the content and annotations of the keys Secret, and the public addresses for
 * status. See anonymity.ts for the rules; key material never leaves the returned Secret data.
 */
import type { AnonymitySpec } from '../node-spec/types.js'
import { I2PD_P2P_KEYS_FILE, I2PD_RPC_KEYS_FILE } from '../anonymity/configs.js'
import { anonymityScope, deriveSeed, Purpose, type AnonymityNetwork } from '../anonymity/derive.js'
import { buildI2pKeysFile, parseI2pKeysFile } from '../anonymity/i2p-keys.js'
import { buildTorKeyFiles, parseTorKeyFiles, TOR_HOSTNAME_FILE, TOR_PUBLIC_KEY_FILE, TOR_SECRET_KEY_FILE } from '../anonymity/tor-keys.js'
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

/** One key file of a replica, checked, and the address it publishes. */
interface ResolvedKey {
  readonly data: Buffer
  readonly address: string
}

/** Key files of one network: which Secret entries a replica needs, and how to make them. */
interface NetworkKeys {
  readonly network: AnonymityNetwork
  readonly spec: AnonymitySpec
  /** Files every replica needs now. */
  readonly files: readonly string[]
  /** Every file this network may have in the Secret (kept when observed). */
  readonly known: readonly string[]
  derive(seed: Uint8Array, replica: number, file: string): ResolvedKey
  /**
   * Checks a key file (and, for tor, the optional public key and hostname beside it in the same
   * Secret) and returns the address it publishes; throws a RangeError when it is not usable.
   */
  accept(file: string, data: Buffer, other: (file: string) => Buffer | undefined): string
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
    accept: (_file, data, other) =>
      parseTorKeyFiles({ secretKeyFile: data, publicKeyFile: other(TOR_PUBLIC_KEY_FILE), hostname: other(TOR_HOSTNAME_FILE)?.toString('utf8') }).onion,
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
    accept: (_file, data) => parseI2pKeysFile(data).b32,
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
  resolved: Map<string, ResolvedKey>,
): void {
  const field = `${input.specPath}.${keys.network}`
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
          resolved.set(key, { data: value, address: keys.accept(file, value, (other) => data.get(keyEntry(replica, other))) })
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
        resolved.set(key, { data, address: keys.accept(m[2] as string, data, () => undefined) })
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
      resolved.set(key, keys.derive(input.keySeed, replica, file))
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
  const resolved = new Map<string, ResolvedKey>()
  const annotations: Record<string, string> = {}
  for (const network of ['tor', 'i2p'] as const) {
    const networkSpec = network === 'tor' ? tor : i2p
    const observedRotation = observedAnnotations[rotationAnnotation(network)]
    if (!networkSpec) continue
    const keys = network === 'tor' ? torKeys(networkSpec, input.namespace, input.name) : i2pKeys(networkSpec, input.namespace, input.name)
    resolveNetwork(keys, input, observed, observedRotation, resolved)
    annotations[rotationAnnotation(network)] = networkSpec.rotation
  }
  const data: Record<string, string> = {}
  for (const key of [...resolved.keys()].sort(compareEntries)) data[key] = (resolved.get(key) as ResolvedKey).data.toString('base64')

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
