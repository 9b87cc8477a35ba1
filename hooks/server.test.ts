import t from 'tap'
import { connect } from 'node:net'
import { buildServer } from './server.js'
import { asStored, loadExample, syncRequest } from './testing/requests.js'

const fixedNow = () => new Date('2026-11-26T12:00:00Z')
const example = asStored(loadExample('moneronodeset.yaml'))

async function app() {
  const server = buildServer({ now: fixedNow, processMetrics: false })
  t.teardown(() => server.close())
  return server
}

t.test('v2 request: 200 with exactly the v2 response fields', async (t) => {
  const server = await app()
  const res = await server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', payload: syncRequest(example) })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /application\/json/)
  const body = res.json() as Record<string, unknown>
  t.same(Object.keys(body).sort(), ['children', 'status'])
  t.equal((body.children as unknown[]).length, 4)
})

t.test('a real Metacontroller v1 body (children keyed by name, declared groups present)', async (t) => {
  const server = await app()
  const payload = syncRequest(example, [], 'v1', [
    { apiVersion: 'apps/v1', kind: 'StatefulSet' },
    { apiVersion: 'v1', kind: 'Service' },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  ])
  const res = await server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', payload })
  t.equal(res.statusCode, 200)
})

t.test('client mistakes get a 4xx JSON error naming the field, never a 5xx', async (t) => {
  const server = await app()
  // A refused spec is a 422 only when an observed child cannot be kept exactly as last applied
  // (here: no last-applied annotation); otherwise it is a 200 with Synced=False (refusal.test.ts).
  const unkeepable = {
    'Service.v1': { 'default/nodes-monerod': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nodes-monerod', namespace: 'default' } } },
  }
  const cases: { name: string; payload: string | object; status: number; field: string | RegExp }[] = [
    { name: 'malformed JSON', payload: '{"parent": ', status: 400, field: 'body' },
    { name: 'not an object', payload: '[]', status: 400, field: 'body' },
    { name: 'no parent', payload: { children: {} }, status: 400, field: 'parent' },
    { name: 'wrong kind', payload: { parent: { ...example, kind: 'MoneroNetwork' }, children: {} }, status: 400, field: 'parent.kind' },
    { name: 'wrong apiVersion', payload: { parent: { ...example, apiVersion: 'utxo.com.br/v2' }, children: {} }, status: 400, field: 'parent.kind' },
    { name: 'no metadata.name', payload: { parent: { ...example, metadata: {} }, children: {} }, status: 400, field: 'parent.metadata.name' },
    { name: 'no spec', payload: { parent: { ...example, spec: undefined }, children: {} }, status: 422, field: 'parent.spec' },
    { name: 'children not an object', payload: { parent: example, children: [] }, status: 400, field: 'children' },
    {
      name: 'child without name',
      payload: { parent: example, children: { 'Service.v1': { x: { metadata: {} } } } },
      status: 400,
      field: /children\[Service\.v1\]/,
    },
    { name: 'replicas a string', payload: { parent: { ...example, spec: { replicas: 'three' } }, children: unkeepable }, status: 422, field: 'spec.replicas' },
    { name: 'negative replicas', payload: { parent: { ...example, spec: { replicas: -2 } }, children: unkeepable }, status: 422, field: 'spec.replicas' },
    {
      name: 'bad quantity',
      payload: { parent: { ...example, spec: { monerod: { resources: { limits: { memory: 'lots' } } } } }, children: unkeepable },
      status: 422,
      field: 'spec.monerod.resources.limits.memory',
    },
    {
      name: 'unknown service type',
      payload: { parent: { ...example, spec: { service: { type: 'External' } } }, children: unkeepable },
      status: 422,
      field: 'spec.service.type',
    },
    {
      name: 'unknown field',
      payload: { parent: { ...example, spec: { replicas: 1, hardAntiAfinity: true } }, children: unkeepable },
      status: 422,
      field: 'spec.hardAntiAfinity',
    },
    {
      name: 'reserved flag',
      payload: { parent: { ...example, spec: { monerod: { args: ['--data-dir', '/tmp'] } } }, children: unkeepable },
      status: 422,
      field: 'spec.monerod.args[0]',
    },
    { name: 'finalizing not a bool', payload: { parent: example, children: {}, finalizing: 'yes' }, status: 400, field: 'finalizing' },
  ]
  for (const c of cases) {
    const res = await server.inject({
      method: 'POST',
      url: '/hooks/moneronodeset/sync',
      headers: { 'content-type': 'application/json' },
      payload: typeof c.payload === 'string' ? c.payload : JSON.stringify(c.payload),
    })
    t.equal(res.statusCode, c.status, `${c.name}: status`)
    const body = res.json() as { message: string; fields: { field: string }[] }
    t.ok(
      body.fields.some((f) => (typeof c.field === 'string' ? f.field === c.field : c.field.test(f.field))),
      `${c.name}: names ${String(c.field)} (${body.message})`,
    )
    t.notOk('children' in body, `${c.name}: no children list in an error`)
  }
})

t.test('prototype pollution keys are refused', async (t) => {
  const server = await app()
  const res = await server.inject({
    method: 'POST',
    url: '/hooks/moneronodeset/sync',
    headers: { 'content-type': 'application/json' },
    payload: `{"parent": ${JSON.stringify(example)}, "children": {}, "__proto__": {"polluted": true}}`,
  })
  t.equal(res.statusCode, 400)
  t.equal(({} as Record<string, unknown>).polluted, undefined)
})

t.test('unknown routes and methods are JSON 404s; wrong content type is a 415', async (t) => {
  const server = await app()
  t.equal((await server.inject({ method: 'POST', url: '/hooks/nosuchkind/sync', payload: {} })).statusCode, 404)
  t.equal((await server.inject({ method: 'GET', url: '/hooks/moneronodeset/sync' })).statusCode, 404)
  const res = await server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', headers: { 'content-type': 'text/plain' }, payload: 'x' })
  t.equal(res.statusCode, 415)
})

t.test('health, readiness and metrics', async (t) => {
  const server = buildServer({ now: fixedNow })
  t.teardown(() => server.close())
  t.equal((await server.inject({ url: '/healthz' })).statusCode, 200)
  t.equal((await server.inject({ url: '/readyz' })).statusCode, 200)
  await server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', payload: syncRequest(example) })
  await server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', payload: { parent: {} } })
  const metrics = (await server.inject({ url: '/metrics' })).body
  t.match(metrics, /monero_operator_hook_requests_total\{hook="moneronodeset\/sync",outcome="ok"\} 1/)
  t.match(metrics, /monero_operator_hook_requests_total\{hook="moneronodeset\/sync",outcome="invalid"\} 1/)
  t.match(metrics, /monero_operator_hook_errors_total\{hook="moneronodeset\/sync",code="400"\} 1/)
  t.match(metrics, /monero_operator_hook_duration_seconds_bucket\{le="0.05",hook="moneronodeset\/sync",outcome="ok"\} 1/)
  t.match(metrics, /process_resident_memory_bytes/)
})

t.test('bodies above the limit are refused with 413', async (t) => {
  const server = buildServer({ bodyLimit: 256, processMetrics: false })
  t.teardown(() => server.close())
  const res = await server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', payload: syncRequest(example) })
  t.equal(res.statusCode, 413)
})

t.test('on close, in-flight requests finish and new ones are refused', async (t) => {
  const server = buildServer({ processMetrics: false })
  // a slow route on the same server, so that a request is surely in flight when close starts
  server.get('/slow', async () => {
    await new Promise((r) => setTimeout(r, 300))
    return { done: true }
  })
  await server.listen({ port: 0, host: '127.0.0.1' })
  const { port } = server.server.address() as { port: number }
  const inflight = fetch(`http://127.0.0.1:${port}/slow`)
  await new Promise((r) => setTimeout(r, 100))
  // a probe whose request line arrived before close and the rest after it
  const probe = connect(port, '127.0.0.1')
  const probeAnswer = new Promise<string>((resolve) => {
    let text = ''
    probe.on('data', (d) => (text += d.toString()))
    probe.on('close', () => resolve(text))
    probe.on('error', () => resolve(text))
  })
  await new Promise((r) => probe.once('connect', r))
  probe.write('GET /readyz HTTP/1.1\r\nhost: x\r\n')
  await new Promise((r) => setTimeout(r, 20))
  const closing = server.close()
  await new Promise((r) => setTimeout(r, 20))
  probe.write('\r\n')
  const ready = await probeAnswer
  t.match(ready, /^HTTP\/1\.1 503 /, 'readiness fails while closing')
  t.match(ready, /connection: close/i, 'and ends its connection')
  t.match(JSON.parse(ready.slice(ready.indexOf('\r\n\r\n') + 4)), { error: 'Service Unavailable', message: /shutting down/, fields: [] })
  const res = await inflight
  t.equal(res.status, 200, 'the in-flight request completes')
  t.same(await res.json(), { done: true })
  await closing
  const refused = await new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
  t.ok(refused, 'no new connections after close')
})

t.test('with a bearer token, syncs need it; health and metrics stay open', async (t) => {
  const server = buildServer({ processMetrics: false, bearerToken: 's3cret-token' })
  t.teardown(() => server.close())
  const url = '/hooks/moneronodeset/sync'
  const payload = syncRequest(example)
  t.equal((await server.inject({ method: 'POST', url, payload })).statusCode, 401)
  const wrong = await server.inject({ method: 'POST', url, payload, headers: { authorization: 'Bearer nope' } })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.headers['www-authenticate'], 'Bearer')
  t.notOk('children' in (wrong.json() as object))
  t.equal((await server.inject({ method: 'POST', url, payload, headers: { authorization: 'Basic s3cret-token' } })).statusCode, 401)
  t.equal((await server.inject({ method: 'POST', url, payload, headers: { authorization: 'Bearer s3cret-token' } })).statusCode, 200)
  t.equal((await server.inject({ url: '/healthz' })).statusCode, 200)
  t.equal((await server.inject({ url: '/metrics' })).statusCode, 200)
})

