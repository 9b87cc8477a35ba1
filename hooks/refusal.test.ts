// A spec the apiserver accepts but the hook refuses: the answer keeps every observed child
// exactly as Metacontroller last applied it and shows the reason as the Synced=False
// condition; a 4xx only when a child cannot be reproduced, or for a malformed request.
import t from 'tap'
import { DEFAULT_CONFIG } from './config.js'
import { findHandler, handleSync, isHookError, LAST_APPLIED_ANNOTATION, refusalReason, type HookError } from './handlers.js'
import type { KubeObject, SyncResponse } from './metacontroller.js'
import { SpecError } from './rules.js'
import { buildServer } from './server.js'
import { applyDesired, goJson, toJson } from '../e2e/metacontroller/apply.js'
import { asStored, loadExample, syncRequest } from './testing/requests.js'

type Condition = { type: string; status: string; reason: string; message: string; lastTransitionTime: string; observedGeneration?: number }

const NOW = '2026-11-26T12:00:00Z'
const ctx = { config: DEFAULT_CONFIG, now: NOW }
const nodeSet = findHandler('MoneroNodeSet')!
const example = asStored(loadExample('moneronodeset.yaml'))
const withArgs = (parent: KubeObject, args: string[], generation = 2): KubeObject => ({
  ...parent,
  metadata: { ...parent.metadata, generation },
  spec: { ...(parent.spec as object), monerod: { ...(parent.spec as { monerod: object }).monerod, args } },
})

/** A child as the apiserver stores it after Metacontroller created it from `desired`. */
function stored(desired: KubeObject, i: number): KubeObject {
  const out = structuredClone(desired)
  out.metadata = {
    ...out.metadata,
    namespace: 'default',
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    resourceVersion: String(100 + i),
    creationTimestamp: '2026-11-26T10:00:00Z',
    annotations: { ...(desired.metadata.annotations ?? {}), [LAST_APPLIED_ANNOTATION]: goJson(toJson(desired)) },
    ownerReferences: [
      { apiVersion: 'utxo.com.br/v1alpha1', kind: 'MoneroNodeSet', name: 'nodes', uid: example.metadata.uid, controller: true, blockOwnerDeletion: true },
    ],
  }
  if (desired.kind === 'StatefulSet') {
    out.metadata.generation = 1
    out.status = { observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3, currentRevision: 'r1', updateRevision: 'r1' }
  }
  if (desired.kind === 'Service') (out.spec as Record<string, unknown>).clusterIP ??= `10.0.0.${i}`
  return out
}

const accepted = handleSync(nodeSet, syncRequest(example), ctx) as SyncResponse
const observed = accepted.children.map(stored)
const runningStatus = (handleSync(nodeSet, syncRequest({ ...example, status: accepted.status }, observed), ctx) as SyncResponse).status
const running = { ...example, status: runningStatus }
const conditionsOf = (r: SyncResponse) => r.status.conditions as Condition[]
const synced = (r: SyncResponse) => conditionsOf(r).find((c) => c.type === 'Synced')!

t.test('an accepted spec reports Synced=True', async (t) => {
  t.match(synced(accepted), { status: 'True', reason: 'SpecAccepted', observedGeneration: 1 })
  t.match(
    conditionsOf({ status: runningStatus, children: [] }).map((c) => [c.type, c.status]),
    [
      ['Ready', 'True'],
      ['Progressing', 'False'],
      ['Degraded', 'False'],
      ['Synced', 'True'],
    ],
  )
})

