import t from 'tap'
import type { V1StatefulSet } from '@kubernetes/client-node'
import { isHookError } from '../handlers.js'
import type { KubeObject } from '../metacontroller.js'
import { buildServer } from '../server.js'
import { CTX, flagValue, loadExample, parentWith, podArgs, statefulSetOf, sync, syncOk, validateChild } from './testing.js'

const proposal = () => loadExample('monerominingnodeset.yaml')
const asStored = (r: KubeObject): KubeObject => ({ ...r, metadata: { namespace: 'default', generation: 1, uid: 'u-1', ...r.metadata } })

t.test("the proposal's example renders one workload of 10 miners with distinct, stable worker names", async (t) => {
  const r = syncOk(asStored(proposal()))
  const workloads = r.children.filter((c) => c.kind === 'StatefulSet' || c.kind === 'Deployment')
  t.equal(workloads.length, 1, 'one workload for the whole set')
  const sts = statefulSetOf(r)
  t.equal(sts.metadata?.name, 'miners-xmrig')
  t.equal(sts.spec?.replicas, 10)
  t.equal(sts.spec?.podManagementPolicy, 'Parallel')
  t.same(sts.spec?.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } })
  t.same(sts.spec?.volumeClaimTemplates, undefined, 'miners are stateless')

  const users = Array.from({ length: 10 }, (_, i) => flagValue(podArgs(sts, i), '-u', '--user'))
  const wallet = '891B5keCnwXN14hA9FoAzGFtaWmcuLjTDT5aRTp65juBLkbNpEhLNfgcBn6aWdGuBqBnSThqMPsGRjWVQadCrhoAT6CnSL3'
  t.same(
    users,
    Array.from({ length: 10 }, (_, i) => `${wallet}.node-${i}`),
    'worker node-<ordinal> per pod',
  )
  t.equal(new Set(users).size, 10, 'all distinct')

  // A restart or a later sync (observed children present, status set) gives each ordinal the same name.
  const again = syncOk(asStored({ ...proposal(), status: r.status }), {
    'StatefulSet.apps/v1': { 'default/miners-xmrig': { ...(sts as unknown as KubeObject), status: { replicas: 10, readyReplicas: 10 } } },
  })
  t.same(podArgs(statefulSetOf(again), 7), podArgs(sts, 7), 'stable across syncs')
  t.equal(flagValue(podArgs(sts, 3), '-o', '--url'), 'cryptonote.social:5556')
  t.ok(podArgs(sts, 0).includes('--tls'))
  t.equal(r.status.pool, 'cryptonote.social:5556', 'status names the pool in use')
  t.equal(r.status.selector, 'app.kubernetes.io/instance=miners,app.kubernetes.io/name=xmrig,app.kubernetes.io/part-of=monerominingnodeset')
})

t.test('children are sound Kubernetes objects: schema, selectors, security, anti-affinity', async (t) => {
  const r = syncOk(asStored(proposal()))
  t.same(
    r.children.map((c) => `${c.kind}/${c.metadata.name}`),
    ['StatefulSet/miners-xmrig', 'Service/miners-xmrig', 'PodDisruptionBudget/miners-xmrig'],
  )
  for (const c of r.children) t.doesNotThrow(() => validateChild(c), `${c.kind} validates`)
  const sts = statefulSetOf(r)
  const podLabels = sts.spec?.template.metadata?.labels ?? {}
  for (const c of r.children) {
    const sel = (c.spec as { selector?: Record<string, string> & { matchLabels?: Record<string, string> } }).selector
    const labels = sel?.matchLabels ?? sel ?? {}
    for (const [k, v] of Object.entries(labels)) t.equal(podLabels[k], v, `${c.kind} selector ${k} matches the pods`)
  }
  const pod = sts.spec?.template.spec
  t.equal(pod?.securityContext?.runAsNonRoot, true)
  t.same(pod?.securityContext?.seccompProfile, { type: 'RuntimeDefault' })
  for (const c of pod?.containers ?? []) {
    t.equal(c.securityContext?.allowPrivilegeEscalation, false, `${c.name}: no privilege escalation`)
    t.same(c.securityContext?.capabilities, { drop: ['ALL'] })
    t.notOk(c.securityContext?.privileged, `${c.name}: not privileged`)
  }
  t.same(
    pod?.volumes?.map((v) => v.name),
    ['tmp'],
    'only an emptyDir for /tmp',
  )
  t.same(pod?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey, 'kubernetes.io/hostname')
  const xmrig = pod?.containers[0]
  t.same(xmrig?.resources, { requests: { cpu: '1', memory: '2560Mi' }, limits: { memory: '3Gi' } }, 'default requests keep RandomX fast mode in memory')
  t.equal(xmrig?.image, 'ghcr.io/comminutus/xmrig:v6.22.0-vanilla')
  t.equal(pod?.containers[1]?.image, CTX.config.operatorImage, 'exporter runs from the operator image')
  t.same(pod?.containers[1]?.command, ['node', 'dist/hooks/cli.js', 'exporter', '--xmrig', 'http://127.0.0.1:8080', '--port', '9533'])
  t.ok(xmrig?.args?.includes('--http-host=127.0.0.1'), 'the API stays on loopback for the exporter')
  const pdb = r.children[2] as unknown as { spec: { maxUnavailable: unknown } }
  t.equal(pdb.spec.maxUnavailable, '10%')
})

