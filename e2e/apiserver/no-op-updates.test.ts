// Issue 13 §2: no child is updated on an idle resync. For every child of every example and of
// a generated sample of valid resources, on a real kube-apiserver:
//   1. the parent is created (apiserver defaults applied) and synced through handleSync;
//   2. each child is created as Metacontroller creates it (last-applied annotation, controller
//      ownerReference) and read back;
//   3. the parent is synced again with the stored children as observed children (what
//      Metacontroller's next sync sends), and each desired child is merged into the stored one
//      by Metacontroller v4.17.2's update rule (e2e/metacontroller/apply.ts);
//   4. the merge must change nothing: a difference is a PUT ("Updating") on every resync,
//      forever. The failure lists the differing paths. A third sync (with the status the
//      second one computed) must change nothing either.
// One exception, asserted exactly: a MoneroMiningNodeSet's spec.maxUnavailable on an
// apiserver without the MaxUnavailableStatefulSet feature gate (the default). The apiserver
// drops updateStrategy.rollingUpdate.maxUnavailable; the hook sees that on the second sync and
// stops sending it, which is one annotation-only update (no rollout), after which the third
// sync must change nothing and the parent's status must say that the setting is ignored. A
// second control plane with the gate on checks that there the field is kept and nothing is
// updated at all.
// PodMonitor children are skipped: their CRD (Prometheus Operator) is not installed here.
import t from 'tap'
import fc from 'fast-check'
import { handleSync, isHookError, type KindHandler } from '../../hooks/handlers.js'
import type { KubeObject, SyncResponse } from '../../hooks/metacontroller.js'
import { syncRequest } from '../../hooks/testing/requests.js'
import { canonicalQuantity } from '../../hooks/children/quantity.js'
import { QUANTITY_CASES } from '../../hooks/children/quantity-cases.js'
import {
  MAX_UNAVAILABLE_CONDITION,
  MAX_UNAVAILABLE_IGNORED_ANNOTATION,
  MAX_UNAVAILABLE_REQUESTED_ANNOTATION,
} from '../../hooks/monerominingnodeset/max-unavailable.js'
import { LAST_APPLIED_ANNOTATION, applyDesired, defaultNamespace, diffPaths, forCreate, type JsonObject } from '../metacontroller/apply.js'
import { binariesAvailable, setupControlPlane } from './control-plane.js'
import {
  call,
  createObject,
  ensureNamespace,
  exampleObjects,
  handlerForServedKind,
  HOOK_CTX,
  installOurCrds,
  messageOf,
  OUR_API_VERSION,
  pathOf,
  variant,
} from './kube.js'
import type { KubeConfig } from '@kubernetes/client-node'

type Json = Record<string, any>
/** A tap subtest (the last overload of t.test takes only the callback). */
type T = Parameters<Parameters<typeof t.test>[0]>[0]

const SKIPPED_KINDS = new Set(['PodMonitor'])
const examples = exampleObjects().filter((e) => e.object.apiVersion === OUR_API_VERSION)
const example = (kind: string, name: string): KubeObject => {
  const found = examples.find((e) => e.object.kind === kind && e.object.metadata.name === name)
  if (!found) throw new Error(`no ${kind}/${name} in examples/`)
  return found.object
}

// ---------------------------------------------------------------------------------------------
// A generated sample of valid resources: the fields that change what children look like.

