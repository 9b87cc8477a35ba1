/**
 * Tor / I2P wiring of the node kinds, offline: keys and addresses never change across syncs,
 * differ per replica, survive scaling and a changed key seed, come from the user's Secret
 * when asked, and never leak outside the keys Secret. Every child validates upstream.
 */
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { V1Container, V1StatefulSet } from '@kubernetes/client-node'
import { DEFAULT_CONFIG, type HookConfig } from '../config.js'
import { findHandler, isHookError, syncOrError, type HookError } from '../handlers.js'
import type { KubeObject, SyncResponse } from '../metacontroller.js'
import { buildServer } from '../server.js'
import { goJson, toJson } from '../../e2e/metacontroller/apply.js'
import { LAST_APPLIED_ANNOTATION } from '../handlers.js'
import { MAX_ANONYMOUS_REPLICAS } from '../node-spec/schema.js'
import { validateKubeObject } from '../testing/kube-schemas.js'
import { buildTorKeyFiles } from '../anonymity/tor-keys.js'
import { buildI2pKeysFile } from '../anonymity/i2p-keys.js'
import { anonymityScope, deriveSeed, Purpose } from '../anonymity/derive.js'
import { replicaOfPodName, runInitNode } from '../init-node/init-node.js'
import { ANONYMITY_PATHS, type HiddenServiceStatus } from './anonymity.js'

const nodeSet = findHandler('MoneroNodeSet')!
const network = findHandler('MoneroNetwork')!
const SEED = Buffer.from('offline test key seed, 32+ bytes, not a secret')
const OTHER_SEED = Buffer.from('a different key seed: the old one was lost!!')
const cfg = (keySeed: Uint8Array | undefined): HookConfig => ({ ...DEFAULT_CONFIG, keySeed })

interface Anon {
  enabled?: boolean
  publish?: { p2p?: boolean; restrictedRpc?: boolean }
  keysSecretName?: string
  rotation?: string
}

function parentOf(opts: {
  name?: string
  namespace?: string
  replicas?: number
  tor?: Anon
  i2p?: Anon
  kind?: 'MoneroNodeSet' | 'MoneroNetwork'
}): KubeObject {
  const node = { ...(opts.tor ? { tor: opts.tor } : {}), ...(opts.i2p ? { i2p: opts.i2p } : {}) }
  const kind = opts.kind ?? 'MoneroNodeSet'
  return {
    apiVersion: 'utxo.com.br/v1alpha1',
    kind,
    metadata: { name: opts.name ?? 'anon', namespace: opts.namespace ?? 'default', uid: 'u-1', generation: 1 },
    spec:
      kind === 'MoneroNodeSet'
        ? { replicas: opts.replicas ?? 3, ...node }
        : { replicas: opts.replicas ?? 3, template: { spec: { monerod: { args: ['--regtest'] }, ...node } } },
  }
}

/** Children as Metacontroller would observe them after applying (server-set fields added). */
function observe(children: readonly KubeObject[]): KubeObject[] {
  return children.map((c, i) => ({
    ...structuredClone(c),
    metadata: { ...structuredClone(c.metadata), uid: `child-${i}`, resourceVersion: String(100 + i), creationTimestamp: '2026-11-26T10:00:00Z' },
  }))
}

function request(parent: KubeObject, observed: KubeObject[] = [], related: KubeObject[] = []) {
  const group = (objs: KubeObject[]) => {
    const out: Record<string, Record<string, KubeObject>> = {}
    for (const o of objs) (out[`${o.kind}.${o.apiVersion}`] ??= {})[`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`] = o
    return out
  }
  return { parent, children: group(observed), related: group(related) }
}