t.test('a pool switch changes only the xmrig args of the pod template (and status.pool)', async (t) => {
  const before = syncOk(asStored(proposal()))
  const patched = proposal() as KubeObject & { spec: { xmrig: { args: string[] } } }
  patched.spec.xmrig.args = patched.spec.xmrig.args.map((a) => (a === 'cryptonote.social:5556' ? 'pool.supportxmr.com:443' : a))
  const after = syncOk(asStored(patched))
  t.same(diffPaths(before.children, after.children), ['[0].spec.template.spec.containers[0].args[4]'])
  t.equal(flagValue(podArgs(statefulSetOf(after), 2), '-o', '--url'), 'pool.supportxmr.com:443')
  t.equal(after.status.pool, 'pool.supportxmr.com:443')

  const structured = loadExample('monerominingnodeset-structured.yaml') as KubeObject & { spec: { pool: { url: string } } }
  const s1 = syncOk(asStored(structured))
  structured.spec.pool.url = 'xmr.2miners.com:12222'
  const s2 = syncOk(asStored(structured))
  t.same(diffPaths(s1.children, s2.children), ['[0].spec.template.spec.containers[0].args[6]'])
  t.equal(statefulSetOf(s2).spec?.template.spec?.containers[0]?.args?.[6], '--url=xmr.2miners.com:12222')
})

t.test('the structured example renders flags, secrets through env, huge pages and the API', async (t) => {
  const r = syncOk(asStored(loadExample('monerominingnodeset-structured.yaml')))
  for (const c of r.children) t.doesNotThrow(() => validateChild(c), `${c.kind} validates`)
  const sts = statefulSetOf(r)
  const args = podArgs(sts, 1, { 'pool-login/password': 'rig-pass', 'xmrig-api/token': 'tok' })
  t.same(args, [
    '--no-color',
    '--http-host=0.0.0.0',
    '--http-port=8080',
    '--http-access-token=tok',
    '--threads=4',
    '--donate-level=1',
    '--url=pool.supportxmr.com:443',
    '--user=891B5keCnwXN14hA9FoAzGFtaWmcuLjTDT5aRTp65juBLkbNpEhLNfgcBn6aWdGuBqBnSThqMPsGRjWVQadCrhoAT6CnSL3.node-1',
    '--pass=rig-pass',
    '--tls',
    '--coin=monero',
    '--keepalive',
  ])
  const raw = sts.spec?.template.spec?.containers[0]?.args ?? []
  t.ok(raw.includes('--pass=$(XMRIG_PASSWORD)'), 'the password never appears in the object')
  t.same(sts.spec?.updateStrategy?.rollingUpdate, { partition: 0, maxUnavailable: '25%' })
  const svc = r.children.find((c) => c.kind === 'Service') as unknown as { spec: { ports: { name: string; port: number }[] } }
  t.same(
    svc.spec.ports.map((p) => `${p.name}:${p.port}`),
    ['metrics:9533', 'api:8080'],
  )
  const exporter = sts.spec?.template.spec?.containers[1]
  t.same(exporter?.command?.slice(5, 7), ['--token-file', '/var/run/secrets/xmrig-api/token'])
  t.same(
    sts.spec?.template.spec?.volumes?.map((v) => v.name),
    ['tmp', 'api-token'],
  )
})