const SEED = 1302 // fixed: the sample is the same on every run (a failure names the case)
const quantityCpu = fc.constantFrom<string | number>('1', '500m', '0.5', '1000m', 2, '250m')
// Requests stay below every limit (the apiserver refuses a request above its limit).
const requestMemory = fc.constantFrom('512Mi', '1000Mi', '1.5Gi', '2048Mi')
const limitMemory = fc.constantFrom('3G', '4Gi', '4096Mi', '2.5Gi')
const resources = fc.record(
  { requests: fc.record({ cpu: quantityCpu, memory: requestMemory }, { requiredKeys: [] }), limits: fc.record({ memory: limitMemory }, { requiredKeys: [] }) },
  { requiredKeys: [] },
)
const nettypeArgs = fc.constantFrom<string[]>([], ['--testnet'], ['--stagenet'], ['--regtest', '--fixed-difficulty=1'], ['--prune-blockchain'])
// At least one of p2p / restrictedRpc (the CRD requires it of publish and of service).
const atLeastOne = fc.constantFrom({ p2p: true, restrictedRpc: false }, { p2p: false, restrictedRpc: true }, { p2p: true, restrictedRpc: true })
const anonymity = fc.record({ enabled: fc.boolean(), publish: atLeastOne }, { requiredKeys: ['enabled'] })
const service = fc.oneof(
  fc.tuple(fc.constant('ClusterIP'), atLeastOne).map(([type, exposed]) => ({ type, ...exposed })),
  fc
    .tuple(
      fc.record(
        {
          type: fc.constantFrom('NodePort', 'LoadBalancer'),
          externalTrafficPolicy: fc.constantFrom('Cluster', 'Local'),
          annotations: fc.constant({ 'example.com/lb': 'internal' }),
        },
        { requiredKeys: ['type'] },
      ),
      atLeastOne,
    )
    .map(([svc, exposed]) => ({ ...svc, ...exposed })),
  fc.record({ type: fc.constant('LoadBalancer'), loadBalancerSourceRanges: fc.constant(['10.0.0.0/8', '192.168.0.0/16']) }),
)
const storage = fc.record(
  {
    size: fc.constantFrom('10Gi', '1.5Gi', '2048Mi', '100G', '1Ti'),
    storageClassName: fc.constantFrom('fast', 'standard'),
    retention: fc.record({ whenDeleted: fc.constantFrom('Retain', 'Delete'), whenScaled: fc.constantFrom('Retain', 'Delete') }),
  },
  { requiredKeys: ['size'] },
)
// Empty maps and lists too: the apiserver does not store them.
const scheduling = fc.record(
  {
    hardAntiAffinity: fc.boolean(),
    nodeSelector: fc.constantFrom({ 'kubernetes.io/arch': 'amd64' }, {}),
    tolerations: fc.constantFrom([{ key: 'dedicated', operator: 'Equal', value: 'monero', effect: 'NoSchedule' }], [{ operator: 'Exists' }], []),
    imagePullSecrets: fc.constantFrom([{ name: 'registry' }], []),
    topologySpreadConstraints: fc.constantFrom([{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }], []),
    affinity: fc.constant({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }],
        },
      },
    }),
    priorityClassName: fc.constant('monero'),
    podAnnotations: fc.constantFrom({ 'example.com/team': 'chain' }, {}),
    podLabels: fc.constantFrom({ team: 'chain' }, {}),
  },
  { requiredKeys: [] },
)
const nodeSpec = fc
  .record({
    args: nettypeArgs,
    tor: anonymity,
    i2p: anonymity,
    service,
    storage,
    resources,
    scheduling,
    metrics: fc.record(
      { enabled: fc.boolean(), readiness: fc.constantFrom('rpc', 'synchronized'), podMonitor: fc.boolean() },
      { requiredKeys: ['enabled', 'podMonitor'] },
    ),
    terminationGracePeriodSeconds: fc.option(fc.constantFrom(60, 600), { nil: undefined }),
  })
  .map((g) => {
    const spec: Json = {
      monerod: { args: g.args, resources: g.resources },
      tor: g.tor,
      i2p: g.i2p,
      service: g.service,
      storage: g.storage,
      metrics: { ...g.metrics, podMonitor: { enabled: g.metrics.enabled && g.metrics.podMonitor } },
      ...g.scheduling,
    }
    if (g.terminationGracePeriodSeconds !== undefined) spec.terminationGracePeriodSeconds = g.terminationGracePeriodSeconds
    return spec
  })

const pool = fc.record(
  {
    url: fc.constantFrom('pool.example:443', 'pool.example:3333'),
    user: fc.constant('891B5keCnwXN14hA9FoAzGFtaWmcuLjTDT5aRTp65juBLkbNpEhLNfgcBn6aWdGuBqBnSThqMPsGRjWVQadCrhoAT6CnSL3.node-$(id)'),
    passwordSecretRef: fc.constant({ name: 'pool-login', key: 'password' }),
    tls: fc.boolean(),
    coin: fc.constant('monero'),
  },
  { requiredKeys: ['url', 'user'] },
)
const minerSpec = fc
  .record({
    replicas: fc.integer({ min: 1, max: 5 }),
    maxUnavailable: fc.option(fc.constantFrom<number | string>(2, '25%', '50%'), { nil: undefined }),
    pool: fc.option(pool, { nil: undefined }),
    threads: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    hugePages: fc.oneof(fc.boolean(), fc.constant(1024)), // 1024 pages: 2048Mi, stored as 2Gi
    api: fc.record({ enabled: fc.boolean(), token: fc.boolean() }),
    metrics: fc.boolean(),
    resources: fc.option(resources, { nil: undefined }),
    scheduling,
  })
  .map((g) => {
    const spec: Json = {
      replicas: g.replicas,
      xmrig: g.pool ? { args: ['--keepalive'] } : { args: ['-o', 'pool.example:5555', '-u', 'wallet.node-$(id)', '--tls'] },
      // The CRD requires a token whenever the API is enabled.
      api: { enabled: g.api.enabled, ...(g.api.enabled || g.api.token ? { accessTokenSecretRef: { name: 'xmrig-api', key: 'token' } } : {}) },
      metrics: { enabled: g.metrics, podMonitor: { enabled: false } },
      hugePages: typeof g.hugePages === 'number' ? { enabled: true, pages: g.hugePages } : { enabled: g.hugePages },
      ...g.scheduling,
    }
    if (g.maxUnavailable !== undefined) spec.maxUnavailable = g.maxUnavailable
    if (g.pool) spec.pool = g.pool
    if (g.threads !== undefined) spec.threads = g.threads
    if (g.resources) spec.xmrig.resources = g.resources
    return spec
  })

