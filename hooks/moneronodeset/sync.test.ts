import t from 'tap'
import fc from 'fast-check'
import type { V1Container, V1PodDisruptionBudget, V1Service, V1StatefulSet } from '@kubernetes/client-node'
import { DEFAULT_CONFIG } from '../config.js'
import { findHandler, handleSync, isHookError, syncOrError, type HookError } from '../handlers.js'
import type { KubeObject, SyncResponse } from '../metacontroller.js'
import { asStored, loadExample, observedStatefulSet, syncRequest } from '../testing/requests.js'
import { validateKubeObject } from '../testing/kube-schemas.js'

const handler = findHandler('MoneroNodeSet')!
const ctx = { config: DEFAULT_CONFIG, now: '2026-11-26T12:00:00Z' }
const example = asStored(loadExample('moneronodeset.yaml'))

function sync(parent: KubeObject, observed: KubeObject[] = []): SyncResponse {
  const r = handleSync(handler, syncRequest(parent, observed), ctx)
  if (isHookError(r)) throw new Error(r.message)
  return r
}
const find = <T>(r: SyncResponse, kind: string, name?: string) =>
  r.children.find((c) => c.kind === kind && (name === undefined || c.metadata.name === name)) as unknown as T
const monerodOf = (sts: V1StatefulSet) => sts.spec!.template.spec!.containers.find((c) => c.name === 'monerod') as V1Container
const withSpec = (spec: Record<string, unknown>, base = example): KubeObject => ({ ...base, spec: { ...(base.spec as object), ...spec } })