t.test('huge pages: 1168 + threads pages of 2 MiB, request = limit, with a memory request', async (t) => {
  const base = { xmrig: { args: ['-o', 'p:1', '-u', 'w'] }, metrics: { enabled: false } }
  const res = (spec: object) => statefulSetOf(syncOk(parentWith({ ...base, ...spec }))).spec?.template.spec?.containers[0]?.resources
  t.same(res({ threads: 1, hugePages: { enabled: true } }), {
    requests: { cpu: '1', memory: '512Mi', 'hugepages-2Mi': '2338Mi' },
    limits: { memory: '3Gi', 'hugepages-2Mi': '2338Mi' },
  })
  t.equal(res({ threads: 16, hugePages: { enabled: true } })?.limits?.['hugepages-2Mi'], `${(1168 + 16) * 2}Mi`)
  t.equal(res({ hugePages: { enabled: true, pages: 1300 } })?.requests?.['hugepages-2Mi'], '2600Mi', 'explicit pages win')
  t.same(res({ threads: 2, hugePages: { enabled: true }, xmrig: { ...base.xmrig, resources: { requests: { cpu: 2 } } } }), {
    requests: { cpu: '2', 'hugepages-2Mi': '2340Mi' },
    limits: { 'hugepages-2Mi': '2340Mi' },
  })
  t.notOk(res({ threads: 2 })?.requests?.['hugepages-2Mi'], 'off by default')
  const sts = statefulSetOf(syncOk(parentWith({ ...base, threads: 3, hugePages: { enabled: true } })))
  t.doesNotThrow(() => validateChild(sts as unknown as KubeObject))
})

t.test('msr is an explicit, privileged opt-in', async (t) => {
  const sts = statefulSetOf(syncOk(parentWith({ xmrig: { args: ['-o', 'p:1', '-u', 'w'] }, msr: { enabled: true } })))
  t.doesNotThrow(() => validateChild(sts as unknown as KubeObject))
  const [xmrig, exporter] = sts.spec?.template.spec?.containers ?? []
  t.match(xmrig?.securityContext, { privileged: true, runAsUser: 0, runAsNonRoot: false })
  t.match(exporter?.securityContext, { privileged: undefined, runAsNonRoot: true, allowPrivilegeEscalation: false })
})

t.test('metrics and API off: a port-less governing Service, no sidecar, no http flags', async (t) => {
  const r = syncOk(parentWith({ replicas: 3, xmrig: { args: ['-o', 'p:1', '-u', 'w', '--http-port=9999'] }, metrics: { enabled: false } }))
  t.same(
    r.children.map((c) => c.kind),
    ['StatefulSet', 'Service', 'PodDisruptionBudget'],
  )
  const svc = r.children.find((c) => c.kind === 'Service') as unknown as { spec: { clusterIP: string; ports?: unknown[] } }
  t.equal(svc.spec.clusterIP, 'None', "the StatefulSet's serviceName exists (headless)")
  t.notOk('ports' in svc.spec, 'no ports field (the apiserver does not store an empty list: sending one would update the Service on every sync)')
  t.notOk('publishNotReadyAddresses' in svc.spec, 'publishNotReadyAddresses left at its default, unsent (the apiserver does not store false)')
  const pod = statefulSetOf(r).spec?.template.spec
  t.same(
    pod?.containers.map((c) => c.name),
    ['xmrig'],
  )
  t.same(pod?.containers[0]?.args, ['--no-color', '-o', 'p:1', '-u', 'w', '--http-port=9999'], "raw http flags are the user's own then")
})

