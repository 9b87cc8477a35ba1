import t from 'tap'
import fc from 'fast-check'
import { isHookError } from '../handlers.js'
import { parentWith, podArgs, statefulSetOf, sync, validateChild } from './testing.js'

const secretRef = fc.record({ name: fc.constantFrom('s1', 'pool-login'), key: fc.constantFrom('password', 'k') })

/** Valid specs: structured or raw pool, optional threads/hint, huge pages, API, metrics, msr. */
const validSpec = fc
  .record({
    replicas: fc.integer({ min: 0, max: 10000 }),
    hardAntiAffinity: fc.boolean(),
    structured: fc.boolean(),
    url: fc.constantFrom('pool.supportxmr.com:443', 'cryptonote.social:5556', 'xmr.2miners.com:12222'),
    worker: fc.constantFrom('node-$(id)', 'rig', '$(POD_NAME)', 'w$$(x)'),
    password: fc.option(secretRef, { nil: undefined }),
    tls: fc.option(fc.boolean(), { nil: undefined }),
    threads: fc.option(fc.integer({ min: 1, max: 1024 }), { nil: undefined }),
    hint: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    donate: fc.option(fc.integer({ min: 1, max: 99 }), { nil: undefined }),
    huge: fc.boolean(),
    api: fc.boolean(),
    metrics: fc.boolean(),
    msr: fc.boolean(),
    maxUnavailable: fc.option(fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom('10%', '50%', '100%')), { nil: undefined }),
    extra: fc.subarray(['--keepalive', '--randomx-mode=fast', '--print-time=60', '--rig-id=$(id)']),
  })
  .map((g) => {
    const user = `WALLET.${g.worker}`
    const threads = g.hint !== undefined ? undefined : g.threads
    return {
      replicas: g.replicas,
      hardAntiAffinity: g.hardAntiAffinity,
      ...(g.structured
        ? {
            pool: { url: g.url, user, ...(g.password ? { passwordSecretRef: g.password } : {}), ...(g.tls !== undefined ? { tls: g.tls } : {}) },
            xmrig: { args: g.extra },
          }
        : { xmrig: { args: ['-o', g.url, '-u', user, ...(g.tls ? ['--tls'] : []), ...g.extra] } }),
      ...(threads !== undefined ? { threads } : {}),
      ...(g.hint !== undefined ? { maxThreadsHint: g.hint } : {}),
      ...(g.donate !== undefined ? { donateLevel: g.donate } : {}),
      hugePages: g.huge ? { enabled: true, ...(threads === undefined ? { pages: 1200 } : {}) } : { enabled: false },
      api: { enabled: g.api, ...(g.api ? { accessTokenSecretRef: { name: 'api', key: 'token' } } : {}) },
      metrics: { enabled: g.metrics },
      msr: { enabled: g.msr },
      ...(g.maxUnavailable !== undefined ? { maxUnavailable: g.maxUnavailable } : {}),
    }
  })

t.test('sync is deterministic and never drops children for valid specs', async (t) => {
  fc.assert(
    fc.property(validSpec, (spec) => {
      const a = sync(parentWith(spec))
      const b = sync(parentWith(structuredClone(spec)))
      if (isHookError(a)) throw new Error(`rejected: ${a.message}`)
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('two syncs differ')
      const kinds = a.children.map((c) => c.kind)
      // the governing headless Service exists whatever the ports
      if (kinds.join() !== ['StatefulSet', 'Service', 'PodDisruptionBudget'].join()) throw new Error(`children ${kinds.join()}`)
      for (const c of a.children) validateChild(c)
      const sts = statefulSetOf(a)
      if (sts.spec?.replicas !== spec.replicas) throw new Error('replicas')
      // No $(...) that Kubernetes would leave unexpanded, except the user's escaped literal.
      for (const arg of podArgs(sts, 3, { 's1/password': 'p', 's1/k': 'p', 'pool-login/password': 'p', 'pool-login/k': 'p', 'api/token': 't' })) {
        if (/\$\((?!x\))/.test(arg)) throw new Error(`unexpanded ${arg}`)
      }
    }),
    { numRuns: 300 },
  )
  t.pass('300 specs')
})
