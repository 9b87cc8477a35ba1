/**
 * readBody over real sockets: bodies sent in pieces (so the server sees separate chunks) are
 * matched against cached bodies while they arrive, and a body that differs anywhere, in any
 * chunk, is answered from its own bytes.
 */
import t from 'tap'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { PassThrough } from 'node:stream'
import { CacheHit, readBody } from './body.js'
import { ResponseCache } from './response-cache.js'
import { buildServer } from './server.js'
import { asStored, loadExample, syncRequest } from './testing/requests.js'

const now = () => new Date('2026-11-26T12:00:00Z')
const URL_PATH = '/hooks/moneronodeset/sync'
const body = JSON.stringify(syncRequest(asStored(loadExample('moneronodeset.yaml'))))

interface Answer {
  status: number
  headers: string
  body: string
}

/** Sends one request over a fresh socket, the body in `pieces` writes 5 ms apart. */
async function send(port: number, payload: string, opts: { pieces?: number; chunked?: boolean; contentLength?: number } = {}): Promise<Answer> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true })
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const received: Buffer[] = []
  socket.on('data', (d: Buffer) => received.push(d))
  socket.on('error', () => {}) // a refused body may reset the socket mid-write; the answer was read
  const closed = new Promise((resolve) => socket.once('close', resolve))
  const bytes = Buffer.from(payload, 'utf8')
  const length = opts.chunked ? 'transfer-encoding: chunked' : `content-length: ${opts.contentLength ?? bytes.length}`
  socket.write(`POST ${URL_PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\n${length}\r\n\r\n`)
  const pieces = opts.pieces ?? 1
  const size = Math.ceil(bytes.length / pieces)
  for (let i = 0; i < bytes.length; i += size) {
    const piece = bytes.subarray(i, i + size)
    socket.write(opts.chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece)
    await sleep(5)
  }
  if (opts.chunked) socket.write('0\r\n\r\n')
  if (opts.contentLength !== undefined && opts.contentLength > bytes.length) socket.end()
  await closed
  const text = Buffer.concat(received).toString('utf8')
  const [head = '', ...rest] = text.split('\r\n\r\n')
  let answer = rest.join('\r\n\r\n')
  if (/transfer-encoding: chunked/i.test(head)) answer = answer.replace(/^[0-9a-f]+\r\n/i, '').replace(/\r\n0\r\n\r\n$/, '')
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), headers: head, body: answer }
}

async function listening(opts: Parameters<typeof buildServer>[0] = {}): Promise<{ app: FastifyInstance; port: number }> {
  const app = buildServer({ now, processMetrics: false, ...opts })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { app, port: (app.server.address() as { port: number }).port }
}

async function hits(app: FastifyInstance): Promise<number> {
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  return Number(/monero_operator_hook_cache_hits_total\{hook="moneronodeset\/sync"\} (\d+)/.exec(metrics)?.[1] ?? 0)
}

t.test('a body sent again in 7 pieces is matched while it arrives and answered from the cache', async (t) => {
  const { app, port } = await listening()
  const first = await send(port, body, { pieces: 3 })
  t.equal(first.status, 200)
  const again = await send(port, body, { pieces: 7 })
  t.equal(again.status, 200)
  t.equal(again.body, first.body)
  t.equal(await hits(app), 1)
})

t.test('a body that differs in its first, a middle or its last chunk is answered from its own bytes', async (t) => {
  const { app, port } = await listening()
  const reference = await listening({ responseCacheBytes: 0 })
  t.equal((await send(port, body, { pieces: 4 })).status, 200)
  const at = (i: number, c: string) => body.slice(0, i) + c + body.slice(i + 1)
  const replicas = body.indexOf('"replicas":3') + '"replicas":'.length
  const variants = {
    'first byte': at(0, ' '),
    'replicas 3 -> 2 (same length)': at(replicas, '2'),
    'last byte': `${body.slice(0, -1)} `.replace(/ $/, '}'),
    'one byte before the end': at(body.length - 2, ' '),
  }
  for (const [name, variant] of Object.entries(variants)) {
    t.equal(variant.length, body.length, `${name}: same length, so the cached body is a candidate`)
    const got = await send(port, variant, { pieces: 5 })
    const want = await send(reference.port, variant, { pieces: 1 })
    t.equal(got.status, want.status, `${name}: status`)
    t.equal(got.body, want.body, `${name}: the answer to these bytes, not the cached one`)
  }
  t.equal(await hits(app), 1, 'only the unchanged last-byte variant (it is the same body) was a hit')
})