/** Every example as written, then the generated sample. */
function parents(): { label: string; parent: KubeObject }[] {
  const out = examples.map((e) => ({ label: `${e.file} (${e.object.kind}/${e.object.metadata.name})`, parent: e.object }))
  const nodes = example('MoneroNodeSet', 'nodes')
  const net = example('MoneroNetwork', 'regtest')
  const miners = example('MoneroMiningNodeSet', 'miners')
  fc.sample(fc.tuple(nodeSpec, fc.integer({ min: 0, max: 3 })), { seed: SEED, numRuns: 10 }).forEach(([spec, replicas], i) => {
    out.push({
      label: `generated MoneroNodeSet #${i}: ${JSON.stringify(spec)}`,
      parent: variant(nodes, (o) => {
        o.metadata.name = `gen-nodes-${i}`
        o.spec = { ...spec, replicas }
      }),
    })
  })
  fc.sample(fc.tuple(nodeSpec, fc.integer({ min: 1, max: 4 }), fc.boolean()), { seed: SEED + 1, numRuns: 8 }).forEach(([spec, replicas, meta], i) => {
    out.push({
      label: `generated MoneroNetwork #${i}: ${JSON.stringify(spec)}`,
      parent: variant(net, (o) => {
        o.metadata.name = `gen-net-${i}`
        o.spec = { replicas, template: { ...(meta ? { metadata: { labels: { team: 'qa' }, annotations: { 'example.com/note': 'x' } } } : {}), spec } }
      }),
    })
  })
  // soloMining on (a NetworkPolicy child), a sample of its own so the ones above stay as they were
  const solo = { enabled: true, miners: ['miners', 'lab-rigs'] }
  fc.sample(fc.tuple(nodeSpec, fc.integer({ min: 1, max: 3 })), { seed: SEED + 3, numRuns: 3 }).forEach(([spec, replicas], i) => {
    out.push({
      label: `generated MoneroNodeSet with soloMining #${i}: ${JSON.stringify(spec)}`,
      parent: variant(nodes, (o) => {
        o.metadata.name = `gen-solo-nodes-${i}`
        o.spec = { ...spec, replicas, soloMining: solo }
      }),
    })
    out.push({
      label: `generated MoneroNetwork with soloMining #${i}: ${JSON.stringify(spec)}`,
      parent: variant(net, (o) => {
        o.metadata.name = `gen-solo-net-${i}`
        o.spec = { replicas, template: { spec: { ...spec, soloMining: solo } } }
      }),
    })
  })
  fc.sample(minerSpec, { seed: SEED + 2, numRuns: 10 }).forEach((spec, i) => {
    out.push({
      label: `generated MoneroMiningNodeSet #${i}: ${JSON.stringify(spec)}`,
      parent: variant(miners, (o) => {
        o.metadata.name = `gen-miners-${i}`
        o.spec = spec
      }),
    })
  })
  return out
}

// ---------------------------------------------------------------------------------------------

const keyOf = (o: { kind: string; metadata: { name: string } }): string => `${o.kind}/${o.metadata.name}`

function sync(t: T, handler: KindHandler, parent: KubeObject, observed: KubeObject[]): SyncResponse | undefined {
  const result = handleSync(handler, syncRequest(parent, observed, 'v2', [...handler.childResources]), HOOK_CTX)
  if (isHookError(result)) {
    t.fail(`the hook refuses the parent: ${result.message}`)
    return undefined
  }
  return result
}

async function readBack(kc: KubeConfig, ns: string, child: { apiVersion: string; kind: string; metadata: { name: string } }): Promise<Json | undefined> {
  const res = await call(kc, 'GET', await pathOf(kc, child.apiVersion, child.kind, ns, child.metadata.name))
  return res.status === 200 ? (res.body as Json) : undefined
}