function attempt(parent: KubeObject, opts: { observed?: KubeObject[]; related?: KubeObject[]; seed?: Uint8Array | undefined } = {}): SyncResponse | HookError {
  const handler = parent.kind === 'MoneroNetwork' ? network : nodeSet
  const seed = 'seed' in opts ? opts.seed : SEED
  return syncOrError(handler, request(parent, opts.observed, opts.related), { config: cfg(seed), now: '2026-11-26T12:00:00Z' })
}
function sync(parent: KubeObject, opts: Parameters<typeof attempt>[1] = {}): SyncResponse {
  const r = attempt(parent, opts)
  if (isHookError(r)) throw new Error(r.message)
  return r
}
const services = (r: SyncResponse) => r.status.hiddenServices as HiddenServiceStatus[]
const secretOf = (r: SyncResponse) => r.children.find((c) => c.kind === 'Secret') as KubeObject & { data: Record<string, string> }
const byKind = (r: SyncResponse, kind: string) => r.children.filter((c) => c.kind === kind)
const addresses = (hs: HiddenServiceStatus[]) => hs.flatMap((h) => [h.onion, h.i2p, h.i2pRestrictedRpc].filter((a): a is string => a !== undefined))

t.test('tor + i2p with enabled: true alone: children, pods, status', async (t) => {
  const r = sync(parentOf({ tor: { enabled: true }, i2p: { enabled: true } }))
  for (const child of r.children) validateKubeObject(child)
  t.same(r.children.map((c) => `${c.kind}/${c.metadata.name}`).sort(), [
    'ConfigMap/anon-monerod-anonymity',
    'PodDisruptionBudget/anon-monerod',
    'Secret/anon-monerod-hidden-services',
    'Service/anon-monerod',
    'Service/anon-monerod-headless',
    'StatefulSet/anon-monerod',
  ])
  const hs = services(r)
  t.equal(hs.length, 3)
  for (const [i, h] of hs.entries()) {
    t.equal(h.replica, i)
    t.match(h.onion, /^[a-z2-7]{56}\.onion$/)
    t.match(h.i2p, /^[a-z2-7]{52}\.b32\.i2p$/)
    t.notOk(h.i2pRestrictedRpc, 'restricted RPC not published by default')
  }
  t.equal(new Set(addresses(hs)).size, 6, 'every replica has its own addresses')

  const secret = secretOf(r)
  t.same(Object.keys(secret.data), [
    '0.hs_ed25519_secret_key',
    '0.monerod.dat',
    '1.hs_ed25519_secret_key',
    '1.monerod.dat',
    '2.hs_ed25519_secret_key',
    '2.monerod.dat',
  ])
  t.equal(secret.type, 'Opaque')

  const sts = byKind(r, 'StatefulSet')[0] as unknown as V1StatefulSet
  const pod = sts.spec!.template.spec!
  const monerod = pod.containers.find((c) => c.name === 'monerod')!
  t.ok(monerod.args!.includes('--tx-proxy=tor,127.0.0.1:9050,16'))
  t.ok(monerod.args!.includes('--tx-proxy=i2p,127.0.0.1:4447,16'))
  t.ok(monerod.args!.includes('--config-file=/run/monerod/monerod.conf'))
  t.notOk(
    monerod.args!.some((a) => a.includes('anonymous-inbound')),
    'per-replica lines are not in the shared args',
  )
  t.notOk(
    (monerod.volumeMounts ?? []).some((m) => m.name === 'hidden-service-keys'),
    'monerod does not mount the keys',
  )

  const tor = pod.containers.find((c) => c.name === 'tor') as V1Container
  const i2pd = pod.containers.find((c) => c.name === 'i2pd') as V1Container
  t.same(tor.command, ['tor'])
  t.same(tor.args, ['-f', '/etc/monero-operator/tor/torrc'])
  t.equal(tor.image, DEFAULT_CONFIG.operatorImage)
  t.same(i2pd.command, ['i2pd'])
  t.ok(i2pd.args!.includes('--datadir=/var/lib/i2pd'))
  for (const c of [tor, i2pd]) {
    t.equal(c.securityContext?.readOnlyRootFilesystem, true, `${c.name}: read-only root`)
    t.equal(c.securityContext?.allowPrivilegeEscalation, false)
    t.ok(c.resources?.limits?.memory, `${c.name}: memory limit`)
    t.ok(c.startupProbe?.exec && c.livenessProbe?.exec, `${c.name}: loopback probes (kubelet probes would hit the pod IP)`)
    t.notOk(c.ports, `${c.name}: no container ports: loopback only`)
    t.notOk(
      (c.volumeMounts ?? []).some((m) => m.name === 'hidden-service-keys'),
      `${c.name} reads keys from its own emptyDir only`,
    )
  }
  const init = pod.initContainers!.find((c) => c.name === 'init-node')!
  t.same(init.env, [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }])
  t.ok(init.args!.includes('--replica-from-hostname'))
  t.match(init.args!.join(' '), /--tor-inbound 18084,64 .*--i2p-file monerod\.dat --i2p-inbound 18085,64/)
  t.notOk(init.restartPolicy, 'no peer list: a plain one-shot init container')
  t.notOk(init.startupProbe)
  t.notOk(init.args!.includes('--watch'))
  const keysVolume = pod.volumes!.find((v) => v.name === 'hidden-service-keys')!
  t.same(keysVolume.secret, { secretName: 'anon-monerod-hidden-services', defaultMode: 0o440 })

  const cm = byKind(r, 'ConfigMap')[0] as KubeObject & { data: Record<string, string> }
  t.same(Object.keys(cm.data).sort(), ['i2pd.conf', 'torrc', 'tunnels.conf'])
  t.match(cm.data.torrc, /SocksPort 127\.0\.0\.1:9050/)
  t.match(cm.data.torrc, /HiddenServiceDir \/var\/lib\/tor\/hidden_service/)
  t.match(cm.data['i2pd.conf'], /\[socksproxy\]\nenabled = true\naddress = 127\.0\.0\.1/)

  // Key material only in the Secret: not in any other child, nor in status.
  const elsewhere = JSON.stringify([r.children.filter((c) => c.kind !== 'Secret'), r.status])
  for (const value of Object.values(secret.data)) {
    t.notOk(elsewhere.includes(value), 'a key is not outside the Secret')
    t.notOk(elsewhere.includes(Buffer.from(value, 'base64').subarray(32, 64).toString('base64')), 'no raw key bytes either')
  }
})

