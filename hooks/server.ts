/**
 * buildServer(): the Fastify app serving the sync hooks, health and metrics. It never listens
 * (main.ts does); tests and the benchmark drive it with inject() or listen themselves.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { DEFAULT_CONFIG, type HookConfig } from './config.js'
import { HANDLERS, handleSync, isHookError, warmUp, type KindHandler } from './handlers.js'
import { HookRequestError } from './metacontroller.js'
import { CacheHit, readBody } from './body.js'
import { ResponseCache } from './response-cache.js'

export interface ServerOptions {
  readonly config?: HookConfig
  /** Fastify logger option: false in tests, a pino config in main. */
  readonly logger?: FastifyServerOptions['logger']
  /** Largest request body accepted (a 1000-peer network's observed children run to megabytes). */
  readonly bodyLimit?: number
  /** Per-request timeout in milliseconds (Metacontroller's hook timeout is 10 s by default). */
  readonly requestTimeout?: number
  /** Clock for condition transitions (tests pin it). */
  readonly now?: () => Date
  /** Collect process metrics (off in tests that build many servers). */
  readonly processMetrics?: boolean
  /**
   * When set, sync hooks require `Authorization: Bearer <token>` (Metacontroller's webhook
   * authorization); health, readiness and metrics stay open.
   */
  readonly bearerToken?: string | undefined
  /**
   * Bytes of recent sync answers kept to answer repeated identical requests (Metacontroller's
   * resyncs) without parsing them again; 0 turns the cache off.
   */
  readonly responseCacheBytes?: number
}

/** The log fields of a sync answer, kept with a cached answer so a hit logs the same line. */
interface SyncLogFields {
  readonly parent: { namespace: unknown; name: unknown; kind: string }
  readonly children: number
  readonly ready: unknown
}

