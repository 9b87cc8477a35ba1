// Exporter app tests through Fastify's inject. monerod is replaced by an in-memory fake of the
// three calls a scrape makes (the real daemon is in e2e/integration/exporter.test.ts); xmrig,
// which is not installed here, by a node:http fake replaying a realistic /2/summary body with
// Bearer token checking (testdata.ts).
import t, { type Test } from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

import { MonerodConnectionError, MonerodTimeoutError } from '../monerod/errors.js'
import type { BlockHeaderResult, GetInfoResult, TxPoolStatsResult } from '../monerod/types.js'
import { buildExporter, negotiateMetricsFormat, type MonerodScrapeClient } from './server.js'
import { GET_INFO, LAST_BLOCK, TX_POOL, XMRIG_SUMMARY } from './testdata.js'

/** Reads `name{labels} value` lines into a map. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return out
}

interface FakeState {
  info: GetInfoResult | Error
  delayMs: number
  calls: number
}

function fakeMonerod(state: FakeState): MonerodScrapeClient {
  const answer = async <T>(value: T | Error, opts?: { timeoutMs?: number }): Promise<T> => {
    state.calls++
    if (state.delayMs > 0) {
      const budget = opts?.timeoutMs ?? Infinity
      await new Promise((r) => setTimeout(r, Math.min(state.delayMs, budget)))
      if (state.delayMs > budget) throw new MonerodTimeoutError('http://fake/json_rpc', 'x', budget)
    }
    if (value instanceof Error) throw value
    return value
  }
  return {
    getInfo: (opts) => answer<GetInfoResult>(state.info, opts),
    getLastBlockHeader: (opts) =>
      answer<BlockHeaderResult>(
        state.info instanceof Error ? state.info : { block_header: LAST_BLOCK, credits: 0, status: 'OK', top_hash: '', untrusted: false },
        opts,
      ),
    getTransactionPoolStats: (opts) =>
      answer<TxPoolStatsResult>(
        state.info instanceof Error ? state.info : { pool_stats: TX_POOL, credits: 0, status: 'OK', top_hash: '', untrusted: false },
        opts,
      ),
  }
}

t.test('content negotiation', async (t) => {
  t.equal(negotiateMetricsFormat(undefined), 'prometheus')
  t.equal(negotiateMetricsFormat('*/*'), 'prometheus')
  t.equal(negotiateMetricsFormat('text/plain;version=0.0.4'), 'prometheus')
  t.equal(negotiateMetricsFormat('application/openmetrics-text'), 'openmetrics')
  // What Prometheus 2.x/3.x sends by default.
  t.equal(
    negotiateMetricsFormat(
      'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
    ),
    'openmetrics',
  )
  t.equal(negotiateMetricsFormat('application/openmetrics-text;q=0.1,text/plain;q=0.9'), 'prometheus')
  t.equal(negotiateMetricsFormat('application/openmetrics-text;q=0'), 'prometheus')
})