t.test('a refused edit of a running set: every child as last applied, byte for byte; the reason in status', async (t) => {
  const r = handleSync(nodeSet, syncRequest(withArgs(running, ['--test']), observed), { ...ctx, now: '2026-11-26T13:00:00Z' })
  if (isHookError(r)) throw new Error(`refused with ${r.statusCode}: ${r.message}`)
  t.equal(r.children.length, observed.length, 'as many children as observed')
  for (const child of observed) {
    const text = child.metadata.annotations![LAST_APPLIED_ANNOTATION]!
    const answer = r.children.find((c) => c.kind === child.kind && c.metadata.name === child.metadata.name)
    t.ok(answer, `${child.kind}/${child.metadata.name} answered`)
    t.equal(JSON.stringify(answer), text, `${child.kind}/${child.metadata.name}: the annotation, byte for byte`)
    t.equal(applyDesired(child, answer!).changed, false, `${child.kind}/${child.metadata.name}: Metacontroller's merge changes nothing`)
  }
  // the check can fail: the accepted answer of another spec does change the StatefulSet
  const other = handleSync(nodeSet, syncRequest(withArgs(running, ['--out-peers=8']), observed), ctx) as SyncResponse
  const sts = observed.find((c) => c.kind === 'StatefulSet')!
  t.equal(applyDesired(sts, other.children.find((c) => c.kind === 'StatefulSet')!).changed, true, 'an accepted change is an update')

  t.match(synced(r), {
    type: 'Synced',
    status: 'False',
    reason: 'InvalidSpec',
    message: /^spec\.monerod\.args\[0\]: .*ambiguous/,
    lastTransitionTime: '2026-11-26T13:00:00Z',
    observedGeneration: 2,
  })
  t.match(r.status, { replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3, selector: runningStatus.selector })
  const others = conditionsOf(r).filter((c) => c.type !== 'Synced')
  t.same(
    others.map((c) => [c.type, c.status, c.lastTransitionTime]),
    conditionsOf({ status: runningStatus, children: [] })
      .filter((c) => c.type !== 'Synced')
      .map((c) => [c.type, c.status, c.lastTransitionTime]),
    'the workload keeps running: Ready/Progressing/Degraded unchanged',
  )
})

t.test('deterministic: the same refusal again gives byte-identical status; the time moves only on a flip', async (t) => {
  const refused = withArgs(running, ['--test'])
  const first = handleSync(nodeSet, syncRequest(refused, observed), { ...ctx, now: '2026-11-26T13:00:00Z' }) as SyncResponse
  const again = handleSync(nodeSet, syncRequest({ ...refused, status: first.status }, observed), { ...ctx, now: '2026-11-26T14:00:00Z' }) as SyncResponse
  const third = handleSync(nodeSet, syncRequest({ ...refused, status: again.status }, observed), { ...ctx, now: '2026-11-26T15:00:00Z' }) as SyncResponse
  t.equal(JSON.stringify(again), JSON.stringify(third), 'byte-identical answer')
  t.equal(JSON.stringify(first.status), JSON.stringify(again.status), 'a refusal that stays does not rewrite status')
  t.equal(JSON.stringify(first.children), JSON.stringify(again.children))
  // fixed: Synced flips back to True with a new time
  const fixed = handleSync(
    nodeSet,
    syncRequest({ ...withArgs(running, (example.spec as { monerod: { args: string[] } }).monerod.args, 3), status: again.status }, observed),
    { ...ctx, now: '2026-11-26T16:00:00Z' },
  ) as SyncResponse
  t.match(synced(fixed), { status: 'True', lastTransitionTime: '2026-11-26T16:00:00Z', observedGeneration: 3 })
})

t.test('fields only a sync can compute keep their value (children unchanged); the network too', async (t) => {
  const network = findHandler('MoneroNetwork')!
  const net = asStored(loadExample('moneronetwork-regtest.yaml'))
  const ok = handleSync(network, syncRequest(net), ctx) as SyncResponse
  const kids = ok.children.map(stored)
  const parent: KubeObject = { ...net, status: ok.status, metadata: { ...net.metadata, generation: 2 } }
  const spec = parent.spec as { template: { spec: Record<string, unknown> } }
  const bad = {
    ...parent,
    spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, monerod: { args: ['--regtest', '--data-dir=/x'] } } } },
  }
  const r = handleSync(network, syncRequest(bad, kids), ctx) as SyncResponse
  t.equal(r.children.length, kids.length)
  t.equal(r.status.nettype, ok.status.nettype)
  t.same(r.status.peers, ok.status.peers)
  t.match(synced(r), { status: 'False', reason: 'InvalidSpec', message: /spec\.template\.spec\.monerod\.args\[1\]: --data-dir cannot be set/ })
})

