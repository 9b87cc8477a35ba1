import t from 'tap'
import type { V1Container, V1StatefulSet } from '@kubernetes/client-node'
import { DEFAULT_CONFIG } from '../config.js'
import { findHandler, handleSync, isHookError, syncOrError, type HookError } from '../handlers.js'
import type { KubeObject, SyncResponse } from '../metacontroller.js'
import { asStored, loadExample, syncRequest } from '../testing/requests.js'
import { validateKubeObject } from '../testing/kube-schemas.js'
import { buildSoloMiningPolicy, type NetworkPolicy } from './solo-mining.js'
import { loadCrds } from '../schema.js'

const ctx = { config: DEFAULT_CONFIG, now: '2026-11-26T12:00:00Z' }
const nodeSet = findHandler('MoneroNodeSet')!
const network = findHandler('MoneroNetwork')!
const nodeSetExample = asStored(loadExample('moneronodeset.yaml'))
const networkExample = asStored(loadExample('moneronetwork-regtest.yaml'))

function sync(handler: typeof nodeSet, parent: KubeObject): SyncResponse {
  const r = handleSync(handler, syncRequest(parent), ctx)
  if (isHookError(r)) throw new Error(r.message)
  return r
}
const withNodeSpec = (spec: Record<string, unknown>): KubeObject => ({ ...nodeSetExample, spec: { ...(nodeSetExample.spec as object), ...spec } })
const withTemplateSpec = (spec: Record<string, unknown>): KubeObject => {
  const s = networkExample.spec as { replicas: number; template: { spec: Record<string, unknown> } }
  return { ...networkExample, spec: { ...s, template: { ...s.template, spec: { ...s.template.spec, ...spec } } } }
}
const sts = (r: SyncResponse) => r.children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
const monerod = (r: SyncResponse) => sts(r).spec!.template.spec!.containers.find((c) => c.name === 'monerod') as V1Container
const policy = (r: SyncResponse) => r.children.find((c) => c.kind === 'NetworkPolicy') as unknown as NetworkPolicy | undefined
const MINER = (name: string) => ({
  podSelector: {
    matchLabels: { 'app.kubernetes.io/name': 'xmrig', 'app.kubernetes.io/instance': name, 'app.kubernetes.io/part-of': 'monerominingnodeset' },
  },
})

t.test('off (absent or enabled: false): the children are exactly those without the field', async (t) => {
  for (const [handler, base, withSpec] of [
    [nodeSet, nodeSetExample, withNodeSpec],
    [network, networkExample, withTemplateSpec],
  ] as const) {
    const plain = sync(handler, base)
    t.notOk(policy(plain), `${handler.kind}: no NetworkPolicy by default`)
    t.ok(monerod(plain).args!.includes('--rpc-bind-ip=127.0.0.1'), `${handler.kind}: unrestricted RPC on loopback`)
    t.notOk(
      monerod(plain).args!.some((a) => a.startsWith('--confirm-external-bind')),
      `${handler.kind}: no --confirm-external-bind`,
    )
    t.notOk(
      monerod(plain).ports!.some((p) => p.containerPort === 18081),
      `${handler.kind}: the RPC port is not declared`,
    )
    for (const off of [{ enabled: false }, { enabled: false, miners: ['miners'] }]) {
      t.same(sync(handler, withSpec({ soloMining: off })).children, plain.children, `${handler.kind}: ${JSON.stringify(off)} changes nothing`)
    }
  }
})

t.test('MoneroNetwork on: RPC on the pod addresses, declared, and a NetworkPolicy for the named miners', async (t) => {
  const r = sync(network, withTemplateSpec({ soloMining: { enabled: true, miners: ['miners', 'lab-rigs'] } }))
  for (const c of r.children) validateKubeObject(c)
  const args = monerod(r).args!
  t.ok(args.includes('--rpc-bind-ip=0.0.0.0'), 'unrestricted RPC on every pod address')
  t.notOk(args.includes('--rpc-bind-ip=127.0.0.1'), 'not on loopback only')
  t.ok(args.includes('--confirm-external-bind'), 'monerod is told the external bind is meant')
  t.ok(args.includes('--rpc-bind-port=18081'), "still the nettype's RPC port")
  t.same(
    monerod(r).ports,
    [
      { name: 'p2p', containerPort: 18080, protocol: 'TCP' },
      { name: 'rpc-restricted', containerPort: 18089, protocol: 'TCP' },
      { name: 'rpc-mining', containerPort: 18081, protocol: 'TCP' },
    ],
    'the RPC port is declared as rpc-mining',
  )
  const np = policy(r)!
  t.same(np.metadata, {
    name: 'regtest-peer-solo-mining',
    namespace: 'default',
    labels: {
      'app.kubernetes.io/name': 'monerod',
      'app.kubernetes.io/instance': 'regtest',
      'app.kubernetes.io/part-of': 'moneronetwork',
      'app.kubernetes.io/component': 'peer',
      'app.kubernetes.io/managed-by': 'monero-operator',
    },
  })
  t.same(np.spec, {
    podSelector: {
      matchLabels: { 'app.kubernetes.io/name': 'monerod', 'app.kubernetes.io/instance': 'regtest', 'app.kubernetes.io/part-of': 'moneronetwork' },
    },
    policyTypes: ['Ingress'],
    ingress: [
      // the example runs the metrics exporter (9533) beside monerod
      {
        ports: [
          { protocol: 'TCP', port: 18080 },
          { protocol: 'TCP', port: 18089 },
          { protocol: 'TCP', port: 9533 },
        ],
      },
      { from: [MINER('miners'), MINER('lab-rigs')], ports: [{ protocol: 'TCP', port: 18081 }] },
    ],
  })
  t.same(np.spec.podSelector.matchLabels, sts(r).spec!.selector.matchLabels, "selects exactly the StatefulSet's pods")
})

