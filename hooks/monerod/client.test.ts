// Unit tests against a tiny node:http fake, ONLY for what real monerod does not show easily:
// the Digest handshake step by step, stale nonces, malformed answers, HTTP errors, timeouts
// and refused connections. The behaviour of the real daemon is covered by
// e2e/integration/monerod-client.test.ts.
import t, { type Test } from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

import { computeDigestResponse, parseAuthenticateHeader, selectDigestChallenge } from './digest.js'
import {
  MonerodClient,
  MonerodConnectionError,
  MonerodHttpError,
  MonerodResponseError,
  MonerodRpcError,
  MonerodStatusError,
  MonerodTimeoutError,
} from './client.js'

interface Seen {
  method: string
  url: string
  authorization: string | undefined
  body: string
  socket: number
}

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse, seen: Seen[]) => void

async function fake(t: Test, handler: Handler): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = []
  const sockets = new WeakMap<object, number>()
  let nextSocket = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (!sockets.has(req.socket)) sockets.set(req.socket, ++nextSocket)
      const body = Buffer.concat(chunks).toString()
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body, socket: sockets.get(req.socket) ?? 0 })
      handler(req, body, res, seen)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const json = (res: http.ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/**
 * A digest-checking fake in monerod's style: the session belongs to the TCP connection and
 * every 401 issues a fresh nonce that replaces the previous one.
 */
function digestHandler(opts: { staleAfter?: number } = {}): Handler {
  const nonces = new WeakMap<object, string>()
  let counter = 0
  let accepted = 0
  return (req, body, res) => {
    const nonce = nonces.get(req.socket)
    const challenge = () => {
      const nonce = `nonce-${++counter}`
      nonces.set(req.socket, nonce)
      res.writeHead(401, {
        'www-authenticate': [
          `Digest qop="auth",algorithm=MD5,realm="monero-rpc",nonce="${nonce}",stale=false`,
          `Digest qop="auth",algorithm=MD5-sess,realm="monero-rpc",nonce="${nonce}",stale=false`,
        ],
      })
      res.end('<html>401</html>')
    }
    const header = req.headers.authorization
    if (header === undefined) return challenge()
    const p = parseAuthenticateHeader(header)[0]?.params ?? {}
    const expected = computeDigestResponse({
      username: 'user',
      password: 'pass',
      method: req.method ?? '',
      uri: p.uri ?? '',
      challenge: selectDigestChallenge(parseAuthenticateHeader(`Digest realm="monero-rpc", nonce="${nonce}", qop="auth"`))!,
      nc: parseInt(p.nc ?? '0', 16),
      cnonce: p.cnonce ?? '',
    })
    if (p.username !== 'user' || p.nonce !== nonce || p.response !== expected || p.uri !== req.url) return challenge()
    accepted++
    if (opts.staleAfter !== undefined && accepted > opts.staleAfter) {
      // expire the nonce: the next request is answered with a fresh challenge
      nonces.set(req.socket, 'expired')
      accepted = 0
    }
    const parsed = JSON.parse(body) as { id?: string }
    json(res, 200, { id: parsed.id, jsonrpc: '2.0', result: { count: 7, status: 'OK', untrusted: false } })
  }
}

t.test('Digest: challenge, retry with Authorization, then pre-emptive auth with nc counting', async (t) => {
  const { url, seen } = await fake(t, digestHandler())
  const client = new MonerodClient({ url, username: 'user', password: 'pass', timeoutMs: 2000 })
  t.teardown(() => client.close())
  t.equal((await client.getBlockCount()).count, 7)
  t.equal((await client.getBlockCount()).count, 7)
  t.equal((await client.getBlockCount()).count, 7)
  t.equal(seen.length, 4, 'one 401 round trip, then three authenticated requests')
  t.equal(seen[0]?.authorization, undefined)
  t.match(seen[1]?.authorization, /nc=00000001/)
  t.match(seen[2]?.authorization, /nc=00000002/)
  t.match(seen[3]?.authorization, /nc=00000003/)
  t.match(seen[1]?.authorization, /uri="\/json_rpc".*algorithm=MD5,/)
  t.same(new Set(seen.map((s) => s.socket)).size, 1, 'all on one kept-alive connection (monerod binds the session to it)')
  t.equal(
    seen.every((s) => s.method === 'POST'),
    true,
  )
})

t.test("Digest: parallel first calls do not spoil each other's handshake", async (t) => {
  const { url, seen } = await fake(t, digestHandler())
  const client = new MonerodClient({ url, username: 'user', password: 'pass', timeoutMs: 2000 })
  t.teardown(() => client.close())
  const results = await Promise.all([client.getBlockCount(), client.getBlockCount(), client.getBlockCount()])
  t.same(
    results.map((r) => r.count),
    [7, 7, 7],
  )
  t.equal(seen.length, 4, 'one challenge, then three answers on the same nonce')
  t.same(
    seen.slice(1).map((s) => /nc=(\d+)/.exec(s.authorization ?? '')?.[1]),
    ['00000001', '00000002', '00000003'],
  )
})

t.test('Digest: a queued call still honours its own timeout', async (t) => {
  let hang = true
  const handler = digestHandler()
  const { url } = await fake(t, (req, body, res, seen) => {
    if (hang && req.headers.authorization !== undefined) return // first authenticated request hangs
    handler(req, body, res, seen)
  })
  const client = new MonerodClient({ url, username: 'user', password: 'pass', timeoutMs: 300 })
  t.teardown(() => client.close())
  const started = performance.now()
  const [a, b] = await Promise.allSettled([client.getBlockCount(), client.getBlockCount()])
  t.ok(performance.now() - started < 1000)
  t.match(a, { status: 'rejected', reason: { name: 'MonerodTimeoutError' } })
  t.match(b, { status: 'rejected', reason: { name: 'MonerodTimeoutError' } })
  hang = false
})

t.test('Digest: an expired nonce costs one more round trip', async (t) => {
  const { url, seen } = await fake(t, digestHandler({ staleAfter: 1 }))
  const client = new MonerodClient({ url, username: 'user', password: 'pass', timeoutMs: 2000 })
  t.teardown(() => client.close())
  await client.getBlockCount() // 401 + accepted
  await client.getBlockCount() // accepted; the fake rotates its nonce afterwards
  await client.getBlockCount() // refused with a new challenge, retried once
  t.equal(seen.length, 5)
  t.match(seen[3]?.authorization, /nonce="nonce-1".*nc=00000003/)
  t.match(seen[4]?.authorization, /nonce="nonce-2".*nc=00000001/)
})

t.test('Digest: wrong password gives MonerodHttpError 401 after one retry', async (t) => {
  const { url, seen } = await fake(t, digestHandler())
  const client = new MonerodClient({ url: url.replace('http://', 'http://user:wrong@'), timeoutMs: 2000 })
  t.teardown(() => client.close())
  t.notMatch(client.url, /wrong/, 'credentials never kept in url')
  const err = await client.getBlockCount().catch((e: unknown) => e)
  t.type(err, MonerodHttpError)
  t.equal((err as MonerodHttpError).status, 401)
  t.equal(seen.length, 2)
})

t.test('without credentials a 401 is an HTTP error at once', async (t) => {
  const { url, seen } = await fake(t, digestHandler())
  const client = new MonerodClient({ url, timeoutMs: 2000 })
  const err = await client.getHeight().catch((e: unknown) => e)
  t.type(err, MonerodHttpError)
  t.match((err as Error).message, new RegExp(`/get_height at ${url}/get_height answered HTTP 401`))
  t.equal(seen.length, 1)
})

t.test('status other than OK and JSON-RPC errors', async (t) => {
  const { url, seen } = await fake(t, (req, body, res) => {
    if (req.url === '/get_height') return json(res, 200, { status: 'BUSY', untrusted: false })
    const { method, params } = JSON.parse(body) as { method: string; params: unknown }
    if (method === 'generateblocks') return json(res, 200, { id: '1', jsonrpc: '2.0', result: { status: 'Failed', height: 0 } })
    if (method === 'get_info') return json(res, 200, { id: '1', jsonrpc: '2.0', error: { code: -9, message: 'Core is busy' } })
    if (method === 'weird') return json(res, 200, [1, 2])
    if (method === 'noresult') return json(res, 200, { id: '1', jsonrpc: '2.0' })
    json(res, 200, { id: '1', jsonrpc: '2.0', result: { params, status: 'OK' } })
  })
  const client = new MonerodClient({ url: `${url}/`, timeoutMs: 2000 })
  const busy = await client.getHeight().catch((e: unknown) => e)
  t.type(busy, MonerodStatusError)
  t.equal((busy as MonerodStatusError).busy, true)
  t.equal((busy as MonerodStatusError).method, '/get_height')
  const failed = await client.generateBlocks({ amount_of_blocks: 1, wallet_address: 'x' }).catch((e: unknown) => e)
  t.type(failed, MonerodStatusError)
  t.equal((failed as MonerodStatusError).busy, false)
  const rpc = await client.getInfo().catch((e: unknown) => e)
  t.type(rpc, MonerodRpcError)
  t.match(rpc, { code: -9, rpcMessage: 'Core is busy', method: 'get_info', url: `${url}/json_rpc` })
  t.type(await client.jsonRpc('weird').catch((e: unknown) => e), MonerodResponseError)
  t.type(await client.jsonRpc('noresult').catch((e: unknown) => e), MonerodResponseError)
  t.same(await client.jsonRpc('echo'), { params: {}, status: 'OK' }, 'params default to {} (monerod needs them)')
  t.same((await client.getBlockHeaderByHeight(3).catch(() => undefined)) as unknown, { params: { height: 3 }, status: 'OK' })
  const req = JSON.parse(seen.at(-1)?.body ?? '{}') as Record<string, unknown>
  t.match(req, { jsonrpc: '2.0', method: 'get_block_header_by_height', params: { height: 3 } })
  t.equal(typeof req.id, 'string')
})

t.test('non-JSON and HTTP errors', async (t) => {
  const { url } = await fake(t, (req, _body, res) => {
    if (req.url === '/get_info') {
      res.writeHead(200)
      return res.end('<html>')
    }
    res.writeHead(404)
    res.end('not found')
  })
  const client = new MonerodClient({ url, timeoutMs: 2000 })
  t.type(await client.getInfoPlain().catch((e: unknown) => e), MonerodResponseError)
  const err = await client.getNetStats().catch((e: unknown) => e)
  t.type(err, MonerodHttpError)
  t.match(err, { status: 404, body: 'not found', method: '/get_net_stats' })
})

t.test('timeouts name URL, method and budget; a per-call budget wins', async (t) => {
  const { url } = await fake(t, () => {
    /* never answers */
  })
  const client = new MonerodClient({ url, timeoutMs: 150 })
  const started = performance.now()
  const err = await client.getInfo().catch((e: unknown) => e)
  const elapsed = performance.now() - started
  t.type(err, MonerodTimeoutError)
  t.match((err as Error).message, `monerod get_info at ${url}/json_rpc timed out after 150 ms`)
  t.ok(elapsed >= 140 && elapsed < 1000, `took ${elapsed} ms`)
  const short = await client.getHeight({ timeoutMs: 50 }).catch((e: unknown) => e)
  t.match(short, { timeoutMs: 50, method: '/get_height' })
  const ac = new AbortController()
  const reason = new Error('caller gave up')
  setTimeout(() => ac.abort(reason), 20)
  t.equal(await client.getHeight({ signal: ac.signal }).catch((e: unknown) => e), reason)
})

t.test('refused connection', async (t) => {
  const server = http.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((r) => server.close(() => r()))
  const client = new MonerodClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000 })
  const err = await client.getHeight().catch((e: unknown) => e)
  t.type(err, MonerodConnectionError)
  t.match(err, { code: 'ECONNREFUSED', method: '/get_height' })
  t.match((err as Error).message, `127.0.0.1:${port}/get_height: connection failed (ECONNREFUSED)`)
})

t.test('rejects non-http URLs', async (t) => {
  t.throws(() => new MonerodClient({ url: 'ftp://x' }), TypeError)
})
