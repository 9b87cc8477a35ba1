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
import {
  buildTorKeyFiles,
  parseTorKeyFiles,
  parseTorSecretKeyFile,
  TOR_HOSTNAME_FILE,
  TOR_PUBLIC_KEY_FILE,
  TOR_SECRET_KEY_FILE,
} from '../anonymity/tor-keys.js'
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

// Computing an address from a tor secret key is a few milliseconds of BigInt arithmetic; a
// 100-replica set would spend that on every sync. The functions memoised here are pure, so
// remembering their results changes nothing but the time.
const MEMO_LIMIT = 4096
const memo = new Map<string, string>()
function memoised(key: string, compute: () => string): string {
  const hit = memo.get(key)
  if (hit !== undefined) return hit
  const value = compute()
  if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value as string)
  memo.set(key, value)
  return value
}
export const onionOf = (secretKeyFile: Buffer): string => memoised(`tor:${secretKeyFile.toString('base64')}`, () => parseTorSecretKeyFile(secretKeyFile).onion)
export const b32Of = (keysFile: Buffer): string => memoised(`i2p:${keysFile.toString('base64')}`, () => parseI2pKeysFile(keysFile).b32)

/** Key files of one network: which Secret entries a replica needs, and how to make them. */
interface NetworkKeys {
  readonly network: AnonymityNetwork
  readonly spec: AnonymitySpec
  /** Files every replica needs now. */
  readonly files: readonly string[]
  /** Every file this network may have in the Secret (kept when observed). */
  readonly known: readonly string[]
  derive(seed: Uint8Array, replica: number, file: string): Buffer
  /** Throws a RangeError when `data` is not a usable key file. */
  check(file: string, data: Buffer, extra: (file: string) => Buffer | undefined): void
}

function torKeys(spec: AnonymitySpec, namespace: string, name: string): NetworkKeys {
  return {
    network: 'tor',
    spec,
    files: [TOR_SECRET_KEY_FILE],
    known: [TOR_SECRET_KEY_FILE],
    derive: (seed, replica) => {
      const scope = anonymityScope({ network: 'tor', namespace, name, replica, rotation: spec.rotation })
      return buildTorKeyFiles(deriveSeed(seed, scope, Purpose.torOnionService, 32)).secretKeyFile
    },
    check: (_file, data, extra) => {
      onionOf(data)
      const publicKeyFile = extra(TOR_PUBLIC_KEY_FILE)
      const hostname = extra(TOR_HOSTNAME_FILE)
      if (publicKeyFile || hostname) parseTorKeyFiles({ secretKeyFile: data, publicKeyFile, hostname: hostname?.toString('utf8') })
    },
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
      return buildI2pKeysFile(deriveSeed(seed, scope, purpose, 32)).keysFile
    },
    check: (_file, data) => {
      b32Of(data)
    },
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
 * Resolve every needed key file of one network into `entries` (the keys Secret's content)
 * and check that nothing is missing. Throws SpecError with a message fit for the user.
 */
function resolveNetwork(
  keys: NetworkKeys,
  input: KeysInput,
  observed: Map<string, Buffer>,
  observedRotation: string | undefined,
  entries: Map<string, Buffer>,
): void {
  const field = `${input.specPath}.${keys.network}`
  // 2. our own Secret, when it was made for this rotation: keep every valid entry, also of
  //    replicas scaled away (bounded by the replica limit), so scaling up restores them.
  if (observedRotation === keys.spec.rotation) {
    for (const [key, data] of observed) {
      const m = ENTRY.exec(key)
      if (!m || !keys.known.includes(m[2] as string) || Number(m[1]) >= MAX_ANONYMOUS_REPLICAS) continue
      try {
        keys.check(m[2] as string, data, () => undefined)
        entries.set(key, data)
      } catch {
        // not a usable key (edited by hand?): derive or take the user's instead
      }
    }
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
          keys.check(file, value, (other) => data.get(keyEntry(replica, other)))
        } catch (err) {
          throw new SpecError(`${field}.keysSecretName`, `Secret ${secretName} entry "${key}": ${(err as Error).message}`)
        }
        entries.set(key, value)
      }
    }
  }
  // 3. derive what is still missing.
  for (let replica = 0; replica < input.replicas; replica++) {
    for (const file of keys.files) {
      const key = keyEntry(replica, file)
      if (entries.has(key)) continue
      if (!input.keySeed) {
        throw new SpecError(
          field,
          `no ${keys.network} keys for replica ${replica}: the hook server has no key seed. Configure KEY_SEED_FILE on the hook server (the Helm chart does), or set ${field}.keysSecretName to a Secret with your own keys`,
        )
      }
      entries.set(key, keys.derive(input.keySeed, replica, file))
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
  const entries = new Map<string, Buffer>()
  const annotations: Record<string, string> = {}
  for (const network of ['tor', 'i2p'] as const) {
    const networkSpec = network === 'tor' ? tor : i2p
    const observedRotation = observedAnnotations[rotationAnnotation(network)]
    if (!networkSpec) continue
    const keys = network === 'tor' ? torKeys(networkSpec, input.namespace, input.name) : i2pKeys(networkSpec, input.namespace, input.name)
    resolveNetwork(keys, input, observed, observedRotation, entries)
    annotations[rotationAnnotation(network)] = networkSpec.rotation
  }
  const data: Record<string, string> = {}
  for (const key of [...entries.keys()].sort(compareEntries)) data[key] = (entries.get(key) as Buffer).toString('base64')

  const hiddenServices: HiddenServiceStatus[] = []
  for (let replica = 0; replica < input.replicas; replica++) {
    const entry = (file: string) => entries.get(keyEntry(replica, file))
    const s: HiddenServiceStatus = { replica }
    const torKey = tor ? entry(TOR_SECRET_KEY_FILE) : undefined
    if (torKey) s.onion = onionOf(torKey)
    const p2p = i2p?.publish.p2p ? entry(I2PD_P2P_KEYS_FILE) : undefined
    if (p2p) s.i2p = b32Of(p2p)
    const rpc = i2p?.publish.restrictedRpc ? entry(I2PD_RPC_KEYS_FILE) : undefined
    if (rpc) s.i2pRestrictedRpc = b32Of(rpc)
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
