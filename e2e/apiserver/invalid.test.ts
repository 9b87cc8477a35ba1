// Invalid resources of each kind, sent to a real kube-apiserver: each is rejected with the
// message a user should see (a substring of the apiserver's error). The same spec is also
// given to our hook (handleSync): the `hook` column says whether the hook rejects it too or
// whether only the apiserver can catch it (CEL-only rules, metadata, UPDATE transitions),
// so any drift between the hook's ajv validation and the CRD fails here.
//
// A second, small table lists specs the apiserver ACCEPTS but the hook refuses: these reach
// the cluster and then fail at sync time; the hook keeps the children as last applied and
// shows the reason as the Synced=False condition (refusal-status.test.ts writes that status
// through the real CRD). They are pinned here so the list only changes on purpose.
import t from 'tap'
import { findHandler, isHookError, syncOrError } from '../../hooks/handlers.js'
import type { KubeObject } from '../../hooks/metacontroller.js'
import { asStored, syncRequest } from '../../hooks/testing/requests.js'
import { binariesAvailable, setupControlPlane } from './control-plane.js'
import { call, createObject, installOurCrds, ensureNamespace, hasCrdFor, HOOK_CTX, messageOf, OUR_API_VERSION, pathOf } from './kube.js'

type Spec = Record<string, unknown>
type HookVerdict = 'rejects' | 'apiserver-only'

interface InvalidCase {
  /** What is wrong, in a user's words. */
  what: string
  /** The object as created (or, with `update`, the valid object created first). */
  object: KubeObject
  /** A JSON merge patch applied to the created object: the UPDATE that must be refused. */
  update?: Spec
  /** Substring of the apiserver's error message. */
  expect: string
  hook: HookVerdict
}

interface HookOnlyCase {
  what: string
  object: KubeObject
  /** Substring of the hook's 422 message. */
  expect: string
}

const LONG_NAME = 'a'.repeat(41)

const obj = (kind: string, spec: Spec | undefined, name = 'x'): KubeObject => ({
  apiVersion: OUR_API_VERSION,
  kind,
  metadata: { name },
  ...(spec === undefined ? {} : { spec }),
})

// ---- node settings: shared by MoneroNodeSet (at spec) and MoneroNetwork (at spec.template.spec) --

interface NodeCase {
  what: string
  node: Spec
  /** Expected message; `@` stands for the path of the node settings (spec or spec.template.spec). */
  expect: string
  hook: HookVerdict
  /** For UPDATE cases: the node settings created first. */
  from?: Spec
}