t.test('property: repeated syncs (with and without observed children) never change a key, address or child', async (t) => {
  const anon = fc.record({
    enabled: fc.boolean(),
    publish: fc.record({ p2p: fc.boolean(), restrictedRpc: fc.boolean() }).filter((p) => p.p2p || p.restrictedRpc),
    rotation: fc.constantFrom('', '1', '2025-06'),
  })
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      anon,
      anon,
      fc.constantFrom('a', 'mainnet-nodes'),
      fc.constantFrom('default', 'monero'),
      fc.constantFrom<'MoneroNodeSet' | 'MoneroNetwork'>('MoneroNodeSet', 'MoneroNetwork'),
      (replicas, tor, i2p, name, namespace, kind) => {
        if (!tor.enabled && !i2p.enabled) return true
        const parent = parentOf({ name, namespace, replicas, tor, i2p, kind })
        const first = sync(parent)
        const again = sync(parent)
        const observed = sync(parent, { observed: observe(first.children) })
        const observedAgain = sync(parent, { observed: observe(observed.children) })
        // the key seed is lost: what was observed still gives the same everything
        const seedLost = sync(parent, { observed: observe(first.children), seed: undefined })
        for (const r of [again, observed, observedAgain, seedLost]) {
          if (JSON.stringify(r.children) !== JSON.stringify(first.children)) return false
          if (JSON.stringify(r.status.hiddenServices) !== JSON.stringify(first.status.hiddenServices)) return false
        }
        const all = addresses(services(first))
        return new Set(all).size === all.length && services(first).length === replicas
      },
    ),
    { numRuns: 60 },
  )
  t.pass('property held')
})