t.test('conflicts and mistakes are rejected with 422 naming the field', async (t) => {
  const pool = { url: 'pool.example:443', user: 'W.node-$(id)' }
  const cases: [string, object, string, RegExp][] = [
    ['pool.url and -o', { pool, xmrig: { args: ['-o', 'other:1'] } }, 'spec.pool.url', /set the pool either in pool.url or in xmrig.args/],
    ['pool.url and --url=', { pool, xmrig: { args: ['--url=other:1'] } }, 'spec.pool.url', /pool.url or in xmrig.args/],
    ['pool.user and -u', { pool, xmrig: { args: ['-u', 'X'] } }, 'spec.pool.user', /wallet\/worker either in pool.user/],
    [
      'password twice',
      { pool: { ...pool, passwordSecretRef: { name: 's', key: 'k' } }, xmrig: { args: ['-p', 'x'] } },
      'spec.pool.passwordSecretRef',
      /password either/,
    ],
    ['tls twice', { pool: { ...pool, tls: true }, xmrig: { args: ['--tls'] } }, 'spec.pool.tls', /TLS either/],
    ['coin and algo', { pool: { ...pool, coin: 'monero' }, xmrig: { args: ['-a', 'rx/0'] } }, 'spec.pool.coin', /coin either/],
    ['threads and -t', { pool, threads: 2, xmrig: { args: ['-t', '4'] } }, 'spec.threads', /thread count either/],
    ['threads and hint', { pool, threads: 2, maxThreadsHint: 50 }, 'spec.maxThreadsHint', /exclude each other/],
    ['donate twice', { pool, donateLevel: 2, xmrig: { args: ['--donate-level=5'] } }, 'spec.donateLevel', /donate level either/],
    ['donate 0 on the official build', { pool, donateLevel: 0 }, 'spec.donateLevel', /minimum donate level is 0/],
    ['http flags with metrics', { pool, xmrig: { args: ['--http-port=1'] } }, 'spec.xmrig.args', /operator runs the xmrig HTTP API/],
    ['background', { pool, xmrig: { args: ['-B'] } }, 'spec.xmrig.args', /--background/],
    ['api without token', { pool, api: { enabled: true } }, 'spec.api.accessTokenSecretRef', /set api.accessTokenSecretRef/],
    ['same ports', { pool, api: { port: 9533 } }, 'spec.metrics.port', /must differ/],
    ['huge pages, threads unknown', { pool, hugePages: { enabled: true } }, 'spec.hugePages.pages', /needs threads/],
    ['pages without enabled', { pool, hugePages: { pages: 1200 } }, 'spec.hugePages.pages', /only with hugePages.enabled/],
    [
      'hugepages in resources',
      { pool, threads: 1, hugePages: { enabled: true }, xmrig: { resources: { limits: { 'hugepages-2Mi': '2Gi' } } } },
      'spec.xmrig.resources',
      /sizes hugepages-2Mi itself/,
    ],
    [
      'huge pages without cpu/memory request',
      { pool, threads: 1, hugePages: { enabled: true }, xmrig: { resources: { limits: { memory: '1Gi' } } } },
      'spec.xmrig.resources.requests',
      /cpu or memory/,
    ],
    ['reserved env', { pool, xmrig: { env: [{ name: 'id', value: '7' }] } }, 'spec.xmrig.env', /set by the operator/],
    ['undefined $(VAR) in args', { xmrig: { args: ['-o', 'p:1', '-u', 'W.$(HOSTNAME)'] } }, 'spec.xmrig.args[3]', /\$\(HOSTNAME\) is not defined/],
    ['undefined $(VAR) in pool.user', { pool: { ...pool, user: 'W.$(NODE)' } }, 'spec.pool.user', /\$\(NODE\) is not defined/],
    ['pool without user (schema)', { pool: { url: 'p:1' } }, 'spec.pool', /required property 'user'/],
    ['unknown field (schema)', { pool, treads: 2 }, 'spec.treads', /not a known field/],
    ['too many replicas (schema)', { pool, replicas: 10001 }, 'spec.replicas', /<= 10000/],
  ]
  for (const [name, spec, field, message] of cases) {
    const r = sync(parentWith(spec))
    if (!isHookError(r)) {
      t.fail(`${name}: accepted`)
      continue
    }
    t.equal(r.statusCode, 422, `${name}: 422`)
    const f = r.fields.find((x) => x.field === field)
    t.ok(f, `${name}: names ${field} (got ${r.fields.map((x) => x.field).join(', ')})`)
    t.match(f?.message ?? '', message, `${name}: message`)
  }
})

t.test('defined or escaped $(VAR) references are accepted and behave as Kubernetes does', async (t) => {
  const r = syncOk(
    parentWith({
      xmrig: {
        args: ['-o', 'p:1', '-u', 'W.$(RIG)-$(id)', '--rig-id=$(POD_NAME)', '--user-agent=$$(literal)'],
        env: [{ name: 'RIG', value: 'eu' }],
      },
    }),
  )
  const args = podArgs(statefulSetOf(r), 4)
  t.equal(flagValue(args, '-u', '--user'), 'W.eu-4')
  t.ok(args.includes('--rig-id=miners-xmrig-4'))
  t.ok(args.includes('--user-agent=$(literal)'), '$$ escapes to a literal $(...)')
})