t.test('the proposal example renders to three HA monerod replicas', async (t) => {
  const r = sync(example)
  t.same(r.children.map((c) => `${c.kind}/${c.metadata.name}`).sort(), [
    'PodDisruptionBudget/nodes-monerod',
    'Service/nodes-monerod',
    'Service/nodes-monerod-headless',
    'StatefulSet/nodes-monerod',
  ])
  for (const child of r.children) validateKubeObject(child)
  const sts = find<V1StatefulSet>(r, 'StatefulSet')
  t.equal(sts.spec!.replicas, 3)
  t.equal(sts.spec!.serviceName, 'nodes-monerod-headless')
  t.equal(sts.spec!.podManagementPolicy, 'Parallel')
  t.same(sts.spec!.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' })
  t.same(
    sts.spec!.selector.matchLabels,
    sts.spec!.template.metadata!.labels && {
      'app.kubernetes.io/name': 'monerod',
      'app.kubernetes.io/instance': 'nodes',
      'app.kubernetes.io/part-of': 'moneronodeset',
    },
  )
  for (const [k, v] of Object.entries(sts.spec!.selector.matchLabels!)) t.equal(sts.spec!.template.metadata!.labels![k], v, `pod label ${k}`)
  const claim = sts.spec!.volumeClaimTemplates![0]!
  t.equal(claim.metadata!.name, 'data')
  t.equal(claim.spec!.resources!.requests!.storage, '300Gi')
  t.same(claim.spec!.accessModes, ['ReadWriteOnce'])

  const monerod = monerodOf(sts)
  t.equal(monerod.image, 'utxobr/monerod:v0.17.2.0')
  t.same(monerod.command, ['monerod'])
  const args = monerod.args!
  for (const a of [
    '--non-interactive',
    '--data-dir=/data',
    '--p2p-bind-ip=0.0.0.0',
    '--p2p-bind-port=18080',
    '--rpc-bind-ip=127.0.0.1',
    '--rpc-restricted-bind-ip=0.0.0.0',
    '--rpc-restricted-bind-port=18089',
    '--no-igd',
    '--public-node',
    '--enable-dns-blocklist',
    '--enforce-dns-checkpointing',
    '--out-peers=1024',
    '--in-peers=1024',
    '--limit-rate=128000',
  ]) {
    t.ok(args.includes(a), `args include ${a}`)
  }
  t.notOk(args.includes('--confirm-external-bind'), 'unrestricted RPC never leaves the pod')
  t.ok(args.indexOf('--public-node') > args.indexOf('--no-igd'), 'user args follow the defaults')
  t.same(monerod.volumeMounts!.find((m) => m.name === 'data')!.mountPath, '/data')
  t.same(
    monerod.ports!.map((p) => [p.name, p.containerPort]),
    [
      ['p2p', 18080],
      ['rpc-restricted', 18089],
    ],
  )
  t.equal(monerod.startupProbe!.httpGet!.port, 'rpc-restricted')
  t.ok(monerod.startupProbe!.failureThreshold! * monerod.startupProbe!.periodSeconds! >= 3600, 'startup budget >= 1h')
  t.equal(monerod.readinessProbe!.httpGet!.path, '/get_height')

  const pod = sts.spec!.template.spec!
  t.equal(pod.terminationGracePeriodSeconds, 600)
  t.same(pod.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution, [
    {
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: { matchLabels: { ...sts.spec!.selector.matchLabels, 'utxo.com.br/anti-affinity': 'required' } },
    },
  ])
  t.equal(sts.spec!.template.metadata!.labels!['utxo.com.br/anti-affinity'], 'required', 'the pods carry the label their required term selects')
  t.notOk(pod.affinity!.podAntiAffinity!.preferredDuringSchedulingIgnoredDuringExecution)

  const pdb = find<V1PodDisruptionBudget>(r, 'PodDisruptionBudget')
  t.equal(pdb.spec!.maxUnavailable, 1)
  const headless = find<V1Service>(r, 'Service', 'nodes-monerod-headless')
  t.equal(headless.spec!.clusterIP, 'None')
  t.equal(headless.spec!.publishNotReadyAddresses, true)
  const client = find<V1Service>(r, 'Service', 'nodes-monerod')
  t.equal(client.spec!.type, 'ClusterIP')
  t.same(
    client.spec!.ports!.map((p) => p.port),
    [18080, 18089, 9533],
    'no unrestricted RPC port on any Service',
  )
})

t.test('pods pass the restricted Pod Security Standard by default', async (t) => {
  const pod = find<V1StatefulSet>(sync(example), 'StatefulSet').spec!.template.spec!
  t.equal(pod.securityContext!.runAsNonRoot, true)
  t.equal(pod.securityContext!.runAsUser, 1000)
  t.equal(pod.securityContext!.fsGroup, 1000)
  t.same(pod.securityContext!.seccompProfile, { type: 'RuntimeDefault' })
  t.equal(pod.automountServiceAccountToken, false)
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
    t.equal(c.securityContext!.allowPrivilegeEscalation, false, `${c.name}: no privilege escalation`)
    t.same(c.securityContext!.capabilities!.drop, ['ALL'], `${c.name}: drops all capabilities`)
    t.equal(c.securityContext!.readOnlyRootFilesystem, true, `${c.name}: read-only root`)
    t.notOk(c.securityContext!.privileged, `${c.name}: not privileged`)
  }
})

t.test('allowRoot opts out per resource', async (t) => {
  const pod = find<V1StatefulSet>(sync(withSpec({ podSecurity: { allowRoot: true } })), 'StatefulSet').spec!.template.spec!
  t.notOk(pod.securityContext!.runAsNonRoot)
  t.notOk(pod.securityContext!.runAsUser)
  t.notOk(pod.containers[0]!.securityContext!.runAsNonRoot)
})