t.test('scale 3 -> 1 -> 3 restores the addresses, even with another key seed meanwhile', async (t) => {
  const three = parentOf({ replicas: 3, tor: { enabled: true }, i2p: { enabled: true, publish: { p2p: true, restrictedRpc: true } } })
  const one = parentOf({ replicas: 1, tor: { enabled: true }, i2p: { enabled: true, publish: { p2p: true, restrictedRpc: true } } })
  const a = sync(three)
  const b = sync(one, { observed: observe(a.children), seed: OTHER_SEED })
  t.same(services(b), services(a).slice(0, 1))
  t.same(Object.keys(secretOf(b).data), Object.keys(secretOf(a).data), 'keys of scaled-away replicas are kept')
  const c = sync(three, { observed: observe(b.children), seed: OTHER_SEED })
  t.same(services(c), services(a), 'same addresses after scaling back up')
  t.same(c.children, a.children)
  // without the observed Secret, a new seed would have meant new addresses
  t.not(services(sync(three, { seed: OTHER_SEED }))[0]!.onion, services(a)[0]!.onion)
})

t.test('observed Secret wins over derivation; rotation gives new addresses; deleted and re-created gives the old ones', async (t) => {
  const parent = parentOf({ tor: { enabled: true }, i2p: { enabled: true } })
  const a = sync(parent)
  const changedSeed = sync(parent, { observed: observe(a.children), seed: OTHER_SEED })
  t.same(services(changedSeed), services(a), 'observed keys kept under a changed seed')
  const recreated = sync(parent) // parent deleted (children garbage-collected) and created again
  t.same(services(recreated), services(a), 'same name, same rotation, same seed: same addresses')
  const rotated = parentOf({ tor: { enabled: true, rotation: '2' }, i2p: { enabled: true } })
  const r = sync(rotated, { observed: observe(a.children) })
  for (const [i, h] of services(r).entries()) {
    t.not(h.onion, services(a)[i]!.onion, `replica ${i}: new onion after rotation`)
    t.equal(h.i2p, services(a)[i]!.i2p, `replica ${i}: i2p (rotation unchanged) kept`)
  }
  t.equal(secretOf(r).metadata.annotations?.['utxo.com.br/tor-rotation'], '2')
  const back = sync(parent, { observed: observe(r.children) })
  t.same(services(back), services(a), 'rotation back: derived addresses return')
  const otherName = sync(parentOf({ name: 'other', tor: { enabled: true }, i2p: { enabled: true } }))
  t.not(services(otherName)[0]!.onion, services(a)[0]!.onion, 'another name, other addresses')
})