/** What the one-time maxUnavailable update may touch: our two marker annotations and Metacontroller's. */
const MAX_UNAVAILABLE_UPDATE_PATHS = [LAST_APPLIED_ANNOTATION, MAX_UNAVAILABLE_REQUESTED_ANNOTATION, MAX_UNAVAILABLE_IGNORED_ANNOTATION].map(
  (a) => `metadata.annotations["${a}"]`,
)

/**
 * One parent through create -> sync -> create children -> read back -> sync -> merge.
 * Returns the number of children checked.
 */
async function checkParent(t: T, kc: KubeConfig, handler: KindHandler, written: KubeObject, ns: string, gateOn: boolean): Promise<void> {
  await ensureNamespace(kc, ns)
  const created = await createObject(kc, written, ns)
  if (!t.equal(created.status, 201, `the parent is accepted${created.status === 201 ? '' : `: ${messageOf(created)}`}`)) return
  const parent = created.body as KubeObject & { status?: Json }

  const first = sync(t, handler, parent, [])
  if (!first) return
  const desired = first.children.filter((c) => !SKIPPED_KINDS.has(c.kind))
  const skipped = first.children.length - desired.length
  if (skipped > 0) t.comment(`${skipped} PodMonitor child(ren) skipped (no PodMonitor CRD here)`)
  const node = (written.kind === 'MoneroNetwork' ? (written.spec as Json).template.spec : written.spec) as Json | undefined
  if (node?.soloMining?.enabled)
    t.ok(
      desired.some((c) => c.kind === 'NetworkPolicy'),
      'soloMining: a NetworkPolicy child is checked too',
    )

  // Create each child as Metacontroller does, then read it back.
  const live = new Map<string, Json>()
  for (const child of desired) {
    const res = await createObject(kc, forCreate(child, parent) as unknown as KubeObject, ns)
    if (!t.equal(res.status, 201, `create ${keyOf(child)}${res.status === 201 ? '' : `: ${messageOf(res)}`}`)) return
    const stored = await readBack(kc, ns, child)
    if (!t.ok(stored, `${keyOf(child)} reads back`)) return
    live.set(keyOf(child), stored as Json)
  }

  // Metacontroller's next sync: the stored children are observed, the status it wrote is on the parent.
  let round = 2
  let observedParent: KubeObject = { ...parent, status: first.status }
  for (;;) {
    const next = sync(t, handler, observedParent, [...live.values()] as KubeObject[])
    if (!next) return
    const nextDesired = next.children.filter((c) => !SKIPPED_KINDS.has(c.kind))
    t.same(nextDesired.map(keyOf).sort(), desired.map(keyOf).sort(), `sync ${round}: the same children (none added or dropped)`)

    const updates: { key: string; merged: JsonObject; paths: string[] }[] = []
    for (const child of nextDesired) {
      const stored = live.get(keyOf(child))
      if (!stored) continue
      const { merged, changed } = applyDesired(stored, defaultNamespace(child, ns))
      if (changed) updates.push({ key: keyOf(child), merged, paths: diffPaths(stored as JsonObject, merged) })
    }

    // The one allowed update: round 2, miners' StatefulSet, spec.maxUnavailable dropped by a gate-off apiserver.
    const allowed =
      round === 2 &&
      !gateOn &&
      written.kind === 'MoneroMiningNodeSet' &&
      (parent.spec as Json).maxUnavailable !== undefined &&
      updates.length === 1 &&
      updates[0]!.key.startsWith('StatefulSet/') &&
      updates[0]!.paths.every((p) => MAX_UNAVAILABLE_UPDATE_PATHS.some((a) => p.startsWith(`${a}:`)))
    if (!allowed) {
      for (const u of updates)
        t.fail(`sync ${round}: Metacontroller would update ${u.key} on every resync; merged differs from stored at:\n  ${u.paths.join('\n  ')}`)
      if (updates.length > 0) return
      t.pass(`sync ${round}: merging what the hook sends into each of the ${nextDesired.length} stored children changes nothing`)
      // Two idle syncs in a row (the second sees the status the first one wrote).
      if (round < 3) {
        observedParent = { ...parent, status: next.status }
        round++
        continue
      }
      if (written.kind === 'MoneroMiningNodeSet' && (parent.spec as Json).maxUnavailable !== undefined) {
        checkMaxUnavailableOutcome(t, live, next, gateOn)
      }
      return
    }

    // Apply that update as Metacontroller would (PUT), read back, and go round once more.
    const u = updates[0]!
    t.comment(`sync 2: one update of ${u.key}, annotations only: ${u.paths.join('; ')}`)
    const before = live.get(u.key) as Json
    const child = nextDesired.find((c) => keyOf(c) === u.key)!
    const put = await call(kc, 'PUT', await pathOf(kc, child.apiVersion, child.kind, ns, child.metadata.name), u.merged)
    if (!t.equal(put.status, 200, `PUT ${u.key}${put.status === 200 ? '' : `: ${messageOf(put)}`}`)) return
    const after = (await readBack(kc, ns, child)) as Json
    t.equal(after.metadata.generation, before.metadata.generation, `${u.key}: the update changes no spec (generation unchanged, no rollout)`)
    live.set(u.key, after)
    observedParent = { ...parent, status: next.status }
    round++
  }
}