t.test('a new resource with a refused spec: 200, no children, the reason in status', async (t) => {
  const r = handleSync(nodeSet, syncRequest(withArgs(example, ['--test'], 1)), ctx)
  if (isHookError(r)) throw new Error(r.message)
  t.same(r.children, [])
  t.same(
    conditionsOf(r).map((c) => [c.type, c.status, c.reason]),
    [
      ['Ready', 'False', 'SpecRefused'],
      ['Progressing', 'False', 'SpecRefused'],
      ['Degraded', 'False', 'SpecRefused'],
      ['Synced', 'False', 'InvalidSpec'],
    ],
  )
  t.match(r.status, { replicas: 0, readyReplicas: 0 })
  t.notOk('selector' in r.status, 'no workload, no previous selector: none invented')
})

t.test('any observed child without a usable last-applied annotation: the 422 of before, never fewer children', async (t) => {
  const refused = withArgs(running, ['--test'])
  const strip = (c: KubeObject): KubeObject => ({ ...c, metadata: { ...c.metadata, annotations: {} } })
  const set = (c: KubeObject, text: string): KubeObject => ({ ...c, metadata: { ...c.metadata, annotations: { [LAST_APPLIED_ANNOTATION]: text } } })
  const other = (c: KubeObject): KubeObject =>
    set(c, JSON.stringify({ ...JSON.parse(c.metadata.annotations![LAST_APPLIED_ANNOTATION]!), metadata: { name: 'someone-else' } }))
  const cases: [string, (c: KubeObject) => KubeObject][] = [
    ['no annotation (server-side apply)', strip],
    ['not JSON', (c) => set(c, '{"apiVersion":')],
    ['not an object', (c) => set(c, '[1]')],
    ['another object', other],
    ['empty', (c) => set(c, '')],
  ]
  for (const [name, spoil] of cases) {
    for (const kind of ['StatefulSet', 'PodDisruptionBudget']) {
      const kids = observed.map((c) => (c.kind === kind ? spoil(c) : c))
      const r = handleSync(nodeSet, syncRequest(refused, kids), ctx) as HookError
      t.ok(isHookError(r), `${name} on the ${kind}: a 4xx`)
      t.equal(r.statusCode, 422)
      t.match(r.fields, [{ field: 'spec.monerod.args[0]', message: /ambiguous/ }])
    }
  }
  // an accepted spec does not need the annotation
  t.notOk(isHookError(handleSync(nodeSet, syncRequest(running, observed.map(strip)), ctx)))
})

t.test('reasons: key seed, keys Secret, anything else', async (t) => {
  const tor = (extra: Record<string, unknown> = {}) => ({ ...example, spec: { ...(example.spec as object), replicas: 1, tor: { enabled: true, ...extra } } })
  const noSeed = handleSync(nodeSet, syncRequest(tor()), { config: { ...DEFAULT_CONFIG, keySeed: undefined }, now: NOW }) as SyncResponse
  t.match(synced(noSeed), { status: 'False', reason: 'KeySeedMissing', message: /^spec\.tor: no tor keys for replica 0: the hook server has no key seed/ })
  const noSecret = handleSync(nodeSet, syncRequest(tor({ keysSecretName: 'mine' })), ctx) as SyncResponse
  t.match(synced(noSecret), { status: 'False', reason: 'KeysSecretInvalid', message: /^spec\.tor\.keysSecretName: Secret mine not found in namespace default/ })
  const incomplete = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mine', namespace: 'default' }, data: {} }
  const req = { ...syncRequest(tor({ keysSecretName: 'mine' })), related: { 'Secret.v1': { 'default/mine': incomplete } } }
  t.match(synced(handleSync(nodeSet, req, ctx) as SyncResponse), { reason: 'KeysSecretInvalid', message: /has no entry "0\.hs_ed25519_secret_key"/ })
  t.equal(refusalReason(new SpecError('spec.template.spec.i2p.keysSecretName', 'x')), 'KeysSecretInvalid')
  t.equal(refusalReason(new SpecError('spec.template.spec.i2p', 'no i2p keys for replica 0: the hook server has no key seed.')), 'KeySeedMissing')
  t.equal(refusalReason(new SpecError('spec.tor', 'something else')), 'InvalidSpec')
  const schema = handleSync(nodeSet, syncRequest({ ...example, spec: { replicas: 'three' } }), ctx) as SyncResponse
  t.match(synced(schema), { reason: 'InvalidSpec', message: /spec\.replicas/ })
  const long = handleSync(nodeSet, syncRequest(asStored({ ...example, metadata: { name: 'n'.repeat(41) } })), ctx) as SyncResponse
  t.match(synced(long), { reason: 'InvalidSpec', message: /^metadata\.name: at most 40 characters/ })
})