t.test('checked-keys record: unchanged entries are taken on it, anything else is checked in full', async (t) => {
  const both = { enabled: true, publish: { p2p: true, restrictedRpc: true } }
  const parent = parentOf({ tor: both, i2p: both })
  const a = sync(parent)
  const record = () => JSON.parse(secretOf(a).metadata.annotations?.['utxo.com.br/checked-keys'] ?? '{}') as Record<string, string>
  t.same(Object.keys(record()), Object.keys(secretOf(a).data), 'one record per Secret entry')
  for (const [i, h] of services(a).entries()) {
    t.match(record()[`${i}.hs_ed25519_secret_key`], new RegExp(`^[A-Za-z0-9_-]{22} ${h.onion}$`))
    // an i2p address is the hash of the file's own destination: the record keeps only the digest
    t.match(record()[`${i}.monerod.dat`], /^[A-Za-z0-9_-]{22}$/)
    t.match(record()[`${i}.monerod-rpc.dat`], /^[A-Za-z0-9_-]{22}$/)
  }
  t.notMatch(JSON.stringify(secretOf(a).metadata.annotations), Object.values(secretOf(a).data)[0]!, 'no key material in annotations')

  // A Secret written before the record existed: checked in full, same children as ever.
  const unrecorded = observe(a.children)
  delete (unrecorded.find((c) => c.kind === 'Secret') as KubeObject).metadata.annotations?.['utxo.com.br/checked-keys']
  t.same(sync(parent, { observed: unrecorded }).children, a.children)

  // Keys restored by hand into our Secret, record left as it was: the new keys' own addresses.
  const other = sync(parentOf({ name: 'other', tor: both, i2p: both }))
  const edited = observe(a.children)
  const editedSecret = edited.find((c) => c.kind === 'Secret') as KubeObject & { data: Record<string, string> }
  for (const file of ['hs_ed25519_secret_key', 'monerod.dat']) editedSecret.data[`1.${file}`] = secretOf(other).data[`1.${file}`] as string
  const afterEdit = services(sync(parent, { observed: edited }))
  t.equal(afterEdit[1]!.onion, services(other)[1]!.onion, 'edited tor key: its own onion')
  t.equal(afterEdit[1]!.i2p, services(other)[1]!.i2p, 'edited i2p key: its own b32')
  t.same([afterEdit[0], afterEdit[2]], [services(a)[0], services(a)[2]], 'the other replicas as before')

  // A record naming another address for the same bytes: i2p's address is the file's own hash.
  const misnamed = observe(a.children)
  const misnamedSecret = misnamed.find((c) => c.kind === 'Secret') as KubeObject
  const wrong = record()
  wrong['0.monerod.dat'] = `${(wrong['0.monerod.dat'] as string).split(' ')[0]} ${services(other)[0]!.i2p}`
  misnamedSecret.metadata.annotations = { ...misnamedSecret.metadata.annotations, 'utxo.com.br/checked-keys': JSON.stringify(wrong) }
  t.equal(services(sync(parent, { observed: misnamed }))[0]!.i2p, services(a)[0]!.i2p)

  // A user's key equal to a recorded one is still checked in full, with the user's hostname.
  const user = { enabled: true, keysSecretName: 'my-keys' }
  const userParent = parentOf({ tor: user })
  const donor = sync(parentOf({ tor: { enabled: true } }))
  const userData: Record<string, string> = {}
  for (let i = 0; i < 3; i++) userData[`${i}.hs_ed25519_secret_key`] = secretOf(donor).data[`${i}.hs_ed25519_secret_key`] as string
  userData['0.hostname'] = Buffer.from(`${services(other)[0]!.onion}\n`).toString('base64')
  const userSecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'my-keys', namespace: 'default' }, type: 'Opaque', data: userData } as KubeObject
  const e = attempt(userParent, { related: [userSecret], observed: observe(donor.children) }) as HookError
  t.match(e.message, /entry "0\.hs_ed25519_secret_key": hostname says .* but hs_ed25519_secret_key is for /)
  delete userData['0.hostname']
  t.same(services(sync(userParent, { related: [userSecret], observed: observe(donor.children) })), services(donor))
})

t.test('the keys Secret of the largest set fits the apiserver limit on annotations, with Metacontroller’s copy', async (t) => {
  const both = { enabled: true, publish: { p2p: true, restrictedRpc: true } }
  const largest = sync(parentOf({ replicas: MAX_ANONYMOUS_REPLICAS, tor: both, i2p: both }))
  const secret = secretOf(largest)
  // What the apiserver stores after Metacontroller applied it: our annotations plus the
  // last-applied annotation holding the whole object (data and our annotations again).
  const annotations = { ...secret.metadata.annotations, [LAST_APPLIED_ANNOTATION]: goJson(toJson(secret)) }
  const bytes = Object.entries(annotations).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0)
  t.ok(bytes <= 256 * 1024, `${bytes} bytes of annotations, at most 262144 (the apiserver refuses more)`)
})

t.test('disabling tor removes its children; re-enabling derives the same addresses', async (t) => {
  const on = parentOf({ tor: { enabled: true } })
  const a = sync(on)
  const off = sync(parentOf({}), { observed: observe(a.children) })
  t.notOk(
    off.children.some((c) => c.kind === 'Secret' || c.kind === 'ConfigMap'),
    'an observed keys Secret does not make the hook keep one',
  )
  t.notOk(off.status.hiddenServices, 'no hiddenServices while disabled')
  t.same(services(sync(on, { observed: observe(off.children) })), services(a))
})