t.test('the hook route: a refused spec shows on the resource (200), or is a 422 when children cannot be kept', async (t) => {
  const app = buildServer({ processMetrics: false, now: () => new Date(CTX.now) })
  t.teardown(() => app.close())
  const ok = await app.inject({ method: 'POST', url: '/hooks/monerominingnodeset/sync', payload: { parent: asStored(proposal()), children: {} } })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().children.length, 3)
  const bad = proposal() as KubeObject & { spec: Record<string, unknown> }
  bad.spec.pool = { url: 'p:1', user: 'w' }
  // a new resource: no children, the reason in status
  const res = await app.inject({ method: 'POST', url: '/hooks/monerominingnodeset/sync', payload: { parent: asStored(bad), children: {} } })
  t.equal(res.statusCode, 200)
  t.same(res.json().children, [])
  t.match(res.json().status.conditions, [
    {},
    {},
    {},
    { type: 'Synced', status: 'False', reason: 'InvalidSpec', message: /spec\.pool\.url: set the pool either in pool.url or in xmrig.args/ },
  ])
  // an observed child without Metacontroller's last-applied annotation cannot be kept as it is: 422
  const sts = ok.json().children.find((c: KubeObject) => c.kind === 'StatefulSet') as KubeObject
  const children = { 'StatefulSet.apps/v1': { 'default/miners-xmrig': { ...sts, metadata: { ...sts.metadata, namespace: 'default' } } } }
  const kept = await app.inject({ method: 'POST', url: '/hooks/monerominingnodeset/sync', payload: { parent: asStored(bad), children } })
  t.equal(kept.statusCode, 422)
  t.match(kept.json(), { fields: [{ field: 'spec.pool.url', message: /set the pool either in pool.url or in xmrig.args/ }] })
})

t.test('status follows the observed StatefulSet', async (t) => {
  const sts = statefulSetOf(syncOk(asStored(proposal()))) as V1StatefulSet
  const observed = {
    ...(sts as unknown as KubeObject),
    metadata: { name: 'miners-xmrig', namespace: 'default', generation: 1 },
    status: { observedGeneration: 1, replicas: 10, readyReplicas: 10, updatedReplicas: 10, availableReplicas: 10, currentRevision: 'a', updateRevision: 'a' },
  }
  const r = syncOk(asStored(proposal()), { 'StatefulSet.apps/v1': { 'miners-xmrig': observed } })
  t.match(r.status, { replicas: 10, readyReplicas: 10, updatedReplicas: 10, availableReplicas: 10, pool: 'cryptonote.social:5556' })
  t.match(r.status.conditions, [
    { type: 'Ready', status: 'True' },
    { type: 'Progressing', status: 'False' },
    { type: 'Degraded', status: 'False' },
  ])
})

/** Paths at which two JSON values differ. */
function diffPaths(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return []
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((x, i) => diffPaths(x, b[i], `${path}[${i}]`))
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    return keys.flatMap((k) => diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`))
  }
  return [path]
}

t.test('metrics.podMonitor: a PodMonitor scraping the exporter of every miner', async (t) => {
  const r = syncOk(parentWith({ replicas: 2, xmrig: { args: ['-o', 'p:1', '-u', 'w'] }, metrics: { podMonitor: { enabled: true, interval: '30s' } } }))
  const pm = r.children.find((c) => c.kind === 'PodMonitor') as unknown as {
    spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: unknown[] }
  }
  t.ok(pm, 'PodMonitor emitted')
  t.same(pm.spec.podMetricsEndpoints, [{ port: 'metrics', path: '/metrics', interval: '30s' }])
  t.equal(pm.spec.selector.matchLabels['app.kubernetes.io/name'], 'xmrig')
  t.notOk(
    syncOk(parentWith({ replicas: 2, xmrig: { args: ['-o', 'p:1', '-u', 'w'] } })).children.some((c) => c.kind === 'PodMonitor'),
    'none unless asked',
  )
})