/** Compares a presented Authorization header with the token in constant time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : ''
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(token).digest()
  return presented.length > 0 && timingSafeEqual(a, b)
}

const JSON_TYPE = 'application/json; charset=utf-8'

export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024
export const DEFAULT_RESPONSE_CACHE_BYTES = 16 * 1024 * 1024

/** Builds the hook server. */
export function buildServer(opts: ServerOptions = {}): FastifyInstance {
  const config = opts.config ?? DEFAULT_CONFIG
  const now = opts.now ?? (() => new Date())
  const requestTimeout = opts.requestTimeout ?? 30_000
  // Requests read in full whose answer is still to be written, per connection: a malformed
  // request pipelined behind them is refused only after their answers (clientError below).
  const inFlight = new WeakMap<Socket, { requests: Set<IncomingMessage>; idle?: () => void }>()
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestTimeout,
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
    // Node enforces requestTimeout by sweeping connections, every 30 s unless told otherwise:
    // a client trickling its headers would hold a socket for up to twice the timeout.
    http: { connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(requestTimeout / 4))) },
    clientErrorHandler(err: Error & { code?: string }, socket: Socket) {
      if (err.code === 'ECONNRESET' || socket.destroyed) return
      const [status, message] =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'the request did not arrive within the request timeout']
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? [431, 'the request headers are too large']
            : [400, `malformed HTTP request (${err.code ?? 'parse error'})`]
      const refuse = () => {
        const body = JSON.stringify({ error: STATUS_CODES[status], message, fields: [] })
        if (socket.writable) {
          socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
        }
        socket.destroy()
      }
      const pending = inFlight.get(socket)
      // The error is in a request still arriving (its own body is broken) or there is nothing
      // to wait for: refuse now. Otherwise answer what came before first; a stuck answer does
      // not keep the socket forever.
      if (!pending || pending.requests.size === 0 || [...pending.requests].some((r) => !r.complete)) return refuse()
      const timer = setTimeout(refuse, requestTimeout)
      timer.unref()
      pending.idle = () => {
        clearTimeout(timer)
        refuse()
      }
    },
    // one structured line per sync, written by the route; no per-request access log
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  })
  app.addHook('onRequest', (request, _reply, done) => {
    const socket = request.raw.socket
    const pending = inFlight.get(socket)
    if (pending) pending.requests.add(request.raw)
    else inFlight.set(socket, { requests: new Set([request.raw]) })
    done()
  })
  app.addHook('onResponse', (request, _reply, done) => {
    const pending = inFlight.get(request.raw.socket)
    if (pending?.requests.delete(request.raw) && pending.requests.size === 0) pending.idle?.()
    done()
  })

  const cache = new ResponseCache<SyncLogFields>(opts.responseCacheBytes ?? DEFAULT_RESPONSE_CACHE_BYTES)
  // Only JSON bodies: Metacontroller sends nothing else. They arrive as bytes, a sync hook's
  // compared with the cached ones while they arrive (readBody); a route parses only what it
  // has to answer (parseBody, with Fastify's own prototype-poisoning checks).
  app.removeContentTypeParser('text/plain')
  app.removeContentTypeParser('application/json')
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT
  app.addContentTypeParser('application/json', (request: FastifyRequest, payload: IncomingMessage) => {
    // a compressed body would be read as if it were JSON text: refuse what is not plain
    const encoding = request.headers['content-encoding']?.trim().toLowerCase()
    if (encoding && encoding !== 'identity') {
      throw Object.assign(new Error(`Content-Encoding ${JSON.stringify(encoding)} is not supported; send the JSON uncompressed`), {
        statusCode: 415,
        code: 'Unsupported Media Type',
      })
    }
    const route = (request.routeOptions.config as { cacheRoute?: string } | undefined)?.cacheRoute
    return readBody(payload, {
      limit: bodyLimit,
      contentLength: request.headers['content-length'],
      ...(route ? { cache: { store: cache, route } } : {}),
    })
  })
  const jsonParser = app.getDefaultJsonParser('error', 'error')
  const parseBody = (raw: unknown): unknown => {
    if (!Buffer.isBuffer(raw)) return raw
    let parsed: unknown
    let failure: Error | null = null
    jsonParser(undefined as never, raw.toString('utf8'), (err, value) => {
      failure = err
      parsed = value
    })
    if (failure) throw failure
    return parsed
  }

  const registry = new Registry()
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry })
  const requests = new Counter({
    name: 'monero_operator_hook_requests_total',
    help: 'Hook requests by hook and outcome (ok, invalid, error).',
    labelNames: ['hook', 'outcome'] as const,
    registers: [registry],
  })
  const errors = new Counter({
    name: 'monero_operator_hook_errors_total',
    help: 'Hook requests that failed, by hook and HTTP status code.',
    labelNames: ['hook', 'code'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'monero_operator_hook_duration_seconds',
    help: 'Time to answer a hook request, by hook and outcome.',
    labelNames: ['hook', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const cacheHits = new Counter({
    name: 'monero_operator_hook_cache_hits_total',
    help: 'Sync requests answered from the response cache (the same bytes were answered before).',
    labelNames: ['hook'] as const,
    registers: [registry],
  })
  new Gauge({
    name: 'monero_operator_hook_cache_bytes',
    help: 'Bytes held by the sync response cache (request bodies and answers).',
    registers: [registry],
    collect() {
      this.set(cache.bytes)
    },
  })

  // While closing: readiness fails and responses close their connection, so Metacontroller's
  // idle keep-alive connections do not hold the shutdown open.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close')
    return payload
  })

  // Malformed JSON, wrong content type, oversized bodies: a JSON 4xx that says what is wrong.
  app.setErrorHandler((err: { statusCode?: number; message: string; code?: string }, request, reply) => {
    const statusCode = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    if (statusCode === 500) request.log.error({ err }, 'unexpected error')
    const hook = (request.routeOptions.config as { hook?: string } | undefined)?.hook
    if (hook) {
      requests.inc({ hook, outcome: statusCode === 500 ? 'error' : 'invalid' })
      errors.inc({ hook, code: String(statusCode) })
    }
    return reply.code(statusCode).send({
      error: statusCode === 500 ? 'Internal Server Error' : (err.code ?? 'Bad Request'),
      message: statusCode === 500 ? 'internal error; see the hook server log' : `body: ${err.message}`,
      fields: statusCode === 500 ? [] : [{ field: 'body', message: err.message }],
    })
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'Not Found', message: `no route ${request.method} ${request.url}`, fields: [] }),
  )

  // Every hook route (sync and customize) checks the bearer token first, when one is set:
  // on the request line and headers, before a byte of the body is read or compared.
  const token = opts.bearerToken
  const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
    if (token === undefined || bearerMatches(request.headers.authorization, token)) return
    const hook = (request.routeOptions.config as unknown as { hook: string }).hook
    requests.inc({ hook, outcome: 'unauthorized' })
    errors.inc({ hook, code: '401' })
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: 'Unauthorized', message: 'a valid Authorization: Bearer token is required', fields: [] })
  }
  // Expect: 100-continue: invite the body only when it will be read. A request without the
  // token, or declaring more than the body limit, is refused without a 100 (Node would send
  // one before any hook runs).
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const unauthorised = token !== undefined && req.url?.startsWith('/hooks/') && !bearerMatches(req.headers.authorization, token)
    const tooLarge = Number(req.headers['content-length']) > bodyLimit
    if (!unauthorised && !tooLarge) res.writeContinue()
    app.server.emit('request', req, res)
  })
  const register = (handler: KindHandler) => {
    const hook = `${handler.route}/sync`
    // the series a cache hit touches, bound once (a hit is a few microseconds of work)
    const hitDuration = duration.labels({ hook, outcome: 'ok' })
    const hitRequests = requests.labels({ hook, outcome: 'ok' })
    const hits = cacheHits.labels({ hook })
    app.post(`/hooks/${handler.route}/sync`, { config: { hook, cacheRoute: hook }, onRequest: authorize }, async (request, reply) => {
      const started = performance.now()
      const raw = request.body
      // matched while it arrived (readBody), or, without a Content-Length, looked up now
      const hit = raw instanceof CacheHit ? raw.answer : Buffer.isBuffer(raw) ? cache.get(hook, raw) : undefined
      if (hit) {
        cache.touch(hit)
        hitDuration.observe((performance.now() - started) / 1000)
        hitRequests.inc()
        hits.inc()
        request.log.info({ ...hit.meta, cached: true }, 'sync')
        return reply.code(200).type(JSON_TYPE).send(hit.response)
      }
      const end = duration.startTimer()
      const body = parseBody(raw)
      const result = handleSync(handler, body, { config, now: now().toISOString().replace(/\.\d{3}Z$/, 'Z') })
      const parent = (body as { parent?: { metadata?: { namespace?: unknown; name?: unknown } } } | null)?.parent
      const ref = { namespace: parent?.metadata?.namespace, name: parent?.metadata?.name, kind: handler.kind }
      if (isHookError(result)) {
        const outcome = 'invalid'
        end({ hook, outcome })
        requests.inc({ hook, outcome })
        errors.inc({ hook, code: String(result.statusCode) })
        request.log.warn({ parent: ref, statusCode: result.statusCode, fields: result.fields }, 'sync rejected')
        return reply.code(result.statusCode).send({ error: result.error, message: result.message, fields: result.fields })
      }
      end({ hook, outcome: 'ok' })
      requests.inc({ hook, outcome: 'ok' })
      const meta: SyncLogFields = { parent: ref, children: result.children.length, ready: result.status.readyReplicas }
      request.log.info(meta, 'sync')
      const response = Buffer.from(JSON.stringify(result), 'utf8')
      if (Buffer.isBuffer(raw)) cache.set(hook, raw, response, meta)
      return reply.code(200).type(JSON_TYPE).send(response)
    })
  }
  HANDLERS.forEach(register)

  // customize: which related objects (the user's key Secrets) the sync requests carry.
  for (const handler of HANDLERS) {
    const customize = handler.customize
    if (!customize) continue
    const hook = `${handler.route}/customize`
    app.post(`/hooks/${hook}`, { config: { hook }, onRequest: authorize }, async (request, reply) => {
      const end = duration.startTimer()
      try {
        const result = customize(parseBody(request.body))
        end({ hook, outcome: 'ok' })
        requests.inc({ hook, outcome: 'ok' })
        return reply.code(200).send(result)
      } catch (err) {
        if (!(err instanceof HookRequestError)) throw err
        end({ hook, outcome: 'invalid' })
        requests.inc({ hook, outcome: 'invalid' })
        errors.inc({ hook, code: String(err.statusCode) })
        return reply.code(err.statusCode).send({ error: 'Bad Request', message: err.message, fields: [{ field: err.field, message: err.message }] })
      }
    })
  }

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    if (closing) return reply.code(503).send({ status: 'shutting down' })
    warmUp()
    return { status: 'ready' }
  })
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType)
    return registry.metrics()
  })
  return app
}