function userSecret(name: string, namespace: string, replicas: number, opts: { rpc?: boolean; extras?: boolean } = {}) {
  const data: Record<string, string> = {}
  const expected: HiddenServiceStatus[] = []
  for (let i = 0; i < replicas; i++) {
    const tor = buildTorKeyFiles(Buffer.alloc(32, 100 + i))
    const p2p = buildI2pKeysFile(Buffer.alloc(32, 150 + i))
    const rpc = buildI2pKeysFile(Buffer.alloc(32, 200 + i))
    data[`${i}.hs_ed25519_secret_key`] = tor.secretKeyFile.toString('base64')
    if (opts.extras) {
      data[`${i}.hs_ed25519_public_key`] = tor.publicKeyFile.toString('base64')
      data[`${i}.hostname`] = Buffer.from(tor.hostname).toString('base64')
    }
    data[`${i}.monerod.dat`] = p2p.keysFile.toString('base64')
    if (opts.rpc) data[`${i}.monerod-rpc.dat`] = rpc.keysFile.toString('base64')
    expected.push({ replica: i, onion: tor.hostname.trim(), i2p: p2p.b32, ...(opts.rpc ? { i2pRestrictedRpc: rpc.b32 } : {}) })
  }
  return { secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data } as KubeObject, expected }
}