t.test('MoneroNodeSet on a testnet: its ports; sidecar ports stay open; metrics off', async (t) => {
  const r = sync(
    nodeSet,
    withNodeSpec({
      monerod: { args: ['--testnet'] },
      metrics: { enabled: false },
      soloMining: { enabled: true, miners: ['rigs'] },
    }),
  )
  t.ok(monerod(r).args!.includes('--rpc-bind-port=28081'))
  t.ok(monerod(r).ports!.some((p) => p.name === 'rpc-mining' && p.containerPort === 28081))
  t.same(policy(r)!.spec.ingress, [
    {
      ports: [
        { protocol: 'TCP', port: 28080 },
        { protocol: 'TCP', port: 28089 },
      ],
    },
    { from: [MINER('rigs')], ports: [{ protocol: 'TCP', port: 28081 }] },
  ])
  t.equal(policy(r)!.metadata.name, `${nodeSetExample.metadata.name}-monerod-solo-mining`)
})

t.test('the policy keeps every other declared port open, whatever container declares it', async (t) => {
  const np = buildSoloMiningPolicy({
    namespace: 'ns',
    workload: 'w',
    labels: { a: 'b' },
    selector: { a: 'b' },
    rpcPort: 18081,
    miners: ['m', 'm'],
    template: {
      spec: {
        initContainers: [{ name: 'side', ports: [{ containerPort: 7000 }] }],
        containers: [
          {
            name: 'monerod',
            ports: [
              { containerPort: 18080, protocol: 'TCP' },
              { containerPort: 18081, protocol: 'TCP' },
            ],
          },
          {
            name: 'other',
            ports: [
              { containerPort: 18080, protocol: 'TCP' },
              { containerPort: 18081, protocol: 'UDP' },
              { containerPort: 9000, protocol: 'SCTP' },
            ],
          },
        ],
      },
    },
  })
  t.same(np.spec.ingress, [
    {
      ports: [
        { protocol: 'TCP', port: 7000 },
        { protocol: 'TCP', port: 18080 },
        { protocol: 'UDP', port: 18081 },
        { protocol: 'SCTP', port: 9000 },
      ],
    },
    { from: [MINER('m')], ports: [{ protocol: 'TCP', port: 18081 }] },
  ])
})

t.test('enabled without miners is refused, by the hook and by the CRD rule with the same message', async (t) => {
  for (const [handler, parent, field] of [
    [nodeSet, withNodeSpec({ soloMining: { enabled: true } }), 'spec.soloMining.miners'],
    [network, withTemplateSpec({ soloMining: { enabled: true } }), 'spec.template.spec.soloMining.miners'],
  ] as const) {
    const r = syncOrError(handler, syncRequest(parent), ctx) as HookError
    t.equal(r.statusCode, 422, handler.kind)
    t.match(r.message, `${field}: soloMining.enabled needs soloMining.miners`)
  }
  for (const crd of loadCrds().filter((c) => ['MoneroNodeSet', 'MoneroNetwork'].includes((c.spec as any).names.kind))) {
    const spec = (crd.spec as any).versions[0].schema.openAPIV3Schema.properties.spec
    const node = spec.properties.template ? spec.properties.template.properties.spec : spec
    const solo = node.properties.soloMining
    t.same(solo.properties.enabled.default, false, 'off by default')
    t.equal(solo.properties.miners.minItems, 1)
    t.same(solo['x-kubernetes-validations'], [
      {
        rule: '!has(self.enabled) || !self.enabled || (has(self.miners) && size(self.miners) > 0)',
        message:
          'soloMining.enabled needs soloMining.miners: the names of the MoneroMiningNodeSets in this namespace whose pods may reach the unrestricted RPC',
      },
    ])
    t.match(solo.description, /NetworkPolicy/)
  }
  // and the reserved flags stay reserved with soloMining on
  const r = syncOrError(
    nodeSet,
    syncRequest(withNodeSpec({ soloMining: { enabled: true, miners: ['m'] }, monerod: { args: ['--rpc-bind-ip=10.0.0.1'] } })),
    ctx,
  ) as HookError
  t.equal(r.statusCode, 422)
  t.match(r.message, /--rpc-bind-ip cannot be set/)
})

t.test('the policy builder refuses an empty miners list (an empty `from` admits every source)', async (t) => {
  t.throws(
    () =>
      buildSoloMiningPolicy({
        namespace: 'ns',
        workload: 'w',
        labels: { a: 'b' },
        selector: { a: 'b' },
        rpcPort: 18081,
        miners: [],
        template: { spec: { containers: [{ name: 'monerod', ports: [{ containerPort: 18081, protocol: 'TCP' }] }] } },
      }),
    /no miners named/,
  )
})