t.test('inputs the fuzzer found: deep nesting, no children key, names beyond Kubernetes limits', async (t) => {
  const server = await app()
  const post = (payload: string) =>
    server.inject({ method: 'POST', url: '/hooks/moneronodeset/sync', headers: { 'content-type': 'application/json' }, payload })
  const deep = `{"parent": ${JSON.stringify({ ...example, spec: '@' })}, "children": {}}`.replace('"@"', `{"replicas":${'['.repeat(5000)}${']'.repeat(5000)}}`)
  const r1 = await post(deep)
  t.equal(r1.statusCode, 422, 'deeply nested spec: 422, not a stack overflow')
  t.match(r1.json().message, /nests deeper than 64 levels/)
  const r2 = await post(JSON.stringify({ parent: example }))
  t.equal(r2.statusCode, 200, 'no children key: treated as none')
  t.equal(r2.json().children.length, 4)
  const r3 = await post(JSON.stringify({ parent: example, children: null }))
  t.equal(r3.statusCode, 200, 'children null: treated as none')
  const r4 = await post(JSON.stringify({ parent: { ...example, metadata: { ...example.metadata, name: 'x'.repeat(300) } }, children: {} }))
  t.equal(r4.statusCode, 400)
  t.match(r4.json().message, /DNS subdomain/)
  const r5 = await post(JSON.stringify({ parent: { ...example, metadata: { ...example.metadata, namespace: '🙂'.repeat(100) } }, children: {} }))
  t.equal(r5.statusCode, 400)
  t.match(r5.json().message, /DNS label/)
})

t.test('the bearer token guards the customize hooks too', async (t) => {
  const server = buildServer({ processMetrics: false, bearerToken: 's3cret-token' })
  t.teardown(() => server.close())
  const payload = { controller: {}, parent: example }
  t.equal((await server.inject({ method: 'POST', url: '/hooks/moneronodeset/customize', payload })).statusCode, 401)
  const ok = await server.inject({ method: 'POST', url: '/hooks/moneronodeset/customize', payload, headers: { authorization: 'Bearer s3cret-token' } })
  t.equal(ok.statusCode, 200)
  t.same(
    ok.json().relatedResources.map((r: { resource: string }) => r.resource),
    ['pods'],
    'no keys Secret named: only its Pods',
  )
})
