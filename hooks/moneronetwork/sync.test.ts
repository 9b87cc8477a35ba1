import t from 'tap'
import type { V1ConfigMap, V1Service, V1StatefulSet } from '@kubernetes/client-node'
import { DEFAULT_CONFIG } from '../config.js'
import { findHandler, handleSync, isHookError, syncOrError, type HookError } from '../handlers.js'
import type { KubeObject, SyncResponse } from '../metacontroller.js'
import { asStored, loadExample, syncRequest } from '../testing/requests.js'
import { validateKubeObject } from '../testing/kube-schemas.js'

const handler = findHandler('MoneroNetwork')!
const ctx = { config: DEFAULT_CONFIG, now: '2026-11-26T12:00:00Z' }
const example = asStored(loadExample('moneronetwork-regtest.yaml'))
const withReplicas = (n: number, args = ['--regtest', '--fixed-difficulty=1']): KubeObject => ({
  ...example,
  spec: { replicas: n, template: { spec: { monerod: { args } } } },
})
function sync(parent: KubeObject): SyncResponse {
  const r = handleSync(handler, syncRequest(parent), ctx)
  if (isHookError(r)) throw new Error(r.message)
  return r
}

t.test('the proposal example: 20 regtest peers in a closed network', async (t) => {
  const r = sync(example)
  for (const c of r.children) validateKubeObject(c)
  const sts = r.children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
  t.equal(sts.spec!.replicas, 20)
  const monerod = sts.spec!.template.spec!.containers[0]!
  for (const a of ['--regtest', '--fixed-difficulty=1', '--keep-fakechain', '--allow-local-ip', '--config-file=/run/monerod/monerod.conf']) {
    t.ok(monerod.args!.includes(a), `args include ${a}`)
  }
  t.notOk(
    monerod.args!.some((a) => a.startsWith('--add-exclusive-node')),
    'no peer list in args (it lives in one shared file)',
  )
  t.notOk(
    monerod.args!.some((a) => a.startsWith('--seed-node') || a.startsWith('--add-peer')),
    'no outside peers',
  )
  const init = sts.spec!.template.spec!.initContainers!.find((c) => c.name === 'init-node')!
  t.ok(init.args!.includes('--wait-peers'), 'init container waits for peer names before monerod starts')
  t.equal(init.image, DEFAULT_CONFIG.operatorImage)

  const cm = r.children.find((c) => c.kind === 'ConfigMap') as unknown as V1ConfigMap
  const lines = cm.data!['peers.conf']!.split('\n').filter((l) => l.startsWith('add-exclusive-node='))
  t.equal(lines.length, 20)
  t.same(lines.slice(0, 2), ['add-exclusive-node=regtest-peer-0:18080', 'add-exclusive-node=regtest-peer-1:18080'])

  const perReplica = r.children.filter((c) => c.kind === 'Service' && /^regtest-peer-\d+$/.test(c.metadata.name)) as unknown as V1Service[]
  t.equal(perReplica.length, 20, 'one Service per peer, named like its pod')
  t.same(perReplica[7]!.spec!.selector, { 'statefulset.kubernetes.io/pod-name': 'regtest-peer-7' })
  t.equal(perReplica[7]!.spec!.publishNotReadyAddresses, true)

  t.equal(r.status.nettype, 'regtest')
  t.equal(r.status.peerCount, 20)
  t.same((r.status.peers as string[]).slice(0, 1), ['regtest-peer-0.default.svc:18080'])
})

t.test('testnet and stagenet networks use their ports', async (t) => {
  for (const [flag, port] of [
    ['--testnet', 28080],
    ['--stagenet', 38080],
  ] as const) {
    const r = sync(withReplicas(3, [flag]))
    const cm = r.children.find((c) => c.kind === 'ConfigMap') as unknown as V1ConfigMap
    t.match(cm.data!['peers.conf'], new RegExp(`add-exclusive-node=regtest-peer-2:${port}\\n`))
    const sts = r.children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
    t.ok(sts.spec!.template.spec!.containers[0]!.args!.includes(`--p2p-bind-port=${port}`))
    t.notOk(sts.spec!.template.spec!.containers[0]!.args!.includes('--keep-fakechain'), 'keep-fakechain only on regtest')
  }
})