/** After the idle rounds: the field is stored with the gate on; without, it is gone and the status says so. */
function checkMaxUnavailableOutcome(t: T, live: Map<string, Json>, last: SyncResponse, gateOn: boolean): void {
  const sts = [...live.values()].find((o) => o.kind === 'StatefulSet')
  const stored = sts?.spec?.updateStrategy?.rollingUpdate?.maxUnavailable
  const condition = ((last.status.conditions ?? []) as Json[]).find((c) => c.type === MAX_UNAVAILABLE_CONDITION)
  if (gateOn) {
    t.not(stored, undefined, 'gate on: the StatefulSet stores updateStrategy.rollingUpdate.maxUnavailable')
    t.equal(condition?.status, 'False', `gate on: ${MAX_UNAVAILABLE_CONDITION} is False (${JSON.stringify(condition)})`)
  } else {
    t.equal(stored, undefined, 'gate off: the StatefulSet does not store updateStrategy.rollingUpdate.maxUnavailable')
    t.equal(condition?.status, 'True', `gate off: ${MAX_UNAVAILABLE_CONDITION} is True (${JSON.stringify(condition)})`)
    t.match(condition?.message, /MaxUnavailableStatefulSet/, 'the message names the feature gate')
  }
}

if (binariesAvailable(t)) {
  t.test('canonicalQuantity gives the spelling the apiserver stores', async (t) => {
    const cp = await setupControlPlane(t)
    const kc = cp.kubeConfig
    await ensureNamespace(kc, 'quantities')
    // One dry-run Pod, one container per spelling: the answer is the object as it would be stored.
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'quantities' },
      spec: {
        containers: QUANTITY_CASES.map(([q], i) => ({ name: `c${i}`, image: 'x', resources: { requests: { 'ephemeral-storage': q } } })),
      },
    }
    const res = await createObject(kc, pod as unknown as KubeObject, 'quantities', { dryRun: true })
    if (!t.equal(res.status, 201, `dry-run Pod accepted${res.status === 201 ? '' : `: ${messageOf(res)}`}`)) return
    const containers = (res.body as Json).spec.containers as Json[]
    QUANTITY_CASES.forEach(([q, expected], i) => {
      const stored = containers[i]?.resources?.requests?.['ephemeral-storage']
      t.equal(canonicalQuantity(q), stored, `${JSON.stringify(q)} is stored as ${stored}`)
      t.equal(expected, stored, `the table says ${expected}`)
    })
  })

  t.test('no child is updated on an idle resync (default apiserver: MaxUnavailableStatefulSet off)', async (t) => {
    const cp = await setupControlPlane(t)
    const kc = cp.kubeConfig
    const served = await installOurCrds(t, kc)
    let index = 0
    for (const { label, parent } of parents()) {
      const ns = `noop-${index++}`
      await t.test(label, async (t) => {
        const handler = handlerForServedKind(t, parent.kind, served)
        if (!handler) return
        await checkParent(t, kc, handler, parent, ns, false)
      })
    }
  })

  t.test('with the MaxUnavailableStatefulSet feature gate on, maxUnavailable is kept and nothing is updated', async (t) => {
    const cp = await setupControlPlane(t, { apiserverArgs: ['--feature-gates=MaxUnavailableStatefulSet=true'] })
    const kc = cp.kubeConfig
    const served = await installOurCrds(t, kc)
    const withMax = parents().filter(({ parent }) => parent.kind === 'MoneroMiningNodeSet' && (parent.spec as Json).maxUnavailable !== undefined)
    t.ok(withMax.length >= 2, `${withMax.length} miner sets with spec.maxUnavailable`)
    let index = 0
    for (const { label, parent } of withMax) {
      const ns = `gate-${index++}`
      await t.test(label, async (t) => {
        const handler = handlerForServedKind(t, parent.kind, served)
        if (!handler) return
        await checkParent(t, kc, handler, parent, ns, true)
      })
    }
  })
}