t.test('without a Content-Length (chunked) the body is collected and then looked up', async (t) => {
  const { app, port } = await listening()
  const first = await send(port, body, { chunked: true, pieces: 3 })
  t.equal(first.status, 200)
  const again = await send(port, body, { chunked: true, pieces: 2 })
  t.equal(again.body, first.body)
  t.equal(await hits(app), 1)
})

t.test('body limits hold on the declared length and on the bytes received; a short body is refused', async (t) => {
  const { port } = await listening({ bodyLimit: 300 })
  const declared = await send(port, body, { pieces: 2 })
  t.equal(declared.status, 413, 'declared length over the limit')
  t.match(declared.body, /body/)
  const streamed = await send(port, body, { chunked: true, pieces: 4 })
  t.equal(streamed.status, 413, 'no declared length: counted while it arrives')
  const { port: p2 } = await listening()
  const short = await send(p2, body, { contentLength: body.length + 10, pieces: 2 })
  t.not(short.status, 200, 'fewer bytes than declared is never a 200')
})

t.test('a body already arriving when the same bytes get answered drops what it holds and is a hit', async (t) => {
  const { app, port } = await listening()
  const bytes = Buffer.from(body, 'utf8')
  const half = bytes.length >> 1
  // A: headers and the first half, then it waits
  const a = connect({ port, host: '127.0.0.1', noDelay: true })
  await new Promise((resolve, reject) => a.once('connect', resolve).once('error', reject))
  const received: Buffer[] = []
  a.on('data', (d: Buffer) => received.push(d))
  const closed = new Promise((resolve) => a.once('close', resolve))
  a.write(`POST ${URL_PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${bytes.length}\r\n\r\n`)
  a.write(bytes.subarray(0, half))
  await sleep(20)
  // B: the same bytes, whole: answered and stored while A is half way
  const b = await send(port, body)
  t.equal(b.status, 200)
  t.equal(await hits(app), 0)
  // A: the rest, in two pieces (the first looks at the stored answer)
  a.write(bytes.subarray(half, half + 10))
  await sleep(20)
  a.write(bytes.subarray(half + 10))
  await closed
  const answer = Buffer.concat(received).toString('utf8').split('\r\n\r\n').slice(1).join('\r\n\r\n')
  t.equal(answer, b.body, 'the same answer')
  t.equal(await hits(app), 1, 'answered from the cache')
})

t.test('readBody itself: a match found while arriving is a CacheHit (nothing collected), a late one too', async (t) => {
  const store = new ResponseCache<string>(1 << 20)
  const bytes = Buffer.from(JSON.stringify({ parent: { padding: 'p'.repeat(5000) } }), 'utf8')
  const opts = { limit: 1 << 20, contentLength: String(bytes.length), cache: { store, route: 'r' } }
  const feed = async (pieces: Buffer[], between?: () => void) => {
    const stream = new PassThrough()
    const result = readBody(stream, opts)
    for (const [i, piece] of pieces.entries()) {
      stream.write(piece)
      await sleep(1)
      if (i === 0) between?.()
    }
    stream.end()
    return result
  }
  const halves = [bytes.subarray(0, 1000), bytes.subarray(1000)]
  const miss = await feed(halves)
  t.ok(Buffer.isBuffer(miss) && miss.equals(bytes), 'nothing stored: the bytes')
  // stored after the first piece arrived: adopted at the next piece
  const late = await feed(halves, () => store.set('r', bytes, Buffer.from('answer'), 'm'))
  t.ok(late instanceof CacheHit, 'adopted while arriving')
  t.equal((late as CacheHit<string>).answer.response.toString(), 'answer')
  const early = await feed(halves)
  t.ok(early instanceof CacheHit, 'stored before: matched from the first piece')
  // one byte different in the second piece: the whole body, rebuilt from the cached prefix
  const changed = Buffer.from(bytes)
  changed[1500] = 0x20
  const other = await feed([changed.subarray(0, 1000), changed.subarray(1000)])
  t.ok(Buffer.isBuffer(other) && other.equals(changed), 'a mismatch after a matching prefix yields exactly the bytes sent')
})