t.test('monerod mode: values from get_info, last block header and pool stats', async (t) => {
  const state: FakeState = { info: GET_INFO, delayMs: 0, calls: 0 }
  const app = buildExporter({ target: { kind: 'monerod', client: fakeMonerod(state) }, timeoutMs: 500 })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  const m = parse(res.body)
  const expect: Record<string, number> = {
    monerod_up: 1,
    monerod_height: 6,
    monerod_target_height: 6,
    monerod_synchronized: 1,
    monerod_busy_syncing: 0,
    'monerod_connections{direction="in"}': 2,
    'monerod_connections{direction="out"}': 5,
    'monerod_peerlist_size{list="white"}': 7,
    'monerod_peerlist_size{list="grey"}': 3,
    monerod_tx_pool_transactions: 4,
    monerod_tx_pool_bytes: 5600,
    monerod_difficulty: 1,
    monerod_database_size_bytes: 180224,
    monerod_free_space_bytes: 84463521792,
    'monerod_info{version="0.18.0.0-unknown",nettype="fakechain"}': 1,
    monerod_last_block_timestamp_seconds: 1795693972,
    monerod_last_block_reward_atomic: 17592186044415,
    monerod_last_block_size_bytes: 80,
    'monero_exporter_rpc_errors_total{method="get_info"}': 0,
  }
  for (const [k, v] of Object.entries(expect)) t.equal(m.get(k), v, k)
  t.ok((m.get('monero_exporter_scrape_duration_seconds') ?? -1) >= 0)
  t.ok(m.has('process_resident_memory_bytes'), 'process metrics')
  t.equal(state.calls, 3, 'three RPC calls per scrape')

  const om = await app.inject({ method: 'GET', url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } })
  t.equal(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8')
  t.match(om.body, /# TYPE monero_exporter_rpc_errors counter\n/)
  t.match(om.body, /\n# EOF\n?$/)
  t.equal(parse(om.body).get('monerod_height'), 6)
  const again = await app.inject('/metrics')
  t.match(again.body, /\nmonero_exporter_rpc_errors_total\{method="get_info"\} 0\n/, 'counter keeps _total after an OpenMetrics render')
  const mixed = await Promise.all([app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text' } }), app.inject('/metrics')])
  t.match(mixed[0].body, /# TYPE monero_exporter_rpc_errors counter\n/)
  t.match(mixed[1].body, /# TYPE monero_exporter_rpc_errors_total counter\n/)

  t.equal((await app.inject('/healthz')).statusCode, 200)
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { ready: true, height: 6 })
})

t.test('monerod mode: not synchronized -> readyz 503, target height kept', async (t) => {
  const state: FakeState = { info: { ...GET_INFO, synchronized: false, target_height: 100, busy_syncing: true }, delayMs: 0, calls: 0 }
  const app = buildExporter({ target: { kind: 'monerod', client: fakeMonerod(state) }, processMetrics: false })
  t.teardown(() => app.close())
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { ready: false, reason: 'monerod is not synchronized', target_height: 100 })
  const m = parse((await app.inject('/metrics')).body)
  t.equal(m.get('monerod_synchronized'), 0)
  t.equal(m.get('monerod_target_height'), 100)
  t.equal(m.get('monerod_busy_syncing'), 1)
  t.notOk(m.has('process_resident_memory_bytes'), 'process metrics off')
})

t.test('monerod mode: down -> up 0, no stale values, errors counted; recovery', async (t) => {
  const state: FakeState = { info: GET_INFO, delayMs: 0, calls: 0 }
  const app = buildExporter({ target: { kind: 'monerod', client: fakeMonerod(state) }, timeoutMs: 200, processMetrics: false })
  t.teardown(() => app.close())
  t.equal(parse((await app.inject('/metrics')).body).get('monerod_height'), 6)
  state.info = new MonerodConnectionError('http://fake/json_rpc', 'get_info', 'ECONNREFUSED', new Error('refused'))
  const down = parse((await app.inject('/metrics')).body)
  t.equal(down.get('monerod_up'), 0)
  t.notOk(down.has('monerod_height'), 'stale height not exported')
  t.notOk(
    [...down.keys()].some((k) => k.startsWith('monerod_info')),
    'no stale info',
  )
  t.equal(down.get('monero_exporter_rpc_errors_total{method="get_info"}'), 1)
  t.equal(down.get('monero_exporter_rpc_errors_total{method="get_transaction_pool_stats"}'), 1)
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { ready: false, reason: /ECONNREFUSED/ })
  state.info = GET_INFO
  t.equal(parse((await app.inject('/metrics')).body).get('monerod_up'), 1)
})

t.test('monerod mode: a hanging monerod still gets an answer within the timeout', async (t) => {
  const state: FakeState = { info: GET_INFO, delayMs: 60_000, calls: 0 }
  const app = buildExporter({ target: { kind: 'monerod', client: fakeMonerod(state) }, timeoutMs: 300, processMetrics: false })
  t.teardown(() => app.close())
  const started = performance.now()
  const [a, b] = await Promise.all([app.inject('/metrics'), app.inject('/metrics')])
  const elapsed = performance.now() - started
  t.ok(elapsed < 1000, `answered in ${elapsed.toFixed(0)} ms`)
  t.equal(parse(a.body).get('monerod_up'), 0)
  t.equal(parse(b.body).get('monerod_up'), 0)
  t.equal(state.calls, 3, 'concurrent scrapes share one round of calls')
  t.ok((parse(a.body).get('monero_exporter_scrape_duration_seconds') ?? 0) >= 0.29)
})

async function fakeXmrig(t: Test, token: string, body: () => unknown): Promise<{ url: string; auth: (string | undefined)[] }> {
  const auth: (string | undefined)[] = []
  const server = http.createServer((req, res) => {
    auth.push(req.headers.authorization)
    if (req.url !== '/2/summary') {
      res.writeHead(404)
      return res.end()
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' })
      return res.end('{"status":401,"error":"Unauthorized"}')
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body()))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, auth }
}

t.test('xmrig mode against a fake /2/summary', async (t) => {
  let body: unknown = XMRIG_SUMMARY
  const { url, auth } = await fakeXmrig(t, 's3cret', () => body)
  const app = buildExporter({ target: { kind: 'xmrig', source: { url, token: 's3cret' } }, timeoutMs: 1000, processMetrics: false })
  t.teardown(() => app.close())
  const m = parse((await app.inject('/metrics')).body)
  t.equal(auth[0], 'Bearer s3cret')
  const expect: Record<string, number> = {
    xmrig_up: 1,
    'xmrig_hashrate_hps{window="10s"}': 1621.39,
    'xmrig_hashrate_hps{window="60s"}': 1618.02,
    xmrig_shares_good_total: 41,
    xmrig_shares_total: 42,
    xmrig_hashes_total: 5071590,
    xmrig_pool_connected: 1,
    'xmrig_pool_info{pool="pool.example.net:3333"}': 1,
    xmrig_uptime_seconds: 3127,
    xmrig_pool_uptime_seconds: 3121,
    xmrig_difficulty: 120001,
    xmrig_paused: 0,
    'xmrig_info{version="6.21.0",algo="rx/0"}': 1,
    'monero_exporter_rpc_errors_total{method="summary"}': 0,
  }
  for (const [k, v] of Object.entries(expect)) t.equal(m.get(k), v, k)
  t.notOk(m.has('xmrig_hashrate_hps{window="15m"}'), 'null window omitted')
  t.equal((await app.inject('/readyz')).statusCode, 200)

  // pool lost: xmrig keeps the pool name but clears ip and uptime
  body = { ...XMRIG_SUMMARY, connection: { ...XMRIG_SUMMARY.connection, ip: null, uptime: 0 } }
  const lost = parse((await app.inject('/metrics')).body)
  t.equal(lost.get('xmrig_pool_connected'), 0)
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { reason: 'xmrig is not connected to a pool' })

  body = { not: 'xmrig' }
  const bad = parse((await app.inject('/metrics')).body)
  t.equal(bad.get('xmrig_up'), 0)
  t.equal(bad.get('monero_exporter_rpc_errors_total{method="summary"}'), 1)
})

t.test('xmrig mode: wrong token and unreachable API', async (t) => {
  const { url } = await fakeXmrig(t, 'right', () => XMRIG_SUMMARY)
  const app = buildExporter({ target: { kind: 'xmrig', source: { url, token: 'wrong' } }, processMetrics: false })
  t.teardown(() => app.close())
  t.equal(parse((await app.inject('/metrics')).body).get('xmrig_up'), 0)
  const ready = await app.inject('/readyz')
  t.match(ready.json(), { ready: false, reason: /answered HTTP 401/ })

  const gone = buildExporter({ target: { kind: 'xmrig', source: { url: 'http://127.0.0.1:1' } }, processMetrics: false })
  t.teardown(() => gone.close())
  t.match((await gone.inject('/readyz')).json(), { reason: /connection failed/ })
})