t.test('soft anti-affinity, single replica, service options, nettype ports', async (t) => {
  const r = sync(
    withSpec({
      replicas: 1,
      hardAntiAffinity: false,
      monerod: { args: ['--stagenet', '--prune-blockchain'] },
      service: { type: 'LoadBalancer', p2p: true, restrictedRpc: false, annotations: { a: 'b' }, loadBalancerSourceRanges: ['10.0.0.0/8'] },
      storage: { size: '100Gi', storageClassName: 'fast', retention: { whenDeleted: 'Delete', whenScaled: 'Retain' } },
      nodeSelector: { disk: 'ssd' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'monero', effect: 'NoSchedule' }],
      priorityClassName: 'high',
      imagePullSecrets: [{ name: 'regcred' }],
    }),
  )
  for (const child of r.children) validateKubeObject(child)
  t.notOk(find(r, 'PodDisruptionBudget'), 'no PDB for a single replica')
  const sts = find<V1StatefulSet>(r, 'StatefulSet')
  const pod = sts.spec!.template.spec!
  t.same(pod.affinity!.podAntiAffinity!.preferredDuringSchedulingIgnoredDuringExecution, [
    { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: sts.spec!.selector.matchLabels } } },
  ])
  t.notOk(pod.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution)
  t.notOk(sts.spec!.template.metadata!.labels!['utxo.com.br/anti-affinity'], 'soft: no marker label, so pods of a hard revision do not repel these')
  t.same(pod.nodeSelector, { disk: 'ssd' })
  t.equal(pod.tolerations![0]!.key, 'dedicated')
  t.equal(pod.priorityClassName, 'high')
  t.same(pod.imagePullSecrets, [{ name: 'regcred' }])
  const monerod = monerodOf(sts)
  t.ok(monerod.args!.includes('--p2p-bind-port=38080'))
  t.ok(monerod.args!.includes('--rpc-restricted-bind-port=38089'))
  t.ok(monerod.args!.includes('--rpc-bind-port=38081'))
  t.same(sts.spec!.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Delete', whenScaled: 'Retain' })
  t.equal(sts.spec!.volumeClaimTemplates![0]!.spec!.storageClassName, 'fast')
  const client = find<V1Service>(r, 'Service', 'nodes-monerod')
  t.equal(client.spec!.type, 'LoadBalancer')
  t.same(
    client.spec!.ports!.map((p) => p.port),
    [38080, 9533],
  )
  t.same(client.metadata!.annotations, { a: 'b' })
  t.same(client.spec!.loadBalancerSourceRanges, ['10.0.0.0/8'])
})

t.test('--rpc-login switches probes to TCP (an HTTP probe would get 401)', async (t) => {
  const sts = find<V1StatefulSet>(sync(withSpec({ monerod: { args: ['--rpc-login=u:p'] } })), 'StatefulSet')
  const monerod = monerodOf(sts)
  t.ok(monerod.readinessProbe!.tcpSocket)
  t.notOk(monerod.readinessProbe!.httpGet)
})

t.test('contract-breaking and malformed args are rejected with the field', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--data-dir=/elsewhere'], /spec\.monerod\.args\[0\]: --data-dir cannot be set/],
    [['--public', '--rpc-bind-ip', '0.0.0.0'], /spec\.monerod\.args\[1\]: --rpc-bind-ip cannot be set/],
    [['--confirm-external-bind'], /--confirm-external-bind cannot be set/],
    [['--test'], /ambiguous/],
    [['--out-peers=1', '--out-peers=2'], /more than once/],
    [['--testnet', '--stagenet'], /choose one network/],
    [['regtest'], /not a long option/],
  ]
  for (const [args, message] of cases) {
    const r = syncOrError(handler, syncRequest(withSpec({ monerod: { args } })), ctx) as HookError
    t.equal(r.statusCode, 422, args.join(' '))
    t.match(r.message, message, args.join(' '))
  }
})

const readySts = (r: SyncResponse, over: Record<string, unknown> = {}) =>
  observedStatefulSet(find(r, 'StatefulSet'), {
    observedGeneration: 1,
    replicas: 3,
    readyReplicas: 3,
    updatedReplicas: 3,
    availableReplicas: 3,
    currentRevision: 'a',
    updateRevision: 'a',
    ...over,
  })

