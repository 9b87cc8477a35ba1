import t from 'tap'
import { BUCKET_LIMIT, ResponseCache } from './response-cache.js'
import { buildServer } from './server.js'
import { asStored, loadExample, syncRequest } from './testing/requests.js'

const buf = (s: string) => Buffer.from(s, 'utf8')

t.test('a hit needs the same route and the same bytes', async (t) => {
  const cache = new ResponseCache<string>(1 << 20)
  cache.set('a/sync', buf('{"x":1}'), buf('answer-1'), 'm1')
  t.equal(cache.get('a/sync', buf('{"x":1}'))?.response.toString(), 'answer-1')
  t.equal(cache.get('a/sync', buf('{"x":1}'))?.meta, 'm1')
  t.equal(cache.get('a/sync', buf('{"x":2}')), undefined, 'same length, other bytes: a miss')
  t.equal(cache.get('b/sync', buf('{"x":1}')), undefined, 'other route: a miss')
  t.equal(cache.get('a/sync', buf('{"x":1} ')), undefined, 'other length: a miss')
})

t.test('stored buffers are copies: reusing the caller buffer changes nothing', async (t) => {
  const cache = new ResponseCache<null>(1 << 20)
  const body = buf('{"x":1}')
  const response = buf('answer')
  cache.set('r', body, response, null)
  body.write('{"y":2}')
  response.write('ANSWER')
  t.equal(cache.get('r', body), undefined)
  t.equal(cache.get('r', buf('{"x":1}'))?.response.toString(), 'answer')
})

t.test('bounded by bytes: least recently used entries leave first', async (t) => {
  const entry = 256 + 1000 + 1000
  const cache = new ResponseCache<number>(entry * 4)
  const body = (i: number) => buf(String(i).padStart(1000, '0'))
  for (let i = 0; i < 4; i++) cache.set('r', body(i), Buffer.alloc(1000), i)
  t.equal(cache.size, 4)
  t.ok(cache.get('r', body(0)), 'touch 0: now the most recently used')
  cache.set('r', body(4), Buffer.alloc(1000), 4)
  t.equal(cache.size, 4)
  t.ok(cache.bytes <= entry * 4)
  t.equal(cache.get('r', body(1)), undefined, '1 was the least recently used: evicted')
  t.ok(cache.get('r', body(0)), '0 stayed')
  t.ok(cache.get('r', body(4)))
})

t.test('an answer larger than a quarter of the budget is not kept; 0 turns the cache off', async (t) => {
  const small = new ResponseCache<null>(4000)
  small.set('r', buf('{}'), Buffer.alloc(1000), null)
  t.equal(small.size, 0)
  const off = new ResponseCache<null>(0)
  off.set('r', buf('{}'), buf('x'), null)
  t.equal(off.get('r', buf('{}')), undefined)
})

t.test('at most BUCKET_LIMIT bodies of one length: a flood of look-alikes costs a bounded scan', async (t) => {
  const cache = new ResponseCache<number>(1 << 24)
  for (let i = 0; i < BUCKET_LIMIT * 3; i++) cache.set('r', buf(String(i).padStart(8, '0')), buf('a'), i)
  t.equal(cache.size, BUCKET_LIMIT)
  t.equal(cache.get('r', buf('00000000')), undefined, 'the oldest of the bucket made room')
  t.equal(cache.get('r', buf(String(BUCKET_LIMIT * 3 - 1).padStart(8, '0')))?.meta, BUCKET_LIMIT * 3 - 1)
})