const NODE_CASES: NodeCase[] = [
  { what: 'empty image', node: { monerod: { image: '' } }, expect: '@.monerod.image in body should be at least 1 chars long', hook: 'rejects' },
  { what: 'image with a space', node: { monerod: { image: 'monerod latest' } }, expect: "@.monerod.image in body should match '^[^\\s]+$'", hook: 'rejects' },
  {
    what: 'unknown imagePullPolicy',
    node: { monerod: { imagePullPolicy: 'Sometimes' } },
    expect: '@.monerod.imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    hook: 'rejects',
  },
  {
    what: 'args not a list',
    node: { monerod: { args: '--public' } },
    expect: '@.monerod.args: Invalid value: "string": @.monerod.args in body must be of type array',
    hook: 'rejects',
  },
  {
    what: 'args with a number',
    node: { monerod: { args: [18080] } },
    expect: '@.monerod.args[0]: Invalid value: "integer": @.monerod.args[0] in body must be of type string',
    hook: 'rejects',
  },
  {
    what: 'reserved --data-dir',
    node: { monerod: { args: ['--data-dir=/elsewhere'] } },
    expect: 'monerod.args: --data-dir, --rpc-bind-ip, --rpc-bind-port',
    hook: 'rejects',
  },
  {
    what: 'reserved --rpc-bind-ip as two tokens',
    node: { monerod: { args: ['--rpc-bind-ip', '0.0.0.0'] } },
    expect: 'are set by the operator (data on the volume, unrestricted RPC on 127.0.0.1 unless soloMining.enabled, fixed ports)',
    hook: 'rejects',
  },
  { what: 'reserved --confirm-external-bind', node: { monerod: { args: ['--confirm-external-bind'] } }, expect: 'are set by the operator', hook: 'rejects' },
  { what: 'reserved --detach', node: { monerod: { args: ['--detach'] } }, expect: 'are set by the operator', hook: 'rejects' },
  {
    what: 'soloMining enabled without miners',
    node: { soloMining: { enabled: true } },
    expect: 'soloMining.enabled needs soloMining.miners: the names of the MoneroMiningNodeSets in this namespace',
    hook: 'rejects',
  },
  { what: 'soloMining with an empty miners list', node: { soloMining: { miners: [] } }, expect: '@.soloMining.miners: Invalid value', hook: 'rejects' },
  {
    what: 'soloMining miner that is not a resource name',
    node: { soloMining: { enabled: true, miners: ['Miners_1'] } },
    expect: '@.soloMining.miners[0]: Invalid value',
    hook: 'rejects',
  },
  {
    what: 'two network types',
    node: { monerod: { args: ['--testnet', '--stagenet'] } },
    expect: '@.monerod.args: Invalid value: "array": monerod.args: choose at most one of --testnet, --stagenet, --regtest',
    hook: 'rejects',
  },
  {
    what: 'too many args',
    node: { monerod: { args: Array.from({ length: 129 }, () => '--public') } },
    expect: '@.monerod.args: Too many: 129: must have at most 128 items',
    hook: 'rejects',
  },
  {
    what: 'env with value and valueFrom',
    node: { monerod: { env: [{ name: 'A', value: '1', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } },
    expect: 'env: set either value or valueFrom, not both',
    hook: 'rejects',
  },
  {
    what: 'env name starting with a digit',
    node: { monerod: { env: [{ name: '1A', value: '1' }] } },
    expect: "@.monerod.env[0].name in body should match '^[-._a-zA-Z][-._a-zA-Z0-9]*$'",
    hook: 'rejects',
  },
  { what: 'env without name', node: { monerod: { env: [{ value: '1' }] } }, expect: '@.monerod.env[0].name: Required value', hook: 'rejects' },
  {
    what: 'env name twice',
    node: {
      monerod: {
        env: [
          { name: 'A', value: '1' },
          { name: 'A', value: '2' },
        ],
      },
    },
    expect: '@.monerod.env[1]: Duplicate value: {"name":"A"}',
    hook: 'rejects',
  },
  {
    what: 'cpu request not a quantity',
    node: { monerod: { resources: { requests: { cpu: 'two' } } } },
    expect: '@.monerod.resources.requests.cpu in body should match',
    hook: 'rejects',
  },
  {
    what: 'memory limit not a quantity',
    node: { monerod: { resources: { limits: { memory: '8 GB' } } } },
    expect: '@.monerod.resources.limits.memory in body should match',
    hook: 'rejects',
  },
  { what: 'storage size not a quantity', node: { storage: { size: 'lots' } }, expect: '@.storage.size in body should match', hook: 'rejects' },
  { what: 'storage size a boolean', node: { storage: { size: true } }, expect: '@.storage.size', hook: 'rejects' },
  {
    what: 'unknown retention policy',
    node: { storage: { retention: { whenDeleted: 'Keep' } } },
    expect: '@.storage.retention.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"',
    hook: 'rejects',
  },
  {
    what: 'storageClassName too long',
    node: { storage: { storageClassName: 'c'.repeat(254) } },
    expect: '@.storage.storageClassName: Too long: may not be more than 253 bytes',
    hook: 'rejects',
  },
  {
    what: 'ExternalName service',
    node: { service: { type: 'ExternalName' } },
    expect: '@.service.type: Unsupported value: "ExternalName": supported values: "ClusterIP", "NodePort", "LoadBalancer"',
    hook: 'rejects',
  },
  {
    what: 'service exposing nothing',
    node: { service: { p2p: false, restrictedRpc: false } },
    expect: '@.service: Invalid value: "object": service: expose at least one of p2p and restrictedRpc',
    hook: 'rejects',
  },
  {
    what: 'externalTrafficPolicy on ClusterIP',
    node: { service: { externalTrafficPolicy: 'Local' } },
    expect: 'service.externalTrafficPolicy applies only to NodePort and LoadBalancer services',
    hook: 'rejects',
  },
  {
    what: 'loadBalancerSourceRanges on NodePort',
    node: { service: { type: 'NodePort', loadBalancerSourceRanges: ['10.0.0.0/8'] } },
    expect: 'service.loadBalancerSourceRanges applies only to LoadBalancer services',
    hook: 'rejects',
  },
  {
    what: 'unknown externalTrafficPolicy',
    node: { service: { type: 'NodePort', externalTrafficPolicy: 'Nearest' } },
    expect: '@.service.externalTrafficPolicy: Unsupported value: "Nearest"',
    hook: 'rejects',
  },
  {
    what: 'service annotation not a string',
    node: { service: { annotations: { 'example.com/weight': 5 } } },
    expect: '@.service.annotations.example.com/weight in body must be of type string: "integer"',
    hook: 'rejects',
  },
  {
    what: 'reserved pod label',
    node: { podLabels: { 'app.kubernetes.io/name': 'mine' } },
    expect: 'podLabels: keys under app.kubernetes.io/ and utxo.com.br/ are reserved for the operator',
    hook: 'rejects',
  },
  {
    what: 'pod running as root uid',
    node: { podSecurity: { runAsUser: 0 } },
    expect: '@.podSecurity.runAsUser: Invalid value: 0: @.podSecurity.runAsUser in body should be greater than or equal to 1',
    hook: 'rejects',
  },
  {
    what: 'grace period too short',
    node: { terminationGracePeriodSeconds: 5 },
    expect: '@.terminationGracePeriodSeconds: Invalid value: 5: @.terminationGracePeriodSeconds in body should be greater than or equal to 30',
    hook: 'rejects',
  },
  {
    what: 'hardAntiAffinity as a string',
    node: { hardAntiAffinity: 'yes' },
    expect: '@.hardAntiAffinity: Invalid value: "string": @.hardAntiAffinity in body must be of type boolean: "string"',
    hook: 'rejects',
  },
  {
    what: 'too many tolerations',
    node: { tolerations: Array.from({ length: 65 }, (_, i) => ({ key: `k${i}`, operator: 'Exists' })) },
    expect: '@.tolerations: Too many: 65: must have at most 64 items',
    hook: 'rejects',
  },
  { what: 'imagePullSecret without name', node: { imagePullSecrets: [{}] }, expect: '@.imagePullSecrets[0].name: Required value', hook: 'rejects' },
  {
    what: 'nodeSelector value not a string',
    node: { nodeSelector: { 'kubernetes.io/arch': 1 } },
    expect: '@.nodeSelector.kubernetes.io/arch in body must be of type string: "integer"',
    hook: 'rejects',
  },
  { what: 'unknown field (typo) with strict validation', node: { monerod: { argz: ['--public'] } }, expect: 'unknown field "@.monerod.argz"', hook: 'rejects' },
  {
    what: 'storage.size changed on UPDATE',
    from: { storage: { size: '10Gi' } },
    node: { storage: { size: '20Gi' } },
    expect: 'storage.size cannot change after creation (StatefulSet volume templates are immutable); expand each PersistentVolumeClaim instead',
    hook: 'apiserver-only',
  },
  {
    what: 'storageClassName set on UPDATE',
    from: { storage: { size: '10Gi' } },
    node: { storage: { storageClassName: 'fast' } },
    expect: 'storage.storageClassName cannot change after creation',
    hook: 'apiserver-only',
  },
  {
    what: 'storageClassName changed on UPDATE',
    from: { storage: { storageClassName: 'slow' } },
    node: { storage: { storageClassName: 'fast' } },
    expect: 'storage.storageClassName cannot change after creation',
    hook: 'apiserver-only',
  },
]

/** A merge patch that sets the node settings at path ('spec' or 'spec.template.spec'). */
function nodeAt(path: 'spec' | 'spec.template.spec', node: Spec, extra: Spec): Spec {
  return path === 'spec' ? { ...extra, ...node } : { ...extra, template: { spec: node } }
}

function nodeCases(kind: string, path: 'spec' | 'spec.template.spec', base: Spec): InvalidCase[] {
  return NODE_CASES.map((c, i) => ({
    what: c.what,
    object: obj(kind, c.from ? nodeAt(path, c.from, base) : nodeAt(path, c.node, base), `n${i}`),
    ...(c.from ? { update: { spec: nodeAt(path, c.node, {}) } } : {}),
    expect: c.expect.replaceAll('@', path),
    hook: c.hook,
  }))
}

// ---- MoneroNodeSet ----------------------------------------------------------------------

const NS = 'MoneroNodeSet'
const NODESET_CASES: InvalidCase[] = [
  {
    what: 'negative replicas',
    object: obj(NS, { replicas: -1 }),
    expect: 'spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0',
    hook: 'rejects',
  },
  {
    what: 'too many replicas',
    object: obj(NS, { replicas: 1001 }),
    expect: 'spec.replicas: Invalid value: 1001: spec.replicas in body should be less than or equal to 1000',
    hook: 'rejects',
  },
  {
    what: 'replicas as a string',
    object: obj(NS, { replicas: '3' }),
    expect: 'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
    hook: 'rejects',
  },
  { what: 'fractional replicas', object: obj(NS, { replicas: 1.5 }), expect: 'spec.replicas in body must be of type integer: "number"', hook: 'rejects' },
  { what: 'no spec', object: obj(NS, undefined), expect: 'spec: Required value', hook: 'rejects' },
  {
    what: 'name longer than 40 characters',
    object: obj(NS, { replicas: 1 }, LONG_NAME),
    expect: 'metadata.name: at most 40 characters (child names and pod host names derive from it)',
    hook: 'rejects',
  },
  { what: 'unknown top-level spec field with strict validation', object: obj(NS, { replica: 3 }), expect: 'unknown field "spec.replica"', hook: 'rejects' },
  { what: 'reserved --restricted-rpc', object: obj(NS, { monerod: { args: ['--restricted-rpc'] } }), expect: 'are set by the operator', hook: 'rejects' },
  {
    what: 'reserved flag abbreviated as monerod allows (--data-d)',
    object: obj(NS, { monerod: { args: ['--data-d=/x'] } }),
    expect: 'are set by the operator',
    hook: 'rejects',
  },
  ...nodeCases(NS, 'spec', { replicas: 1 }),
]

const NODESET_HOOK_ONLY: HookOnlyCase[] = [
  { what: 'positional argument', object: obj(NS, { monerod: { args: ['public'] } }), expect: 'is not a long option' },
  { what: 'non-repeatable option twice', object: obj(NS, { monerod: { args: ['--out-peers=8', '--out-peers=16'] } }), expect: 'is given more than once' },
  { what: 'flag with a value', object: obj(NS, { monerod: { args: ['--public=yes'] } }), expect: 'is a flag and takes no value' },
]

// ---- MoneroNetwork ------------------------------------------------------------------------

const NET = 'MoneroNetwork'
const NETWORK_CASES: InvalidCase[] = [
  {
    what: 'negative replicas',
    object: obj(NET, { replicas: -1, template: {} }),
    expect: 'spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0',
    hook: 'rejects',
  },
  {
    what: 'too many replicas',
    object: obj(NET, { replicas: 1001, template: {} }),
    expect: 'spec.replicas: Invalid value: 1001: spec.replicas in body should be less than or equal to 1000',
    hook: 'rejects',
  },
  {
    what: 'replicas as a string',
    object: obj(NET, { replicas: 'two', template: {} }),
    expect: 'spec.replicas in body must be of type integer: "string"',
    hook: 'rejects',
  },
  { what: 'no template', object: obj(NET, { replicas: 2 }), expect: 'spec.template: Required value', hook: 'rejects' },
  { what: 'no spec', object: obj(NET, undefined), expect: 'spec: Required value', hook: 'rejects' },
  { what: 'name longer than 40 characters', object: obj(NET, { template: {} }, LONG_NAME), expect: 'metadata.name: at most 40 characters', hook: 'rejects' },
  {
    what: 'replicas inside the template (strict)',
    object: obj(NET, { template: { spec: { replicas: 3 } } }),
    expect: 'unknown field "spec.template.spec.replicas"',
    hook: 'rejects',
  },
  {
    what: 'reserved label in template.metadata',
    object: obj(NET, { template: { metadata: { labels: { 'utxo.com.br/replica': '0' } } } }),
    expect: 'podLabels: keys under app.kubernetes.io/ and utxo.com.br/ are reserved for the operator',
    hook: 'rejects',
  },
  {
    what: 'template annotation not a string',
    object: obj(NET, { template: { metadata: { annotations: { a: true } } } }),
    expect: 'spec.template.metadata.annotations.a in body must be of type string: "boolean"',
    hook: 'rejects',
  },
  {
    what: 'template.metadata.name (strict)',
    object: obj(NET, { template: { metadata: { name: 'peer' } } }),
    expect: 'unknown field "spec.template.metadata.name"',
    hook: 'rejects',
  },
  ...nodeCases(NET, 'spec.template.spec', { replicas: 2 }),
]

// ---- MoneroMiningNodeSet --------------------------------------------------------------------

const MM = 'MoneroMiningNodeSet'
const POOL = { url: 'pool.example:443', user: 'WALLET.node-$(id)' }
const MINING_CASES: InvalidCase[] = [
  {
    what: 'negative replicas',
    object: obj(MM, { replicas: -1 }),
    expect: 'spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0',
    hook: 'rejects',
  },
  {
    what: 'too many replicas',
    object: obj(MM, { replicas: 10001 }),
    expect: 'spec.replicas: Invalid value: 10001: spec.replicas in body should be less than or equal to 10000',
    hook: 'rejects',
  },
  { what: 'no spec', object: obj(MM, undefined), expect: 'spec: Required value', hook: 'rejects' },
  { what: 'name longer than 40 characters', object: obj(MM, {}, LONG_NAME), expect: 'metadata.name: at most 40 characters', hook: 'rejects' },
  { what: 'unknown field with strict validation', object: obj(MM, { pools: [POOL] }), expect: 'unknown field "spec.pools"', hook: 'rejects' },
  {
    what: 'maxUnavailable 0',
    object: obj(MM, { maxUnavailable: 0 }),
    expect: 'spec.maxUnavailable: Invalid value: 0: spec.maxUnavailable in body should be greater than or equal to 1',
    hook: 'rejects',
  },
  {
    what: 'maxUnavailable 150%',
    object: obj(MM, { maxUnavailable: '150%' }),
    expect: "spec.maxUnavailable in body should match '^([1-9][0-9]?|100)%$'",
    hook: 'rejects',
  },
  { what: 'maxUnavailable as a number string', object: obj(MM, { maxUnavailable: '2' }), expect: 'spec.maxUnavailable in body should match', hook: 'rejects' },
  { what: 'pool without user', object: obj(MM, { pool: { url: POOL.url } }), expect: 'spec.pool.user: Required value', hook: 'rejects' },
  {
    what: 'pool url with a space',
    object: obj(MM, { pool: { ...POOL, url: 'pool example:443' } }),
    expect: "spec.pool.url in body should match '^[^\\s]+$'",
    hook: 'rejects',
  },
  {
    what: 'short tlsFingerprint',
    object: obj(MM, { pool: { ...POOL, tlsFingerprint: 'abc123' } }),
    expect: "spec.pool.tlsFingerprint in body should match '^[0-9a-fA-F]{64}$'",
    hook: 'rejects',
  },
  {
    what: 'coin in capitals',
    object: obj(MM, { pool: { ...POOL, coin: 'Monero' } }),
    expect: "spec.pool.coin in body should match '^[a-z0-9-]+$'",
    hook: 'rejects',
  },
  {
    what: 'passwordSecretRef without key',
    object: obj(MM, { pool: { ...POOL, passwordSecretRef: { name: 's' } } }),
    expect: 'spec.pool.passwordSecretRef.key: Required value',
    hook: 'rejects',
  },
  {
    what: 'pool.url and -o',
    object: obj(MM, { pool: POOL, xmrig: { args: ['-o', 'other:3333'] } }),
    expect: 'set the pool either in pool.url or in xmrig.args (-o/--url), not both',
    hook: 'rejects',
  },
  {
    what: 'pool.user and --user=',
    object: obj(MM, { pool: POOL, xmrig: { args: ['--user=W'] } }),
    expect: 'set the wallet/worker either in pool.user or in xmrig.args',
    hook: 'rejects',
  },
  {
    what: 'passwordSecretRef and -p',
    object: obj(MM, { pool: { ...POOL, passwordSecretRef: { name: 's', key: 'k' } }, xmrig: { args: ['-p', 'x'] } }),
    expect: 'set the pool password either in pool.passwordSecretRef or in xmrig.args (-p/--pass), not both',
    hook: 'rejects',
  },
  {
    what: 'pool.tls and --tls',
    object: obj(MM, { pool: { ...POOL, tls: true }, xmrig: { args: ['--tls'] } }),
    expect: 'set TLS either in pool.tls or in xmrig.args (--tls), not both',
    hook: 'rejects',
  },
  {
    what: 'pool.coin and --algo',
    object: obj(MM, { pool: { ...POOL, coin: 'monero' }, xmrig: { args: ['--algo=rx/0'] } }),
    expect: 'set the coin either in pool.coin or in xmrig.args',
    hook: 'rejects',
  },
  {
    what: 'threads and maxThreadsHint',
    object: obj(MM, { threads: 2, maxThreadsHint: 50 }),
    expect: 'threads and maxThreadsHint exclude each other',
    hook: 'rejects',
  },
  {
    what: 'threads and -t',
    object: obj(MM, { threads: 2, xmrig: { args: ['-t', '4'] } }),
    expect: 'set the thread count either in threads/maxThreadsHint or in xmrig.args',
    hook: 'rejects',
  },
  {
    what: 'threads 0',
    object: obj(MM, { threads: 0 }),
    expect: 'spec.threads: Invalid value: 0: spec.threads in body should be greater than or equal to 1',
    hook: 'rejects',
  },
  {
    what: 'maxThreadsHint 101',
    object: obj(MM, { maxThreadsHint: 101 }),
    expect: 'spec.maxThreadsHint: Invalid value: 101: spec.maxThreadsHint in body should be less than or equal to 100',
    hook: 'rejects',
  },
  {
    what: 'donateLevel 100',
    object: obj(MM, { donateLevel: 100 }),
    expect: 'spec.donateLevel: Invalid value: 100: spec.donateLevel in body should be less than or equal to 99',
    hook: 'rejects',
  },
  {
    what: 'donateLevel and --donate-level',
    object: obj(MM, { donateLevel: 2, xmrig: { args: ['--donate-level=3'] } }),
    expect: 'set the donate level either in donateLevel or in xmrig.args (--donate-level), not both',
    hook: 'rejects',
  },
  {
    what: 'donateLevel 0 with the official image',
    object: obj(MM, { donateLevel: 0 }),
    expect: 'donateLevel 0 needs an xmrig build whose minimum donate level is 0',
    hook: 'rejects',
  },
  {
    what: '--http-port while metrics run',
    object: obj(MM, { xmrig: { args: ['--http-port=9999'] } }),
    expect: 'the operator runs the xmrig HTTP API while api.enabled or metrics.enabled',
    hook: 'rejects',
  },
  {
    what: '--background',
    object: obj(MM, { xmrig: { args: ['-B'] } }),
    expect: 'xmrig.args: -B/--background detaches xmrig and ends the container; remove it',
    hook: 'rejects',
  },
  {
    what: 'reserved env name id',
    object: obj(MM, { xmrig: { env: [{ name: 'id', value: '7' }] } }),
    expect: 'xmrig.env: id, POD_NAME, XMRIG_PASSWORD, XMRIG_API_TOKEN are set by the operator',
    hook: 'rejects',
  },
  {
    what: 'env with value and valueFrom',
    object: obj(MM, { xmrig: { env: [{ name: 'A', value: '1', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } }),
    expect: 'env: set either value or valueFrom, not both',
    hook: 'rejects',
  },
  { what: 'hugePages without threads or pages', object: obj(MM, { hugePages: { enabled: true } }), expect: 'hugePages.enabled needs threads', hook: 'rejects' },
  {
    what: 'hugePages.pages without enabled',
    object: obj(MM, { hugePages: { pages: 1200 } }),
    expect: 'hugePages.pages applies only with hugePages.enabled: true',
    hook: 'rejects',
  },
  {
    what: 'hugePages and hugepages-2Mi in resources',
    object: obj(MM, { threads: 2, hugePages: { enabled: true }, xmrig: { resources: { requests: { cpu: '2' }, limits: { 'hugepages-2Mi': '2Gi' } } } }),
    expect: 'hugePages.enabled sizes hugepages-2Mi itself',
    hook: 'rejects',
  },
  {
    what: 'hugePages with resources but no cpu/memory request',
    object: obj(MM, { threads: 2, hugePages: { enabled: true }, xmrig: { resources: { limits: { memory: '3Gi' } } } }),
    expect: 'with hugePages.enabled, xmrig.resources.requests must include cpu or memory',
    hook: 'rejects',
  },
  {
    what: 'api.enabled without a token',
    object: obj(MM, { api: { enabled: true } }),
    expect: 'api.enabled exposes the xmrig HTTP API to the cluster: set api.accessTokenSecretRef',
    hook: 'rejects',
  },
  {
    what: 'api.port equals metrics.port',
    object: obj(MM, { api: { port: 9100 }, metrics: { port: 9100 } }),
    expect: 'api.port and metrics.port must differ (both listen in the same pod)',
    hook: 'rejects',
  },
  {
    what: 'privileged api port',
    object: obj(MM, { api: { port: 80 } }),
    expect: 'spec.api.port: Invalid value: 80: spec.api.port in body should be greater than or equal to 1024',
    hook: 'rejects',
  },
  {
    what: 'msr.enabled as a string',
    object: obj(MM, { msr: { enabled: 'yes' } }),
    expect: 'spec.msr.enabled: Invalid value: "string": spec.msr.enabled in body must be of type boolean: "string"',
    hook: 'rejects',
  },
  {
    what: 'memory limit not a quantity',
    object: obj(MM, { xmrig: { resources: { limits: { memory: 'a lot' } } } }),
    expect: 'spec.xmrig.resources.limits.memory in body should match',
    hook: 'rejects',
  },
  {
    what: 'reserved pod label',
    object: obj(MM, { podLabels: { 'utxo.com.br/replica': '1' } }),
    expect: 'podLabels: keys under app.kubernetes.io/ and utxo.com.br/ are reserved for the operator',
    hook: 'rejects',
  },
]

const MINING_HOOK_ONLY: HookOnlyCase[] = [
  { what: 'undefined $(VAR) in xmrig.args', object: obj(MM, { xmrig: { args: ['--rig-id=$(RIG)'] } }), expect: '$(RIG) is not defined' },
  { what: 'undefined $(VAR) in pool.user', object: obj(MM, { pool: { ...POOL, user: 'W.$(NODE)' } }), expect: '$(NODE) is not defined' },
]

const TABLES: { kind: string; cases: InvalidCase[]; hookOnly: HookOnlyCase[] }[] = [
  { kind: NS, cases: NODESET_CASES, hookOnly: NODESET_HOOK_ONLY },
  { kind: NET, cases: NETWORK_CASES, hookOnly: [] },
  { kind: MM, cases: MINING_CASES, hookOnly: MINING_HOOK_ONLY },
]

/** The hook's verdict on an object (as Metacontroller would send it, freshly created). */
function hookVerdict(kind: string, object: KubeObject): { rejected: boolean; message: string } | undefined {
  const handler = findHandler(kind)
  if (!handler) return undefined
  const result = syncOrError(handler, syncRequest(asStored(object)), HOOK_CTX)
  return isHookError(result) ? { rejected: true, message: result.message } : { rejected: false, message: '' }
}

/** Applies a JSON merge patch to a plain object (RFC 7386), for the hook's view of an UPDATE. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Spec) } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}...` : s)

t.test('the tables have at least 20 invalid resources per kind', async (t) => {
  for (const { kind, cases } of TABLES) t.ok(cases.length >= 20, `${kind}: ${cases.length} invalid cases`)
})

if (binariesAvailable(t)) {
  t.test('invalid resources are rejected by the apiserver with the expected message', async (t) => {
    const cp = await setupControlPlane(t)
    const kc = cp.kubeConfig
    const served = await installOurCrds(t, kc)

    for (const { kind, cases, hookOnly } of TABLES) {
      await t.test(kind, async (t) => {
        if (!hasCrdFor(kind)) {
          t.plan(0, `no ${kind} CRD in crds/ yet: its ${cases.length} cases are skipped until it lands`)
          return
        }
        if (!served.has(kind)) {
          t.plan(0, `the ${kind} CRD was refused (see the failure above): its cases cannot run`)
          return
        }
        const ns = `invalid-${kind.toLowerCase()}`
        await ensureNamespace(kc, ns)
        const hookMissing = !findHandler(kind)

        // The base object of every case is valid: a valid minimal resource is accepted.
        const minimal = obj(kind, kind === NET ? { template: {} } : {}, 'valid')
        const ok = await createObject(kc, minimal, ns)
        t.equal(ok.status, 201, `a minimal ${kind} is accepted${ok.status === 201 ? '' : `: ${messageOf(ok)}`}`)

        for (const c of cases) {
          let res: Awaited<ReturnType<typeof createObject>>
          let hookView = c.object
          if (c.update) {
            const created = await createObject(kc, c.object, ns)
            t.equal(created.status, 201, `${c.what}: the object before the update is valid${created.status === 201 ? '' : `: ${messageOf(created)}`}`)
            const path = await pathOf(kc, c.object.apiVersion, kind, ns, c.object.metadata.name)
            res = await call(kc, 'PATCH', `${path}?fieldValidation=Strict`, c.update, { 'Content-Type': 'application/merge-patch+json' })
            hookView = { ...c.object, spec: mergePatch(created.body?.spec, c.update.spec) as Spec }
          } else {
            res = await createObject(kc, c.object, ns, { dryRun: true })
          }
          const message = messageOf(res)
          t.ok(res.status >= 400 && res.status < 500, `${kind}: ${c.what}: refused (${res.status})`)
          t.ok(message.includes(c.expect), `${kind}: ${c.what}: says ${JSON.stringify(c.expect)}`, { found: short(message) })

          const verdict = hookVerdict(kind, hookView)
          if (!verdict) {
            if (hookMissing) t.pass(`${kind}: ${c.what}: hook verdict (${c.hook})`, { skip: `no ${kind} handler in hooks/handlers.ts yet` })
            continue
          }
          if (c.hook === 'rejects') {
            t.ok(
              verdict.rejected,
              `${kind}: ${c.what}: the hook rejects it too${verdict.rejected ? `: ${short(verdict.message)}` : ' (DIVERGENCE: the hook accepts it)'}`,
            )
          } else {
            t.notOk(
              verdict.rejected,
              `${kind}: ${c.what}: only the apiserver catches it${verdict.rejected ? ` (the hook now rejects it too: ${short(verdict.message)}; mark it 'rejects')` : ''}`,
            )
          }
        }

        for (const c of hookOnly) {
          const res = await createObject(kc, c.object, ns, { dryRun: true })
          t.equal(
            res.status,
            201,
            `${kind}: ${c.what}: the apiserver accepts it${res.status === 201 ? '' : ` (now refused: ${short(messageOf(res))}; move it to the invalid table)`}`,
          )
          const verdict = hookVerdict(kind, c.object)
          if (!verdict) {
            t.pass(`${kind}: ${c.what}: hook verdict`, { skip: `no ${kind} handler in hooks/handlers.ts yet` })
            continue
          }
          t.ok(verdict.rejected && verdict.message.includes(c.expect), `${kind}: ${c.what}: the hook answers 422 ${JSON.stringify(c.expect)}`, {
            found: verdict.message,
          })
        }
      })
    }
  })
}