t.test('bring your own keys: the Secret from related wins, is validated, errors are clear', async (t) => {
  const both = { enabled: true, keysSecretName: 'my-keys' }
  const parent = parentOf({ tor: both, i2p: { ...both, publish: { p2p: true, restrictedRpc: true } } })
  const { secret, expected } = userSecret('my-keys', 'default', 3, { rpc: true, extras: true })
  const r = sync(parent, { related: [secret], seed: undefined })
  t.same(services(r), expected, "status shows the user's addresses")
  const again = sync(parent, { related: [secret], observed: observe(r.children), seed: undefined })
  t.same(again.children, r.children)

  const missing = attempt(parent, { seed: undefined }) as HookError
  t.equal(missing.statusCode, 422)
  t.match(missing.message, /spec\.tor\.keysSecretName: Secret my-keys not found in namespace default/)
  const elsewhere = attempt(parent, { related: [{ ...secret, metadata: { name: 'my-keys', namespace: 'other' } }] }) as HookError
  t.match(elsewhere.message, /not found in namespace default/, 'a Secret of another namespace is never used')

  const short = structuredClone(secret) as KubeObject & { data: Record<string, string> }
  delete short.data['2.monerod.dat']
  t.match(
    (attempt(parent, { related: [short] }) as HookError).message,
    /spec\.i2p\.keysSecretName: Secret my-keys has no entry "2\.monerod\.dat" \(every replica 0\.\.2 needs one\)/,
  )

  const bad = structuredClone(secret) as KubeObject & { data: Record<string, string> }
  bad.data['1.hs_ed25519_secret_key'] = Buffer.alloc(64, 1).toString('base64')
  const badError = attempt(parent, { related: [bad] }) as HookError
  t.match(badError.message, /entry "1\.hs_ed25519_secret_key": hs_ed25519_secret_key: want 96 bytes, got 64 \(missing the 32-byte/)
  const mismatch = structuredClone(secret) as KubeObject & { data: Record<string, string> }
  mismatch.data['0.hostname'] = mismatch.data['1.hostname'] as string
  t.match((attempt(parent, { related: [mismatch] }) as HookError).message, /entry "0\.hs_ed25519_secret_key": hostname says/)
  const text = structuredClone(secret) as KubeObject & { data: Record<string, string> }
  text.data['0.monerod.dat'] = Buffer.from('not a keys file').toString('base64')
  t.match((attempt(parent, { related: [text] }) as HookError).message, /entry "0\.monerod\.dat": i2p keys file: got 15 bytes of text/)
  for (const e of [missing, badError]) {
    t.notMatch(JSON.stringify(e), Object.values((secret as unknown as { data: Record<string, string> }).data)[0]!, 'no key material in errors')
  }
})

t.test('no key seed and nothing to read back: 422 naming KEY_SEED_FILE and keysSecretName', async (t) => {
  const e = attempt(parentOf({ tor: { enabled: true } }), { seed: undefined }) as HookError
  t.equal(e.statusCode, 422)
  t.match(e.message, /spec\.tor: no tor keys for replica 0: the hook server has no key seed\. Configure KEY_SEED_FILE .*set spec\.tor\.keysSecretName/)
  const n = attempt(parentOf({ kind: 'MoneroNetwork', i2p: { enabled: true } }), { seed: undefined }) as HookError
  t.match(n.message, /spec\.template\.spec\.i2p: no i2p keys/)
  const own = attempt({
    ...parentOf({ tor: { enabled: true } }),
    spec: { replicas: 1, tor: { enabled: true }, monerod: { args: ['--out-peers=8', '--tx-proxy=tor,127.0.0.1:9050,4'] } },
  }) as HookError
  t.match(own.message, /spec\.monerod\.args\[1\]: --tx-proxy and --anonymous-inbound are set by the operator/)
  const tooMany = attempt(parentOf({ replicas: 101, tor: { enabled: true } })) as HookError
  t.match(tooMany.message, /spec\.replicas: at most 100 replicas while tor or i2p is enabled/)
})

t.test('MoneroNetwork: per-peer addresses in status, its own Secret', async (t) => {
  const r = sync(parentOf({ kind: 'MoneroNetwork', name: 'regnet', tor: { enabled: true }, i2p: { enabled: true } }))
  for (const child of r.children) validateKubeObject(child)
  t.equal(secretOf(r).metadata.name, 'regnet-peer-hidden-services')
  t.equal(services(r).length, 3)
  // one process: the sidecar lays out this replica's keys once, then keeps the peer addresses current
  const pod = (byKind(r, 'StatefulSet')[0] as unknown as V1StatefulSet).spec!.template.spec!
  t.same(
    pod.initContainers!.map((c) => c.name),
    ['init-node'],
  )
  const init = pod.initContainers![0]!
  t.equal(init.restartPolicy, 'Always')
  t.same(init.startupProbe!.exec!.command, ['test', '-s', '/run/monerod/monerod.conf'])
  t.match(
    init.args!.join(' '),
    /^dist\/hooks\/cli\.js init-node --out \/run\/monerod\/monerod\.conf --include \/etc\/monero-operator\/peers\/peers\.conf --wait-peers --watch .*--replica-from-hostname .*--tor-keys /,
  )
  t.ok(r.children.some((c) => c.kind === 'ConfigMap' && c.metadata.name === 'regnet-peer-anonymity'))
  t.ok(r.children.some((c) => c.kind === 'ConfigMap' && c.metadata.name === 'regnet-peer-peers'))
})

t.test('customize hook: asks for the named Secrets in the parent namespace only, and a MoneroNodeSet for its Pods', async (t) => {
  const app = buildServer({ processMetrics: false })
  t.teardown(() => app.close())
  const call = async (route: string, parent: KubeObject) =>
    app.inject({ method: 'POST', url: `/hooks/${route}/customize`, payload: { controller: {}, parent } })
  const one = await call(
    'moneronodeset',
    parentOf({ namespace: 'xmr', tor: { enabled: true, keysSecretName: 'k1' }, i2p: { enabled: true, keysSecretName: 'k2' } }),
  )
  t.equal(one.statusCode, 200)
  const pods = (namespace: string) => ({
    apiVersion: 'v1',
    resource: 'pods',
    namespace,
    labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'monerod', 'app.kubernetes.io/instance': 'anon', 'app.kubernetes.io/part-of': 'moneronodeset' } },
  })
  t.same(one.json(), { relatedResources: [{ apiVersion: 'v1', resource: 'secrets', namespace: 'xmr', names: ['k1', 'k2'] }, pods('xmr')] })
  const net = await call(
    'moneronetwork',
    parentOf({ kind: 'MoneroNetwork', tor: { enabled: true, keysSecretName: 'k' }, i2p: { enabled: true, keysSecretName: 'k' } }),
  )
  t.same(
    net.json(),
    { relatedResources: [{ apiVersion: 'v1', resource: 'secrets', namespace: 'default', names: ['k'] }] },
    'a MoneroNetwork does not ask for its Pods (a thousand members would make each sync request megabytes long)',
  )
  const none = await call('moneronodeset', parentOf({ tor: { enabled: true } }))
  t.same(none.json(), { relatedResources: [pods('default')] }, 'no names: no Secret rule (an empty names list would mean every Secret)')
  const disabled = await call('moneronodeset', parentOf({ tor: { enabled: false, keysSecretName: 'k' } }))
  t.same(disabled.json(), { relatedResources: [pods('default')] })
  t.equal((await app.inject({ method: 'POST', url: '/hooks/moneronodeset/customize', payload: { nope: 1 } })).statusCode, 400)
  t.equal((await app.inject({ method: 'POST', url: '/hooks/monerominingnodeset/customize', payload: {} })).statusCode, 404)
})