t.test('through the server: 200 for a refusal, 4xx for a malformed request', async (t) => {
  const app = buildServer({ processMetrics: false, now: () => new Date(NOW) })
  t.teardown(() => app.close())
  const post = (payload: string) => app.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', headers: { 'content-type': 'application/json' }, payload })
  const refusal = await post(JSON.stringify(syncRequest(withArgs(running, ['--test']), observed)))
  t.equal(refusal.statusCode, 200)
  const body = refusal.json() as SyncResponse
  t.same(Object.keys(body).sort(), ['children', 'status'])
  t.same(body.children.map((c) => JSON.stringify(c)).sort(), observed.map((c) => c.metadata.annotations![LAST_APPLIED_ANNOTATION]).sort())
  t.match(synced(body), { status: 'False', reason: 'InvalidSpec' })
  t.equal((await post('{"parent": ')).statusCode, 400, 'bad JSON')
  t.equal((await post(JSON.stringify({ children: {} }))).statusCode, 400, 'no parent')
  t.equal((await post(JSON.stringify(syncRequest({ ...withArgs(running, ['--test']), kind: 'MoneroNetwork' }, observed)))).statusCode, 400, 'wrong kind')
})

t.test("a refused spec keeps PodsScheduled: the scheduler's reason stays on the resource while the spec is fixed", async (t) => {
  const sts = observed.find((c) => c.kind === 'StatefulSet')!
  const podLabels = (sts.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels
  const pending = "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules."
  const pod = (i: number, scheduled: boolean): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${sts.metadata.name}-${i}`, namespace: 'default', labels: { ...podLabels, 'apps.kubernetes.io/pod-index': String(i) } },
    status: {
      phase: scheduled ? 'Running' : 'Pending',
      conditions: [scheduled ? { type: 'PodScheduled', status: 'True' } : { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: pending }],
    },
  })
  const pods = [pod(0, true), pod(1, false), pod(2, false)]
  const withPods = (parent: KubeObject) => {
    const request = syncRequest(parent, observed)
    request.related = { 'Pod.v1': Object.fromEntries(pods.map((p) => [`default/${p.metadata.name}`, p])) }
    return request
  }
  const before = handleSync(nodeSet, withPods(running), ctx) as SyncResponse
  const scheduledBefore = conditionsOf(before).find((c) => c.type === 'PodsScheduled')
  t.match(scheduledBefore, { status: 'False', reason: 'Unschedulable' }, 'the accepted spec reports it')
  const refused = handleSync(nodeSet, withPods(withArgs({ ...running, status: before.status }, ['--test'])), { ...ctx, now: '2026-11-26T13:00:00Z' })
  if (isHookError(refused)) throw new Error(refused.message)
  t.match(synced(refused), { status: 'False', reason: 'InvalidSpec' })
  t.same(
    conditionsOf(refused).find((c) => c.type === 'PodsScheduled'),
    { ...scheduledBefore, observedGeneration: 2 },
    'the same condition, its transition time kept',
  )
  const none = handleSync(nodeSet, syncRequest(withArgs(running, ['--test']), observed), ctx) as SyncResponse
  t.equal(
    conditionsOf(none).find((c) => c.type === 'PodsScheduled'),
    undefined,
    'no Pods in the request: no condition rather than a guess',
  )
})
