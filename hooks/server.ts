/**
 * buildServer(): the hook server as a Fastify app (plugins: metrics, health, the hook routes
 * with their bearer check; one error handler). It never listens: main.ts does, tests use
 * inject() or listen themselves.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { DEFAULT_BODY_LIMIT, DEFAULT_CONFIG, DEFAULT_REQUEST_TIMEOUT, type HookConfig } from './config.js'
import { clientErrorHandler, installErrorHandler } from './http/errors.js'
import { healthPlugin } from './http/health.js'
import { hookRoutes } from './http/hooks.js'
import { metricsPlugin } from './http/metrics.js'

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
   * When set, the hook routes require `Authorization: Bearer <token>` (Metacontroller's webhook
   * authorization); health, readiness and metrics stay open.
   */
  readonly bearerToken?: string | undefined
}

/** Builds the hook server. */
export function buildServer(opts: ServerOptions = {}): FastifyInstance {
  const requestTimeout = opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT
  const app = Fastify({
    logger: opts.logger ?? false,
    // one structured line per sync, written by the route; no per-request access log
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestTimeout,
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
    // Node enforces requestTimeout by sweeping connections, every 30 s unless told otherwise:
    // a client trickling its headers would hold a socket for up to twice the timeout.
    http: { connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(requestTimeout / 4))) },
    clientErrorHandler,
    // readiness answers 503 itself while closing; requests on open connections finish
    return503OnClosing: false,
  })
  // Metacontroller sends JSON only.
  app.removeContentTypeParser('text/plain')
  installErrorHandler(app)
  app.register(metricsPlugin, { processMetrics: opts.processMetrics ?? true })
  app.register(healthPlugin)
  app.register(hookRoutes, { config: opts.config ?? DEFAULT_CONFIG, now: opts.now ?? (() => new Date()), bearerToken: opts.bearerToken })
  return app
}