t.test("init-node lays out this replica's keys from the rendered Secret (0700 dirs, 0600 files) and writes its inbound lines", async (t) => {
  const r = sync(parentOf({ tor: { enabled: true }, i2p: { enabled: true } }))
  const secret = secretOf(r)
  const root = mkdtempSync(join(tmpdir(), 'anon-init-'))
  const keys = join(root, 'keys')
  mkdirSync(keys)
  for (const [k, v] of Object.entries(secret.data)) writeFileSync(join(keys, k), Buffer.from(v, 'base64'), { mode: 0o440 })
  const sts = byKind(r, 'StatefulSet')[0] as unknown as V1StatefulSet
  const initArgs = sts.spec!.template.spec!.initContainers![0]!.args!.slice(2)
  // the pod's paths, re-rooted into the temporary directory
  const relocate = (a: string) => a.replace(ANONYMITY_PATHS.keys, keys).replace('/var/lib/', `${root}/`).replace('/run/monerod/', `${root}/run/`)
  for (const replica of [0, 2]) {
    const logs: object[] = []
    const code = await runInitNode(initArgs.map(relocate), (l) => logs.push(l), { POD_NAME: `anon-monerod-${replica}` })
    t.equal(code, 0)
    const h = services(r)[replica]!
    t.equal(readFileSync(join(root, 'tor', 'hidden_service', 'hostname'), 'utf8'), `${h.onion}\n`)
    t.equal(statSync(join(root, 'tor', 'hidden_service')).mode & 0o777, 0o700)
    t.equal(statSync(join(root, 'tor', 'data')).mode & 0o777, 0o700)
    t.equal(statSync(join(root, 'tor', 'hidden_service', 'hs_ed25519_secret_key')).mode & 0o777, 0o600)
    t.equal(statSync(join(root, 'i2pd', 'monerod.dat')).mode & 0o777, 0o600)
    t.equal(
      readFileSync(join(root, 'run', 'monerod.conf'), 'utf8'),
      `anonymous-inbound=${h.onion}:18084,127.0.0.1:18084,64\nanonymous-inbound=${h.i2p},127.0.0.1:18085,64\n`,
    )
    t.notMatch(JSON.stringify(logs), secret.data['0.monerod.dat']!.slice(0, 40), 'no key material in the log')
  }
  t.equal(replicaOfPodName('nodes-monerod-12'), 12)
  t.throws(() => replicaOfPodName('nodes-monerod'), /does not end in -<ordinal>/)
  // a replica whose keys are not (yet) in the Secret volume: waits, then gives up clearly
  const logs: object[] = []
  const code = await runInitNode([...initArgs.map(relocate), '--interval-seconds', '0.05', '--max-wait-seconds', '0.2'], (l) => logs.push(l), {
    POD_NAME: 'anon-monerod-7',
  })
  t.equal(code, 1)
  t.match(JSON.stringify(logs), /7\.hs_ed25519_secret_key/)
})

t.test('derivation matches the documented construction (a backup of the seed is enough)', async (t) => {
  const r = sync(parentOf({ namespace: 'xmr', name: 'pub', tor: { enabled: true, rotation: '3' } }))
  const scope = anonymityScope({ network: 'tor', namespace: 'xmr', name: 'pub', replica: 1, rotation: '3' })
  t.equal(services(r)[1]!.onion, buildTorKeyFiles(deriveSeed(SEED, scope, Purpose.torOnionService, 32)).hostname.trim())
})