t.test('status follows observed children; conditions keep their time unless they flip', async (t) => {
  const first = sync(example)
  t.equal((first.status.conditions as { type: string; status: string }[])[0]!.status, 'False')
  t.equal(first.status.selector, 'app.kubernetes.io/instance=nodes,app.kubernetes.io/name=monerod,app.kubernetes.io/part-of=moneronodeset')

  const parentWithStatus = { ...example, status: first.status }
  const ready = sync(parentWithStatus, [readySts(first)])
  const conds = ready.status.conditions as { type: string; status: string; reason: string; lastTransitionTime: string }[]
  t.same(
    conds.map((c) => [c.type, c.status]),
    [
      ['Ready', 'True'],
      ['Progressing', 'False'],
      ['Degraded', 'False'],
      ['Synced', 'True'],
    ],
  )
  t.equal(ready.status.readyReplicas, 3)

  // the same request again, one hour later: byte-identical status
  const later = handleSync(handler, syncRequest({ ...example, status: ready.status }, [readySts(first)]), {
    ...ctx,
    now: '2026-11-26T13:00:00Z',
  }) as SyncResponse
  const again = handleSync(handler, syncRequest({ ...example, status: ready.status }, [readySts(first)]), {
    ...ctx,
    now: '2026-11-26T14:00:00Z',
  }) as SyncResponse
  t.equal(JSON.stringify(later.status), JSON.stringify(again.status))
  t.equal(JSON.stringify(later.status), JSON.stringify(ready.status), 'a settled status does not change')

  // a replica loses readiness after the set was ready: Degraded
  const lost = handleSync(handler, syncRequest({ ...example, status: ready.status }, [readySts(first, { readyReplicas: 2 })]), {
    ...ctx,
    now: '2026-11-26T15:00:00Z',
  }) as SyncResponse
  const lc = lost.status.conditions as { type: string; status: string; lastTransitionTime: string }[]
  t.same(
    lc.map((c) => [c.type, c.status]),
    [
      ['Ready', 'False'],
      ['Progressing', 'True'],
      ['Degraded', 'True'],
      ['Synced', 'True'],
    ],
  )
  t.equal(lc[0]!.lastTransitionTime, '2026-11-26T15:00:00Z', 'Ready flipped: new time')

  // a rollout in progress is Progressing, not Degraded
  const rolling = sync({ ...example, status: ready.status }, [readySts(first, { updatedReplicas: 1, updateRevision: 'b' })])
  const rc = rolling.status.conditions as { type: string; status: string; reason: string }[]
  t.same(
    rc.map((c) => [c.type, c.status, c.reason]),
    [
      ['Ready', 'False', 'ReplicasNotReady'],
      ['Progressing', 'True', 'RollingUpdate'],
      ['Degraded', 'False', 'RolloutInProgress'],
      ['Synced', 'True', 'SpecAccepted'],
    ],
  )
})

t.test('v1 and v2 children keys give the same answer', async (t) => {
  const first = sync(example)
  const observed = [readySts(first), ...first.children.filter((c) => c.kind !== 'StatefulSet')]
  const v1 = handleSync(handler, syncRequest(example, observed, 'v1'), ctx)
  const v2 = handleSync(handler, syncRequest(example, observed, 'v2'), ctx)
  t.equal(JSON.stringify(v1), JSON.stringify(v2))
})