t.test('with a bearer token, a request without it is refused before its body is read', async (t) => {
  const { port } = await listening({ bearerToken: 'sekret-token-for-tests' })
  const socket = connect({ port, host: '127.0.0.1', noDelay: true })
  socket.on('error', () => {})
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const answer = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString('utf8'))))
  // 50 MB declared, not one byte sent: the answer cannot depend on the body
  socket.write(`POST ${URL_PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50000000\r\n\r\n`)
  const text = await answer
  socket.destroy()
  t.match(text, /^HTTP\/1\.1 401 /)
  t.match(text, /www-authenticate: Bearer/i)
})

t.test('property: whatever the chunking and wherever bodies differ, readBody yields the bytes sent or a hit on exactly those bytes', async (t) => {
  const fc = (await import('fast-check')).default
  const base = Buffer.from(JSON.stringify({ parent: { spec: { replicas: 3, note: 'n'.repeat(600) } }, children: {} }), 'utf8')
  const arbitrary = fc.record({
    // cached bodies: the base and same-length variants (one or two bytes changed)
    cached: fc.array(fc.array(fc.record({ at: fc.nat(base.length - 1), byte: fc.integer({ min: 0x20, max: 0x7e }) }), { maxLength: 2 }), { minLength: 0, maxLength: 4 }),
    // what is sent: the base with changes, possibly one of the cached bodies exactly
    sent: fc.array(fc.record({ at: fc.nat(base.length - 1), byte: fc.integer({ min: 0x20, max: 0x7e }) }), { maxLength: 2 }),
    cuts: fc.array(fc.nat(base.length), { maxLength: 12 }),
    // an answer stored while the body arrives (after this many pieces), or never
    storeAfter: fc.option(fc.nat(12), { nil: undefined }),
  })
  const apply = (changes: { at: number; byte: number }[]) => {
    const out = Buffer.from(base)
    for (const c of changes) out[c.at] = c.byte
    return out
  }
  await fc.assert(
    fc.asyncProperty(arbitrary, async ({ cached, sent, cuts, storeAfter }) => {
      const store = new ResponseCache<number>(1 << 20)
      const cachedBodies = cached.map(apply)
      cachedBodies.forEach((b, i) => store.set('r', b, Buffer.from(`answer ${i}`), i))
      const late = apply(sent)
      const bytes = apply(sent)
      const bounds = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b)
      const stream = new PassThrough()
      const result = readBody(stream, { limit: 1 << 20, contentLength: String(bytes.length), cache: { store, route: 'r' } })
      for (let i = 0; i + 1 < bounds.length; i++) {
        if (storeAfter === i) store.set('r', late, Buffer.from('late answer'), -1)
        stream.write(bytes.subarray(bounds[i], bounds[i + 1]))
        await new Promise((r) => setImmediate(r))
      }
      stream.end()
      const got = await result
      if (got instanceof CacheHit) {
        if (!got.answer.body.equals(bytes)) throw new Error('a hit on other bytes')
      } else if (!got.equals(bytes)) {
        throw new Error('the bytes yielded are not the bytes sent')
      }
      const stored = cachedBodies.some((b) => b.equals(bytes))
      if (stored && !(got instanceof CacheHit)) throw new Error('stored before the body started, yet not a hit')
    }),
    { numRuns: 500 },
  )
  t.pass('500 random chunkings and variants')
})