t.test('scaling re-wires the shared peer list; volumes are kept by default; pod template unchanged', async (t) => {
  const big = sync(withReplicas(10))
  const small = sync(withReplicas(4))
  const names = (r: SyncResponse) => r.children.map((c) => `${c.kind}/${c.metadata.name}`)
  t.ok(names(big).includes('Service/regtest-peer-9'))
  t.notOk(names(small).includes('Service/regtest-peer-4'), 'removed members lose their Service')
  const cm = small.children.find((c) => c.kind === 'ConfigMap') as unknown as V1ConfigMap
  t.equal(cm.data!['peers.conf']!.split('\n').filter((l) => l.startsWith('add-exclusive-node=')).length, 4)
  const sts = (r: SyncResponse) => r.children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
  t.same(sts(small).spec!.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' })
  t.same(sts(small).spec!.template, sts(big).spec!.template, 'scaling does not roll every member')
})

t.test('configuration grows linearly: 1000 members', async (t) => {
  const size = (n: number) => JSON.stringify(sync(withReplicas(n))).length
  const s100 = size(100)
  const s1000 = size(1000)
  t.ok(s1000 < 1_000_000, `1000-member response is ${s1000} bytes (< 1 MB)`)
  const perMember100 = s100 / 100
  const perMember1000 = s1000 / 1000
  t.ok(perMember1000 < perMember100 * 1.2, `bytes per member stays flat (${perMember100.toFixed(0)} vs ${perMember1000.toFixed(0)})`)
  const r = sync(withReplicas(1000))
  t.notOk('peers' in r.status, 'large networks report a count, not a list')
  t.equal(r.status.peerCount, 1000)
})

t.test('template errors name the template path', async (t) => {
  const bad = syncOrError(
    handler,
    syncRequest({ ...example, spec: { replicas: 2, template: { spec: { monerod: { args: ['--data-dir=/x'] } } } } }),
    ctx,
  ) as HookError
  t.equal(bad.statusCode, 422)
  t.match(bad.message, /spec\.template\.spec\.monerod\.args\[0\]: --data-dir cannot be set/)
  const missing = syncOrError(handler, syncRequest({ ...example, spec: { replicas: 2 } }), ctx) as HookError
  t.equal(missing.statusCode, 422)
  t.match(missing.message, /template/)
  const labels = handleSync(
    handler,
    syncRequest({ ...example, spec: { replicas: 2, template: { metadata: { labels: { 'app.kubernetes.io/name': 'x' } }, spec: {} } } }),
    ctx,
  )
  t.notOk(isHookError(labels) && false)
})

t.test('template metadata reaches the pods without overriding selector labels', async (t) => {
  const r = sync({
    ...example,
    spec: { replicas: 2, template: { metadata: { labels: { team: 'research' }, annotations: { note: 'x' } }, spec: { monerod: { args: ['--regtest'] } } } },
  })
  const sts = r.children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet
  t.equal(sts.spec!.template.metadata!.labels!.team, 'research')
  t.equal(sts.spec!.template.metadata!.annotations!.note, 'x')
  t.equal(sts.spec!.template.metadata!.labels!['app.kubernetes.io/part-of'], 'moneronetwork')
})

t.test("init-node is a native sidecar that keeps monerod's peer addresses current", async (t) => {
  for (const [flag, port] of [
    ['--regtest', 18080],
    ['--testnet', 28080],
    ['--stagenet', 38080],
    ['--mainnet', 18080],
  ] as const) {
    const r = sync(withReplicas(3, flag === '--mainnet' ? [] : [flag]))
    const pod = (r.children.find((c) => c.kind === 'StatefulSet') as unknown as V1StatefulSet).spec!.template.spec!
    t.same(
      pod.initContainers!.map((c) => c.name),
      ['init-node'],
      `${flag}: one init container`,
    )
    const init = pod.initContainers![0]!
    // exactly what the image runs: entrypoint node, workdir /app
    t.same(init.command, undefined, 'the image entrypoint (node) runs it')
    t.same(init.args, [
      'dist/hooks/cli.js',
      'init-node',
      '--out',
      '/run/monerod/monerod.conf',
      '--include',
      '/etc/monero-operator/peers/peers.conf',
      '--wait-peers',
      '--watch',
    ])
    t.equal(init.restartPolicy, 'Always', 'a sidecar: it keeps running beside monerod (Kubernetes >= 1.29)')
    // sent exactly as the apiserver stores it (the command list has no merge key)
    t.same(init.startupProbe, { exec: { command: ['test', '-s', '/run/monerod/monerod.conf'] }, periodSeconds: 1, failureThreshold: 600 })
    t.notOk(init.livenessProbe || init.readinessProbe)
    t.same(init.resources, { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } })
    t.same(init.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true })
    t.same(init.volumeMounts, [
      { name: 'monerod-config', mountPath: '/run/monerod' },
      { name: 'peers', mountPath: '/etc/monero-operator/peers', readOnly: true },
    ])
    t.same(
      pod.volumes!.filter((v) => v.name === 'monerod-config' || v.name === 'peers'),
      [
        { name: 'monerod-config', emptyDir: { sizeLimit: '16Mi' } },
        { name: 'peers', configMap: { name: 'regtest-peer-peers' } },
      ],
    )
    const monerod = pod.containers.find((c) => c.name === 'monerod')!
    t.ok(monerod.args!.includes('--config-file=/run/monerod/monerod.conf'), `${flag}: monerod reads the file init-node keeps`)
    t.same(
      monerod.volumeMounts!.find((m) => m.name === 'monerod-config'),
      { name: 'monerod-config', mountPath: '/run/monerod', readOnly: true },
      'monerod cannot write it',
    )
    t.notOk(
      monerod.args!.some((a) => a.includes('regtest-peer-')),
      "no peer name in monerod's args",
    )
    // the ConfigMap stays the readable list of members (names); init-node writes their addresses
    const cm = r.children.find((c) => c.kind === 'ConfigMap') as unknown as V1ConfigMap
    t.match(cm.data!['peers.conf'], new RegExp(`^add-exclusive-node=regtest-peer-2:${port}$`, 'm'))
  }
})