t.test('property: valid specs always yield the full child set, deterministically', async (t) => {
  const spec = fc.record(
    {
      replicas: fc.integer({ min: 0, max: 1000 }),
      hardAntiAffinity: fc.boolean(),
      monerod: fc.record(
        {
          args: fc.subarray(['--prune-blockchain', '--public', '--out-peers=64', '--in-peers', '32', '--stagenet', '--enable-dns-blocklist']),
          image: fc.constantFrom('utxobr/monerod:v0.17.2.0', 'ghcr.io/sethforprivacy/simple-monerod:v0.18.4.4'),
        },
        { requiredKeys: [] },
      ),
      service: fc.record(
        { type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer'), p2p: fc.constant(true), restrictedRpc: fc.boolean() },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  )
  fc.assert(
    fc.property(spec, (s) => {
      // --in-peers needs its value: keep the pair together
      const args = s.monerod?.args
      if (args && args.includes('--in-peers') !== args.includes('32')) return true
      if (args?.includes('32') && args.indexOf('32') !== args.indexOf('--in-peers') + 1) return true
      const parent = { ...example, spec: s as Record<string, unknown> }
      const a = handleSync(handler, syncRequest(parent), ctx)
      const b = handleSync(handler, syncRequest(parent), ctx)
      if (isHookError(a)) throw new Error(`valid spec rejected: ${a.message} ${JSON.stringify(s)}`)
      const kinds = a.children.map((c) => `${c.kind}/${c.metadata.name}`)
      const expected = ['StatefulSet/nodes-monerod', 'Service/nodes-monerod-headless', 'Service/nodes-monerod']
      if ((s.replicas ?? 1) > 1) expected.push('PodDisruptionBudget/nodes-monerod')
      return JSON.stringify(a) === JSON.stringify(b) && JSON.stringify(kinds) === JSON.stringify(expected)
    }),
    { numRuns: 300 },
  )
  t.pass('300 generated specs')
})

t.test('metrics: exporter sidecar on the unrestricted RPC in the pod, metrics port on both Services', async (t) => {
  const r = sync(example)
  const sts = find<V1StatefulSet>(r, 'StatefulSet')
  const exporter = sts.spec!.template.spec!.containers.find((c) => c.name === 'exporter')!
  t.ok(exporter, 'exporter sidecar by default')
  t.same(exporter.args!.slice(0, 4), ['dist/hooks/cli.js', 'exporter', '--monerod', 'http://127.0.0.1:18081'])
  t.same(exporter.ports, [{ name: 'metrics', containerPort: 9533, protocol: 'TCP' }])
  t.equal(exporter.readinessProbe!.httpGet!.path, '/healthz', 'readiness means RPC by default')
  for (const name of ['nodes-monerod', 'nodes-monerod-headless']) {
    t.ok(
      find<V1Service>(r, 'Service', name).spec!.ports!.some((p) => p.name === 'metrics' && p.port === 9533),
      `${name} has the metrics port`,
    )
  }
  t.notOk(find(r, 'PodMonitor'), 'no PodMonitor unless asked')

  const synced = sync(
    withSpec({ metrics: { readiness: 'synchronized', port: 9600, podMonitor: { enabled: true, interval: '15s', labels: { release: 'kps' } } } }),
  )
  const e2 = find<V1StatefulSet>(synced, 'StatefulSet').spec!.template.spec!.containers.find((c) => c.name === 'exporter')!
  t.equal(e2.readinessProbe!.httpGet!.path, '/readyz', 'readiness: synchronized uses the exporter /readyz')
  const pm = find<KubeObject & { spec: Record<string, any> }>(synced, 'PodMonitor')
  t.equal(pm.apiVersion, 'monitoring.coreos.com/v1')
  t.equal(pm.metadata.labels!.release, 'kps')
  t.same(pm.spec.podMetricsEndpoints, [{ port: 'metrics', path: '/metrics', interval: '15s' }])
  t.ok(pm.spec.podTargetLabels.includes('app.kubernetes.io/instance'))

  const login = find<V1StatefulSet>(sync(withSpec({ monerod: { args: ['--rpc-login=mon:p@ss'] } })), 'StatefulSet')
  t.equal(login.spec!.template.spec!.containers.find((c) => c.name === 'exporter')!.args![3], 'http://mon:p%40ss@127.0.0.1:18081')

  const off = sync(withSpec({ metrics: { enabled: false } }))
  t.equal(find<V1StatefulSet>(off, 'StatefulSet').spec!.template.spec!.containers.length, 1)
  t.notOk(find<V1Service>(off, 'Service', 'nodes-monerod').spec!.ports!.some((p) => p.name === 'metrics'))
})

t.test('the CRD rules that look only at the new object are enforced by the hook too', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { monerod: { env: [{ name: 'A', value: '1', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } },
      /spec\.monerod\.env\[0\]: env: set either value or valueFrom/,
    ],
    [
      {
        monerod: {
          env: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
      },
      /spec\.monerod\.env\[1\]: duplicate env name "A"/,
    ],
    [{ service: { p2p: false, restrictedRpc: false } }, /expose at least one of p2p and restrictedRpc/],
    [{ service: { externalTrafficPolicy: 'Local' } }, /externalTrafficPolicy applies only to NodePort and LoadBalancer/],
    [{ service: { type: 'NodePort', loadBalancerSourceRanges: ['10.0.0.0/8'] } }, /loadBalancerSourceRanges applies only to LoadBalancer/],
    [
      { podLabels: { 'app.kubernetes.io/name': 'mine' } },
      /spec\.podLabels\.app\.kubernetes\.io\/name: podLabels: keys under app\.kubernetes\.io\/ and utxo\.com\.br\/ are reserved/,
    ],
    [{ metrics: { enabled: false, podMonitor: { enabled: true } } }, /metrics\.podMonitor needs metrics\.enabled/],
    [{ metrics: { port: 18089 } }, /metrics\.port collides/],
    [{ monerod: { args: ['--restricted-rpc'] } }, /--restricted-rpc cannot be set/],
  ]
  for (const [spec, message] of cases) {
    const r = syncOrError(handler, syncRequest(withSpec(spec)), ctx) as HookError
    t.equal(r.statusCode, 422, JSON.stringify(spec))
    t.match(r.message, message)
  }
  const long = syncOrError(handler, syncRequest(asStored({ ...example, metadata: { name: 'n'.repeat(41) } })), ctx) as HookError
  t.equal(long.statusCode, 422)
  t.match(long.message, /metadata\.name: at most 40 characters/)
})

t.test("status.conditions PodsScheduled carries the scheduler's reason from the set's Pods (related objects)", async (t) => {
  const labels = { 'app.kubernetes.io/name': 'monerod', 'app.kubernetes.io/instance': 'nodes', 'app.kubernetes.io/part-of': 'moneronodeset' }
  const pod = (name: string, scheduled: { status: string; reason?: string; message?: string }, podLabels: Record<string, string> = labels): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: podLabels },
    status: { phase: scheduled.status === 'True' ? 'Running' : 'Pending', conditions: [{ type: 'PodScheduled', ...scheduled }] },
  })
  const anti =
    "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
  const run = (pods: KubeObject[] | undefined) => {
    const request = syncRequest(example, [])
    if (pods) request.related = { 'Pod.v1': Object.fromEntries(pods.map((p) => [`default/${p.metadata.name}`, p])) }
    const r = handleSync(handler, request, ctx)
    if (isHookError(r)) throw new Error(r.message)
    return (r.status as { conditions: { type: string; status: string; reason: string; message: string }[] }).conditions.find((c) => c.type === 'PodsScheduled')
  }
  t.equal(run(undefined), undefined, 'no Pods in the request (no customize hook): no condition rather than a guess')
  t.same(run([]), {
    type: 'PodsScheduled',
    status: 'True',
    reason: 'AllScheduled',
    message: 'every node pod has a node (0)',
    lastTransitionTime: ctx.now,
    observedGeneration: 1,
  })
  const waiting = run([
    pod('nodes-monerod-2', { status: 'False', reason: 'Unschedulable', message: anti }),
    pod('nodes-monerod-0', { status: 'True' }),
    pod('nodes-monerod-1', { status: 'False', reason: 'Unschedulable', message: anti }),
    pod('other-monerod-0', { status: 'False', reason: 'Unschedulable', message: 'not ours' }, { ...labels, 'app.kubernetes.io/instance': 'other' }),
  ])
  t.equal(waiting?.status, 'False')
  t.equal(waiting?.reason, 'Unschedulable')
  t.equal(waiting?.message, `2 of 3 node pods cannot be scheduled: nodes-monerod-1, nodes-monerod-2: ${anti}`, 'grouped by message, sorted, other sets ignored')
  const mixed = run([
    pod('nodes-monerod-0', { status: 'False', reason: 'SchedulerError', message: 'x' }),
    pod('nodes-monerod-1', { status: 'False', reason: 'Unschedulable' }),
  ])
  t.equal(mixed?.reason, 'Unschedulable', 'several reasons: Unschedulable')
  t.equal(mixed?.message, '2 of 2 node pods cannot be scheduled: nodes-monerod-0: x; nodes-monerod-1: not scheduled yet')
  const long = run(
    Array.from({ length: 40 }, (_, i) => pod(`nodes-monerod-${i}`, { status: 'False', reason: 'Unschedulable', message: `${'m'.repeat(200)}${i}` })),
  )
  t.equal(long?.message.length, 4096, 'long messages are cut to 4096 characters')
})