t.test('the server answers a repeated sync from the cache, byte for byte, and counts the hit', async (t) => {
  let clockReads = 0
  const server = buildServer({ processMetrics: false, now: () => (clockReads++, new Date(Date.UTC(2026, 10, 26, 12, clockReads))) })
  t.teardown(() => server.close())
  const payload = JSON.stringify(syncRequest(asStored(loadExample('moneronodeset.yaml'))))
  const post = () => server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', headers: { 'content-type': 'application/json' }, payload })
  const first = await post()
  const second = await post()
  t.equal(first.statusCode, 200)
  t.equal(second.statusCode, 200)
  t.equal(second.body, first.body, 'same bytes in, same bytes out (conditions stamped when first seen)')
  t.equal(second.headers['content-type'], first.headers['content-type'])
  t.equal(clockReads, 1, 'the hit neither built nor stamped anything')
  const metrics = (await server.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /monero_operator_hook_cache_hits_total\{hook="moneronodeset\/sync"\} 1/)
  t.match(metrics, /monero_operator_hook_requests_total\{hook="moneronodeset\/sync",outcome="ok"\} 2/)
  t.match(metrics, /monero_operator_hook_cache_bytes [1-9]\d*/)
  // one byte of difference is another request
  const changed = await server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', headers: { 'content-type': 'application/json' }, payload: payload.replace('"replicas":3', '"replicas":2') })
  t.equal(changed.statusCode, 200)
  t.not(changed.body, first.body)
  t.equal(clockReads, 2)
})

t.test('rejections are never cached; a repeated bad request is judged again', async (t) => {
  let clockReads = 0
  const server = buildServer({ processMetrics: false, now: () => (clockReads++, new Date()) })
  t.teardown(() => server.close())
  // An observed child without a last-applied annotation: the refused spec is answered with a 422.
  const children = { 'Service.v1': { 'default/nodes-monerod': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nodes-monerod', namespace: 'default' } } } }
  const payload = JSON.stringify({ parent: { ...asStored(loadExample('moneronodeset.yaml')), spec: { replicas: -1 } }, children })
  for (let i = 0; i < 2; i++) {
    const res = await server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', headers: { 'content-type': 'application/json' }, payload })
    t.equal(res.statusCode, 422)
  }
  t.equal(clockReads, 2)
})

t.test('responseCacheBytes: 0 turns it off', async (t) => {
  let clockReads = 0
  const server = buildServer({ processMetrics: false, responseCacheBytes: 0, now: () => (clockReads++, new Date()) })
  t.teardown(() => server.close())
  const payload = JSON.stringify(syncRequest(asStored(loadExample('moneronodeset.yaml'))))
  for (let i = 0; i < 3; i++) {
    const res = await server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', headers: { 'content-type': 'application/json' }, payload })
    t.equal(res.statusCode, 200)
  }
  t.equal(clockReads, 3)
})

t.test('property: under any churn the cache stays within its bytes, keeps no empty bucket, and finds the last answer', async (t) => {
  const fc = (await import('fast-check')).default
  const op = fc.record({ route: fc.constantFrom('a', 'b'), length: fc.integer({ min: 1, max: 3000 }), fill: fc.integer({ min: 0, max: 3 }), answer: fc.integer({ min: 1, max: 3000 }) })
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40_000 }), fc.array(op, { maxLength: 300 }), (maxBytes, ops) => {
      const cache = new ResponseCache<number>(maxBytes)
      ops.forEach((o, i) => {
        const body = Buffer.alloc(o.length, o.fill)
        cache.set(o.route, body, Buffer.alloc(o.answer, 1), i)
        const kept = o.length + o.answer + 256 <= maxBytes / 4
        const got = cache.get(o.route, body)
        if (kept && got === undefined) throw new Error(`op ${i}: a just stored answer is missing`)
        if (!kept && got?.meta === i) throw new Error(`op ${i}: an answer over a quarter of the budget was kept`)
        if (cache.bytes > maxBytes) throw new Error(`op ${i}: ${cache.bytes} bytes held, budget ${maxBytes}`)
      })
      const internals = cache as unknown as { buckets: Map<string, unknown[]>; order: Map<unknown, true> }
      const inBuckets = [...internals.buckets.values()].reduce((n, b) => n + b.length, 0)
      if (inBuckets !== internals.order.size) throw new Error(`buckets hold ${inBuckets} entries, the LRU order ${internals.order.size}`)
      if ([...internals.buckets.values()].some((b) => b.length === 0 || b.length > BUCKET_LIMIT)) throw new Error('an empty or overfull bucket')
    }),
    { numRuns: 300 },
  )
  t.pass('invariants held')
})
